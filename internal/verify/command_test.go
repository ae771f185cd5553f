package verify

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// migrateScript is the "ORM": it applies db/*.sql in order, each once,
// remembering what it applied in the database as real tools do, and
// exits 42 when one fails.
const migrateScript = `set -e
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c 'SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY)'
for f in db/*.sql; do
	done=$(psql "$DATABASE_URL" -X -Atq -c "SELECT count(*) FROM schema_migrations WHERE name = '$f'")
	[ "$done" = 0 ] || continue
	echo "== migrating $f"
	psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -1 -f "$f" || { echo "migrate: $f failed" >&2; exit 42; }
	psql "$DATABASE_URL" -X -q -c "INSERT INTO schema_migrations VALUES ('$f')"
done
`

// psqlOnPath puts the cluster's own psql first on PATH; commands get the
// caller's environment, so that is how the script finds it.
func psqlOnPath(t *testing.T) {
	t.Helper()
	dir := ""
	if bin, err := pg.FindBinaries(""); err == nil {
		if _, err := os.Stat(filepath.Join(bin.Dir, "psql")); err == nil {
			dir = bin.Dir
		}
	}
	if dir == "" {
		p, err := exec.LookPath("psql")
		if err != nil {
			t.Skip("no psql")
		}
		dir = filepath.Dir(p)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// sides commits base and then head (both with the script and seed.sh) in
// a scratch repository and returns worktrees of the two commits; base is
// "" when base is nil.
func sides(t *testing.T, base, head map[string]string) (string, string) {
	t.Helper()
	g := testgit.New(t)
	commit := func(files map[string]string) string {
		g.Remove("db")
		g.Write("migrate.sh", migrateScript)
		g.Write("seed.sh", `psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO t VALUES (1, 'a'), (2, 'a')"`+"\n")
		g.Write("seed_bad.sh", "echo 'seeding...'\necho 'no such table: users' >&2\nexit 5\n")
		for p, s := range files {
			g.Write(p, s)
		}
		return g.Commit("side")
	}
	var b string
	if base != nil {
		b = commit(base)
	}
	h := commit(head)
	repo, err := change.Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	add := func(c string) string {
		dir, remove, err := repo.AddWorktree(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := remove(); err != nil {
				t.Error(err)
			}
		})
		return dir
	}
	if b != "" {
		b = add(b)
	}
	return b, add(h)
}

// The command runs as the ORM would in production: base side, seed, head
// side on one database; head side alone on another. A failure is at the
// command's configuration and quotes the tool's own words.
func TestRunCommands(t *testing.T) {
	const t1 = "CREATE TABLE t (id int, v text);\n"
	tests := []struct {
		name        string
		base, head  map[string]string
		seed        string
		seedCommand string
		// upgrade and headOnly are "phase line" and words the Msg must
		// hold, "" for a pass.
		upgrade, headOnly []string
		seeded            int
	}{
		{
			name:    "seed rows make the head migration fail",
			base:    map[string]string{"db/1_t.sql": t1},
			head:    map[string]string{"db/1_t.sql": t1, "db/2_unique.sql": "CREATE UNIQUE INDEX t_v ON t (v);\n"},
			seed:    "INSERT INTO t VALUES (1, 'a'), (2, 'a');\n",
			upgrade: []string{"head 7", "`sh migrate.sh` exited 42 on the head side: ", "could not create unique index", "migrate: db/2_unique.sql failed"},
			seeded:  1,
		},
		{
			name:        "a seed command's rows do the same",
			base:        map[string]string{"db/1_t.sql": t1},
			head:        map[string]string{"db/1_t.sql": t1, "db/2_unique.sql": "CREATE UNIQUE INDEX t_v ON t (v);\n"},
			seedCommand: "sh seed.sh",
			upgrade:     []string{"head 7", "exited 42 on the head side", "could not create unique index"},
		},
		{
			name:   "a migration that suits the data passes",
			base:   map[string]string{"db/1_t.sql": t1},
			head:   map[string]string{"db/1_t.sql": t1, "db/2_index.sql": "CREATE INDEX t_v ON t (v);\n"},
			seed:   "INSERT INTO t VALUES (1, 'a'), (2, 'a');\n",
			seeded: 1,
		},
		{
			name:     "a base side that does not migrate stops in the base phase",
			base:     map[string]string{"db/1_t.sql": "CREATE TABLE t (id int REFERENCES nowhere);\n"},
			head:     map[string]string{"db/1_t.sql": t1},
			upgrade:  []string{"base 7", "exited 42 on the base side", `relation "nowhere" does not exist`},
			headOnly: nil,
		},
		{
			name:        "a seed command that fails is the seed's failure",
			base:        map[string]string{"db/1_t.sql": t1},
			head:        map[string]string{"db/1_t.sql": t1},
			seedCommand: "sh seed_bad.sh",
			upgrade:     []string{"seed 0", "`sh seed_bad.sh` exited 5 loading the seed: seeding...\nno such table: users"},
		},
		{
			name:     "new migrations only run on the head side, where they fail alike",
			head:     map[string]string{"db/1_t.sql": "CREATE TABLE t (id intt);\n"},
			upgrade:  []string{"head 7", "exited 42 on the head side", `type "intt" does not exist`},
			headOnly: []string{"head-only 7", "exited 42 on the head side, on an empty database", `type "intt" does not exist`},
		},
	}
	cl := cluster(t)
	cl.SetStatementTimeout(pg.DefaultStatementTimeout)
	psqlOnPath(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, head := sides(t, tt.base, tt.head)
			var seed []migrate.File
			if tt.seed != "" {
				seed = []migrate.File{{Path: "seed.sql", Data: []byte(tt.seed)}}
			}
			opt := CommandOptions{Cluster: cl, Seed: seed, SeedCommand: tt.seedCommand,
				Dirs: []CommandDir{{Name: "db", Config: ".breakwater.yml", Line: 7, Command: "sh migrate.sh", Base: base, Head: head}}}
			if tt.seedCommand != "" {
				opt.SeedDir = head
			}
			rs, err := RunCommands(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 1 {
				t.Fatalf("%d results", len(rs))
			}
			r := rs[0]
			checkFailure(t, "upgrade", r.Upgrade, tt.upgrade)
			checkFailure(t, "head-only", r.HeadOnly, tt.headOnly)
			if r.Dir != "db" || r.Last != ".breakwater.yml" || r.Major != cl.Major() || r.Seed != tt.seeded {
				t.Errorf("result %q %q major %d seed %d", r.Dir, r.Last, r.Major, r.Seed)
			}
			if passed := r.Upgrade == nil; passed != (r.Amcheck != nil || r.AmcheckMissing != "") {
				t.Errorf("upgrade passed %v, but amcheck %v / %q", passed, r.Amcheck, r.AmcheckMissing)
			}
		})
	}
}

func checkFailure(t *testing.T, what string, f *Failure, want []string) {
	t.Helper()
	if want == nil {
		if f != nil {
			t.Errorf("%s failed: %s %s:%d: %s", what, f.Phase, f.File, f.Line, f.Msg)
		}
		return
	}
	if f == nil {
		t.Errorf("%s passed, want %v", what, want)
		return
	}
	if got := f.Phase + " " + strconv.Itoa(f.Line); got != want[0] || f.File != ".breakwater.yml" {
		t.Errorf("%s at %s %s, want %s", what, f.File, got, want[0])
	}
	for _, w := range want[1:] {
		if !strings.Contains(f.Msg, w) {
			t.Errorf("%s message lacks %q:\n%s", what, w, f.Msg)
		}
	}
	if f.String() != f.Msg {
		t.Errorf("%s String() %q", what, f.String())
	}
}

// A command that runs over its time is killed with everything it started
// and said to have timed out.
func TestRunCommandsTimeout(t *testing.T) {
	cl := cluster(t)
	dir := t.TempDir()
	t0 := time.Now()
	rs, err := RunCommands(context.Background(), CommandOptions{Cluster: cl, Timeout: 200 * time.Millisecond,
		Dirs: []CommandDir{{Name: "db", Config: ".breakwater.yml", Line: 3, Head: dir,
			Command: "echo $$ >> pids; sleep 5 & echo $! >> pids; sleep 5"}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("took %s", d)
	}
	for what, f := range map[string]*Failure{"upgrade": rs[0].Upgrade, "head-only": rs[0].HeadOnly} {
		if f == nil || !strings.Contains(f.Msg, "timed out after 200ms on the head side") {
			t.Errorf("%s: %+v", what, f)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	pids := strings.Fields(string(data))
	if len(pids) != 4 {
		t.Fatalf("pids %q", pids)
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		if !gone(pid) {
			t.Errorf("process %d still running", pid)
		}
	}
}

// A run that is cancelled is an error, not a failure of the migrations,
// and ends the command at once.
func TestRunCommandsCancelled(t *testing.T) {
	cl := cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := RunCommands(ctx, CommandOptions{Cluster: cl,
		Dirs: []CommandDir{{Name: "db", Config: ".breakwater.yml", Head: t.TempDir(), Command: "sleep 5"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

// gone waits a little for the process to be reaped, and counts a zombie
// (the container's init may never reap it) as gone.
func gone(pid int) bool {
	for range 40 {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return true
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if _, rest, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(rest, "Z") {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A password a tool prints (its own error quoting the URL, say) never
// reaches a finding.
func TestRunCommandsRedacts(t *testing.T) {
	cl := cluster(t)
	rs, err := RunCommands(context.Background(), CommandOptions{Cluster: cl,
		Dirs: []CommandDir{{Name: "db", Config: ".breakwater.yml", Head: t.TempDir(),
			Command: `echo "could not connect to postgres://u:secret@h/db" >&2; exit 1`}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*Failure{rs[0].Upgrade, rs[0].HeadOnly} {
		if f == nil || strings.Contains(f.Msg, "secret") || !strings.Contains(f.Msg, "could not connect to postgres://u:xxxxx@h/db") {
			t.Errorf("%+v", f)
		}
	}
}

// The command reaches its scenario database through DATABASE_URL and
// through the libpq variables, and keeps the rest of the environment.
func TestRunCommandsEnv(t *testing.T) {
	cl := cluster(t)
	psqlOnPath(t)
	t.Setenv("BREAKWATER_TEST_KEPT", "kept")
	rs, err := RunCommands(context.Background(), CommandOptions{Cluster: cl,
		Dirs: []CommandDir{{Name: "db", Config: ".breakwater.yml", Head: t.TempDir(),
			Command: `echo begin; echo "url=$DATABASE_URL"; echo "db=$PGDATABASE"; echo "kept=$BREAKWATER_TEST_KEPT"; echo "psql=$(psql -X -Atc 'SELECT current_database()')"; exit 9`}}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cl.DSN())
	for scenario, f := range map[string]*Failure{"upgrade": rs[0].Upgrade, "head": rs[0].HeadOnly} {
		if f == nil {
			t.Fatalf("%s passed", scenario)
		}
		vals := map[string]string{}
		for _, l := range strings.Split(f.Msg, "\n") {
			k, v, _ := strings.Cut(l, "=")
			vals[k] = v
		}
		db := vals["db"]
		if !strings.HasPrefix(db, "breakwater_"+scenario+"_") || vals["psql"] != db || vals["kept"] != "kept" {
			t.Errorf("%s: %q", scenario, f.Msg)
		}
		if want := u.Query().Get("host"); !strings.Contains(vals["url"], "/"+db+"?") || !strings.Contains(vals["url"], url.QueryEscape(want)) {
			t.Errorf("%s: DATABASE_URL %q", scenario, vals["url"])
		}
	}
}

func TestCommandEnv(t *testing.T) {
	// The credentials of breakwater and the runner never reach the command
	// the pull request names; its own settings do.
	environ := []string{"HOME=/root", "GITHUB_TOKEN=ghs_x", "INPUT_GITHUB-TOKEN=ghs_y", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=z",
		"AWS_SECRET_ACCESS_KEY=k", "BREAKWATER_POSTGRES_URL=postgres://a:b@h/d", "DB_PASSWORD=p", "PGHOST=/elsewhere", "PGHOSTADDR=192.0.2.1", "PGSERVICE=prod",
		"PGSSLROOTCERT=/ca.pem", "PGPASSWORD=other", "DATABASE_URL=postgres://prod/app"}
	tests := []struct {
		dsn  string
		want []string
	}{
		{
			dsn: "postgres://u:p%40ss@db.example:5433/app?sslmode=require",
			want: []string{"HOME=/root", "PGSSLROOTCERT=/ca.pem", "DATABASE_URL=postgres://u:p%40ss@db.example:5433/app?sslmode=require",
				"PGHOST=db.example", "PGPORT=5433", "PGUSER=u", "PGPASSWORD=p@ss", "PGDATABASE=app", "PGSSLMODE=require"},
		},
		{
			// A socket URL as the throwaway cluster's; no password in it
			// leaves the inherited one, as for breakwater's own sessions.
			dsn: "postgres://postgres@/breakwater_x?host=%2Ftmp%2Fs&port=5999&sslmode=disable",
			want: []string{"HOME=/root", "PGSSLROOTCERT=/ca.pem", "PGPASSWORD=other", "DATABASE_URL=postgres://postgres@/breakwater_x?host=%2Ftmp%2Fs&port=5999&sslmode=disable",
				"PGHOST=/tmp/s", "PGPORT=5999", "PGUSER=postgres", "PGDATABASE=breakwater_x", "PGSSLMODE=disable"},
		},
		{
			dsn:  "host=/tmp/s port=5999 dbname='breakwater_x'",
			want: []string{"HOME=/root", "PGSSLROOTCERT=/ca.pem", "DATABASE_URL=host=/tmp/s port=5999 dbname='breakwater_x'"},
		},
	}
	for _, tt := range tests {
		if got := commandEnv(environ, tt.dsn); !slices.Equal(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.dsn, got, tt.want)
		}
	}
}

func TestCommandOutputTail(t *testing.T) {
	b := &tailBuffer{max: 1000}
	for i := range 100 {
		b.Write([]byte("line " + strconv.Itoa(i) + "\n"))
	}
	b.Write([]byte("\x1b[31mError:\x1b[0m boom\n\n  \ndownloading 10%\rdownloading 100%\r\nx" + strings.Repeat("é", 400) + "\n"))
	lines := strings.Split(b.lastLines(4), "\n")
	if len(lines) != 4 || lines[0] != "line 99" || lines[1] != "Error: boom" || lines[2] != "downloading 100%" {
		t.Errorf("%q", lines)
	}
	if l := lines[3]; len(l) > maxLineBytes+len("…") || !strings.HasSuffix(l, "é…") {
		t.Errorf("long line %d bytes: %q", len(l), l[len(l)-10:])
	}
	if len(b.buf) > 2*b.max {
		t.Errorf("kept %d bytes", len(b.buf))
	}
}
