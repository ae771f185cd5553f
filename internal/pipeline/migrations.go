package pipeline

import (
	"context"
	"errors"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/report"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// versionedName is a file name a migration tool would order by version:
// golang-migrate, goose, dbmate and numbered plain files, and Flyway's.
var versionedName = regexp.MustCompile(`^(\d+_.+\.sql|[VU]\d+([._]\d+)*__.+\.sql|R__.+\.sql)$`)

// migrations runs the static migration checks on every migration
// directory the change touched: what is released stays as it is, and what
// is new comes after it. The inline suppressions of the head side's
// migration files come back with the findings.
func (rd *reader) migrations(ctx context.Context, set *change.Set, base, head *inventory, touched map[string]bool) ([]verify.Dir, []finding.Finding, []report.Suppression, error) {
	var out []finding.Finding
	var sups []report.Suppression
	var dirs []verify.Dir
	for _, d := range rd.migrationDirs(set) {
		bset, _, err := rd.loadMigrations(ctx, set.Base, base, d)
		var bad *finding.InputError
		if err != nil && !errors.As(err, &bad) {
			return nil, nil, nil, err
		}
		hset, files, err := rd.loadMigrations(ctx, set.Head, head, d)
		switch {
		case errors.As(err, &bad):
			if touched[bad.File] || bad.File == "" {
				out = append(out, parseError(err, d.Dir, "Migration directory"))
			}
			continue
		case err != nil:
			return nil, nil, nil, err
		}
		if hset != nil {
			dirs = append(dirs, verify.Dir{Dir: d.Dir, Base: bset, Head: hset})
		}
		for _, f := range files {
			s, errs := inline(f.Path, f.Data)
			sups = append(sups, s...)
			for _, e := range errs {
				out = append(out, finding.New(finding.ParseError, f.Path, e.Line, "inline:"+e.Msg, e.Msg))
			}
		}
		out = append(out, check.MigrationHistory(bset, hset)...)
		out = append(out, check.NoDownSteps(bset, hset)...)
	}
	return dirs, out, sups, nil
}

// migrationDirs are the configured SQL directories the change touched,
// or without a migrations: section, every directory of versioned .sql
// files the change touched.
func (rd *reader) migrationDirs(set *change.Set) []config.MigrationDir {
	touchedDirs := map[string]bool{}
	auto := map[string]bool{}
	for _, f := range set.Files {
		for _, p := range []string{f.OldPath, f.NewPath} {
			if p == "" || !strings.HasSuffix(p, ".sql") || rd.cfg.Excluded(p) {
				continue
			}
			touchedDirs[path.Dir(p)] = true
			if versionedName.MatchString(path.Base(p)) {
				auto[path.Dir(p)] = true
			}
		}
	}
	var out []config.MigrationDir
	if len(rd.cfg.Migrations) > 0 {
		for _, m := range rd.cfg.Migrations {
			if m.Dir != "" && m.Command == "" && touchedDirs[path.Clean(m.Dir)] {
				m.Dir = path.Clean(m.Dir)
				out = append(out, m)
			}
		}
		return out
	}
	for d := range auto {
		out = append(out, config.MigrationDir{Dir: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out
}

// loadMigrations reads one side's migrations of a directory: nil when the
// side has none there, or when a detected directory is not one a tool
// would run (plain .sql files outside a directory named for migrations).
func (rd *reader) loadMigrations(ctx context.Context, commit string, inv *inventory, d config.MigrationDir) (*migrate.Set, []migrate.File, error) {
	var paths []string
	for _, p := range inv.paths {
		if path.Dir(p) == d.Dir && strings.HasSuffix(p, ".sql") {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, nil, nil
	}
	reads, err := rd.readSide(ctx, commit, inv, paths)
	if err != nil {
		return nil, nil, err
	}
	files := make([]migrate.File, 0, len(paths))
	for _, p := range paths {
		if r, ok := reads[p]; ok && r.err == nil {
			files = append(files, migrate.File{Path: p, Data: r.data})
		}
	}
	format := migrate.Format(d.Format)
	if format == "" {
		if format, err = migrate.Detect(files); err != nil {
			return nil, nil, nil // not a migration directory after all
		}
		if format == migrate.Plain && !strings.Contains(strings.ToLower(path.Base(d.Dir)), "migrat") {
			return nil, nil, nil
		}
	}
	set, err := migrate.Load(d.Dir, format, files)
	return set, files, err
}
