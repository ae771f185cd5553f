package check

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/rehearse"
)

// The upgrade rehearsal: the old runtime, then the new one, on one data
// directory.
var (
	RehearsalCorruption = &finding.Rule{
		ID:       "rehearsal/index-corruption",
		Title:    "The new runtime finds an index built by the old one corrupt",
		Severity: finding.Error,
		Summary:  "The rehearsal built the base schema, the seed and a collation canary under the current Postgres runtime, started the new runtime on the same data directory, and amcheck (bt_index_parent_check with heapallindexed) rejects an index: the rollout would leave it silently out of order. The finding says whether the canary or the user data showed it and whether a measured REINDEX repaired it.",
		Incident: collationIncident,
	}
	RehearsalDuplicates = &finding.Rule{
		ID:       "rehearsal/duplicate-key",
		Title:    "A unique index admitted duplicate keys under the new runtime",
		Severity: finding.Error,
		Summary:  "After the swap to the new runtime and the head migrations, a read of the table with index scans off finds rows that share the key of a unique index over text: the index, out of collation order, missed the existing row.",
		Incident: collationIncident,
	}
	RehearsalStartFailed = &finding.Rule{
		ID:       "rehearsal/start-failed",
		Title:    "The new runtime cannot start on the old data",
		Severity: finding.Error,
		Summary:  "The new Postgres runtime would not start on the data directory the current one wrote (or on the result of the major upgrade): the rollout would leave the database down. The server's own log says why.",
		Incident: majorIncident,
	}
	RehearsalMigrationFailed = &finding.Rule{
		ID:       "rehearsal/migration-failed",
		Title:    "A migration fails during the rehearsal",
		Severity: finding.Error,
		Summary:  "A base migration or the seed failed under the current runtime, or a new head migration failed under the new runtime after the swap.",
		Incident: releasedIncident,
	}
	RehearsalPassed = &finding.Rule{
		ID:       "rehearsal/passed",
		Title:    "The upgrade rehearsal ran clean",
		Severity: finding.Notice,
		Summary:  "The rehearsal ran the current runtime, then the new one on the same data, and found nothing: the notice lists what was checked, as evidence for the rollout.",
		Incident: collationIncident,
	}
	RehearsalNotRun = &finding.Rule{
		ID:       "rehearsal/not-run",
		Title:    "The upgrade rehearsal did not run",
		Severity: finding.Notice,
		Summary:  "A rehearsal was asked for but did not run: the change moves no Postgres image and no runtimes were given (--from and --to, or rehearse: in .breakwater.yml), or, with the action's rehearse: auto, no Docker daemon was reachable to run the images.",
		Incident: collationIncident,
	}
)

func init() {
	finding.Register(RehearsalCorruption, RehearsalDuplicates, RehearsalStartFailed, RehearsalMigrationFailed, RehearsalPassed, RehearsalNotRun)
}

// Rehearsal turns a rehearsal into findings at file:line, the place that
// names the new runtime (the image reference, or the config).
func Rehearsal(r *rehearse.Result, file string, line int) []finding.Finding {
	rollout := fmt.Sprintf("%s → %s", side(r.From, r.FromVersion), side(r.To, r.ToVersion))
	var out []finding.Finding
	if r.Refusal != "" {
		f := finding.New(MajorUpgrade, file, line, "rehearsal:"+r.From+"→"+r.To,
			fmt.Sprintf("The rehearsal started %s on the data directory %s wrote, and the server refused it: %s", r.To, side(r.From, r.FromVersion), r.Refusal))
		if r.Upgrade != nil {
			f.Message += fmt.Sprintf(" %s then moved the data in %s, and the rehearsal went on.", r.Upgrade.Method, seconds(r.Upgrade.Took))
		}
		f.Evidence = rollout
		f.Remediation = "Plan the major upgrade: pg_upgrade (or a dump and restore) between stopping the old server and starting the new one, with a tested way back (a snapshot of the old data directory). Never point the new image at the old data directory."
		out = append(out, f)
	}
	if s := r.StartFailure; s != nil {
		f := finding.New(RehearsalStartFailed, file, line, "rehearsal:"+r.To,
			fmt.Sprintf("%s would not start on the data %s wrote: %s", s.Runtime, side(r.From, r.FromVersion), s.Message))
		f.Evidence = s.Log
		f.Remediation = "Read the server log above. A missing locale means the new image lacks the database's locale (install it, or initdb the image with a locale it has); another major needs pg_upgrade first."
		return append(out, f)
	}
	// A planned major upgrade that went through is no reason to withhold
	// the evidence of what came after it.
	var after []finding.Finding
	for _, d := range r.Databases {
		after = append(after, rehearsedDB(r, d, rollout, file, line)...)
	}
	out = append(out, after...)
	if !slices.ContainsFunc(after, func(f finding.Finding) bool { return f.Severity >= finding.Warning }) {
		out = append(out, passed(r, rollout, file, line))
	}
	return out
}

func rehearsedDB(r *rehearse.Result, d rehearse.Database, rollout, file string, line int) []finding.Finding {
	var out []finding.Finding
	if d.Failure != nil {
		under := side(r.From, r.FromVersion)
		if d.Failure.Phase == "head" {
			under = side(r.To, r.ToVersion)
		}
		fl := d.Failure.File
		if fl == "" {
			fl = file
		}
		f := finding.New(RehearsalMigrationFailed, fl, d.Failure.Line, "rehearsal:"+d.Dir+":"+d.Failure.Phase,
			fmt.Sprintf("During the rehearsal %s, the %s step failed under %s: %s.", rollout, d.Failure.Phase, under, strings.TrimSuffix(d.Failure.String(), ".")))
		if d.Failure.Statement != "" {
			f.Evidence = "statement: " + d.Failure.Statement
		}
		f.Remediation = "Fix the migration, or, if it passes on the current runtime, find what the new runtime does differently (an extension it lacks, a changed default)."
		out = append(out, f)
	}
	// The proof covers the indexes a REINDEX repaired; the others say why
	// not in their own findings.
	var fixes []string
	var total time.Duration
	for _, c := range d.Corrupt {
		if c.Fix != nil && c.Fix.Repaired {
			fixes = append(fixes, fmt.Sprintf("REINDEX INDEX %s.%s;", quoteIdent(c.Schema), quoteIdent(c.Index)))
			total += c.Fix.Took
		}
	}
	for _, c := range d.Corrupt {
		what := fmt.Sprintf("index %s.%s on %s.%s", c.Schema, c.Index, c.Schema, c.Table)
		source := "the user data"
		if c.Canary != "" {
			source = "the collation canary for " + c.Canary
		}
		if c.Kind == "heap" {
			what = fmt.Sprintf("table %s.%s", c.Schema, c.Table)
		}
		msg := fmt.Sprintf("After %s on the same data directory, amcheck rejects %s (%s showed it): %s.", rollout, what, source, strings.TrimSuffix(c.Message, "."))
		f := finding.New(RehearsalCorruption, file, line, "rehearsal:"+d.Dir+":"+c.Schema+"."+c.Table+"."+c.Index, msg)
		f.Evidence = c.Detail
		switch {
		case c.Timeout:
			f.Remediation = "amcheck ran out of time on this index, so no REINDEX was tried: rerun with a longer --statement-timeout, or check it on a copy with bt_index_parent_check(index, true)."
		case c.Fix == nil:
			f.Remediation = "No REINDEX repairs a heap problem: restore the table from a backup taken under the old runtime."
		case c.Fix.Repaired:
			f.Message += fmt.Sprintf(" REINDEX of this index repaired it (measured: %s on the seed data).", seconds(c.Fix.Took))
			these := "these " + plural(len(fixes), "index")
			if len(fixes) == 1 {
				these = "this index"
			}
			f.Remediation = fmt.Sprintf("REINDEX of %s repairs it (measured: %s in all on the seed data). Run it after the new runtime starts and before it serves traffic:\n%s",
				these, seconds(total), strings.Join(fixes, "\n"))
		default:
			f.Message += " The REINDEX did not repair it: " + strings.TrimSuffix(c.Fix.Message, ".") + "."
			f.Remediation = "Remove the duplicate keys the index let in (see rehearsal/duplicate-key), then REINDEX; or keep the old C library under the data (pin the base image) and move by dump and restore."
		}
		out = append(out, f)
	}
	for _, dup := range d.Probe.Duplicates {
		f := finding.New(RehearsalDuplicates, file, line, "rehearsal:"+d.Dir+":dup:"+dup.Schema+"."+dup.Index,
			fmt.Sprintf("After %s, unique index %s.%s on %s.%s holds key (%s) in %d rows.", rollout, dup.Schema, dup.Index, dup.Schema, dup.Table, dup.Key, dup.Rows))
		f.Remediation = "Deduplicate the rows, then REINDEX the index; in production, REINDEX every collation-dependent index before writes reach the new runtime."
		out = append(out, f)
	}
	for _, m := range d.Mismatches {
		actual := m.Actual
		if actual == "" {
			actual = "none"
		}
		f := finding.New(VersionMismatch, file, line, "rehearsal:"+d.Dir+":"+m.Object,
			fmt.Sprintf("After %s, the version Postgres recorded for %s is %s, and the library now reports %s: indexes built under the old version may be out of order.", rollout, m.Object, m.Recorded, actual))
		refresh := fmt.Sprintf("ALTER COLLATION %s.%s REFRESH VERSION;", quoteIdent(m.Schema), quoteIdent(m.Name))
		if m.Kind == "database" {
			refresh = fmt.Sprintf("ALTER DATABASE %s REFRESH COLLATION VERSION;", quoteIdent(m.Name))
		}
		f.Remediation = "REINDEX the indexes that depend on it (collation/dependent-indexes lists them), then record the new version:\n" + refresh
		out = append(out, f)
	}
	return out
}

func passed(r *rehearse.Result, rollout, file string, line int) finding.Finding {
	var indexes, canaries, tables, probed, head int
	var colls []string
	for _, d := range r.Databases {
		indexes += d.Amcheck.Checked
		tables += d.Amcheck.Tables
		probed += d.Probe.Probed
		head += d.Head
		for _, c := range d.Canary {
			canaries++
			colls = append(colls, c.Collation)
		}
	}
	var parts []string
	if r.Upgrade != nil {
		parts = append(parts, fmt.Sprintf("%s moved the data in %s", r.Upgrade.Method, seconds(r.Upgrade.Took)))
	} else {
		parts = append(parts, "the new server started on the old data directory")
	}
	parts = append(parts, fmt.Sprintf("%s applied", plural(head, "new migration")))
	parts = append(parts, fmt.Sprintf("amcheck (bt_index_parent_check, heapallindexed) passed on %s, %d of them collation canaries (%s)",
		plural(indexes, "B-tree index"), canaries, strings.Join(colls, ", ")))
	if tables > 0 {
		parts = append(parts, fmt.Sprintf("verify_heapam passed on %s", plural(tables, "table")))
	}
	parts = append(parts, fmt.Sprintf("%s probed with no duplicate key", plural(probed, "unique index")))
	parts = append(parts, "no collation version mismatch")
	f := finding.New(RehearsalPassed, file, line, "rehearsal:"+r.From+"→"+r.To,
		fmt.Sprintf("Rehearsed %s on one data directory in %s: %s.", rollout, seconds(r.Took), strings.Join(parts, "; ")))
	return f
}

func side(runtime, version string) string {
	if version == "" {
		return runtime
	}
	return fmt.Sprintf("PostgreSQL %s (%s)", version, runtime)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func quoteIdent(s string) string {
	if s != "" && strings.ToLower(s) == s && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == "" && (s[0] < '0' || s[0] > '9') {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
