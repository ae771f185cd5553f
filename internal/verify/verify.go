// Package verify runs migrations on a real Postgres the way production
// will: on a fresh database the base side's migrations exactly as they
// are in the base commit, then the seed data, then only the head side's
// new migrations; and, apart, every head migration on an empty database.
// It reports what happened as facts; internal/check turns them into
// findings. It talks to Postgres only through internal/pg.
package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

// Dir is one migration directory on both sides. Base is nil when the
// directory is new.
type Dir struct {
	Dir        string
	Base, Head *migrate.Set
}

// Phases of the upgrade path.
const (
	PhaseBase     = "base"      // the base side's migrations
	PhaseSeed     = "seed"      // the seed data
	PhaseHead     = "head"      // the head side's new migrations
	PhaseHeadOnly = "head-only" // every head migration on an empty database
	PhaseDown     = "down"      // the new migrations' down steps, newest first
	PhaseReapply  = "reapply"   // the same migrations up again after their downs
)

// Failure is the statement that stopped a phase.
type Failure struct {
	Phase     string
	File      string
	Line      int
	Statement string
	// Err is the server's error; Msg says what went wrong otherwise (a
	// statement the splitter could not read).
	Err *pg.Error
	Msg string
}

func (f *Failure) String() string {
	if f.Err != nil {
		return f.Err.Error()
	}
	return f.Msg
}

// Result is what one directory's verification found.
type Result struct {
	Dir   string
	Major int
	// Base and Head count the migrations applied in the upgrade path;
	// Seed the seed statements.
	Base, Seed, Head int
	// Upgrade is nil when the upgrade path passed, HeadOnly likewise.
	Upgrade, HeadOnly *Failure
	// Command is the command that migrates, for a command directory;
	// Base and Head then stay 0, since only the tool knows what it ran.
	Command string
	// Last is the newest head migration's file, for findings about the
	// database the migrations leave behind.
	Last string
	// What the database looks like after a passing upgrade path: amcheck's
	// verdict (nil when amcheck is not installed: AmcheckMissing says
	// so), the indexes that depend on a collation, and collation versions
	// that no longer match.
	Amcheck        *pg.AmcheckReport
	AmcheckMissing string
	Collation      []pg.CollationIndex
	Mismatches     []pg.VersionMismatch
	// Before is the schema after the base migrations and the seed: what
	// the old application runs on. Steps are the schema after each new
	// head migration, in order, as far as the upgrade path got; for a
	// command directory one step, after the head command.
	Before *pg.Snapshot
	Steps  []Step
	// Traces are what the new head statements did to the relations that
	// existed before them; nil when tracing was off, or for a command
	// directory.
	Traces []Trace
	// RoundTrip is the rollback round trip; nil when it did not run (no
	// new migration has a down step, the upgrade path failed, or it was
	// turned off).
	RoundTrip *RoundTrip
}

// Step is the schema after one new head migration.
type Step struct {
	File   string // the migration's up file
	Schema *pg.Snapshot
}

// RoundTrip is the new head migrations rolled back, newest first, and
// applied again.
type RoundTrip struct {
	// Down are the down steps that ran, newest first: every new head
	// migration after the newest one without a down step.
	Down []DownStep
	// Stopped is the newest new migration without a down step, below
	// which the round trip could not go; "" when it went back to the base
	// schema.
	Stopped string
	// Failure is the down (PhaseDown) or up (PhaseReapply) statement that
	// failed; the round trip stopped there.
	Failure *Failure
	// Reapplied counts the migrations applied up again.
	Reapplied int
}

// DownStep is one migration rolled back.
type DownStep struct {
	Up, Down string // the files of its two directions
	Line     int    // where the down step starts
	// Mismatch is how the schema after the down differs from the schema
	// before the up, leaving out what later migrations' downs had already
	// left behind: what this down forgot or did too much.
	Mismatch []pg.Difference
}

// Options say what to run where.
type Options struct {
	Cluster *pg.Cluster
	Dirs    []Dir
	// Seed files are loaded between the base and head migrations, in the
	// order given; then SeedCommand runs in SeedDir (a worktree of the
	// seed's side), with DATABASE_URL set.
	Seed                 []migrate.File
	SeedCommand, SeedDir string
	SeedConfig           string // where the seed command is configured, for findings
	// Timeout bounds each command; 0 means DefaultCommandTimeout.
	Timeout time.Duration
	// NoTrace turns lock tracing off, NoRoundTrip the rollback round
	// trip: for a measurement, or for migrations too slow to run twice.
	NoTrace, NoRoundTrip bool
	Progress             io.Writer
}

// Run verifies every directory, each in fresh databases that are dropped
// afterwards. An error means the verification itself could not run (the
// server went away, a database could not be created): never a clean
// result.
func Run(ctx context.Context, opt Options) ([]Result, error) {
	var out []Result
	for _, d := range opt.Dirs {
		if d.Head == nil {
			continue
		}
		r := Result{Dir: d.Dir, Major: opt.Cluster.Major()}
		for _, m := range d.Head.Migrations {
			if m.Up != nil {
				r.Last = m.Up.File
			}
		}
		// The two scenarios share nothing but the server, so they run at
		// once: the head-only build is as long as the whole upgrade.
		headOnlyErr := make(chan error, 1)
		go func() { headOnlyErr <- headOnly(ctx, opt, d, &r.HeadOnly) }()
		err := upgradePath(ctx, opt, d, &r)
		if herr := <-headOnlyErr; err == nil {
			err = herr
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "breakwater: "+format+"\n", args...)
	}
}

func upgradePath(ctx context.Context, opt Options, d Dir, r *Result) error {
	db, err := opt.Cluster.Scenario(ctx, "upgrade")
	if err != nil {
		return fmt.Errorf("verify %s: %w", d.Dir, err)
	}
	defer db.Close()
	if r.Base, r.Upgrade, err = applyBase(ctx, db, d); err != nil || r.Upgrade != nil {
		return err
	}
	progress(opt.Progress, "%s: %d base migrations applied on Postgres %d", d.Dir, r.Base, r.Major)
	if r.Upgrade, err = applySeed(ctx, db, opt.Seed, r); err != nil || r.Upgrade != nil {
		return err
	}
	if opt.SeedCommand != "" {
		co := CommandOptions{Timeout: opt.Timeout, Progress: opt.Progress}
		if co.Timeout <= 0 {
			co.Timeout = DefaultCommandTimeout
		}
		seeder := CommandDir{Name: d.Dir, Config: opt.SeedConfig}
		if r.Upgrade, err = runStep(ctx, co, db, seeder, PhaseSeed, opt.SeedDir, opt.SeedCommand); err != nil || r.Upgrade != nil {
			return err
		}
	}
	if r.Before, err = db.Snapshot(ctx); err != nil {
		return fmt.Errorf("verify %s: %w", d.Dir, err)
	}
	var tr *tracer
	if !opt.NoTrace {
		if tr, err = newTracer(ctx, db); err != nil {
			return fmt.Errorf("verify %s: %w", d.Dir, err)
		}
	}
	var applied []migrate.Migration
	for _, m := range NewMigrations(d) {
		if tr != nil {
			r.Upgrade, err = tr.apply(ctx, PhaseHead, m.Up)
			r.Traces = tr.traces
		} else {
			r.Upgrade, err = apply(ctx, db, PhaseHead, m.Up)
		}
		if err != nil || r.Upgrade != nil {
			return err
		}
		r.Head++
		snap, err := db.Snapshot(ctx)
		if err != nil {
			return fmt.Errorf("verify %s: %w", d.Dir, err)
		}
		r.Steps = append(r.Steps, Step{File: m.Up.File, Schema: snap})
		applied = append(applied, m)
	}
	progress(opt.Progress, "%s: upgrade path passed (%d base migrations, %d seed statements, %d new)", d.Dir, r.Base, r.Seed, r.Head)
	if err := inspect(ctx, db, r); err != nil {
		return err
	}
	if opt.NoRoundTrip {
		return nil
	}
	if err := roundTrip(ctx, db, applied, r); err != nil {
		return fmt.Errorf("verify %s: %w", d.Dir, err)
	}
	return nil
}

// applyBase applies the base side's migrations as they are in the base
// commit.
func applyBase(ctx context.Context, db *pg.DB, d Dir) (int, *Failure, error) {
	if d.Base == nil {
		return 0, nil, nil
	}
	n := 0
	for _, m := range d.Base.Migrations {
		if m.Up == nil {
			continue
		}
		if f, err := apply(ctx, db, PhaseBase, m.Up); err != nil || f != nil {
			return n, f, err
		}
		n++
	}
	return n, nil, nil
}

// NewMigrations are the head migrations a deploy of head runs on a
// database at base: those the base side lacks, and Flyway repeatables
// whose text changed.
func NewMigrations(d Dir) []migrate.Migration {
	if d.Head == nil {
		return nil
	}
	released := map[string]migrate.Migration{}
	if d.Base != nil {
		for _, m := range d.Base.Migrations {
			released[m.Key()] = m
		}
	}
	var out []migrate.Migration
	for _, m := range d.Head.Migrations {
		old, ok := released[m.Key()]
		if m.Up == nil || (ok && (!m.Repeatable || sameSQL(old.Up, m.Up))) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Build applies d's base migrations and then the seed files on db: the
// database the old runtime holds before a rollout. It returns how many
// migrations and seed statements ran, or the statement that failed.
func Build(ctx context.Context, db *pg.DB, d Dir, seed []migrate.File) (migrations, seedStatements int, f *Failure, err error) {
	if migrations, f, err = applyBase(ctx, db, d); err != nil || f != nil {
		return migrations, 0, f, err
	}
	var r Result
	f, err = applySeed(ctx, db, seed, &r)
	return migrations, r.Seed, f, err
}

// Upgrade applies NewMigrations(d) on db, as the deploy of head does.
func Upgrade(ctx context.Context, db *pg.DB, d Dir) (int, *Failure, error) {
	n := 0
	for _, m := range NewMigrations(d) {
		if f, err := apply(ctx, db, PhaseHead, m.Up); err != nil || f != nil {
			return n, f, err
		}
		n++
	}
	return n, nil, nil
}

// HasDown says a migration can be rolled back: it has a down step with
// at least one statement. An empty down is how a team marks a migration
// irreversible.
func HasDown(m migrate.Migration) bool { return m.Down != nil && len(m.Down.Statements) > 0 }

// roundTrip rolls the new migrations back, newest first, as far as they
// have down steps, comparing the schema after each down with the one
// before its up; then applies them up again.
func roundTrip(ctx context.Context, db *pg.DB, applied []migrate.Migration, r *Result) error {
	start := 0
	for i, m := range applied {
		if !HasDown(m) {
			start = i + 1
		}
	}
	if start == len(applied) {
		return nil
	}
	rt := &RoundTrip{}
	if start > 0 {
		rt.Stopped = applied[start-1].Up.File
	}
	r.RoundTrip = rt
	left := map[string]bool{}
	for i := len(applied) - 1; i >= start; i-- {
		m := applied[i]
		fail, err := apply(ctx, db, PhaseDown, m.Down)
		if err != nil || fail != nil {
			rt.Failure = fail
			return err
		}
		want := r.Before
		if i > 0 {
			want = r.Steps[i-1].Schema
		}
		step := DownStep{Up: m.Up.File, Down: m.Down.File, Line: m.Down.Line}
		if step.Mismatch, left, err = mismatch(ctx, db, want, left); err != nil {
			return err
		}
		rt.Down = append(rt.Down, step)
	}
	for _, m := range applied[start:] {
		fail, err := apply(ctx, db, PhaseReapply, m.Up)
		if err != nil || fail != nil {
			rt.Failure = fail
			return err
		}
		rt.Reapplied++
	}
	return nil
}

// mismatch compares the database's schema with want, leaving out the
// differences a later down already left (left); it returns the new
// differences and all of them, for the next step.
func mismatch(ctx context.Context, db *pg.DB, want *pg.Snapshot, left map[string]bool) ([]pg.Difference, map[string]bool, error) {
	got, err := db.Snapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	var fresh []pg.Difference
	now := map[string]bool{}
	for _, d := range pg.DiffSnapshotsDetailed(want, got) {
		now[d.String()] = true
		if !left[d.String()] {
			fresh = append(fresh, d)
		}
	}
	return fresh, now, nil
}

// inspect checks what the upgrade path left: every B-tree index and heap
// with amcheck, the indexes a collation change would corrupt, and
// collation versions out of date.
func inspect(ctx context.Context, db *pg.DB, r *Result) error {
	// amcheck is ours, not the migrations under test: its own budget. The
	// extension goes again if the migrations did not install it, so that
	// the rollback round trip compares their schema, not ours.
	had := r.Before != nil && slices.ContainsFunc(r.Before.Extensions, func(e pg.Extension) bool { return e.Name == "amcheck" })
	if n := len(r.Steps); n > 0 {
		had = slices.ContainsFunc(r.Steps[n-1].Schema.Extensions, func(e pg.Extension) bool { return e.Name == "amcheck" })
	}
	rep, err := db.Amcheck(ctx, pg.AmcheckOptions{PerIndexTimeout: pg.DefaultStatementTimeout, Jobs: 2})
	if err == nil && !had {
		if err := db.Exec(ctx, "DROP EXTENSION IF EXISTS amcheck"); err != nil {
			return fmt.Errorf("verify %s: drop amcheck: %w", r.Dir, err)
		}
	}
	switch {
	case errors.Is(err, pg.ErrAmcheckMissing):
		r.AmcheckMissing = err.Error()
	case err != nil:
		return fmt.Errorf("verify %s: amcheck: %w", r.Dir, err)
	default:
		r.Amcheck = &rep
	}
	if r.Collation, err = db.CollationIndexes(ctx); err != nil {
		return fmt.Errorf("verify %s: %w", r.Dir, err)
	}
	if r.Mismatches, err = db.CollationMismatches(ctx); err != nil {
		return fmt.Errorf("verify %s: %w", r.Dir, err)
	}
	return nil
}

func headOnly(ctx context.Context, opt Options, d Dir, failure **Failure) error {
	db, err := opt.Cluster.Scenario(ctx, "head")
	if err != nil {
		return fmt.Errorf("verify %s: %w", d.Dir, err)
	}
	defer db.Close()
	for _, m := range d.Head.Migrations {
		if m.Up == nil {
			continue
		}
		if *failure, err = apply(ctx, db, PhaseHeadOnly, m.Up); err != nil || *failure != nil {
			return err
		}
	}
	return nil
}

func sameSQL(a, b *migrate.Script) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.EqualFunc(a.Statements, b.Statements, func(x, y migrate.Statement) bool { return x.SQL == y.SQL })
}

// apply runs one script statement by statement, so a failure has a line,
// inside one transaction unless the format says it runs outside one. A
// server error is a Failure; anything else ends the run.
func apply(ctx context.Context, db *pg.DB, phase string, s *migrate.Script) (*Failure, error) {
	if batchable(s) {
		// One round trip for the whole script. The transaction makes a
		// failure undo everything, so the script is then run again
		// statement by statement to find the one that failed.
		var b strings.Builder
		b.WriteString("BEGIN;\n")
		for _, st := range s.Statements {
			b.WriteString(st.SQL)
			b.WriteString(";\n")
		}
		b.WriteString("COMMIT;")
		err := db.ExecN(ctx, b.String(), len(s.Statements))
		if err == nil {
			return nil, nil
		}
		var pe *pg.Error
		if !errors.As(err, &pe) || ctx.Err() != nil || pe.ServerTrouble() {
			return nil, fmt.Errorf("%s: %w", s.File, err)
		}
		if err := db.Exec(ctx, "ROLLBACK"); err != nil {
			return nil, err
		}
	}
	fail := func(st migrate.Statement, err error) (*Failure, error) {
		var pe *pg.Error
		if !errors.As(err, &pe) || ctx.Err() != nil || pe.ServerTrouble() {
			return nil, fmt.Errorf("%s:%d: %w", s.File, st.Line, err)
		}
		line := st.Line
		if pe.Position > 0 {
			line = st.LineAt(pe.Position)
		}
		if s.InTransaction {
			db.Exec(ctx, "ROLLBACK")
		}
		return &Failure{Phase: phase, File: s.File, Line: line, Statement: st.SQL, Err: pe}, nil
	}
	if s.InTransaction {
		if err := db.Exec(ctx, "BEGIN"); err != nil {
			return nil, err
		}
	}
	for _, st := range s.Statements {
		if err := db.Exec(ctx, st.SQL); err != nil {
			return fail(st, err)
		}
	}
	if s.InTransaction {
		if err := db.Exec(ctx, "COMMIT"); err != nil {
			last := migrate.Statement{Line: s.Line}
			if n := len(s.Statements); n > 0 {
				last = s.Statements[n-1]
			}
			return fail(last, err) // a deferred constraint fails at commit
		}
	}
	return nil, nil
}

// txControl starts a statement that ends or opens a transaction itself;
// a script with one cannot be undone as a whole.
var txControl = regexp.MustCompile(`(?i)^\s*(begin|commit|end|rollback|abort|start\s+transaction|savepoint|release|prepare\s+transaction)\b`)

// batchable says a script can be sent in one round trip: it runs in a
// transaction and controls none itself.
func batchable(s *migrate.Script) bool {
	if !s.InTransaction || len(s.Statements) < 2 {
		return false
	}
	for _, st := range s.Statements {
		if txControl.MatchString(st.SQL) {
			return false
		}
	}
	return true
}
