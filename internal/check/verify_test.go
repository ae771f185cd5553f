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

func TestInspected(t *testing.T) {
	r := verify.Result{Dir: "db", Major: 16, Last: "db/002.up.sql",
		Amcheck: &pg.AmcheckReport{Checked: 3, Problems: []pg.IndexProblem{
			{Schema: "public", Table: "words", Index: "words_w", Kind: "index", Message: `item order invariant violated for index "words_w"`, SQLState: "XX002", Detail: "Lower index tid=(3,3)"},
			{Schema: "public", Table: "words", Kind: "heap", Message: "line pointer redirection to item at offset 5 precedes minimum offset 1"},
		}},
		Collation:  []pg.CollationIndex{{Schema: "public", Table: "users", Index: "users_email", Unique: true, Collations: []string{"default (en_US.utf8, libc)"}, Provider: "libc", SizeBytes: 16384}},
		Mismatches: []pg.VersionMismatch{{Object: `collation "public.legacy"`, Recorded: "0.1", Actual: "153.120", Kind: "collation", Schema: "public", Name: "legacy"}},
	}
	for _, changing := range []bool{false, true} {
		var got []string
		for _, f := range Inspected([]verify.Result{r, {Dir: "empty", AmcheckMissing: "pg: amcheck extension is missing", Last: "e/1.sql"}}, changing) {
			if f.Remediation == "" && f.Rule != "input/skipped" {
				t.Errorf("%s has no remediation", f.Rule)
			}
			got = append(got, fmt.Sprintf("%s %s %s:%d: %s", f.Rule, f.Severity, f.File, f.Line, f.Message))
		}
		collation := "collation/dependent-indexes notice db/002.up.sql:0: 1 index of db depends on a collation other than C/POSIX: public.users_email on public.users (default (en_US.utf8, libc), 16 KiB). It goes corrupt if the collation library under the data changes."
		if changing {
			collation = "collation/dependent-indexes error db/002.up.sql:0: This index will need rebuilding: this change also moves the database image to another C library or collation version. 1 index of db depends on a collation other than C/POSIX: public.users_email on public.users (default (en_US.utf8, libc), 16 KiB). It goes corrupt if the collation library under the data changes."
		}
		want := []string{
			`postgres/index-corruption error db/002.up.sql:0: amcheck finds index public.words_w on public.words corrupt after the upgrade path on Postgres 16: item order invariant violated for index "words_w" (SQLSTATE XX002).`,
			`postgres/index-corruption error db/002.up.sql:0: amcheck finds table public.words corrupt after the upgrade path on Postgres 16: line pointer redirection to item at offset 5 precedes minimum offset 1.`,
			collation,
			`collation/version-mismatch warning db/002.up.sql:0: The version Postgres recorded for collation "public.legacy" is 0.1, and the library now reports 153.120: indexes built under the old version may be out of order.`,
			`input/skipped notice e/1.sql:0: amcheck did not run on empty: pg: amcheck extension is missing.`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("changing=%v: got\n%s\nwant\n%s", changing, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
