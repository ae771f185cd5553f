package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
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
func (rd *reader) database(ctx context.Context, opt Options, set *change.Set, base, head *inventory, dirs []verify.Dir, changing bool) ([]finding.Finding, error) {
	mode := opt.Database.Mode
	if mode == "" {
		mode = DBAuto
	}
	if mode == DBNever || len(dirs) == 0 {
		return nil, nil
	}
	servers, notes, err := rd.servers(opt)
	if err != nil {
		var none *noServerError
		if errors.As(err, &none) && mode == DBAuto {
			return []finding.Finding{finding.New(finding.Skipped, dirs[0].Dir, 0, "database",
				fmt.Sprintf("The database checks did not run: %v. Install PostgreSQL, or pass --postgres-bin DIR or --postgres-url URL (--db never turns them off).", err))}, nil
		}
		return nil, err
	}
	seedCommit, seedInv := set.Head, head
	if rd.cfg.Seed.Side == "base" {
		seedCommit, seedInv = set.Base, base
	}
	seed, err := rd.seedFiles(ctx, seedCommit, seedInv)
	if err != nil {
		return nil, err
	}
	out := notes
	for _, srv := range servers {
		fs, err := rd.verifyOn(ctx, opt, srv, dirs, seed, changing)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// server is where one run of the checks goes: an existing server, or
// throwaway clusters from these binaries.
type server struct {
	url string
	bin pg.Binaries
}

// verifyOn runs the checks on one server, stopping it when it is ours.
func (rd *reader) verifyOn(ctx context.Context, opt Options, srv server, dirs []verify.Dir, seed []migrate.File, changing bool) ([]finding.Finding, error) {
	var cl *pg.Cluster
	var err error
	if srv.url != "" {
		cl, err = pg.External(ctx, srv.url)
	} else {
		log := io.Discard
		if opt.Progress != nil {
			log = opt.Progress
		}
		progress(opt.Progress, "starting a throwaway Postgres %s from %s", srv.bin.Version, srv.bin.Dir)
		cl, err = pg.StartThrowaway(ctx, pg.ThrowawayOptions{Bin: srv.bin, Log: log})
	}
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if opt.Database.StatementTimeout > 0 {
		cl.SetStatementTimeout(opt.Database.StatementTimeout)
	}
	results, err := verify.Run(ctx, verify.Options{Cluster: cl, Dirs: dirs, Seed: seed, Progress: opt.Progress})
	if err != nil {
		return nil, fmt.Errorf("database checks: %w", err)
	}
	return append(check.Verified(results), check.Inspected(results, changing)...), nil
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
