package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
)

// auditSchema is a table with a text index (collation-dependent, under
// the cluster's default locale), a unique one and an integer one (not).
const auditSchema = `
CREATE TABLE people (id int PRIMARY KEY, name text NOT NULL, email text);
CREATE INDEX people_name_idx ON people (name);
CREATE UNIQUE INDEX people_email_key ON people (email);
INSERT INTO people SELECT i, 'Person ' || i, 'p' || i || '@example.com' FROM generate_series(1, 1000) i;
`

// auditServer starts a throwaway cluster for one test. Like the pg
// package's tests, it skips without binaries unless CI is set.
func auditServer(t *testing.T) *pg.Cluster {
	t.Helper()
	bin := pgtest.Binaries(t)
	cl, err := pg.StartThrowaway(context.Background(), pg.ThrowawayOptions{Bin: bin})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	if l := strings.ToLower(cl.Locale()); l == "c" || l == "posix" {
		t.Skipf("cluster locale %q: no index depends on a collation", cl.Locale())
	}
	return cl
}

// auditDB is a fresh database holding auditSchema plus extra, dropped at
// the end of the test.
func auditDB(t *testing.T, cl *pg.Cluster, extra string) *pg.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := cl.Scenario(ctx, "audit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Exec(ctx, auditSchema+extra); err != nil {
		t.Fatal(err)
	}
	return db
}

func hasICU(t *testing.T, cl *pg.Cluster) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pg.Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var icu bool
	if err := c.Pgx().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i')").Scan(&icu); err != nil {
		t.Fatal(err)
	}
	return icu
}

type auditJSON struct {
	Database *string `json:"database"`
	Indexes  []struct {
		Schema     string   `json:"schema"`
		Table      string   `json:"table"`
		Index      string   `json:"index"`
		Unique     bool     `json:"unique"`
		Collations []string `json:"collations"`
		Provider   string   `json:"provider"`
		SizeBytes  int64    `json:"size_bytes"`
		Definition string   `json:"definition"`
	} `json:"indexes"`
	Mismatches []struct {
		Object   string `json:"object"`
		Kind     string `json:"kind"`
		Recorded string `json:"recorded"`
		Actual   string `json:"actual"`
	} `json:"mismatches"`
	ReindexScript *string `json:"reindex_script"`
	Amcheck       *struct {
		Checked  int `json:"checked"`
		Tables   int `json:"tables"`
		Problems []struct {
			Index   string `json:"index"`
			Kind    string `json:"kind"`
			Message string `json:"message"`
			Detail  string `json:"detail"`
		} `json:"problems"`
	} `json:"amcheck"`
}

func parseAudit(t *testing.T, out string) (auditJSON, map[string]json.RawMessage) {
	t.Helper()
	var rep auditJSON
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, out)
	}
	for _, f := range []string{"database", "indexes", "mismatches", "reindex_script", "amcheck"} {
		if _, ok := raw[f]; !ok {
			t.Errorf("JSON lacks %q:\n%s", f, out)
		}
	}
	return rep, raw
}

func TestAudit(t *testing.T) {
	cl := auditServer(t)

	t.Run("text", func(t *testing.T) {
		db := auditDB(t, cl, "")
		r := run(t, "collation-audit", "--postgres-url", db.DSN())
		t.Log(r)
		if r.code != ExitClean {
			t.Fatalf("exit %d, want 0\n%s", r.code, r)
		}
		for _, w := range []string{
			`Collation audit of database "` + db.Name + `"`,
			"Collation-dependent indexes: 2 (1 unique,",
			"public.people_name_idx", "on public.people", "default (" + cl.Locale() + ", libc)", "not unique",
			"public.people_email_key",
			"Collation version mismatches: 0",
			"REINDEX script: 2 REINDEX statements",
			`REINDEX INDEX CONCURRENTLY "public"."people_name_idx";`,
			`REINDEX INDEX CONCURRENTLY "public"."people_email_key";`,
		} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "people_pkey") {
			t.Errorf("the integer primary key is listed:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, "Amcheck") || r.stderr != "" {
			t.Errorf("amcheck ran, or stderr not empty, without --amcheck:\n%s", r)
		}
	})

	t.Run("json", func(t *testing.T) {
		db := auditDB(t, cl, "")
		r := run(t, "collation-audit", "--postgres-url", db.DSN(), "--format", "json")
		if r.code != ExitClean {
			t.Fatalf("exit %d, want 0\n%s", r.code, r)
		}
		rep, raw := parseAudit(t, r.stdout)
		if string(raw["amcheck"]) != "null" {
			t.Errorf("amcheck = %s without --amcheck", raw["amcheck"])
		}
		if string(raw["mismatches"]) != "[]" {
			t.Errorf("mismatches = %s, want []", raw["mismatches"])
		}
		var names []string
		for _, x := range rep.Indexes {
			names = append(names, x.Index)
			if x.Schema != "public" || x.Table != "people" || x.Provider != "libc" || x.SizeBytes <= 0 ||
				len(x.Collations) != 1 || !strings.HasPrefix(x.Definition, "CREATE ") || x.Unique != (x.Index == "people_email_key") {
				t.Errorf("index %+v", x)
			}
		}
		if strings.Join(names, " ") != "people_email_key people_name_idx" {
			t.Errorf("indexes %v", names)
		}
		if rep.ReindexScript == nil || !strings.Contains(*rep.ReindexScript, "REINDEX INDEX CONCURRENTLY") {
			t.Errorf("reindex_script %v", rep.ReindexScript)
		}
	})

	t.Run("amcheck", func(t *testing.T) {
		db := auditDB(t, cl, "CREATE EXTENSION amcheck;")
		r := run(t, "collation-audit", "--postgres-url", db.DSN(), "--amcheck", "--jobs", "2")
		if r.code != ExitClean {
			t.Fatalf("exit %d, want 0\n%s", r.code, r)
		}
		// people_pkey, people_name_idx and people_email_key; amcheck
		// checks every B-tree, collation or not.
		if !strings.Contains(r.stdout, "Amcheck: checked 3 indexes") || !strings.Contains(r.stdout, ", 0 problems") {
			t.Errorf("no amcheck verdict:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "breakwater: amcheck: index public.people_name_idx ok") {
			t.Errorf("no progress line per index:\n%s", r.stderr)
		}
		for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
			if !strings.HasPrefix(l, progressPfx+"amcheck: ") {
				t.Errorf("stderr line %q is not a progress line", l)
			}
		}

		q := run(t, "collation-audit", "--postgres-url", db.DSN(), "--amcheck", "--quiet", "--format", "json")
		if q.code != ExitClean || q.stderr != "" {
			t.Fatalf("--quiet: exit %d, want 0 and no stderr\n%s", q.code, q)
		}
		rep, _ := parseAudit(t, q.stdout)
		if rep.Amcheck == nil || rep.Amcheck.Checked != 3 || rep.Amcheck.Problems == nil || len(rep.Amcheck.Problems) != 0 {
			t.Errorf("amcheck %+v", rep.Amcheck)
		}
	})

	t.Run("amcheck problem", func(t *testing.T) {
		// An index on an "immutable" function that reads a setting: once
		// the database's setting changes, the heap no longer matches the
		// index, which bt_index_check's heapallindexed finds.
		db := auditDB(t, cl, `
			CREATE EXTENSION amcheck;
			CREATE FUNCTION knob(i int) RETURNS int IMMUTABLE LANGUAGE plpgsql AS
			  $$ BEGIN RETURN i * coalesce(current_setting('bw.knob', true), '1')::int; END $$;
			CREATE INDEX people_knob_idx ON people (knob(id));`)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Exec(ctx, `ALTER DATABASE "`+db.Name+`" SET bw.knob = '-1'`); err != nil {
			t.Fatal(err)
		}
		r := run(t, "collation-audit", "--postgres-url", db.DSN(), "--amcheck", "--format", "json")
		if r.code != ExitFindings {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		rep, _ := parseAudit(t, r.stdout)
		if rep.Amcheck == nil || len(rep.Amcheck.Problems) == 0 || rep.Amcheck.Problems[0].Index != "people_knob_idx" ||
			rep.Amcheck.Problems[0].Message == "" {
			t.Fatalf("amcheck %+v", rep.Amcheck)
		}
		if !strings.Contains(r.stderr, "amcheck: index public.people_knob_idx FAILED") {
			t.Errorf("no FAILED progress line:\n%s", r.stderr)
		}
		txt := run(t, "collation-audit", "--postgres-url", db.DSN(), "--amcheck", "--quiet")
		t.Log(txt)
		if txt.code != ExitFindings || !strings.Contains(txt.stdout, "1 problem") ||
			!strings.Contains(txt.stdout, "index public.people_knob_idx on public.people: "+rep.Amcheck.Problems[0].Message) {
			t.Errorf("text verdict:\n%s", txt)
		}
	})

	t.Run("version mismatch", func(t *testing.T) {
		// A recorded version that is not the library's, as after a real
		// upgrade; CREATE COLLATION takes one for pg_upgrade's sake. ICU
		// versions every locale, glibc none named C.*.
		coll := `provider = icu, locale = 'und'`
		if !hasICU(t, cl) {
			if strings.HasPrefix(strings.ToUpper(cl.Locale()), "C.") {
				t.Skipf("no ICU and locale %s has no version", cl.Locale())
			}
			coll = `provider = libc, locale = '` + cl.Locale() + `'`
		}
		db := auditDB(t, cl, `
			CREATE COLLATION "Old Coll" (`+coll+`, version = '1.0-old');
			CREATE INDEX people_old_idx ON people (name COLLATE "Old Coll");`)
		out := filepath.Join(t.TempDir(), "audit.txt")
		r := run(t, "collation-audit", "--postgres-url", db.DSN(), "--output", out)
		if r.code != ExitFindings {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		if r.stdout != "" || !strings.Contains(r.stderr, "1 collation version mismatch; report written to "+out) {
			t.Errorf("--output:\n%s", r)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"Collation version mismatches: 1",
			`collation "public.Old Coll": recorded 1.0-old`,
			`REINDEX INDEX CONCURRENTLY "public"."people_old_idx";`,
			`ALTER COLLATION "public"."Old Coll" REFRESH VERSION;`,
		} {
			if !strings.Contains(string(b), w) {
				t.Errorf("report lacks %q:\n%s", w, b)
			}
		}
	})

	t.Run("read-only session", func(t *testing.T) {
		db := auditDB(t, cl, "")
		var show string
		var ddl error
		auditSessionHook = func(ctx context.Context, c *pg.Conn) {
			if err := c.Pgx().QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&show); err != nil {
				t.Error(err)
			}
			ddl = c.Exec(ctx, "CREATE TABLE sneaky (id int)")
		}
		defer func() { auditSessionHook = nil }()
		r := run(t, "collation-audit", "--postgres-url", db.DSN())
		if r.code != ExitClean {
			t.Fatalf("exit %d, want 0\n%s", r.code, r)
		}
		var pe *pg.Error
		if show != "on" || !errors.As(ddl, &pe) || pe.SQLState != "25006" {
			t.Errorf("default_transaction_read_only = %q; CREATE TABLE: %v, want SQLSTATE 25006", show, ddl)
		}
	})

	t.Run("read-only role", func(t *testing.T) {
		// A role that may read but own nothing, as a monitoring user on
		// production: the catalog reads need no privilege.
		db := auditDB(t, cl, "CREATE ROLE audit_reader LOGIN;")
		u, err := url.Parse(db.DSN())
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User("audit_reader")
		r := run(t, "collation-audit", "--postgres-url", u.String())
		if r.code != ExitClean || !strings.Contains(r.stdout, `REINDEX INDEX CONCURRENTLY "public"."people_name_idx";`) {
			t.Errorf("exit %d, want 0 and the script\n%s", r.code, r)
		}
	})

	t.Run("amcheck not installed", func(t *testing.T) {
		db := auditDB(t, cl, "")
		r := run(t, "collation-audit", "--postgres-url", db.DSN(), "--amcheck")
		t.Log(r)
		if r.code != ExitFailed {
			t.Fatalf("exit %d, want 2\n%s", r.code, r)
		}
		if !strings.Contains(r.stderr, "CREATE EXTENSION amcheck") || r.stdout != "" {
			t.Errorf("stderr does not say to CREATE EXTENSION amcheck, or a report was printed:\n%s", r)
		}
		// The audit did not install it either.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var n int
		if err := db.Pgx().QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'").Scan(&n); err != nil || n != 0 {
			t.Errorf("amcheck extensions: %d, %v", n, err)
		}
	})
}

func TestAuditCannotConnect(t *testing.T) {
	const password = "s3cr3t-Pa55"
	for _, dsn := range []string{
		"postgres://app:" + password + "@127.0.0.1:1/app?sslmode=disable",
		"host=127.0.0.1 port=1 user=app password=" + password + " dbname=app sslmode=disable",
	} {
		r := run(t, "collation-audit", "--postgres-url", dsn)
		t.Log(r)
		if r.code != ExitFailed {
			t.Errorf("%s: exit %d, want 2\n%s", dsn, r.code, r)
		}
		if strings.Contains(r.stderr+r.stdout, password) || !strings.Contains(r.stderr, "breakwater collation-audit: ") {
			t.Errorf("password printed, or no message:\n%s", r)
		}
	}
	// From the environment as well.
	t.Setenv("BREAKWATER_POSTGRES_URL", "postgres://app:"+password+"@127.0.0.1:1/app?sslmode=disable")
	r := run(t, "collation-audit")
	if r.code != ExitFailed || strings.Contains(r.stderr, password) || !strings.Contains(r.stderr, "127.0.0.1") {
		t.Errorf("$BREAKWATER_POSTGRES_URL: exit %d, want 2 without the password\n%s", r.code, r)
	}
}

func TestAuditUsage(t *testing.T) {
	t.Setenv("BREAKWATER_POSTGRES_URL", "")
	for _, tt := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"no URL", []string{"collation-audit"}, "--postgres-url is required"},
		{"bad format", []string{"collation-audit", "--postgres-url", "postgres://x@127.0.0.1:1/x", "--format", "xml"}, `unknown --format "xml"`},
		{"bad jobs", []string{"collation-audit", "--postgres-url", "postgres://x@127.0.0.1:1/x", "--jobs", "0"}, "--jobs"},
		{"bad timeout", []string{"collation-audit", "--postgres-url", "postgres://x@127.0.0.1:1/x", "--index-timeout", "-1s"}, "--index-timeout"},
		{"unknown flag", []string{"collation-audit", "--bogus"}, "bogus"},
		{"stray argument", []string{"collation-audit", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			usageError(t, tt.args, tt.mention)
		})
	}

	r := run(t, "collation-audit", "--help")
	if r.code != ExitClean {
		t.Fatalf("exit %d, want 0\n%s", r.code, r)
	}
	for _, w := range []string{"Usage: breakwater collation-audit --postgres-url URL", "--postgres-url URL", "BREAKWATER_POSTGRES_URL",
		"--amcheck", "AccessShareLock", "--jobs N", "--index-timeout DURATION", `(default 5m0s)`, "--format FORMAT", `(default "text")`,
		"--output FILE", "--quiet", "read-only", "CREATE EXTENSION amcheck", "REINDEX INDEX", "Exit codes: 0 no problem found, 1"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("help lacks %q:\n%s", w, r.stderr)
		}
	}
	if top := run(t, "help"); !strings.Contains(top.stdout, "breakwater collation-audit") {
		t.Errorf("top-level usage does not list collation-audit:\n%s", top.stdout)
	}
}
