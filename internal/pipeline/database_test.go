package pipeline

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// seedRepo is a change whose new migration fails only on seeded data.
func seedRepo(t *testing.T) (g *testgit.Repo, base, head string) {
	g = testgit.New(t)
	g.Write(".breakwater.yml", "seed:\n  files: [db/seed.sql]\n")
	g.Write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n")
	g.Write("db/seed.sql", "INSERT INTO t VALUES (1);\n")
	base = g.Commit("base")
	g.Write("db/migrations/002_x.up.sql", "ALTER TABLE t ADD COLUMN x int NOT NULL;\n")
	g.Write("db/migrations/002_x.down.sql", "ALTER TABLE t DROP COLUMN x;\n")
	head = g.Commit("head")
	return g, base, head
}

// The database checks run on an existing server as on a throwaway one,
// and are never silently skipped.
func TestDatabaseModes(t *testing.T) {
	bin := pgtest.Binaries(t)
	g, base, head := seedRepo(t)
	want := "db/migrations/002_x.up.sql:1 migration/upgrade-path-failed"

	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(res.Report.Findings); got != want {
		t.Errorf("throwaway: findings\n%s\nwant\n%s", got, want)
	}

	cl, err := pg.StartThrowaway(context.Background(), pg.ThrowawayOptions{Bin: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	res, err = Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Database: Database{URL: cl.DSN()}})
	if err != nil {
		t.Fatal(err)
	}
	if got := rules(res.Report.Findings); got != want {
		t.Errorf("external: findings\n%s\nwant\n%s", got, want)
	}

	res, err = Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Database: Database{Mode: DBNever}})
	if err != nil || len(res.Report.Findings) != 0 {
		t.Errorf("--db never: %v, %v", err, res.Report.Findings)
	}

	// A server that cannot be reached is a failure, and its password is
	// not in the message.
	bad := strings.Replace(cl.DSN(), "postgres@", "postgres:s3cret-pw@", 1) + "&connect_timeout=2"
	bad = strings.Replace(bad, "port=", "port=1", 1)
	_, err = Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Database: Database{URL: bad}})
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("unreachable server: err = %v", err)
	}
	_, err = Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head, Database: Database{Mode: DBAlways, BinDir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), "--postgres-bin") {
		t.Errorf("--db always with no server: err = %v", err)
	}
}

// With postgres.supported the upgrade path runs on the lowest and the
// highest major of the range installed here, and the report says which
// majors did not run.
func TestSupportedRange(t *testing.T) {
	majors := map[int]bool{}
	for _, b := range pg.FindAllBinaries() {
		majors[b.Major] = true
	}
	if !majors[13] || !majors[17] {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI has no Postgres 13 and 17 (BREAKWATER_POSTGRES_BINS=%q)", os.Getenv("BREAKWATER_POSTGRES_BINS"))
		}
		t.Skip("needs Postgres 13 and 17: run scripts/fetch-postgres.sh and set BREAKWATER_POSTGRES_BINS")
	}
	g, base, head := seedRepo(t)
	g.Write(".breakwater.yml", "postgres:\n  supported: \">=13 <=17\"\nseed:\n  files: [db/seed.sql]\n")
	head = g.Commit("range")
	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Findings {
		got = append(got, f.Rule+" "+f.Message)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"fails on Postgres 13:", "fails on Postgres 17:", "ran on Postgres 13 and 17, the lowest and highest"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
	if majors[15] && !strings.Contains(all, "Not run on 15") {
		t.Errorf("15 is installed and between, but not named:\n%s", all)
	}
}

// An ORM's command migrates each side in a worktree of its commit, with
// DATABASE_URL set; a seed command loads the data between them.
func TestCommandMigrations(t *testing.T) {
	pgtest.Binaries(t)
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql on PATH")
	}
	g := testgit.New(t)
	g.Write(".breakwater.yml", "migrations:\n  - command: sh bin/migrate.sh\n    dir: db\nseed:\n  command: psql \"$DATABASE_URL\" -v ON_ERROR_STOP=1 -q -c \"INSERT INTO t VALUES ('a'), ('a')\"\n")
	// The ORM: it records what it applied, and applies the rest.
	g.Write("bin/migrate.sh", `set -e
psql "$DATABASE_URL" -q -c "CREATE TABLE IF NOT EXISTS applied (f text PRIMARY KEY)"
for f in db/*.sql; do
  if [ -z "$(psql "$DATABASE_URL" -tAq -c "SELECT 1 FROM applied WHERE f = '$f'")" ]; then
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -1 -f "$f"
    psql "$DATABASE_URL" -q -c "INSERT INTO applied VALUES ('$f')"
  fi
done
`)
	g.Write("db/001.sql", "CREATE TABLE t (v text);\n")
	base := g.Commit("base")
	g.Write("db/002.sql", "CREATE UNIQUE INDEX t_v ON t (v);\n")
	head := g.Commit("head")

	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Rule, f.Message))
	}
	all := strings.Join(got, "\n")
	if len(got) != 2 || !strings.HasPrefix(all, ".breakwater.yml:2 migration/upgrade-path-failed") || !strings.Contains(all, "could not create unique index") ||
		!strings.Contains(all, ".breakwater.yml:2 migration/no-down The migrations of db, run by `sh bin/migrate.sh`, have no down_command") {
		t.Errorf("findings:\n%s", all)
	}
	if out := strings.TrimSpace(g.Git("worktree", "list")); strings.Contains(out, "\n") {
		t.Errorf("worktrees left behind:\n%s", out)
	}
}

// A command directory with a down_command gets the round trip too: the
// down command runs once per new migration file, and the schema it leaves
// is compared with the one before the head command.
func TestCommandRoundTrip(t *testing.T) {
	pgtest.Binaries(t)
	if _, err := exec.LookPath("psql"); err != nil {
		t.Skip("no psql on PATH")
	}
	for _, tt := range []struct {
		name, down string
		want       []string
	}{
		{"a down that forgets an index", "ALTER TABLE t DROP COLUMN w;\n", []string{
			".breakwater.yml:2 migration/rollback-mismatch After the down_command on Postgres",
			"index public.t_v: added: CREATE INDEX t_v ON public.t USING btree (v)",
			".breakwater.yml:2 migration/reapply-failed After the rollback",
		}},
		{"a correct down", "DROP INDEX t_v;\nALTER TABLE t DROP COLUMN w;\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := testgit.New(t)
			g.Write(".breakwater.yml", "migrations:\n  - command: sh bin/migrate.sh\n    down_command: sh bin/down.sh\n    dir: db/up\n")
			g.Write("bin/migrate.sh", `set -e
psql "$DATABASE_URL" -q -c "CREATE TABLE IF NOT EXISTS applied (f text PRIMARY KEY)"
for f in db/up/*.sql; do
  if [ -z "$(psql "$DATABASE_URL" -tAq -c "SELECT 1 FROM applied WHERE f = '$f'")" ]; then
    psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -1 -f "$f"
    psql "$DATABASE_URL" -q -c "INSERT INTO applied VALUES ('$f')"
  fi
done
`)
			// One step down: the newest applied file's twin under db/down.
			g.Write("bin/down.sh", `set -e
f=$(psql "$DATABASE_URL" -tAq -c "SELECT f FROM applied ORDER BY f DESC LIMIT 1")
psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -q -1 -f "db/down/${f#db/up/}"
psql "$DATABASE_URL" -q -c "DELETE FROM applied WHERE f = '$f'"
`)
			g.Write("db/up/001.sql", "CREATE TABLE t (v text);\n")
			g.Write("db/down/001.sql", "DROP TABLE t;\n")
			base := g.Commit("base")
			g.Write("db/up/002.sql", "CREATE INDEX t_v ON t (v);\nALTER TABLE t ADD COLUMN w int;\n")
			g.Write("db/down/002.sql", tt.down)
			head := g.Commit("head")

			res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Report.Findings {
				if strings.HasPrefix(f.Rule, "collation/") {
					continue // the cluster's locale, not the migrations
				}
				got = append(got, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.Rule, f.Message))
			}
			all := strings.Join(got, "\n")
			if tt.want == nil && len(got) != 0 {
				t.Errorf("findings:\n%s\nwant none", all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("no %q in\n%s", w, all)
				}
			}
			if len(tt.want) > 0 && len(got) != 2 {
				t.Errorf("%d findings, want 2:\n%s", len(got), all)
			}
		})
	}
}
