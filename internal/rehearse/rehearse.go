// Package rehearse does what a rollout of a new Postgres runtime does to
// existing data, before the rollout: it builds the base side's schema
// and seed data under the current runtime, stops it, starts the new one
// on the same data directory, applies the head side's migrations and
// checks every index. A runtime is local binaries (optionally with
// another locale directory, which reproduces a glibc collation change)
// or a Docker image. It reports facts; internal/check turns them into
// findings. Postgres is reached only through internal/pg, Docker only
// through internal/docker.
package rehearse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// Options say what to rehearse.
type Options struct {
	From, To Runtime
	// Dirs are the migration directories: the base side's migrations
	// and the seed are built under From, the new head migrations run
	// under To. With none, the rehearsal holds only the canary.
	Dirs []verify.Dir
	Seed []migrate.File
	// StatementTimeout bounds every statement; 0 means pg's default.
	StatementTimeout time.Duration
	Progress         io.Writer
	// Docker is how image runtimes are run; nil means the daemon on
	// /var/run/docker.sock (or DOCKER_HOST).
	Docker *docker.Client
	// Network is the Docker network the containers join; "" is the one
	// breakwater's own container is on, else the default bridge.
	Network string
}

// Result is a finished rehearsal.
type Result struct {
	From, To               string // the runtimes, as ParseRuntime reads them
	FromVersion, ToVersion string // the servers' own version strings
	// Refusal is the To server's message when it would not open the data
	// because the major version differs; Upgrade then says how the data
	// was moved, and the rehearsal went on after it.
	Refusal string
	Upgrade *Upgrade
	// StartFailure is set when the To server could not start at all (or
	// not even after the upgrade): the rehearsal stopped there.
	StartFailure *StartFailure
	Databases    []Database
	Took         time.Duration
}

// Upgrade is how the data went from one major to the other.
type Upgrade struct {
	Method string // "pg_upgrade" or "pg_dumpall"
	Took   time.Duration
}

// StartFailure is a server that would not start, in its own words.
type StartFailure struct {
	Runtime string
	Message string // the FATAL line and its DETAIL, or the error
	Log     string // the last lines of its log
}

// Database is one migration directory's database (Dir "" for the
// canary-only one) through the rehearsal.
type Database struct {
	Dir              string
	Name             string
	Base, Seed, Head int // migrations, seed statements, new migrations applied
	// Failure is a migration or seed statement that failed, under From
	// (base, seed) or To (head).
	Failure    *verify.Failure
	Canary     []pg.CanaryTable
	Amcheck    pg.AmcheckReport
	Mismatches []pg.VersionMismatch
	Probe      pg.UniqueProbeReport
	Corrupt    []Corruption
}

// Corruption is one index or table amcheck rejects after the swap.
type Corruption struct {
	pg.IndexProblem
	// Canary is the canary's collation when the index is the canary's.
	Canary string
	// Fix is the REINDEX proof; nil for a heap problem, which no REINDEX
	// repairs.
	Fix *Fix
}

// Fix is one REINDEX and amcheck's verdict after it.
type Fix struct {
	Took     time.Duration
	Repaired bool
	// Message is why not: the REINDEX failed (duplicates in a unique
	// index) or amcheck still rejects the index.
	Message string
}

// host runs the two runtimes on one data directory.
type host interface {
	// start initialises the data under the From runtime and starts it.
	start(ctx context.Context) (*pg.Cluster, error)
	// swap stops the From server and starts the To runtime on the same
	// data; a server that would not start gives a *pg.StartError.
	swap(ctx context.Context) (*pg.Cluster, error)
	// upgrade moves the data to the To runtime's major after its server
	// refused it, and starts that server on the result.
	upgrade(ctx context.Context) (*pg.Cluster, string, error)
	// close removes everything the host made; safe after any failure.
	close() error
}

// Run rehearses the rollout. An error means the rehearsal itself could
// not run (no binaries, no Docker, a server lost midway); what the
// rehearsal found is in the Result.
func Run(ctx context.Context, opt Options) (res *Result, err error) {
	t0 := time.Now()
	res = &Result{From: opt.From.String(), To: opt.To.String()}
	h, err := newHost(opt)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := h.close(); cerr != nil && err == nil {
			err = cerr
		}
		if res != nil {
			res.Took = time.Since(t0)
		}
	}()
	progress(opt.Progress, "rehearse: starting %s", res.From)
	cl, err := h.start(ctx)
	if err != nil {
		return nil, fmt.Errorf("rehearse: start %s: %w", res.From, err)
	}
	setTimeout(cl, opt.StatementTimeout)
	if res.FromVersion, err = version(ctx, cl); err != nil {
		return nil, err
	}
	if err := build(ctx, opt, cl, res); err != nil {
		return nil, err
	}

	progress(opt.Progress, "rehearse: stopping PostgreSQL %s, starting %s on the same data", res.FromVersion, res.To)
	cl, err = h.swap(ctx)
	var se *pg.StartError
	if errors.As(err, &se) && se.Incompatible && !downgrade(se.Message) {
		res.Refusal = se.Message
		progress(opt.Progress, "rehearse: %s refused the data: %s", res.To, se.Message)
		t := time.Now()
		var method string
		cl, method, err = h.upgrade(ctx)
		if err == nil {
			res.Upgrade = &Upgrade{Method: method, Took: time.Since(t)}
			progress(opt.Progress, "rehearse: %s done in %s", method, res.Upgrade.Took.Round(time.Millisecond))
		}
	}
	if errors.As(err, &se) {
		msg := se.Message
		if msg == "" {
			msg = se.Err.Error()
		}
		res.StartFailure = &StartFailure{Runtime: res.To, Message: msg, Log: se.Log}
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("rehearse: swap to %s: %w", res.To, err)
	}
	setTimeout(cl, opt.StatementTimeout)
	if res.ToVersion, err = version(ctx, cl); err != nil {
		return nil, err
	}
	for i := range res.Databases {
		if err := check(ctx, opt, cl, &res.Databases[i]); err != nil {
			return nil, err
		}
	}
	return res, nil
}

var incompatibleVersions = regexp.MustCompile(`initialized by PostgreSQL version (\d+)[^,]*, which is not compatible with this version (\d+)`)

// downgrade reads the refusal: data of a newer major has no way down, so
// no upgrade is tried and the refusal is the rehearsal's end.
func downgrade(refusal string) bool {
	m := incompatibleVersions.FindStringSubmatch(refusal)
	if m == nil {
		return false
	}
	data, _ := strconv.Atoi(m[1])
	server, _ := strconv.Atoi(m[2])
	return server < data
}

func setTimeout(cl *pg.Cluster, d time.Duration) {
	if d > 0 {
		cl.SetStatementTimeout(d)
	}
}

func version(ctx context.Context, cl *pg.Cluster) (string, error) {
	c, err := pg.Connect(ctx, cl.DSN())
	if err != nil {
		return "", fmt.Errorf("rehearse: %w", err)
	}
	defer c.Close()
	return c.ServerVersion(ctx)
}

// build makes one database per migration directory under the From
// runtime, each with the base migrations, the seed and the canary. The
// databases outlive their sessions: they are what the swap carries over.
func build(ctx context.Context, opt Options, cl *pg.Cluster, res *Result) error {
	dirs := opt.Dirs
	if len(dirs) == 0 {
		dirs = []verify.Dir{{}}
	}
	for _, d := range dirs {
		name := "rehearse"
		if d.Dir != "" {
			name += "_" + d.Dir
		}
		db, err := cl.Scenario(ctx, name)
		if err != nil {
			return fmt.Errorf("rehearse: %w", err)
		}
		out := Database{Dir: d.Dir, Name: db.Name}
		if d.Dir != "" {
			out.Base, out.Seed, out.Failure, err = verify.Build(ctx, db, d, opt.Seed)
			if err != nil {
				db.Close()
				return fmt.Errorf("rehearse %s: %w", d.Dir, err)
			}
			progress(opt.Progress, "rehearse %s: %d base migrations and %d seed statements applied", d.Dir, out.Base, out.Seed)
		}
		if out.Canary, err = db.CreateCanary(ctx); err != nil {
			db.Close()
			return fmt.Errorf("rehearse: %w", err)
		}
		for _, c := range out.Canary {
			progress(opt.Progress, "rehearse: canary %s.%s for %s, %d rows", pg.CanarySchema, c.Table, c.Collation, c.Rows)
		}
		// Only the session goes: the database is the data under test.
		db.Conn.Close()
		res.Databases = append(res.Databases, out)
	}
	return nil
}

// check runs the head migrations under the To runtime and then checks
// every index, proving a REINDEX repairs what is corrupt.
func check(ctx context.Context, opt Options, cl *pg.Cluster, d *Database) error {
	db, err := cl.Attach(ctx, d.Name)
	if err != nil {
		return fmt.Errorf("rehearse: %w", err)
	}
	defer db.Close()
	if d.Failure == nil && d.Dir != "" {
		for _, dir := range opt.Dirs {
			if dir.Dir != d.Dir {
				continue
			}
			if d.Head, d.Failure, err = verify.Upgrade(ctx, db, dir); err != nil {
				return fmt.Errorf("rehearse %s: %w", d.Dir, err)
			}
			progress(opt.Progress, "rehearse %s: %d new migrations applied", d.Dir, d.Head)
		}
	}
	am := pg.AmcheckOptions{Parent: true, Jobs: 2, PerIndexTimeout: cl.StatementTimeout()}
	if d.Amcheck, err = db.Amcheck(ctx, am); err != nil {
		return fmt.Errorf("rehearse: %w", err)
	}
	if d.Mismatches, err = db.CollationMismatches(ctx); err != nil {
		return fmt.Errorf("rehearse: %w", err)
	}
	if d.Probe, err = db.UniqueProbe(ctx); err != nil {
		return fmt.Errorf("rehearse: %w", err)
	}
	canary := map[string]string{}
	for _, c := range d.Canary {
		canary[c.Index] = c.Collation
	}
	for _, p := range d.Amcheck.Problems {
		c := Corruption{IndexProblem: p}
		if p.Schema == pg.CanarySchema {
			c.Canary = canary[p.Index]
		}
		d.Corrupt = append(d.Corrupt, c)
	}
	progress(opt.Progress, "rehearse: amcheck on %d indexes and %d tables: %d problems; %d unique indexes probed, %d duplicate keys",
		d.Amcheck.Checked, d.Amcheck.Tables, len(d.Corrupt), d.Probe.Probed, len(d.Probe.Duplicates))
	for i := range d.Corrupt {
		c := &d.Corrupt[i]
		if c.Kind != "index" || c.Timeout {
			continue
		}
		if c.Fix, err = repair(ctx, db, c.IndexProblem); err != nil {
			return fmt.Errorf("rehearse: %w", err)
		}
		progress(opt.Progress, "rehearse: REINDEX %s.%s took %s, repaired: %v", c.Schema, c.Index, c.Fix.Took.Round(time.Millisecond), c.Fix.Repaired)
	}
	if err := db.DropCanary(ctx); err != nil {
		return fmt.Errorf("rehearse: %w", err)
	}
	return nil
}

// repair rebuilds one corrupt index and checks it again.
func repair(ctx context.Context, db *pg.DB, p pg.IndexProblem) (*Fix, error) {
	took, err := db.Reindex(ctx, p.Schema, p.Index)
	fix := &Fix{Took: took}
	var pe *pg.Error
	if errors.As(err, &pe) {
		fix.Message = "REINDEX failed: " + pe.Error()
		return fix, nil
	}
	if err != nil {
		return nil, err
	}
	rep, err := db.Amcheck(ctx, pg.AmcheckOptions{Parent: true, Indexes: []string{p.Schema + "." + p.Index}})
	if err != nil {
		return nil, err
	}
	if len(rep.Problems) > 0 {
		fix.Message = "amcheck still fails after REINDEX: " + rep.Problems[0].Message
		return fix, nil
	}
	fix.Repaired = true
	return fix, nil
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func newHost(opt Options) (host, error) {
	switch {
	case opt.From.Kind == KindBin && opt.To.Kind == KindBin:
		return &localHost{from: opt.From, to: opt.To, log: opt.Progress}, nil
	case opt.From.Kind == KindImage && opt.To.Kind == KindImage:
		return newDockerHost(opt), nil
	case opt.From.Kind == "" || opt.To.Kind == "":
		return nil, errors.New("rehearse: both runtimes are needed (--from and --to)")
	}
	// One data dir cannot be a local directory and a Docker volume.
	return nil, fmt.Errorf("rehearse: %s and %s are of different kinds; rehearse bin: with bin: or image: with image:", opt.From, opt.To)
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
