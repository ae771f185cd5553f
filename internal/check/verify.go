package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

const upgradeRemediation = "Make the migration work on the data production has, not only on an empty database: add a NOT NULL column as nullable (or with a DEFAULT), backfill it, then set NOT NULL; remove duplicates before adding a unique index or constraint; convert values before changing a column's type (USING). Add rows like production's to the seed so this stays tested."

// Verified turns what the real server said into findings: a failed
// upgrade path or head-only run at the statement's file and line. A base
// side that does not apply means the upgrade path could not run, which is
// said, never taken as a pass.
func Verified(results []verify.Result) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		if f := r.Upgrade; f != nil {
			switch f.Phase {
			case verify.PhaseBase:
				out = append(out, finding.New(finding.Skipped, f.File, f.Line, key("upgrade-base", r),
					fmt.Sprintf("The upgrade path of %s could not run: the base side's own migrations fail on a fresh Postgres %d at %s:%d: %s.", r.Dir, r.Major, f.File, f.Line, f)))
			case verify.PhaseSeed:
				g := finding.New(UpgradePathFailed, f.File, f.Line, key("upgrade-seed", r),
					fmt.Sprintf("The seed data fails after the base side's %s of %s on Postgres %d: %s. The upgrade path did not get to the head migrations.", applied(r), r.Dir, r.Major, f))
				g.Evidence = evidence(f)
				g.Remediation = "Fix the seed so it loads on the base schema: it stands for the data production has before the upgrade."
				out = append(out, g)
			default:
				g := finding.New(UpgradePathFailed, f.File, f.Line, key("upgrade", r),
					fmt.Sprintf("The upgrade path fails on Postgres %d: %s. The base side's %s and %s applied on a fresh database; then this head migration failed.", r.Major, f, applied(r), plural(r.Seed, "seed statement")))
				g.Evidence = evidence(f)
				g.Remediation = upgradeRemediation
				out = append(out, g)
			}
		}
		if f := r.HeadOnly; f != nil {
			g := finding.New(HeadOnlyFailed, f.File, f.Line, key("head-only", r),
				fmt.Sprintf("The head side's migrations of %s fail on an empty Postgres %d database: %s.", r.Dir, r.Major, f))
			g.Evidence = evidence(f)
			g.Remediation = "Every migration must apply in order on an empty database: fix the migration, or the one before it that it depends on."
			out = append(out, g)
		}
	}
	return out
}

// evidence is the statement and the server's hints.
func evidence(f *verify.Failure) string {
	var parts []string
	if f.Statement != "" {
		s := f.Statement
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		parts = append(parts, "statement: "+s)
	}
	if f.Err != nil && f.Err.Hint != "" {
		parts = append(parts, "hint: "+f.Err.Hint)
	}
	return strings.Join(parts, "; ")
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "x"):
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Inspected turns what amcheck and the catalogs say of the upgraded
// database into findings. changing is set when the same change swaps the C
// library or its collation version under a database image: then the
// collation-dependent indexes are what needs rebuilding, and an error.
func Inspected(results []verify.Result, changing bool) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		if r.AmcheckMissing != "" {
			out = append(out, finding.New(finding.Skipped, r.Last, 0, key("amcheck", r),
				fmt.Sprintf("amcheck did not run on %s: %s.", r.Dir, r.AmcheckMissing)))
		}
		if r.Amcheck != nil {
			for _, p := range r.Amcheck.Problems {
				what := fmt.Sprintf("index %s.%s on %s.%s", p.Schema, p.Index, p.Schema, p.Table)
				if p.Kind == "heap" {
					what = fmt.Sprintf("table %s.%s", p.Schema, p.Table)
				}
				msg := fmt.Sprintf("amcheck finds %s corrupt after the upgrade path on Postgres %d: %s", what, r.Major, p.Message)
				if p.SQLState != "" {
					msg += " (SQLSTATE " + p.SQLState + ")"
				}
				if p.Timeout {
					msg = fmt.Sprintf("amcheck could not finish on %s within the time budget: %s", what, p.Message)
				}
				f := finding.New(IndexCorruption, r.Last, 0, key("corrupt", r)+":"+p.Schema+"."+p.Table+"."+p.Index, msg+".")
				f.Evidence = p.Detail
				f.Remediation = "REINDEX the index (REINDEX INDEX CONCURRENTLY) and find out why it broke: a collation change under existing data, a bug in a migration that writes to the catalogs, or storage trouble. For a heap problem restore the table from a backup."
				out = append(out, f)
			}
		}
		if len(r.Collation) > 0 {
			var names []string
			var size int64
			for _, ix := range r.Collation {
				names = append(names, fmt.Sprintf("%s.%s on %s.%s (%s, %s)", ix.Schema, ix.Index, ix.Schema, ix.Table, strings.Join(ix.Collations, ", "), bytesHuman(ix.SizeBytes)))
				size += ix.SizeBytes
			}
			verb, these, they := "depend", fmt.Sprintf("These %d indexes", len(r.Collation)), "They go"
			if len(r.Collation) == 1 {
				verb, these, they = "depends", "This index", "It goes"
			}
			msg := fmt.Sprintf("%s of %s %s on a collation other than C/POSIX: %s. %s corrupt if the collation library under the data changes.",
				plural(len(r.Collation), "index"), r.Dir, verb, listed(names), they)
			f := finding.New(DependentIndexes, r.Last, 0, key("collation", r), msg)
			if changing {
				f.Severity = finding.Error
				f.Message = fmt.Sprintf("%s will need rebuilding: this change also moves the database image to another C library or collation version. %s", these, msg)
			}
			f.Evidence = fmt.Sprintf("%s in all, measured on the seed data of the upgrade path", bytesHuman(size))
			f.Remediation = "Before the new image serves traffic, run:\n" + pg.ReindexScript(r.Collation, r.Mismatches)
			out = append(out, f)
		}
		for _, m := range r.Mismatches {
			actual := m.Actual
			if actual == "" {
				actual = "none"
			}
			f := finding.New(VersionMismatch, r.Last, 0, key("version", r)+":"+m.Object,
				fmt.Sprintf("The version Postgres recorded for %s is %s, and the library now reports %s: indexes built under the old version may be out of order.", m.Object, m.Recorded, actual))
			f.Remediation = "REINDEX the indexes that use it, then record the new version:\n" + pg.ReindexScript(using(r.Collation, m), []pg.VersionMismatch{m})
			out = append(out, f)
		}
	}
	return out
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// key tells a directory's findings apart per server major, since the same
// change can be run on two (postgres.supported).
func key(kind string, r verify.Result) string {
	return fmt.Sprintf("%s:%s:%d", kind, r.Dir, r.Major)
}

// using lists the indexes that sort by the collation of a mismatch: the
// named collation, or the database default for a database's.
func using(ix []pg.CollationIndex, m pg.VersionMismatch) []pg.CollationIndex {
	prefixes := []string{m.Schema + "." + m.Name + " (", m.Name + " ("}
	if m.Kind == "database" {
		prefixes = []string{"default ("}
	}
	var out []pg.CollationIndex
	for _, x := range ix {
		if slices.ContainsFunc(x.Collations, func(c string) bool {
			return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(c, p) })
		}) {
			out = append(out, x)
		}
	}
	return out
}

// applied says what the base side ran: its migrations, or its command.
func applied(r verify.Result) string {
	if r.Command != "" {
		return "migrations (`" + r.Command + "`)"
	}
	return plural(r.Base, "migration")
}
