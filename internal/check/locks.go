package check

import (
	"fmt"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// Traced turns what the new head statements locked and rewrote, as
// Postgres reported it, into findings: a lock that blocks traffic while
// the statement reads or rewrites a whole table, a rewrite, and
// statements that acquire a blocking lock in a migration that sets no
// lock_timeout.
func Traced(results []verify.Result) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		// missing-lock-timeout is one finding per migration file, at its
		// first blocking statement.
		type unguarded struct {
			first verify.Trace
			lines []string
		}
		var order []string
		noTimeout := map[string]*unguarded{}
		for _, t := range r.Traces {
			blocking := false
			for _, l := range t.Locks {
				if l.Kind == "view" {
					continue
				}
				blocking = blocking || pg.Blocks(l.Took) != ""
				blocks := pg.Blocks(l.Mode)
				if blocks == "" || (!l.Scanned && !l.Rewritten) {
					continue // a moment's catalog change: lock_timeout is the guard
				}
				verb := "reads every row of it"
				if l.Rewritten {
					verb = "rewrites it in full"
				}
				takes := "takes"
				if l.Took != l.Mode {
					takes = "holds" // taken by an earlier statement of the transaction
				}
				f := finding.New(BlockingLock, t.File, t.Line, fmt.Sprintf("%s:%s:%d:%s", key("lock", r), t.File, t.Line, l.Relation),
					fmt.Sprintf("This statement %s %s on %s %s (%s) on Postgres %d while it %s: %s on the table wait until the migration's transaction ends.",
						takes, l.Mode, l.Kind, l.Relation, describeRows(l.Rows), r.Major, verb, blocks))
				f.Evidence = "statement: " + clip(t.Statement)
				f.Remediation = lockRemedy(l)
				out = append(out, f)
			}
			if blocking && t.LockTimeout == "0" {
				u := noTimeout[t.File]
				if u == nil {
					u = &unguarded{first: t}
					noTimeout[t.File] = u
					order = append(order, t.File)
				}
				u.lines = append(u.lines, fmt.Sprint(t.Line))
			}
			out = append(out, rewrites(r, t)...)
		}
		for _, file := range order {
			u := noTimeout[file]
			var locks []string
			for _, l := range u.first.Locks {
				if pg.Blocks(l.Took) != "" && l.Kind != "view" {
					locks = append(locks, l.Took+" on "+l.Relation)
				}
			}
			msg := fmt.Sprintf("This statement takes %s without a lock_timeout set in the migration: if a long query or an idle transaction holds the table, it waits for it, and every query on the table queues behind it.", listed(locks))
			switch rest := u.lines[1:]; len(rest) {
			case 0:
			case 1:
				msg += fmt.Sprintf(" So does line %s of this migration.", rest[0])
			default:
				msg += fmt.Sprintf(" So do lines %s of this migration.", strings.Join(rest, ", "))
			}
			f := finding.New(MissingLockTimeout, file, u.first.Line, key("lock-timeout", r)+":"+file, msg)
			f.Evidence = "statement: " + clip(u.first.Statement)
			f.Remediation = "Set a lock timeout before the first blocking statement, `SET lock_timeout = '5s';` (`SET LOCAL` inside the migration's transaction), and retry the deploy if it times out: a short failure instead of an outage."
			out = append(out, f)
		}
	}
	return out
}

// rewrites are the findings of one statement's rewrites: a table with the
// indexes rewritten along with it is one finding, an index rebuilt on its
// own another.
func rewrites(r verify.Result, t verify.Trace) []finding.Finding {
	var out []finding.Finding
	tables := map[string]bool{}
	for _, w := range t.Rewrites {
		if w.Table == "" {
			tables[w.Relation] = true
		}
	}
	with := map[string][]string{}
	for _, w := range t.Rewrites {
		if w.Table != "" && tables[w.Table] {
			with[w.Table] = append(with[w.Table], w.Relation)
		}
	}
	for _, w := range t.Rewrites {
		var msg, remedy string
		switch {
		case w.Table == "":
			msg = fmt.Sprintf("This statement rewrites %s %s (%s) on Postgres %d: it writes every row into a new file, under an AccessExclusiveLock that blocks reads and writes, and needs the table's size again in free disk.", w.Kind, w.Relation, describeRows(w.Rows), r.Major)
			if ix := with[w.Relation]; len(ix) > 0 {
				n := "index is"
				if len(ix) > 1 {
					n = fmt.Sprintf("%d indexes are", len(ix))
				}
				msg += fmt.Sprintf(" Its %s rebuilt too: %s.", n, strings.Join(ix, ", "))
			}
			remedy = "Avoid the rewrite: a column type change rewrites unless the new type is binary-compatible (varchar(n) to text or to a longer varchar does not), and so does ADD COLUMN with a volatile default (random(), clock_timestamp()), VACUUM FULL and CLUSTER. Add a new column instead, backfill it in batches, and switch to it over two releases."
		case tables[w.Table]:
			continue
		default:
			msg = fmt.Sprintf("This statement rebuilds index %s on %s (%s) on Postgres %d under a lock that blocks writes to the table, and reads from the index.", w.Relation, w.Table, describeRows(w.Rows), r.Major)
			remedy = "Rebuild the index with REINDEX INDEX CONCURRENTLY (Postgres 12+), outside a transaction, or create a new index CONCURRENTLY and drop the old one."
		}
		f := finding.New(TableRewrite, t.File, t.Line, fmt.Sprintf("%s:%s:%d:%s", key("rewrite", r), t.File, t.Line, w.Relation), msg)
		f.Evidence = "statement: " + clip(t.Statement)
		f.Remediation = remedy
		out = append(out, f)
	}
	return out
}

// lockRemedy is how to do what the statement does without blocking, by
// what Postgres saw it do.
func lockRemedy(l verify.Lock) string {
	switch {
	case l.Kind == "materialized view":
		return "Refresh it with REFRESH MATERIALIZED VIEW CONCURRENTLY (it needs a unique index), which lets reads go on."
	case l.Mode == "ShareLock":
		return "A non-concurrent CREATE INDEX blocks writes while it builds: use CREATE INDEX CONCURRENTLY, outside a transaction (golang-migrate: a file of its own; goose: `-- +goose NO TRANSACTION`; dbmate: `-- migrate:up transaction:false`; Flyway: a script of its own)."
	case l.Mode == "ShareRowExclusiveLock":
		return "Adding a foreign key validates every row while writes wait: add it with NOT VALID, then run ALTER TABLE … VALIDATE CONSTRAINT in a later migration (its own transaction: in the same one the first lock is still held), which takes only a ShareUpdateExclusiveLock."
	case l.Rewritten:
		return "Avoid the rewrite: add a new column, backfill it in batches, and switch to it over two releases, instead of changing a column's type in place or adding a column with a volatile default."
	}
	return "ALTER TABLE … ADD CONSTRAINT without NOT VALID checks every row under the lock: add the CHECK or foreign key with NOT VALID, then VALIDATE CONSTRAINT in a later migration (its own transaction: in the same one the first lock is still held), which lets reads and writes go on. For SET NOT NULL, first add and validate CHECK (col IS NOT NULL) NOT VALID: Postgres 12+ then sets NOT NULL without a scan."
}

// clip shortens a statement for evidence.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
