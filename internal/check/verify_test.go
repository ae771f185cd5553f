package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

func TestVerified(t *testing.T) {
	notNull := &pg.Error{SQLState: "23502", Message: `column "x" of relation "t" contains null values`, Hint: "backfill first"}
	results := []verify.Result{
		{Dir: "db", Major: 15, Base: 3, Seed: 2, Head: 0,
			Upgrade:  &verify.Failure{Phase: verify.PhaseHead, File: "db/004.up.sql", Line: 2, Statement: "ALTER TABLE t ADD x int NOT NULL", Err: notNull},
			HeadOnly: &verify.Failure{Phase: verify.PhaseHeadOnly, File: "db/001.up.sql", Line: 1, Err: &pg.Error{SQLState: "42P01", Message: `relation "a" does not exist`}}},
		{Dir: "seeded", Major: 17, Base: 1,
			Upgrade: &verify.Failure{Phase: verify.PhaseSeed, File: "seed.sql", Line: 7, Msg: "line 7: unterminated quoted string"}},
		{Dir: "broken", Major: 13,
			Upgrade: &verify.Failure{Phase: verify.PhaseBase, File: "broken/1.sql", Line: 1, Err: &pg.Error{SQLState: "42601", Message: "syntax error"}}},
		{Dir: "fine", Major: 15, Base: 2, Head: 1},
	}
	var got []string
	for _, f := range Verified(results) {
		got = append(got, fmt.Sprintf("%s %s %s:%d: %s [%s]", f.Rule, f.Severity, f.File, f.Line, f.Message, f.Evidence))
	}
	want := []string{
		`migration/upgrade-path-failed error db/004.up.sql:2: The upgrade path fails on Postgres 15: column "x" of relation "t" contains null values (SQLSTATE 23502). The base side's 3 migrations and 2 seed statements applied on a fresh database; then this head migration failed. [statement: ALTER TABLE t ADD x int NOT NULL; hint: backfill first]`,
		`migration/head-only-failed error db/001.up.sql:1: The head side's migrations of db fail on an empty Postgres 15 database: relation "a" does not exist (SQLSTATE 42P01). []`,
		`migration/upgrade-path-failed error seed.sql:7: The seed data fails after the base side's 1 migration of seeded on Postgres 17: line 7: unterminated quoted string. The upgrade path did not get to the head migrations. []`,
		`input/skipped notice broken/1.sql:1: The upgrade path of broken could not run: the base side's own migrations fail on a fresh Postgres 13 at broken/1.sql:1: syntax error (SQLSTATE 42601). []`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
