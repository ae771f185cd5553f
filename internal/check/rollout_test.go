package check

import (
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

func lines(t *testing.T, fs []finding.Finding) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		if f.Remediation == "" {
			t.Errorf("%s at %s:%d has no remediation", f.Rule, f.File, f.Line)
		}
		out = append(out, fmt.Sprintf("%s %s %s:%d: %s", f.Rule, f.Severity, f.File, f.Line, f.Message))
	}
	return out
}

func same(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func users(cols ...pg.Column) pg.Table {
	return pg.Table{Schema: "public", Name: "users", Kind: "table", Columns: cols}
}

var (
	id    = pg.Column{Name: "id", Type: "integer", NotNull: true}
	email = pg.Column{Name: "email", Type: "text"}
)

func TestIncompatible(t *testing.T) {
	before := &pg.Snapshot{
		Tables: []pg.Table{users(id, email, pg.Column{Name: "age", Type: "integer"}),
			{Schema: "public", Name: "orders", Kind: "table", Columns: []pg.Column{id}}},
		Enums:     []pg.Enum{{Schema: "public", Name: "mood", Labels: []string{"ok", "sad"}}},
		Views:     []pg.View{{Schema: "public", Name: "active", Kind: "view"}},
		Functions: []pg.Function{{Schema: "public", Signature: "label(integer)", Kind: "function"}, {Schema: "public", Signature: "gone()", Kind: "function"}},
	}
	tests := []struct {
		name   string
		steps  []*pg.Snapshot
		traces []verify.Trace
		want   []string
	}{
		{
			name:  "an added nullable column is compatible",
			steps: []*pg.Snapshot{{Tables: append([]pg.Table{users(id, email, pg.Column{Name: "age", Type: "integer"}, pg.Column{Name: "nick", Type: "text"})}, before.Tables[1]), Enums: before.Enums, Views: before.Views, Functions: before.Functions}},
		},
		{
			name: "rename and drop, at the statement that locked the table",
			steps: []*pg.Snapshot{
				{Tables: append([]pg.Table{users(id, pg.Column{Name: "contact", Type: "text"}, pg.Column{Name: "age", Type: "integer"})}, before.Tables[1]), Enums: before.Enums, Views: before.Views, Functions: before.Functions},
				{Tables: append([]pg.Table{users(id, pg.Column{Name: "contact", Type: "text"})}, before.Tables[1]), Enums: before.Enums, Views: before.Views, Functions: before.Functions},
			},
			traces: []verify.Trace{
				{File: "db/002.up.sql", Line: 3, Locks: []verify.Lock{{Relation: "public.users", Mode: "AccessExclusiveLock", Took: "AccessExclusiveLock"}}},
				{File: "db/003.up.sql", Line: 2, Locks: []verify.Lock{{Relation: "public.orders", Mode: "AccessShareLock", Took: "AccessShareLock"}}},
				{File: "db/003.up.sql", Line: 4, Locks: []verify.Lock{{Relation: "public.users", Mode: "AccessExclusiveLock", Took: "AccessExclusiveLock"}}},
			},
			want: []string{
				"migration/backward-incompatible error db/002.up.sql:3: The old application breaks on the new schema: column public.users.email is renamed to contact: the old code's queries that name email fail. During the rollout, and after a rollback of the code, the previous release still runs against this schema.",
				"migration/backward-incompatible error db/003.up.sql:4: The old application breaks on the new schema: column public.users.age is dropped: the old code's queries that name it fail. During the rollout, and after a rollback of the code, the previous release still runs against this schema.",
			},
		},
		{
			name: "types, NOT NULL, enums, views, functions, tables",
			steps: []*pg.Snapshot{{
				Tables: []pg.Table{
					users(id, pg.Column{Name: "email", Type: "text", NotNull: true}, pg.Column{Name: "age", Type: "bigint"},
						pg.Column{Name: "tenant", Type: "integer", NotNull: true}, pg.Column{Name: "n", Type: "integer", NotNull: true, Identity: "ALWAYS"},
						pg.Column{Name: "flag", Type: "boolean", NotNull: true, Default: "false"}),
					{Schema: "public", Name: "purchases", Kind: "table", Columns: []pg.Column{id}},
				},
				Enums:     []pg.Enum{{Schema: "public", Name: "mood", Labels: []string{"ok"}}},
				Functions: []pg.Function{{Schema: "public", Signature: "label(integer, text)", Kind: "function"}},
			}},
			want: []string{
				"column public.users.email becomes NOT NULL without a default: the old code's INSERTs that leave it out fail",
				"column public.users.age changes type integer → bigint: the old code reads and writes it as integer",
				"the new column public.users.tenant is NOT NULL without a default: the old code's INSERTs into public.users, which do not know it, fail",
				"table public.orders is renamed to public.purchases: the old code's queries on public.orders fail",
				`enum type public.mood loses the value "sad": the old code's writes of it fail`,
				"view public.active is dropped: the old code's queries on it fail",
				"function public.label(integer) changes signature to public.label(integer, text): the old code's calls with the old arguments fail",
				"function public.gone() is dropped: the old code's calls of it fail",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := verify.Result{Dir: "db", Major: 17, Before: before, Traces: tt.traces}
			for i, s := range tt.steps {
				r.Steps = append(r.Steps, verify.Step{File: fmt.Sprintf("db/%03d.up.sql", i+2), Schema: s})
			}
			got := lines(t, Incompatible([]verify.Result{r}))
			want := tt.want
			if len(want) > 0 && !strings.HasPrefix(want[0], "migration/") {
				// Only the words of the break: the frame is the first case's.
				for i, g := range got {
					got[i] = strings.TrimSuffix(strings.TrimPrefix(g, "migration/backward-incompatible error db/002.up.sql:0: The old application breaks on the new schema: "),
						". During the rollout, and after a rollback of the code, the previous release still runs against this schema.")
				}
			}
			same(t, got, want)
		})
	}
	// A failed upgrade path has no schema to compare.
	if fs := Incompatible([]verify.Result{{Before: before, Steps: []verify.Step{{File: "x", Schema: &pg.Snapshot{}}}, Upgrade: &verify.Failure{}}}); len(fs) != 0 {
		t.Errorf("failed upgrade: %d findings", len(fs))
	}
}

func TestTraced(t *testing.T) {
	r := verify.Result{Dir: "db", Major: 15, Traces: []verify.Trace{
		{File: "db/002.up.sql", Line: 1, Statement: "CREATE INDEX big_v ON big (v)", LockTimeout: "0",
			Locks: []verify.Lock{{Relation: "public.big", Kind: "table", Mode: "ShareLock", Took: "ShareLock", Rows: 5000, Scanned: true}}},
		{File: "db/002.up.sql", Line: 2, Statement: "ALTER TABLE big ADD COLUMN c int", LockTimeout: "0",
			Locks: []verify.Lock{{Relation: "public.big", Kind: "table", Mode: "AccessExclusiveLock", Took: "AccessExclusiveLock", Rows: 5000}}},
		{File: "db/002.up.sql", Line: 3, Statement: "ALTER TABLE big ALTER COLUMN v TYPE bigint", LockTimeout: "0",
			Locks: []verify.Lock{{Relation: "public.big", Kind: "table", Mode: "AccessExclusiveLock", Took: "ShareLock", Rows: 5000, Scanned: true}}},
		{File: "db/003.up.sql", Line: 2, Statement: "SELECT retype()", LockTimeout: "5s",
			Locks:    []verify.Lock{{Relation: "public.big", Kind: "table", Mode: "AccessExclusiveLock", Took: "AccessExclusiveLock", Rows: 5000, Scanned: true, Rewritten: true}, {Relation: "public.v", Kind: "view", Mode: "AccessExclusiveLock", Took: "AccessExclusiveLock"}},
			Rewrites: []verify.Rewrite{{Relation: "public.big", Kind: "table", Rows: 5000}, {Relation: "public.big_pkey", Kind: "index", Table: "public.big", Rows: 5000}}},
		{File: "db/004.up.sql", Line: 1, Statement: "REINDEX INDEX other_pkey", LockTimeout: "5s",
			Locks:    []verify.Lock{{Relation: "public.other", Kind: "table", Mode: "ShareLock", Took: "ShareLock", Rows: 1}},
			Rewrites: []verify.Rewrite{{Relation: "public.other_pkey", Kind: "index", Table: "public.other", Rows: 1}}},
		{File: "db/005.up.sql", Line: 1, Statement: "VALIDATE", LockTimeout: "0",
			Locks: []verify.Lock{{Relation: "public.big", Kind: "table", Mode: "ShareUpdateExclusiveLock", Took: "ShareUpdateExclusiveLock", Rows: 5000, Scanned: true}}},
	}}
	same(t, lines(t, Traced([]verify.Result{r})), []string{
		"migration/blocking-lock warning db/002.up.sql:1: This statement takes ShareLock on table public.big (5000 rows in the seed) on Postgres 15 while it reads every row of it: writes on the table wait until the migration's transaction ends.",
		"migration/blocking-lock warning db/002.up.sql:3: This statement holds AccessExclusiveLock on table public.big (5000 rows in the seed) on Postgres 15 while it reads every row of it: reads and writes on the table wait until the migration's transaction ends.",
		"migration/blocking-lock warning db/003.up.sql:2: This statement takes AccessExclusiveLock on table public.big (5000 rows in the seed) on Postgres 15 while it rewrites it in full: reads and writes on the table wait until the migration's transaction ends.",
		"migration/table-rewrite warning db/003.up.sql:2: This statement rewrites table public.big (5000 rows in the seed) on Postgres 15: it writes every row into a new file, under an AccessExclusiveLock that blocks reads and writes, and needs the table's size again in free disk. Its index is rebuilt too: public.big_pkey.",
		"migration/table-rewrite warning db/004.up.sql:1: This statement rebuilds index public.other_pkey on public.other (1 row in the seed) on Postgres 15 under a lock that blocks writes to the table, and reads from the index.",
		"migration/missing-lock-timeout notice db/002.up.sql:1: This statement takes ShareLock on public.big without a lock_timeout set in the migration: if a long query or an idle transaction holds the table, it waits for it, and every query on the table queues behind it. So do lines 2, 3 of this migration.",
	})
}

func TestLockRemedy(t *testing.T) {
	for _, tt := range []struct {
		l    verify.Lock
		want string
	}{
		{verify.Lock{Mode: "ShareLock", Kind: "table"}, "CREATE INDEX CONCURRENTLY"},
		{verify.Lock{Mode: "ShareRowExclusiveLock", Kind: "table"}, "NOT VALID"},
		{verify.Lock{Mode: "AccessExclusiveLock", Kind: "table"}, "ADD CONSTRAINT without NOT VALID"},
		{verify.Lock{Mode: "AccessExclusiveLock", Kind: "table", Rewritten: true}, "backfill it in batches"},
		{verify.Lock{Mode: "ExclusiveLock", Kind: "materialized view"}, "REFRESH MATERIALIZED VIEW CONCURRENTLY"},
	} {
		if got := lockRemedy(tt.l); !strings.Contains(got, tt.want) {
			t.Errorf("%s on a %s (rewritten %v): %q, want it to say %q", tt.l.Mode, tt.l.Kind, tt.l.Rewritten, got, tt.want)
		}
	}
}

func TestRolledBack(t *testing.T) {
	missing := &pg.Error{SQLState: "42703", Message: `column "years" of relation "users" does not exist`}
	results := []verify.Result{
		{Dir: "db", Major: 17, RoundTrip: &verify.RoundTrip{
			Down: []verify.DownStep{{Up: "db/003.up.sql", Down: "db/003.down.sql", Line: 1, Mismatch: []pg.Difference{
				{Kind: "index", Object: "public.users_email_idx", Detail: "added: CREATE INDEX users_email_idx ON public.users USING btree (email)"}}}},
			Failure: &verify.Failure{Phase: verify.PhaseDown, File: "db/002.down.sql", Line: 2, Statement: "ALTER TABLE users DROP COLUMN years", Err: missing}}},
		{Dir: "db2", Major: 17, RoundTrip: &verify.RoundTrip{Down: []verify.DownStep{{Up: "db2/002.up.sql", Down: "db2/002.down.sql", Line: 1}},
			Failure: &verify.Failure{Phase: verify.PhaseReapply, File: "db2/002.up.sql", Line: 1, Err: &pg.Error{SQLState: "42710", Message: `type "mood" already exists`}}}},
		{Dir: "fine", Major: 17, RoundTrip: &verify.RoundTrip{Down: []verify.DownStep{{Up: "f/2.up.sql", Down: "f/2.down.sql"}}, Reapplied: 1}},
		{Dir: "rails", Major: 17, Command: "bin/rails db:migrate", RoundTrip: &verify.RoundTrip{Down: []verify.DownStep{{Up: ".breakwater.yml", Down: ".breakwater.yml", Line: 3, Mismatch: []pg.Difference{
			{Kind: "table", Object: "public.widgets", Detail: "added"}}}}}},
	}
	same(t, lines(t, RolledBack(results)), []string{
		"migration/rollback-mismatch error db/003.down.sql:1: After db/003.up.sql's down step on Postgres 17, the schema is not what it was before the up: index public.users_email_idx: added: CREATE INDEX users_email_idx ON public.users USING btree (email).",
		`migration/rollback-failed error db/002.down.sql:2: Rolling back the new migrations fails on Postgres 17: column "years" of relation "users" does not exist (SQLSTATE 42703). The upgrade path passed; then the down steps ran newest first, on the upgraded database with the seed data, and this one failed.`,
		`migration/reapply-failed error db2/002.up.sql:1: After the rollback, the new migrations fail when applied up again on Postgres 17: type "mood" already exists (SQLSTATE 42710). The upgrade path and the down steps passed.`,
		"migration/rollback-mismatch error .breakwater.yml:3: After the down_command on Postgres 17, the schema is not what it was before the up: table public.widgets: added.",
	})
}

func TestNoDownSteps(t *testing.T) {
	load := func(format migrate.Format, files ...string) *migrate.Set {
		var fs []migrate.File
		for i := 0; i+1 < len(files); i += 2 {
			fs = append(fs, migrate.File{Path: files[i], Data: []byte(files[i+1])})
		}
		s, err := migrate.Load("db", format, fs)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := load(migrate.GolangMigrate, "db/001_a.up.sql", "SELECT 1;")
	head := load(migrate.GolangMigrate, "db/001_a.up.sql", "SELECT 1;", "db/002_b.up.sql", "SELECT 2;",
		"db/003_c.up.sql", "SELECT 3;", "db/003_c.down.sql", "-- irreversible: drops data\n",
		"db/004_d.up.sql", "SELECT 4;", "db/004_d.down.sql", "SELECT 4;")
	got := lines(t, NoDownSteps(base, head))
	got = append(got, lines(t, NoDownSteps(nil, load(migrate.Goose, "db/00001_a.sql", "-- +goose Up\nSELECT 1;\n")))...)
	got = append(got, lines(t, NoDownSteps(nil, load(migrate.Dbmate, "db/20240101000000_a.sql", "-- migrate:up\nSELECT 1;\n")))...)
	// Flyway is held to undo migrations only where it has one.
	got = append(got, lines(t, NoDownSteps(nil, load(migrate.Flyway, "db/V1__a.sql", "SELECT 1;", "db/V2__b.sql", "SELECT 2;")))...)
	got = append(got, lines(t, NoDownSteps(nil, load(migrate.Flyway, "db/V1__a.sql", "SELECT 1;", "db/U1__a.sql", "SELECT 1;", "db/V2__b.sql", "SELECT 2;")))...)
	got = append(got, lines(t, NoDownSteps(nil, load(migrate.Plain, "db/1.sql", "SELECT 1;")))...)
	same(t, got, []string{
		"migration/no-down notice db/002_b.up.sql:1: The new migration db/002_b.up.sql cannot be rolled back: it has no .down.sql file. The rollback round trip stops above it.",
		"migration/no-down notice db/003_c.up.sql:1: The new migration db/003_c.up.sql cannot be rolled back: its down step is empty. The rollback round trip stops above it.",
		"migration/no-down notice db/00001_a.sql:2: The new migration db/00001_a.sql cannot be rolled back: it has no `-- +goose Down` section. The rollback round trip stops above it.",
		"migration/no-down notice db/20240101000000_a.sql:2: The new migration db/20240101000000_a.sql cannot be rolled back: it has no `-- migrate:down` section. The rollback round trip stops above it.",
		"migration/no-down notice db/V2__b.sql:1: The new migration db/V2__b.sql cannot be rolled back: it has no undo migration (U2__…). The rollback round trip stops above it.",
	})
	same(t, lines(t, NoDownCommand(verify.CommandDir{Name: "db/migrate", Config: ".breakwater.yml", Line: 4, Command: "bin/rails db:migrate"})), []string{
		"migration/no-down notice .breakwater.yml:4: The migrations of db/migrate, run by `bin/rails db:migrate`, have no down_command: the rollback round trip cannot run.",
	})
	if fs := NoDownCommand(verify.CommandDir{Command: "x", DownCommand: "y"}); len(fs) != 0 {
		t.Errorf("a down_command: %d findings", len(fs))
	}
}
