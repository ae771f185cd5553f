package verify

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
)

// upgrade runs one directory's upgrade path with the round trip and
// tracing on.
func upgrade(t *testing.T, cl *pg.Cluster, format migrate.Format, base, head map[string]string, seed string) Result {
	t.Helper()
	opt := Options{Cluster: cl, Dirs: []Dir{{Dir: "m", Base: set(t, format, base), Head: set(t, format, head)}}}
	if seed != "" {
		opt.Seed = []migrate.File{{Path: "seed.sql", Data: []byte(seed)}}
	}
	rs, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	if f := rs[0].Upgrade; f != nil {
		t.Fatalf("upgrade path failed: %s:%d %s", f.File, f.Line, f)
	}
	return rs[0]
}

// with is base plus more files.
func with(base map[string]string, more ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(more); i += 2 {
		out[more[i]] = more[i+1]
	}
	return out
}

// roundTripLines says what the round trip found, one line per down step and
// failure: "down FILE: DIFF; DIFF", "fail PHASE FILE:LINE SQLSTATE",
// "stopped FILE", "reapplied N".
func roundTripLines(r Result) []string {
	rt := r.RoundTrip
	if rt == nil {
		return []string{"none"}
	}
	var out []string
	if rt.Stopped != "" {
		out = append(out, "stopped "+rt.Stopped)
	}
	for _, d := range rt.Down {
		var ds []string
		for _, m := range d.Mismatch {
			ds = append(ds, m.String())
		}
		out = append(out, fmt.Sprintf("down %s: %s", d.Down, strings.Join(ds, "; ")))
	}
	if f := rt.Failure; f != nil {
		state := ""
		if f.Err != nil {
			state = f.Err.SQLState
		}
		out = append(out, fmt.Sprintf("fail %s %s:%d %s", f.Phase, f.File, f.Line, state))
	}
	return append(out, fmt.Sprintf("reapplied %d", rt.Reapplied))
}

// The new migrations go up, down newest first, and up again on the
// upgraded database; each down is compared with the schema before its up.
func TestRoundTrip(t *testing.T) {
	cl := cluster(t)
	users := map[string]string{
		"m/001_users.up.sql":   "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
		"m/001_users.down.sql": "DROP TABLE users;\n",
	}
	tests := []struct {
		name       string
		format     migrate.Format
		base, head map[string]string
		want       []string
	}{
		{
			name:   "a down that forgets an index",
			format: migrate.GolangMigrate, base: users,
			head: with(users,
				"m/002_email.up.sql", "ALTER TABLE users ADD COLUMN age int;\nCREATE INDEX users_email_idx ON users (email);\n",
				"m/002_email.down.sql", "ALTER TABLE users DROP COLUMN age;\n"),
			want: []string{"down m/002_email.down.sql: index public.users_email_idx: added: CREATE INDEX users_email_idx ON public.users USING btree (email)",
				"fail reapply m/002_email.up.sql:2 42P07", "reapplied 0"},
		},
		{
			name:   "a down that errors",
			format: migrate.GolangMigrate, base: users,
			head: with(users,
				"m/002_age.up.sql", "ALTER TABLE users ADD COLUMN age int;\n",
				"m/002_age.down.sql", "-- the column was called years once\nALTER TABLE users\n  DROP COLUMN years;\n"),
			want: []string{"fail down m/002_age.down.sql:2 42703", "reapplied 0"},
		},
		{
			name:   "a correct round trip",
			format: migrate.GolangMigrate, base: users,
			head: with(users,
				"m/002_age.up.sql", "ALTER TABLE users ADD COLUMN age int;\nCREATE INDEX users_age_idx ON users (age);\n",
				"m/002_age.down.sql", "DROP INDEX users_age_idx;\nALTER TABLE users DROP COLUMN age;\n",
				"m/003_orders.up.sql", "CREATE TABLE orders (id int, user_id int REFERENCES users);\n",
				"m/003_orders.down.sql", "DROP TABLE orders;\n"),
			want: []string{"down m/003_orders.down.sql: ", "down m/002_age.down.sql: ", "reapplied 2"},
		},
		{
			name:   "a down that leaves a type: the up fails again",
			format: migrate.GolangMigrate, base: users,
			head: with(users,
				"m/002_mood.up.sql", "CREATE TYPE mood AS ENUM ('ok', 'sad');\nALTER TABLE users ADD COLUMN mood mood;\n",
				"m/002_mood.down.sql", "ALTER TABLE users DROP COLUMN mood;\n"),
			want: []string{`down m/002_mood.down.sql: enum public.mood: added: "ok", "sad"`, "fail reapply m/002_mood.up.sql:1 42710", "reapplied 0"},
		},
		{
			name:   "the round trip stops above a migration without a down",
			format: migrate.GolangMigrate, base: users,
			head: with(users,
				"m/002_a.up.sql", "ALTER TABLE users ADD COLUMN a int;\n",
				"m/002_a.down.sql", "ALTER TABLE users DROP COLUMN a;\n",
				"m/003_b.up.sql", "ALTER TABLE users ADD COLUMN b int;\n",
				"m/004_c.up.sql", "ALTER TABLE users ADD COLUMN c int;\n",
				"m/004_c.down.sql", "ALTER TABLE users DROP COLUMN c;\n"),
			want: []string{"stopped m/003_b.up.sql", "down m/004_c.down.sql: ", "reapplied 1"},
		},
		{
			name:   "no new migration has a down",
			format: migrate.GolangMigrate, base: users,
			head: with(users, "m/002_a.up.sql", "ALTER TABLE users ADD COLUMN a int;\n"),
			want: []string{"none"},
		},
		{
			name:   "goose: a Down section that forgets a column",
			format: migrate.Goose,
			base:   map[string]string{"m/00001_users.sql": "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n"},
			head: map[string]string{"m/00001_users.sql": "-- +goose Up\nCREATE TABLE users (id int);\n-- +goose Down\nDROP TABLE users;\n",
				"m/00002_name.sql": "-- +goose Up\nALTER TABLE users ADD COLUMN name text;\nALTER TABLE users ADD COLUMN nick text;\n-- +goose Down\nALTER TABLE users DROP COLUMN nick;\n"},
			want: []string{"down m/00002_name.sql: column public.users.name: added: text", "fail reapply m/00002_name.sql:2 42701", "reapplied 0"},
		},
		{
			name:   "dbmate: a correct round trip",
			format: migrate.Dbmate,
			base:   map[string]string{"m/20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id int);\n-- migrate:down\nDROP TABLE users;\n"},
			head: map[string]string{"m/20240101000000_users.sql": "-- migrate:up\nCREATE TABLE users (id int);\n-- migrate:down\nDROP TABLE users;\n",
				"m/20240201000000_name.sql": "-- migrate:up\nALTER TABLE users ADD COLUMN name text;\n-- migrate:down\nALTER TABLE users DROP COLUMN name;\n"},
			want: []string{"down m/20240201000000_name.sql: ", "reapplied 1"},
		},
		{
			name:   "flyway: an undo migration",
			format: migrate.Flyway,
			base:   map[string]string{"m/V1__users.sql": "CREATE TABLE users (id int);\n"},
			head: map[string]string{"m/V1__users.sql": "CREATE TABLE users (id int);\n",
				"m/V2__name.sql": "ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';\n",
				"m/U2__name.sql": "ALTER TABLE users DROP COLUMN name;\n"},
			want: []string{"down m/U2__name.sql: ", "reapplied 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := upgrade(t, cl, tt.format, tt.base, tt.head, "INSERT INTO users (id) VALUES (1), (2);\n")
			got := roundTripLines(r)
			if !slices.Equal(got, tt.want) {
				t.Errorf("round trip:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Turned off, the round trip does not run and the database is left as
// the upgrade path leaves it.
func TestRoundTripOff(t *testing.T) {
	cl := cluster(t)
	base := map[string]string{"m/001_t.up.sql": "CREATE TABLE t (id int);\n"}
	head := with(base, "m/002_x.up.sql", "ALTER TABLE t ADD COLUMN x int;\n", "m/002_x.down.sql", "SELECT 1/0;\n")
	rs, err := Run(context.Background(), Options{Cluster: cl, NoRoundTrip: true, NoTrace: true,
		Dirs: []Dir{{Dir: "m", Base: set(t, migrate.GolangMigrate, base), Head: set(t, migrate.GolangMigrate, head)}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].RoundTrip != nil || rs[0].Traces != nil {
		t.Errorf("round trip %+v, traces %v: want neither", rs[0].RoundTrip, rs[0].Traces)
	}
	if len(rs[0].Steps) != 1 || rs[0].Before == nil {
		t.Errorf("snapshots: before %v, %d steps; want both, for the compatibility check", rs[0].Before != nil, len(rs[0].Steps))
	}
}

// traceLines says what each traced statement did: "FILE:LINE MODE
// RELATION [(took MODE)] [scanned]", "FILE:LINE rewrite RELATION", and "FILE:LINE
// lock_timeout VALUE" when one is set.
func traceLines(r Result) []string {
	var out []string
	for _, tr := range r.Traces {
		at := fmt.Sprintf("%s:%d", tr.File, tr.Line)
		for _, l := range tr.Locks {
			s := fmt.Sprintf("%s %s %s", at, l.Mode, l.Relation)
			if l.Took != l.Mode {
				s += " (took " + l.Took + ")"
			}
			if l.Scanned {
				s += " scanned"
			}
			out = append(out, s)
		}
		for _, w := range tr.Rewrites {
			out = append(out, fmt.Sprintf("%s rewrite %s", at, w.Relation))
		}
		if tr.LockTimeout != "0" {
			out = append(out, fmt.Sprintf("%s lock_timeout %s", at, tr.LockTimeout))
		}
	}
	return out
}

const bigSeed = "INSERT INTO big SELECT g, g % 7 FROM generate_series(1, 5000) g;\n"

var bigBase = map[string]string{"m/001_big.up.sql": "CREATE TABLE big (id int PRIMARY KEY, v int);\n"}

// The locks and rewrites come from what Postgres reports, on every
// installed major: a fast default is no rewrite, a type change is; a
// plain CREATE INDEX holds a ShareLock while it reads the table, a
// concurrent one runs on its own; a DO block or a function that alters
// the table is traced like the ALTER itself.
func TestTrace(t *testing.T) {
	bins := pg.FindAllBinaries()
	if os.Getenv("CI") != "" {
		// The rewrite verdicts must hold on 15 and 17, which CI installs.
		var majors []int
		for _, b := range bins {
			majors = append(majors, b.Major)
		}
		if !slices.Contains(majors, 15) || !slices.Contains(majors, 17) {
			t.Fatalf("CI has Postgres %v; want 15 and 17 among them", majors)
		}
	}
	if len(bins) == 0 {
		pgtest.Binaries(t)
	}
	tests := []struct {
		name   string
		format migrate.Format
		base   map[string]string
		head   map[string]string
		want   []string
		// min is the lowest major the case holds on.
		min int
	}{
		{
			name:   "a fast default is no rewrite; a type change rewrites the table and its indexes",
			format: migrate.GolangMigrate, base: bigBase,
			head: with(bigBase,
				"m/002_c.up.sql", "ALTER TABLE big ADD COLUMN c int NOT NULL DEFAULT 0;\n",
				"m/003_c_big.up.sql", "ALTER TABLE big ALTER COLUMN c TYPE bigint;\n"),
			want: []string{
				"m/002_c.up.sql:1 AccessExclusiveLock public.big",
				"m/003_c_big.up.sql:1 AccessExclusiveLock public.big scanned",
				"m/003_c_big.up.sql:1 rewrite public.big",
				"m/003_c_big.up.sql:1 rewrite public.big_pkey",
			},
		},
		{
			name:   "a rewrite after an ALTER of the same transaction holds the lock the first one took",
			format: migrate.GolangMigrate, base: bigBase,
			head: with(bigBase, "m/002_two.up.sql", "ALTER TABLE big ADD COLUMN s text;\nALTER TABLE big ALTER COLUMN v TYPE bigint;\n"),
			want: []string{
				"m/002_two.up.sql:1 AccessExclusiveLock public.big",
				"m/002_two.up.sql:2 AccessExclusiveLock public.big (took ShareLock) scanned",
				"m/002_two.up.sql:2 rewrite public.big",
				"m/002_two.up.sql:2 rewrite public.big_pkey",
			},
		},
		{
			name:   "goose: CREATE INDEX blocks writes while it reads; CONCURRENTLY runs untraced and blocks nothing",
			format: migrate.Goose,
			base:   map[string]string{"m/00001_big.sql": "-- +goose Up\nCREATE TABLE big (id int PRIMARY KEY, v int);\n"},
			head: map[string]string{"m/00001_big.sql": "-- +goose Up\nCREATE TABLE big (id int PRIMARY KEY, v int);\n",
				"m/00002_v.sql":  "-- +goose Up\nCREATE INDEX big_v ON big (v);\n",
				"m/00003_v2.sql": "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY big_v2 ON big (v);\n"},
			want: []string{"m/00002_v.sql:2 ShareLock public.big scanned"},
		},
		{
			name:   "dbmate transaction:false: a plain CREATE INDEX runs in a transaction of its own and is traced",
			format: migrate.Dbmate,
			base:   map[string]string{"m/20240101000000_big.sql": "-- migrate:up\nCREATE TABLE big (id int PRIMARY KEY, v int);\n"},
			head: map[string]string{"m/20240101000000_big.sql": "-- migrate:up\nCREATE TABLE big (id int PRIMARY KEY, v int);\n",
				"m/20240201000000_v.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY big_v2 ON big (v);\nCREATE INDEX big_v ON big (v);\n"},
			want: []string{"m/20240201000000_v.sql:3 ShareLock public.big scanned"},
		},
		{
			name:   "a function that alters the table inside looks harmless in text",
			format: migrate.GolangMigrate,
			base: with(bigBase, "m/002_fn.up.sql",
				"CREATE FUNCTION add_check() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  ALTER TABLE big ADD CONSTRAINT v_small CHECK (v < 100);\nEND $$;\n"),
			head: with(bigBase, "m/002_fn.up.sql",
				"CREATE FUNCTION add_check() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n  ALTER TABLE big ADD CONSTRAINT v_small CHECK (v < 100);\nEND $$;\n",
				"m/003_call.up.sql", "SET lock_timeout = '3s';\nSELECT add_check();\n"),
			want: []string{"m/003_call.up.sql:2 AccessExclusiveLock public.big scanned", "m/003_call.up.sql:2 lock_timeout 3s"},
		},
		{
			name:   "a DO block rewrites the table",
			format: migrate.GolangMigrate, base: bigBase,
			head: with(bigBase, "m/002_do.up.sql",
				"DO $$\nBEGIN\n  EXECUTE 'ALTER TABLE big ALTER COLUMN v TYPE bigint';\nEND $$;\n"),
			want: []string{
				"m/002_do.up.sql:1 AccessExclusiveLock public.big scanned",
				"m/002_do.up.sql:1 rewrite public.big",
				"m/002_do.up.sql:1 rewrite public.big_pkey",
			},
		},
		{
			name:   "a constraint NOT VALID reads nothing; VALIDATE in a migration of its own takes a lock that blocks nothing",
			format: migrate.GolangMigrate, base: bigBase,
			head: with(bigBase,
				"m/002_check.up.sql", "ALTER TABLE big ADD CONSTRAINT v_small CHECK (v < 100) NOT VALID;\n",
				"m/003_validate.up.sql", "ALTER TABLE big VALIDATE CONSTRAINT v_small;\n"),
			want: []string{"m/002_check.up.sql:1 AccessExclusiveLock public.big", "m/003_validate.up.sql:1 ShareUpdateExclusiveLock public.big scanned"},
		},
		{
			name:   "VALIDATE in the same transaction still holds the AccessExclusiveLock",
			format: migrate.GolangMigrate, base: bigBase,
			head: with(bigBase, "m/002_check.up.sql",
				"ALTER TABLE big ADD CONSTRAINT v_small CHECK (v < 100) NOT VALID;\nALTER TABLE big VALIDATE CONSTRAINT v_small;\n"),
			want: []string{"m/002_check.up.sql:1 AccessExclusiveLock public.big", "m/002_check.up.sql:2 AccessExclusiveLock public.big (took ShareUpdateExclusiveLock) scanned"},
		},
	}
	for _, b := range bins {
		t.Run(b.Version, func(t *testing.T) {
			cl, err := pg.StartThrowaway(context.Background(), pg.ThrowawayOptions{Bin: b})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					r := upgrade(t, cl, tt.format, tt.base, tt.head, bigSeed)
					got := traceLines(r)
					if !slices.Equal(got, tt.want) {
						t.Errorf("traces:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
					}
					for _, tr := range r.Traces {
						for _, l := range tr.Locks {
							if l.Relation == "public.big" && l.Rows != 5000 {
								t.Errorf("%s:%d: public.big has %d rows, want the seed's 5000", tr.File, tr.Line, l.Rows)
							}
						}
					}
				})
			}
		})
	}
}
