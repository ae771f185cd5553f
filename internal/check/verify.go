package check

import (
	"fmt"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
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
				out = append(out, finding.New(finding.Skipped, f.File, f.Line, "upgrade-base:"+r.Dir,
					fmt.Sprintf("The upgrade path of %s could not run: the base side's own migrations fail on a fresh Postgres %d at %s:%d: %s.", r.Dir, r.Major, f.File, f.Line, f)))
			case verify.PhaseSeed:
				g := finding.New(UpgradePathFailed, f.File, f.Line, "upgrade-seed:"+r.Dir,
					fmt.Sprintf("The seed data fails after the base side's %s of %s on Postgres %d: %s. The upgrade path did not get to the head migrations.", plural(r.Base, "migration"), r.Dir, r.Major, f))
				g.Evidence = evidence(f)
				g.Remediation = "Fix the seed so it loads on the base schema: it stands for the data production has before the upgrade."
				out = append(out, g)
			default:
				g := finding.New(UpgradePathFailed, f.File, f.Line, "upgrade:"+r.Dir,
					fmt.Sprintf("The upgrade path fails on Postgres %d: %s. The base side's %s and %s applied on a fresh database; then this head migration failed.", r.Major, f, plural(r.Base, "migration"), plural(r.Seed, "seed statement")))
				g.Evidence = evidence(f)
				g.Remediation = upgradeRemediation
				out = append(out, g)
			}
		}
		if f := r.HeadOnly; f != nil {
			g := finding.New(HeadOnlyFailed, f.File, f.Line, "head-only:"+r.Dir,
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
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
