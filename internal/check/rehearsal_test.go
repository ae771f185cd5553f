package check

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/rehearse"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

func TestRehearsal(t *testing.T) {
	const (
		glibc = "bin:/usr/lib/postgresql/15/bin?locpath=/tmp/loc/a"
		musl  = "bin:/usr/lib/postgresql/15/bin?locpath=/tmp/loc/b"
		pg13  = "bin:/opt/pg/13/bin"
		pg17  = "bin:/opt/pg/17/bin"
	)
	// A locale change on one major, and a major upgrade.
	swap := func(dbs ...rehearse.Database) *rehearse.Result {
		return &rehearse.Result{From: glibc, To: musl, FromVersion: "15.18", ToVersion: "15.18", Databases: dbs, Took: 2180 * time.Millisecond}
	}
	const (
		from    = "PostgreSQL 15.18 (" + glibc + ")"
		to      = "PostgreSQL 15.18 (" + musl + ")"
		rollout = from + " → " + to
	)
	canary := []pg.CanaryTable{{Table: "c1", Index: "c1_t", Collation: "default (en_US.UTF-8, libc)", Rows: 1860}}
	corrupt := func(schema, table, index, canary string, fix *rehearse.Fix) rehearse.Corruption {
		return rehearse.Corruption{IndexProblem: pg.IndexProblem{Schema: schema, Table: table, Index: index, Kind: "index", SQLState: "XX002",
			Message: fmt.Sprintf("item order invariant violated for index %q", index), Detail: "Lower index tid=(3,2) higher index tid=(3,3) page lsn=0/A84E70."},
			Canary: canary, Fix: fix}
	}
	refusal := "FATAL:  database files are incompatible with server DETAIL:  The data directory was initialized by PostgreSQL version 13, which is not compatible with this version 17.10."
	missingLocale := `FATAL:  database locale is incompatible with operating system DETAIL:  The database was initialized with LC_COLLATE "en_US.UTF-8",  which is not recognized by setlocale().`
	missingColumn := &pg.Error{SQLState: "42703", Message: `column "login" does not exist`}

	for _, tc := range []struct {
		name     string
		res      *rehearse.Result
		file     string
		line     int
		want     []string       // rule severity file:line: message
		evidence map[int]string // by index into want
		fix      map[int]string // remediation, by index into want
	}{
		{
			name: "corruption repaired",
			res: swap(rehearse.Database{Dir: "db", Base: 1, Seed: 1, Head: 1, Canary: canary,
				Amcheck: pg.AmcheckReport{Checked: 5, Tables: 2},
				Probe:   pg.UniqueProbeReport{Probed: 1},
				Corrupt: []rehearse.Corruption{
					corrupt("breakwater_canary", "c1", "c1_t", "default (en_US.UTF-8, libc)", &rehearse.Fix{Took: 4 * time.Millisecond, Repaired: true}),
					corrupt("public", "Users", "Users_Name", "", &rehearse.Fix{Took: 2 * time.Millisecond, Repaired: true}),
				}}),
			file: "Dockerfile", line: 3,
			want: []string{
				`rehearsal/index-corruption error Dockerfile:3: After ` + rollout + ` on the same data directory, amcheck rejects index breakwater_canary.c1_t on breakwater_canary.c1 (the collation canary for default (en_US.UTF-8, libc) showed it): item order invariant violated for index "c1_t". REINDEX of this index repaired it (measured: 0.004 s on the seed data).`,
				`rehearsal/index-corruption error Dockerfile:3: After ` + rollout + ` on the same data directory, amcheck rejects index public.Users_Name on public.Users (the user data showed it): item order invariant violated for index "Users_Name". REINDEX of this index repaired it (measured: 0.002 s on the seed data).`,
			},
			evidence: map[int]string{0: "Lower index tid=(3,2) higher index tid=(3,3) page lsn=0/A84E70."},
			fix: map[int]string{
				0: "REINDEX of these 2 indexes repairs it (measured: 0.006 s in all on the seed data). Run it after the new runtime starts and before it serves traffic:\nREINDEX INDEX breakwater_canary.c1_t;\nREINDEX INDEX public.\"Users_Name\";",
				1: "REINDEX of these 2 indexes repairs it (measured: 0.006 s in all on the seed data). Run it after the new runtime starts and before it serves traffic:\nREINDEX INDEX breakwater_canary.c1_t;\nREINDEX INDEX public.\"Users_Name\";",
			},
		},
		{
			name: "corruption not repaired",
			res: swap(rehearse.Database{Dir: "db", Head: 1, Canary: canary,
				Corrupt: []rehearse.Corruption{
					corrupt("breakwater_canary", "c1", "c1_t", "default (en_US.UTF-8, libc)", &rehearse.Fix{Took: 4 * time.Millisecond, Repaired: true}),
					corrupt("public", "users", "users_email", "", &rehearse.Fix{Took: 3 * time.Millisecond,
						Message: `amcheck still fails after REINDEX: item order invariant violated for index "users_email"`}),
				}}),
			file: ".breakwater.yml",
			want: []string{
				`rehearsal/index-corruption error .breakwater.yml:0: After ` + rollout + ` on the same data directory, amcheck rejects index breakwater_canary.c1_t on breakwater_canary.c1 (the collation canary for default (en_US.UTF-8, libc) showed it): item order invariant violated for index "c1_t". REINDEX of this index repaired it (measured: 0.004 s on the seed data).`,
				`rehearsal/index-corruption error .breakwater.yml:0: After ` + rollout + ` on the same data directory, amcheck rejects index public.users_email on public.users (the user data showed it): item order invariant violated for index "users_email". The REINDEX did not repair it: amcheck still fails after REINDEX: item order invariant violated for index "users_email".`,
			},
			fix: map[int]string{
				// The proof lists and times only what the REINDEX repaired.
				0: "REINDEX of this index repairs it (measured: 0.004 s in all on the seed data). Run it after the new runtime starts and before it serves traffic:\nREINDEX INDEX breakwater_canary.c1_t;",
				1: "Remove the duplicate keys the index let in (see rehearsal/duplicate-key), then REINDEX; or keep the old C library under the data (pin the base image) and move by dump and restore.",
			},
		},
		{
			name: "heap problem",
			res: swap(rehearse.Database{Dir: "db", Head: 1, Canary: canary,
				Corrupt: []rehearse.Corruption{{IndexProblem: pg.IndexProblem{Schema: "public", Table: "words", Kind: "heap",
					Message: "line pointer redirection to item at offset 5 precedes minimum offset 1"}}}}),
			file: "Dockerfile", line: 1,
			want: []string{
				`rehearsal/index-corruption error Dockerfile:1: After ` + rollout + ` on the same data directory, amcheck rejects table public.words (the user data showed it): line pointer redirection to item at offset 5 precedes minimum offset 1.`,
			},
			fix: map[int]string{0: "No REINDEX repairs a heap problem: restore the table from a backup taken under the old runtime."},
		},
		{
			name: "duplicates",
			res: swap(rehearse.Database{Dir: "db", Head: 1, Canary: canary,
				Probe: pg.UniqueProbeReport{Probed: 2, Duplicates: []pg.Duplicate{
					{Schema: "public", Table: "users", Index: "users_email", Key: "anna 2@example.com", Rows: 3},
					{Schema: "public", Table: "tags", Index: "tags_owner_name", Key: "7, Zoë", Rows: 2},
				}}}),
			file: "compose.yaml", line: 4,
			want: []string{
				`rehearsal/duplicate-key error compose.yaml:4: After ` + rollout + `, unique index public.users_email on public.users holds key (anna 2@example.com) in 3 rows.`,
				`rehearsal/duplicate-key error compose.yaml:4: After ` + rollout + `, unique index public.tags_owner_name on public.tags holds key (7, Zoë) in 2 rows.`,
			},
			fix: map[int]string{0: "Deduplicate the rows, then REINDEX the index; in production, REINDEX every collation-dependent index before writes reach the new runtime."},
		},
		{
			name: "version mismatch",
			res: &rehearse.Result{From: "image:postgres:15-bullseye", To: "image:postgres:15-bookworm", FromVersion: "15.8 (Debian 15.8-1.pgdg110+1)", ToVersion: "15.8 (Debian 15.8-1.pgdg120+1)",
				Databases: []rehearse.Database{{Dir: "db", Head: 1, Canary: canary, Mismatches: []pg.VersionMismatch{
					{Object: `database "rehearse_db"`, Recorded: "2.31", Actual: "2.36", Kind: "database", Name: "rehearse_db"},
					{Object: `collation "public.legacy"`, Recorded: "0.1", Kind: "collation", Schema: "public", Name: "legacy"},
				}}}},
			file: "Dockerfile", line: 1,
			want: []string{
				`collation/version-mismatch warning Dockerfile:1: After PostgreSQL 15.8 (Debian 15.8-1.pgdg110+1) (image:postgres:15-bullseye) → PostgreSQL 15.8 (Debian 15.8-1.pgdg120+1) (image:postgres:15-bookworm), the version Postgres recorded for database "rehearse_db" is 2.31, and the library now reports 2.36: indexes built under the old version may be out of order.`,
				`collation/version-mismatch warning Dockerfile:1: After PostgreSQL 15.8 (Debian 15.8-1.pgdg110+1) (image:postgres:15-bullseye) → PostgreSQL 15.8 (Debian 15.8-1.pgdg120+1) (image:postgres:15-bookworm), the version Postgres recorded for collation "public.legacy" is 0.1, and the library now reports none: indexes built under the old version may be out of order.`,
			},
		},
		{
			name: "refusal and upgrade",
			res: &rehearse.Result{From: pg13, To: pg17, FromVersion: "13.23", ToVersion: "17.10", Refusal: refusal,
				Upgrade:   &rehearse.Upgrade{Method: "pg_upgrade", Took: 3906 * time.Millisecond},
				Databases: []rehearse.Database{{Dir: "db", Base: 1, Head: 1, Canary: canary, Amcheck: pg.AmcheckReport{Checked: 5, Tables: 2}}}},
			file: ".breakwater.yml",
			want: []string{
				`postgres/major-upgrade error .breakwater.yml:0: The rehearsal started ` + pg17 + ` on the data directory PostgreSQL 13.23 (` + pg13 + `) wrote, and the server refused it: ` + refusal + ` pg_upgrade then moved the data in 3.906 s, and the rehearsal went on.`,
				`rehearsal/passed notice .breakwater.yml:0: Rehearsed PostgreSQL 13.23 (` + pg13 + `) → PostgreSQL 17.10 (` + pg17 + `) on one data directory in 0.000 s: pg_upgrade moved the data in 3.906 s; 1 new migration applied; amcheck (bt_index_parent_check, heapallindexed) passed on 5 B-tree indexes, 1 of them collation canaries (default (en_US.UTF-8, libc)); verify_heapam passed on 2 tables; 0 unique indexes probed with no duplicate key; no collation version mismatch.`,
			},
			evidence: map[int]string{0: "PostgreSQL 13.23 (" + pg13 + ") → PostgreSQL 17.10 (" + pg17 + ")"},
		},
		{
			name: "start failure",
			res: &rehearse.Result{From: glibc, To: musl, FromVersion: "15.18",
				StartFailure: &rehearse.StartFailure{Runtime: musl, Message: missingLocale, Log: "LOG:  starting PostgreSQL 15.18\n" + missingLocale},
				// Built under the old runtime, never checked: nothing to report.
				Databases: []rehearse.Database{{Dir: "db", Base: 1, Seed: 1, Canary: canary}}},
			file: "Dockerfile", line: 2,
			want: []string{
				`rehearsal/start-failed error Dockerfile:2: ` + musl + ` would not start on the data ` + from + ` wrote: ` + missingLocale,
			},
			evidence: map[int]string{0: "LOG:  starting PostgreSQL 15.18\n" + missingLocale},
			fix:      map[int]string{0: "Read the server log above. A missing locale means the new image lacks the database's locale (install it, or initdb the image with a locale it has); another major needs pg_upgrade first."},
		},
		{
			name: "refusal then start failure",
			res: &rehearse.Result{From: pg13, To: pg17, FromVersion: "13.23", Refusal: refusal,
				StartFailure: &rehearse.StartFailure{Runtime: pg17, Message: `FATAL:  could not access file "pg_trgm": No such file or directory`},
				Databases:    []rehearse.Database{{Dir: "db", Base: 1, Canary: canary}}},
			want: []string{
				`postgres/major-upgrade error :0: The rehearsal started ` + pg17 + ` on the data directory PostgreSQL 13.23 (` + pg13 + `) wrote, and the server refused it: ` + refusal,
				`rehearsal/start-failed error :0: ` + pg17 + ` would not start on the data PostgreSQL 13.23 (` + pg13 + `) wrote: FATAL:  could not access file "pg_trgm": No such file or directory`,
			},
			evidence: map[int]string{0: "PostgreSQL 13.23 (" + pg13 + ") → " + pg17},
		},
		{
			name: "head migration fails under the new runtime",
			res: swap(rehearse.Database{Dir: "db", Base: 1, Seed: 1, Canary: canary, Amcheck: pg.AmcheckReport{Checked: 3, Tables: 2},
				Failure: &verify.Failure{Phase: verify.PhaseHead, File: "db/002_nickname.up.sql", Line: 3, Statement: "UPDATE users SET nickname = login", Err: missingColumn}}),
			file: "Dockerfile", line: 1,
			want: []string{
				`rehearsal/migration-failed error db/002_nickname.up.sql:3: During the rehearsal ` + rollout + `, the head step failed under ` + to + `: column "login" does not exist (SQLSTATE 42703).`,
			},
			evidence: map[int]string{0: "statement: UPDATE users SET nickname = login"},
		},
		{
			name: "base migration and seed fail under the old runtime",
			res: swap(
				rehearse.Database{Dir: "db", Canary: canary,
					Failure: &verify.Failure{Phase: verify.PhaseBase, File: "db/001_users.up.sql", Line: 1, Statement: "CREATE EXTENSION pg_trgm",
						Err: &pg.Error{SQLState: "0A000", Message: `extension "pg_trgm" is not available`}}},
				rehearse.Database{Dir: "seeded", Base: 2, Canary: canary,
					Failure: &verify.Failure{Phase: verify.PhaseSeed, File: "db/seed.sql", Line: 7, Msg: "line 7: unterminated quoted string."}},
				// No file of its own: the finding goes where the rehearsal's do.
				rehearse.Database{Dir: "cmd", Canary: canary,
					Failure: &verify.Failure{Phase: verify.PhaseBase, Msg: "migrate up exited 1"}},
			),
			file: "Dockerfile", line: 1,
			want: []string{
				`rehearsal/migration-failed error db/001_users.up.sql:1: During the rehearsal ` + rollout + `, the base step failed under ` + from + `: extension "pg_trgm" is not available (SQLSTATE 0A000).`,
				`rehearsal/migration-failed error db/seed.sql:7: During the rehearsal ` + rollout + `, the seed step failed under ` + from + `: line 7: unterminated quoted string.`,
				`rehearsal/migration-failed error Dockerfile:0: During the rehearsal ` + rollout + `, the base step failed under ` + from + `: migrate up exited 1.`,
			},
		},
		{
			name: "clean",
			res: swap(
				rehearse.Database{Dir: "db", Base: 2, Seed: 1, Head: 1, Canary: canary,
					Amcheck: pg.AmcheckReport{Checked: 5, Tables: 2}, Probe: pg.UniqueProbeReport{Probed: 1}},
				rehearse.Database{Dir: "reports", Base: 1, Head: 2,
					Canary:  []pg.CanaryTable{{Table: "c1", Index: "c1_t", Collation: "default (en_US.UTF-8, libc)"}, {Table: "c2", Index: "c2_t", Collation: "public.german (icu)"}},
					Amcheck: pg.AmcheckReport{Checked: 4, Tables: 3}, Probe: pg.UniqueProbeReport{Probed: 2}},
			),
			file: ".breakwater.yml",
			want: []string{
				`rehearsal/passed notice .breakwater.yml:0: Rehearsed ` + rollout + ` on one data directory in 2.180 s: the new server started on the old data directory; 3 new migrations applied; amcheck (bt_index_parent_check, heapallindexed) passed on 9 B-tree indexes, 3 of them collation canaries (default (en_US.UTF-8, libc), default (en_US.UTF-8, libc), public.german (icu)); verify_heapam passed on 5 tables; 3 unique indexes probed with no duplicate key; no collation version mismatch.`,
			},
		},
		{
			name: "clean, Postgres 13: no verify_heapam, the canary alone",
			res: &rehearse.Result{From: pg13, To: pg13, FromVersion: "13.23", ToVersion: "13.23", Took: 1500 * time.Millisecond,
				Databases: []rehearse.Database{{Canary: canary, Amcheck: pg.AmcheckReport{Checked: 2}}}},
			want: []string{
				`rehearsal/passed notice :0: Rehearsed PostgreSQL 13.23 (` + pg13 + `) → PostgreSQL 13.23 (` + pg13 + `) on one data directory in 1.500 s: the new server started on the old data directory; 0 new migrations applied; amcheck (bt_index_parent_check, heapallindexed) passed on 2 B-tree indexes, 1 of them collation canaries (default (en_US.UTF-8, libc)); 0 unique indexes probed with no duplicate key; no collation version mismatch.`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found := Rehearsal(tc.res, tc.file, tc.line)
			var got []string
			for _, f := range found {
				got = append(got, fmt.Sprintf("%s %s %s:%d: %s", f.Rule, f.Severity, f.File, f.Line, f.Message))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for i, want := range tc.evidence {
				if found[i].Evidence != want {
					t.Errorf("%d %s: evidence\n%s\nwant\n%s", i, found[i].Rule, found[i].Evidence, want)
				}
			}
			for i, want := range tc.fix {
				if found[i].Remediation != want {
					t.Errorf("%d %s: remediation\n%s\nwant\n%s", i, found[i].Rule, found[i].Remediation, want)
				}
			}
			serious, passed := false, 0
			fingerprints := map[string]bool{}
			for _, f := range found {
				// A major upgrade that pg_upgrade carried through does not
				// stand in the way of the evidence after it.
				if f.Severity >= finding.Warning && f.Rule != MajorUpgrade.ID {
					serious = true
				}
				if f.Rule == RehearsalPassed.ID {
					passed++
				} else if f.Remediation == "" {
					t.Errorf("%s has no remediation", f.Rule)
				}
				if fingerprints[f.Fingerprint] {
					t.Errorf("%s: fingerprint %s repeats: findings would merge", f.Rule, f.Fingerprint)
				}
				fingerprints[f.Fingerprint] = true
			}
			// The notice is evidence for the rollout: exactly one when
			// nothing else stands in its way, none otherwise.
			if serious && passed != 0 || !serious && passed != 1 {
				t.Errorf("%d rehearsal/passed notices with a warning or error found: %v", passed, serious)
			}
		})
	}
}

// The version mismatch's remediation rebuilds before it records the
// new version, as collation/version-mismatch teaches.
func TestRehearsalMismatchScript(t *testing.T) {
	res := &rehearse.Result{From: "bin:", To: "bin:", Databases: []rehearse.Database{{Dir: "db",
		Mismatches: []pg.VersionMismatch{{Object: `database "rehearse_db"`, Recorded: "2.31", Actual: "2.36", Kind: "database", Name: "rehearse_db"}}}}}
	found := Rehearsal(res, "", 0)
	if len(found) != 1 || found[0].Rule != VersionMismatch.ID {
		t.Fatalf("findings %+v, want one %s", found, VersionMismatch.ID)
	}
	fix := found[0].Remediation
	if !strings.HasPrefix(fix, "REINDEX the indexes that depend on it (collation/dependent-indexes lists them), then record the new version:\n") {
		t.Errorf("remediation starts %q", fix)
	}
	if !strings.HasSuffix(fix, "\nALTER DATABASE rehearse_db REFRESH COLLATION VERSION;") {
		t.Errorf("remediation does not end by recording the version:\n%s", fix)
	}
}
