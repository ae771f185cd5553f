package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/report"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// database runs the touched migration directories on a real Postgres: an
// existing server, or a throwaway cluster that is gone when it returns.
// No server to run on is said in the report (or, with DBAlways, is a
// failure): a check that did not run never looks like one that passed.
// changing says the change also moves a database image to another C
// library or collation version.
func (rd *reader) database(ctx context.Context, opt Options, set *change.Set, base, head *inventory, dirs []verify.Dir, changing bool) (_ []finding.Finding, err error) {
	mode := opt.Database.Mode
	if mode == "" {
		mode = DBAuto
	}
	cmds := rd.commandDirs(set, base)
	var out []finding.Finding
	for _, d := range cmds {
		out = append(out, check.NoDownCommand(d)...)
	}
	if mode == DBNever || len(dirs)+len(cmds) == 0 {
		return out, nil
	}
	servers, notes, err := rd.servers(opt)
	if err != nil {
		var none *noServerError
		if errors.As(err, &none) && mode == DBAuto {
			where := config.DefaultPath
			if len(dirs) > 0 {
				where = dirs[0].Dir
			}
			return append(out, finding.New(finding.Skipped, where, 0, "database",
				fmt.Sprintf("The database checks did not run: %v. Install PostgreSQL, or pass --postgres-bin DIR or --postgres-url URL (--db never turns them off).", err))), nil
		}
		return nil, err
	}
	seed, seedCommit, err := rd.seed(ctx, set, base, head)
	if err != nil {
		return nil, err
	}

	// Commands run in worktrees of their side, made once and removed on
	// every way out.
	trees := map[string]string{}
	var removes []func() error
	defer func() {
		for _, rm := range removes {
			if rerr := rm(); rerr != nil && err == nil {
				err = fmt.Errorf("remove worktree: %w", rerr)
			}
		}
	}()
	tree := func(commit string) (string, error) {
		if d, ok := trees[commit]; ok {
			return d, nil
		}
		d, rm, err := rd.repo.AddWorktree(ctx, commit)
		if err != nil {
			return "", err
		}
		trees[commit], removes = d, append(removes, rm)
		return d, nil
	}
	run := verify.CommandOptions{Seed: seed, SeedCommand: rd.cfg.Seed.Command, NoRoundTrip: opt.Database.NoRoundTrip, Progress: opt.Progress}
	if run.SeedCommand != "" {
		if run.SeedDir, err = tree(seedCommit); err != nil {
			return nil, err
		}
	}
	for i := range cmds {
		if cmds[i].Base == "base" {
			if cmds[i].Base, err = tree(set.Base); err != nil {
				return nil, err
			}
		}
		if cmds[i].Head, err = tree(set.Head); err != nil {
			return nil, err
		}
	}
	run.Dirs = cmds

	out = append(out, notes...)
	for _, srv := range servers {
		fs, err := rd.verifyOn(ctx, opt, srv, dirs, run, changing)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// commandDirs are the migrations: entries that run a command, when the
// change touches their directory (or always, for one without a dir).
// Base is "base" when the base side has the directory: the caller puts
// the worktree there.
func (rd *reader) commandDirs(set *change.Set, base *inventory) []verify.CommandDir {
	var out []verify.CommandDir
	for _, m := range rd.cfg.Migrations {
		if m.Command == "" {
			continue
		}
		dir := strings.TrimSuffix(path.Clean(m.Dir), "/") + "/"
		under := func(p string) bool { return m.Dir == "" || strings.HasPrefix(p, dir) }
		touched := false
		for _, f := range set.Files {
			touched = touched || (f.OldPath != "" && under(f.OldPath)) || (f.NewPath != "" && under(f.NewPath))
		}
		if !touched {
			continue
		}
		d := verify.CommandDir{Name: m.Dir, Config: config.DefaultPath, Line: m.Line, Command: m.Command, DownCommand: m.DownCommand}
		if d.Name == "" {
			d.Name = m.Command
		}
		// The down command goes one step: once per migration file the
		// head side adds under the directory.
		for _, f := range set.Files {
			if f.OldPath == "" && f.NewPath != "" && m.Dir != "" && under(f.NewPath) {
				d.DownSteps++
			}
		}
		if slices.ContainsFunc(base.paths, under) {
			d.Base = "base"
		}
		out = append(out, d)
	}
	return out
}

// server is where one run of the checks goes: an existing server, or
// throwaway clusters from these binaries.
type server struct {
	url string
	bin pg.Binaries
}

// verifyOn runs the checks on one server, stopping it when it is ours.
func (rd *reader) verifyOn(ctx context.Context, opt Options, srv server, dirs []verify.Dir, run verify.CommandOptions, changing bool) ([]finding.Finding, error) {
	var cl *pg.Cluster
	var err error
	if e := rd.early; e != nil && e.srv == srv {
		rd.early = nil
		<-e.done
		cl, err = e.cl, e.err
	} else {
		cl, err = start(ctx, opt, srv)
	}
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if opt.Database.StatementTimeout > 0 {
		cl.SetStatementTimeout(opt.Database.StatementTimeout)
	}
	results, err := verify.Run(ctx, verify.Options{Cluster: cl, Dirs: dirs, Seed: run.Seed,
		SeedCommand: run.SeedCommand, SeedDir: run.SeedDir, SeedConfig: config.DefaultPath,
		NoTrace: opt.Database.NoTrace, NoRoundTrip: opt.Database.NoRoundTrip, Progress: opt.Progress})
	if err != nil {
		return nil, fmt.Errorf("on Postgres %d: %w", cl.Major(), err)
	}
	if len(run.Dirs) > 0 {
		run.Cluster = cl
		more, err := verify.RunCommands(ctx, run)
		if err != nil {
			return nil, fmt.Errorf("on Postgres %d: %w", cl.Major(), err)
		}
		results = append(results, more...)
	}
	out := append(check.Verified(results), check.Inspected(results, changing)...)
	out = append(out, check.Traced(results)...)
	out = append(out, check.Incompatible(results)...)
	return append(out, check.RolledBack(results)...), nil
}

// start connects to an existing server or starts a throwaway one.
func start(ctx context.Context, opt Options, srv server) (*pg.Cluster, error) {
	if srv.url != "" {
		return pg.External(ctx, srv.url)
	}
	log := io.Discard
	if opt.Progress != nil {
		log = opt.Progress
	}
	progress(opt.Progress, "starting a throwaway Postgres %s from %s", srv.bin.Version, srv.bin.Dir)
	return pg.StartThrowaway(ctx, pg.ThrowawayOptions{Bin: srv.bin, Log: log})
}

// earlyStart is the first server, started while the files are still
// being read and parsed: a cluster takes as long to start as that.
type earlyStart struct {
	srv  server
	done chan struct{}
	cl   *pg.Cluster
	err  error
}

// prestart starts the first server in the background when the change
// touches migrations; verifyOn takes it, and stopEarly stops it if
// nothing did.
func (rd *reader) prestart(ctx context.Context, opt Options, set *change.Set, base *inventory) {
	if opt.Database.Mode == DBNever || (len(rd.migrationDirs(set)) == 0 && len(rd.commandDirs(set, base)) == 0) {
		return
	}
	servers, _, err := rd.servers(opt)
	if err != nil {
		return // said again, properly, when the checks run
	}
	e := &earlyStart{srv: servers[0], done: make(chan struct{})}
	rd.early = e
	go func() {
		defer close(e.done)
		e.cl, e.err = start(ctx, opt, e.srv)
	}()
}

func (rd *reader) stopEarly() {
	if e := rd.early; e != nil {
		rd.early = nil
		<-e.done
		if e.cl != nil {
			e.cl.Close()
		}
	}
}

// servers picks where the checks run: --postgres-url, --postgres-bin, or
// the binaries here. With postgres.supported the lowest and the highest
// installed major of the range both run, and a notice says which majors
// of the range did not.
func (rd *reader) servers(opt Options) ([]server, []finding.Finding, error) {
	if opt.Database.URL != "" {
		return []server{{url: opt.Database.URL}}, nil, nil
	}
	if opt.Database.BinDir != "" {
		bin, err := pg.FindBinaries(opt.Database.BinDir)
		if err != nil {
			return nil, nil, fmt.Errorf("--postgres-bin: %w", err)
		}
		return []server{{bin: bin}}, nil, nil
	}
	r := rd.cfg.Postgres.Range
	if r.IsZero() {
		bin, err := pg.FindBinaries("")
		if err != nil {
			return nil, nil, &noServerError{err}
		}
		return []server{{bin: bin}}, nil, nil
	}
	var in, out []pg.Binaries
	for _, b := range pg.FindAllBinaries() {
		if r.Contains(imageref.PGMajor(b.Major * 100)) {
			in = append(in, b)
		} else {
			out = append(out, b)
		}
	}
	if len(in) == 0 {
		return nil, nil, &noServerError{fmt.Errorf("no Postgres of postgres.supported (%s) is installed here%s", r, installed(out))}
	}
	servers := []server{{bin: in[0]}}
	if last := in[len(in)-1]; last.Major != in[0].Major {
		servers = append(servers, server{bin: last})
	}
	var between []string
	for _, b := range in[1 : len(in)-1] {
		if b.Major != in[0].Major && b.Major != in[len(in)-1].Major {
			between = append(between, strconv.Itoa(b.Major))
		}
	}
	ran := strconv.Itoa(in[0].Major)
	if len(servers) == 2 {
		ran += " and " + strconv.Itoa(servers[1].bin.Major)
	}
	msg := fmt.Sprintf("postgres.supported is %s: the migration checks ran on Postgres %s, the lowest and highest of the range installed here.", r, ran)
	if len(between) > 0 {
		msg += " Not run on " + strings.Join(between, ", ") + ", which lie between them."
	}
	msg += " Majors of the range that are not installed here were not run."
	return servers, []finding.Finding{finding.New(finding.Skipped, config.DefaultPath, 0, "supported-range", msg)}, nil
}

func installed(bs []pg.Binaries) string {
	if len(bs) == 0 {
		return ""
	}
	var v []string
	for _, b := range bs {
		v = append(v, b.Version)
	}
	return " (installed: " + strings.Join(v, ", ") + ")"
}

// noServerError is no Postgres to run on.
type noServerError struct{ err error }

func (e *noServerError) Error() string { return e.err.Error() }
func (e *noServerError) Unwrap() error { return e.err }

// seedFiles reads the seed: files of one side, in path order.
// seed is the seed files of the side the config names, and that side's
// commit; read once, for the database checks and the rehearsal alike.
func (rd *reader) seed(ctx context.Context, set *change.Set, base, head *inventory) ([]migrate.File, string, error) {
	commit, inv := set.Head, head
	if rd.cfg.Seed.Side == "base" {
		commit, inv = set.Base, base
	}
	if rd.seeds == nil {
		files, err := rd.seedFiles(ctx, commit, inv)
		if err != nil {
			return nil, commit, err
		}
		rd.seeds = &files
	}
	return *rd.seeds, commit, nil
}

func (rd *reader) seedFiles(ctx context.Context, commit string, inv *inventory) ([]migrate.File, error) {
	if len(rd.cfg.Seed.Files) == 0 {
		return nil, nil
	}
	var paths []string
	for _, p := range inv.paths {
		for _, g := range rd.cfg.Seed.Files {
			if report.MatchGlob(g, p) {
				paths = append(paths, p)
				break
			}
		}
	}
	sort.Strings(paths)
	reads, err := rd.readSide(ctx, commit, inv, paths)
	if err != nil {
		return nil, err
	}
	var out []migrate.File
	for _, p := range paths {
		r, ok := reads[p]
		if !ok {
			continue
		}
		if r.err != nil {
			return nil, fmt.Errorf("seed: %w", r.err)
		}
		out = append(out, migrate.File{Path: p, Data: r.data})
	}
	return out, nil
}
