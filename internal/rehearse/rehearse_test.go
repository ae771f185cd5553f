package rehearse

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/localetest"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/verify"
)

// usersDir is an application's migrations: a table of names with a
// plain and a unique index on text, seeded with names whose en_US and
// byte orders differ, and a head migration that adds a column.
func usersDir(t *testing.T) (verify.Dir, []migrate.File) {
	t.Helper()
	base := map[string]string{
		"db/001_users.up.sql": `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL);
CREATE INDEX users_name ON users (name);
CREATE UNIQUE INDEX users_email ON users (email);`,
		"db/001_users.down.sql": `DROP TABLE users;`,
	}
	head := map[string]string{
		"db/002_nickname.up.sql":   `ALTER TABLE users ADD COLUMN nickname text;`,
		"db/002_nickname.down.sql": `ALTER TABLE users DROP COLUMN nickname;`,
	}
	for k, v := range base {
		head[k] = v
	}
	seed := []migrate.File{{Path: "db/seed.sql", Data: []byte(`
INSERT INTO users (name, email)
SELECT p || s || i, lower(p) || s || i || '@example.com'
FROM unnest(ARRAY['Anna','anna','Anne-Marie','annemarie','Anne Marie','Bob','bob','bo-b','Zoë','zoe','Ærø','ærø','Élise','elise']) p,
     unnest(ARRAY['', '-', ' ', 'x', 'X']) s,
     generate_series(1, 4) i
ON CONFLICT DO NOTHING;`)}}
	return verify.Dir{Dir: "db", Base: load(t, base), Head: load(t, head)}, seed
}

func load(t *testing.T, files map[string]string) *migrate.Set {
	t.Helper()
	var fs []migrate.File
	for p, s := range files {
		fs = append(fs, migrate.File{Path: p, Data: []byte(s)})
	}
	s, err := migrate.Load("db", migrate.GolangMigrate, fs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// privateTemp points TMPDIR at a fresh dir, so what the rehearsal leaves
// there is its own and not another package's running tests.
func privateTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "breakwater-rehearse-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The server runs as postgres under root and must reach its dirs.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", dir)
	return dir
}

// assertNothingLeft fails when the rehearsal left anything in its TMPDIR.
func assertNothingLeft(t *testing.T, tmp string) {
	t.Helper()
	ents, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind: %s", filepath.Join(tmp, e.Name()))
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestLocaleRehearsal is the Debian to Alpine incident without Docker:
// the same server binaries, first with glibc's en_US and then with an
// en_US whose collation is byte order, as musl's is, on one data dir.
func TestLocaleRehearsal(t *testing.T) {
	bin := pgtest.Binaries(t)
	locs := localetest.EnUS(t, "en_US", "C")
	glibc := Runtime{Kind: KindBin, Dir: bin.Dir, Locpath: locs[0]}
	musl := Runtime{Kind: KindBin, Dir: bin.Dir, Locpath: locs[1]}
	dir, seed := usersDir(t)

	for _, tc := range []struct {
		name     string
		from, to Runtime
		corrupt  []string // schema.index amcheck must reject
	}{
		{"glibc to byte order", glibc, musl, []string{"breakwater_canary.c1_t", "public.users_email", "public.users_name"}},
		{"control: same locale data", glibc, glibc, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := privateTemp(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, Options{From: tc.from, To: tc.to, Dirs: []verify.Dir{dir}, Seed: seed, Progress: testLog{t}})
			if err != nil {
				t.Fatal(err)
			}
			assertNothingLeft(t, before)
			if res.StartFailure != nil || res.Refusal != "" {
				t.Fatalf("the server should have started on the data: %+v %q", res.StartFailure, res.Refusal)
			}
			if len(res.Databases) != 1 {
				t.Fatalf("databases: %+v", res.Databases)
			}
			d := res.Databases[0]
			if d.Failure != nil {
				t.Fatalf("migrations failed: %v", d.Failure)
			}
			if d.Base != 1 || d.Head != 1 || d.Seed != 1 {
				t.Errorf("applied base %d, seed %d, head %d; want 1, 1, 1", d.Base, d.Seed, d.Head)
			}
			if len(d.Canary) != 1 || d.Canary[0].Rows < 500 || !strings.Contains(d.Canary[0].Collation, "en_US") {
				t.Errorf("canary: %+v", d.Canary)
			}
			// 3 user indexes and the canary's two.
			if d.Amcheck.Checked != 5 {
				t.Errorf("amcheck checked %d indexes, want 5", d.Amcheck.Checked)
			}
			if d.Probe.Probed != 1 {
				t.Errorf("unique probe covered %d indexes, want 1 (users_email)", d.Probe.Probed)
			}
			var got []string
			for _, c := range d.Corrupt {
				got = append(got, c.Schema+"."+c.Index)
				if c.Kind != "index" || !strings.Contains(c.Message, "invariant") {
					t.Errorf("%s.%s: %s problem %q, want an order invariant violated", c.Schema, c.Index, c.Kind, c.Message)
				}
				if (c.Schema == pg.CanarySchema) != (c.Canary != "") {
					t.Errorf("%s.%s: canary %q", c.Schema, c.Index, c.Canary)
				}
				if c.Fix == nil || !c.Fix.Repaired || c.Fix.Took <= 0 {
					t.Errorf("%s.%s: REINDEX proof %+v, want repaired with a time", c.Schema, c.Index, c.Fix)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.corrupt) {
				t.Errorf("corrupt indexes %v, want %v", got, tc.corrupt)
			}
		})
	}
}

// TestMajorRehearsal builds the data under an older major and starts
// the newer server on it: it refuses, pg_upgrade moves the data, and
// the checks run on the result.
func TestMajorRehearsal(t *testing.T) {
	to := pgtest.Binaries(t)
	var from pg.Binaries
	for _, b := range pg.FindAllBinaries() {
		if b.Major < to.Major && (from.Dir == "" || b.Major < from.Major) {
			from = b
		}
	}
	if from.Dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("no major older than %d among the binaries (.ci/run fetches 13)", to.Major)
		}
		t.Skipf("no major older than %d installed; set BREAKWATER_POSTGRES_BINS", to.Major)
	}
	dir, seed := usersDir(t)
	before := privateTemp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{
		From: Runtime{Kind: KindBin, Dir: from.Dir}, To: Runtime{Kind: KindBin, Dir: to.Dir},
		Dirs: []verify.Dir{dir}, Seed: seed, Progress: testLog{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, before)
	if !strings.Contains(res.Refusal, "database files are incompatible with server") {
		t.Errorf("refusal %q, want the server's own message", res.Refusal)
	}
	if res.Upgrade == nil || res.Upgrade.Method != "pg_upgrade" {
		t.Fatalf("upgrade: %+v (start failure %+v)", res.Upgrade, res.StartFailure)
	}
	if !strings.HasPrefix(res.FromVersion, from.Version) || !strings.HasPrefix(res.ToVersion, to.Version) {
		t.Errorf("versions %q → %q, want %s → %s", res.FromVersion, res.ToVersion, from.Version, to.Version)
	}
	d := res.Databases[0]
	if d.Failure != nil || d.Head != 1 {
		t.Errorf("head migrations after pg_upgrade: %d applied, failure %v", d.Head, d.Failure)
	}
	if d.Amcheck.Checked != 5 || len(d.Corrupt) != 0 {
		t.Errorf("amcheck checked %d, problems %+v; want 5 clean", d.Amcheck.Checked, d.Corrupt)
	}

	// The way back: Postgres has none, so the older server's refusal ends
	// the rehearsal and no upgrade is tried.
	res, err = Run(ctx, Options{From: Runtime{Kind: KindBin, Dir: to.Dir}, To: Runtime{Kind: KindBin, Dir: from.Dir}})
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, before)
	if res.Upgrade != nil || res.StartFailure == nil || !strings.Contains(res.StartFailure.Message, "not compatible with this version") {
		t.Errorf("downgrade: upgrade %+v, start failure %+v; want the refusal and no upgrade", res.Upgrade, res.StartFailure)
	}
}

// A server that cannot start on the data says why, from its log, and
// the rehearsal stops there without leaving anything.
func TestStartFailure(t *testing.T) {
	bin := pgtest.Binaries(t)
	locs := localetest.EnUS(t, "en_US")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The data's en_US.UTF-8 is missing from the new runtime's locales.
	empty, err := os.MkdirTemp("", "breakwater-nolocales-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(empty)
	os.Chmod(empty, 0o755)
	before := privateTemp(t)
	res, err := Run(ctx, Options{
		From: Runtime{Kind: KindBin, Dir: bin.Dir, Locpath: locs[0]},
		To:   Runtime{Kind: KindBin, Dir: bin.Dir, Locpath: empty},
	})
	if err != nil {
		t.Fatal(err)
	}
	assertNothingLeft(t, before)
	if res.StartFailure == nil || !strings.Contains(res.StartFailure.Message, "FATAL") {
		t.Fatalf("start failure %+v, want the server's FATAL line", res.StartFailure)
	}
	t.Logf("start failure: %s", res.StartFailure.Message)
}

func TestParseRuntime(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "bin:/usr/lib/postgresql/15/bin", want: "bin:/usr/lib/postgresql/15/bin"},
		{in: "bin:/pg/bin?locpath=/tmp/a&locale=en_US.UTF-8", want: "bin:/pg/bin?locpath=/tmp/a&locale=en_US.UTF-8"},
		{in: "image:postgres:15-alpine", want: "image:postgres:15-alpine"},
		{in: "image:ghcr.io/acme/pg@sha256:" + strings.Repeat("a", 64), want: "image:ghcr.io/acme/pg@sha256:" + strings.Repeat("a", 64)},
		{in: "bin:", want: "bin:"},
		{in: "bin:?locpath=/l", want: "bin:?locpath=/l"},
		{in: "bin:/x?locale=C&charset=x", err: `unknown option "charset"`},
		{in: "image:Postgres:15", err: "must be lowercase"},
		{in: "docker:postgres", err: `unknown kind "docker"`},
		{in: "/usr/lib/postgresql", err: "want bin:DIR"},
	} {
		r, err := ParseRuntime(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRuntime(%q) = %v, %v; want error containing %q", tc.in, r, err, tc.err)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseRuntime(%q) = %q, %v; want %q", tc.in, r.String(), err, tc.want)
		}
	}
}

func TestDowngrade(t *testing.T) {
	for msg, want := range map[string]bool{
		"FATAL:  database files are incompatible with server DETAIL:  The data directory was initialized by PostgreSQL version 13, which is not compatible with this version 15.18 (Debian 15.18-0+deb12u1).": false,
		"FATAL:  database files are incompatible with server DETAIL:  The data directory was initialized by PostgreSQL version 17, which is not compatible with this version 15.18.":                          true,
		"FATAL:  database files are incompatible with server DETAIL:  The database cluster was initialized with CATALOG_VERSION_NO 1, but the server was compiled with CATALOG_VERSION_NO 2.":                 false,
	} {
		if got := downgrade(msg); got != want {
			t.Errorf("downgrade(%q) = %v, want %v", msg, got, want)
		}
	}
}
