package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/report"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// database runs the touched migration directories on a real Postgres: an
// existing server, or a throwaway cluster that is gone when it returns.
// No server to run on is said in the report (or, with DBAlways, is a
// failure): a check that did not run never looks like one that passed.
func (rd *reader) database(ctx context.Context, opt Options, set *change.Set, base, head *inventory, dirs []verify.Dir) ([]finding.Finding, error) {
	mode := opt.Database.Mode
	if mode == "" {
		mode = DBAuto
	}
	if mode == DBNever || len(dirs) == 0 {
		return nil, nil
	}
	cl, err := rd.cluster(ctx, opt)
	if err != nil {
		var none *noServerError
		if errors.As(err, &none) && mode == DBAuto {
			return []finding.Finding{finding.New(finding.Skipped, dirs[0].Dir, 0, "database",
				fmt.Sprintf("The database checks did not run: %v. Install PostgreSQL, or pass --postgres-bin DIR or --postgres-url URL (--db never turns them off).", err))}, nil
		}
		return nil, err
	}
	defer cl.Close()
	if opt.Database.StatementTimeout > 0 {
		cl.SetStatementTimeout(opt.Database.StatementTimeout)
	}
	seedCommit, seedInv := set.Head, head
	if rd.cfg.Seed.Side == "base" {
		seedCommit, seedInv = set.Base, base
	}
	seed, err := rd.seedFiles(ctx, seedCommit, seedInv)
	if err != nil {
		return nil, err
	}
	results, err := verify.Run(ctx, verify.Options{Cluster: cl, Dirs: dirs, Seed: seed, Progress: opt.Progress})
	if err != nil {
		return nil, fmt.Errorf("database checks: %w", err)
	}
	return check.Verified(results), nil
}

// noServerError is no Postgres to run on.
type noServerError struct{ err error }

func (e *noServerError) Error() string { return e.err.Error() }
func (e *noServerError) Unwrap() error { return e.err }

func (rd *reader) cluster(ctx context.Context, opt Options) (*pg.Cluster, error) {
	if opt.Database.URL != "" {
		return pg.External(ctx, opt.Database.URL)
	}
	bin, err := pg.FindBinaries(opt.Database.BinDir)
	if err != nil {
		if opt.Database.BinDir != "" {
			return nil, fmt.Errorf("--postgres-bin: %w", err)
		}
		return nil, &noServerError{err}
	}
	log := io.Discard
	if opt.Progress != nil {
		log = opt.Progress
	}
	progress(opt.Progress, "starting a throwaway Postgres %s from %s", bin.Version, bin.Dir)
	return pg.StartThrowaway(ctx, pg.ThrowawayOptions{Bin: bin, Log: log})
}

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
