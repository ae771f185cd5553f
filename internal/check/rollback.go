package check

import (
	"fmt"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// RolledBack turns the rollback round trip into findings: a down step
// that fails, a down that does not restore the schema before its up, and
// an up that fails when applied again.
func RolledBack(results []verify.Result) []finding.Finding {
	var out []finding.Finding
	for _, r := range results {
		rt := r.RoundTrip
		if rt == nil {
			continue
		}
		for _, d := range rt.Down {
			if len(d.Mismatch) == 0 {
				continue
			}
			lines := make([]string, len(d.Mismatch))
			for i, m := range d.Mismatch {
				lines[i] = m.String()
			}
			what := fmt.Sprintf("%s's down step", d.Up)
			if r.Command != "" {
				what = "the down_command"
			}
			f := finding.New(RollbackMismatch, d.Down, d.Line, key("rollback-mismatch", r)+":"+d.Down,
				fmt.Sprintf("After %s on Postgres %d, the schema is not what it was before the up: %s.", what, r.Major, listed(lines)))
			f.Evidence = strings.Join(lines, "\n")
			f.Remediation = "Make the down step undo exactly what the up does, in reverse order: drop every table, column, index, constraint, trigger, type and function the up creates, and restore what it drops or changes. Then `breakwater check` runs the round trip again."
			out = append(out, f)
		}
		fail := rt.Failure
		if fail == nil {
			continue
		}
		switch fail.Phase {
		case verify.PhaseDown:
			f := finding.New(RollbackFailed, fail.File, fail.Line, key("rollback", r),
				fmt.Sprintf("Rolling back the new migrations fails on Postgres %d: %s. The upgrade path passed; then the down steps ran newest first, on the upgraded database with the seed data, and this one failed.", r.Major, fail))
			f.Evidence = evidence(fail)
			f.Remediation = "Make the down step run on the schema and data its up leaves: drop objects in the reverse order of their creation (dependents first, or with CASCADE where that is meant), and restore a dropped NOT NULL or unique constraint only after fixing the rows that break it. If the migration cannot be undone, say so with an empty down step and a comment, which migration/no-down reports."
			out = append(out, f)
		case verify.PhaseReapply:
			f := finding.New(ReapplyFailed, fail.File, fail.Line, key("reapply", r),
				fmt.Sprintf("After the rollback, the new migrations fail when applied up again on Postgres %d: %s. The upgrade path and the down steps passed.", r.Major, fail))
			f.Evidence = evidence(fail)
			f.Remediation = "The down step leaves behind something the up creates (an index, a type, a function, a sequence): make the down drop it, so that up, down, up ends where up ends."
			out = append(out, f)
		}
	}
	return out
}

// NoDownSteps reports the new migrations that cannot be rolled back, in
// the formats that have down steps. Flyway's undo migrations are a paid
// feature, so a Flyway directory is held to them only when it has one.
func NoDownSteps(base, head *migrate.Set) []finding.Finding {
	if head == nil || head.Format == migrate.Plain {
		return nil
	}
	released := map[string]bool{}
	if base != nil {
		for _, m := range base.Migrations {
			released[m.Key()] = true
		}
	}
	if head.Format == migrate.Flyway {
		undo := false
		for _, m := range head.Migrations {
			undo = undo || m.Down != nil
		}
		if !undo {
			return nil
		}
	}
	var out []finding.Finding
	for _, m := range head.Migrations {
		if m.Up == nil || m.Repeatable || released[m.Key()] || verify.HasDown(m) {
			continue
		}
		why := map[migrate.Format]string{
			migrate.GolangMigrate: "it has no .down.sql file",
			migrate.Goose:         "it has no `-- +goose Down` section",
			migrate.Dbmate:        "it has no `-- migrate:down` section",
			migrate.Flyway:        "it has no undo migration (U" + m.Version + "__…)",
		}[head.Format]
		if m.Down != nil {
			why = "its down step is empty"
		}
		f := finding.New(NoDown, m.Up.File, m.Up.Line, "no-down:"+m.Up.File,
			fmt.Sprintf("The new migration %s cannot be rolled back: %s. The rollback round trip stops above it.", m.Up.File, why))
		f.Remediation = "Write the down step: it undoes the up in reverse order. If the migration cannot be undone (it drops data), keep the down empty with a comment saying so, and suppress this finding with that reason."
		out = append(out, f)
	}
	return out
}

// NoDownCommand reports a command directory the change touches that has
// no down_command.
func NoDownCommand(d verify.CommandDir) []finding.Finding {
	if d.DownCommand != "" {
		return nil
	}
	f := finding.New(NoDown, d.Config, d.Line, "no-down:"+d.Name,
		fmt.Sprintf("The migrations of %s, run by `%s`, have no down_command: the rollback round trip cannot run.", d.Name, d.Command))
	f.Remediation = "Set down_command in the migrations: entry to the command that migrates one step down (`bin/rails db:rollback`, `alembic downgrade -1`). For a tool without down migrations, suppress this finding with that reason."
	return []finding.Finding{f}
}

// describeRows says how many rows a relation had before the head
// migrations.
func describeRows(n int64) string {
	if n == 1 {
		return "1 row in the seed"
	}
	return fmt.Sprintf("%d rows in the seed", n)
}
