package pg

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The helper process is this test binary re-executed; it plays main.
const helperEnv = "BREAKWATER_PG_TEST_HELPER"

var testCacheDir string

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	var err error
	testCacheDir, err = os.MkdirTemp("", "breakwater-pg-cache-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if shared.cl != nil {
		shared.cl.Close()
	}
	os.RemoveAll(testCacheDir)
	os.Exit(code)
}

// helperMain starts a cluster, reports it on stdout and waits for a
// signal, the way cmd/breakwater is meant to.
func helperMain(mode string) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	cl, err := StartThrowaway(context.Background(), ThrowawayOptions{CacheDir: os.Getenv("BREAKWATER_PG_TEST_CACHE")})
	if err != nil {
		fmt.Println("ERROR", err)
		return 1
	}
	fmt.Printf("READY %d %s\n", cl.Pid(), cl.TempDir())
	<-sigs
	Shutdown()
	return 2
}

func needBinaries(t testing.TB) Binaries {
	t.Helper()
	b, err := FindBinaries("")
	if err != nil {
		// CI installs them (.ci/run), so there a missing server fails.
		if os.Getenv("CI") != "" {
			t.Fatalf("no PostgreSQL binaries: %v", err)
		}
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	return b
}

var shared struct {
	once sync.Once
	cl   *Cluster
	err  error
}

// sharedCluster serves the tests that do not care about the cluster's
// lifecycle, so the package's tests start few servers.
func sharedCluster(t *testing.T) *Cluster {
	t.Helper()
	bin := needBinaries(t)
	shared.once.Do(func() {
		shared.cl, shared.err = StartThrowaway(context.Background(), ThrowawayOptions{Bin: bin, CacheDir: testCacheDir, Log: testLog{t}})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.cl
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestFindBinaries(t *testing.T) {
	b := needBinaries(t)
	if b.Major < 10 || !strings.HasPrefix(b.Version, fmt.Sprint(b.Major)) {
		t.Errorf("odd version %+v", b)
	}
	b2, err := FindBinaries(b.Dir)
	if err != nil || b2.Version != b.Version {
		t.Errorf("FindBinaries(%q) = %+v, %v", b.Dir, b2, err)
	}
	if _, err := FindBinaries(t.TempDir()); err == nil {
		t.Error("empty dir accepted")
	}
	all := FindAllBinaries()
	if len(all) == 0 {
		t.Error("FindAllBinaries found nothing")
	}
	for _, a := range all {
		t.Logf("%s: %s (%s)", a.Dir, a.Version, a.Full)
	}
}

func TestSelect1(t *testing.T) {
	cl := sharedCluster(t)
	ctx := ctxT(t)
	c, err := Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.Pgx().QueryRow(ctx, "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
	if cl.Major() != needBinaries(t).Major {
		t.Errorf("Major() = %d", cl.Major())
	}
	if cl.Locale() == "" {
		t.Error("no locale reported")
	}
	var coll string
	if err := c.Pgx().QueryRow(ctx, "SELECT datcollate FROM pg_database WHERE datname = 'postgres'").Scan(&coll); err != nil || coll != cl.Locale() {
		t.Errorf("datcollate = %q, %v; Locale() = %q", coll, err, cl.Locale())
	}
}

func TestScenarioCreateDrop(t *testing.T) {
	cl := sharedCluster(t)
	testScenario(t, cl)
}

func testScenario(t *testing.T, cl *Cluster) {
	ctx := ctxT(t)
	db, err := cl.Scenario(ctx, "Add Column/v2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db.Name, "breakwater_add_column_v2_") {
		t.Errorf("name %q", db.Name)
	}
	if err := db.Exec(ctx, "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	// Another session on the database: DROP must not fail on it.
	other, err := Connect(ctx, db.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if !dbExists(t, cl, db.Name) {
		t.Fatal("scenario database missing")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if dbExists(t, cl, db.Name) {
		t.Fatal("scenario database not dropped")
	}
}

func dbExists(t *testing.T, cl *Cluster, name string) bool {
	t.Helper()
	ctx := ctxT(t)
	c, err := Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var n int
	if err := c.Pgx().QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestStatementTimeout(t *testing.T) {
	ctx, db := scenario(t, "timeout")
	var st string
	if err := db.Pgx().QueryRow(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "1min" {
		t.Errorf("default statement_timeout = %q, %v", st, err)
	}
	if err := db.SetStatementTimeout(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	err := db.Exec(ctx, "SELECT pg_sleep(5)")
	var pe *Error
	if !errors.As(err, &pe) || pe.SQLState != SQLStateQueryCanceled {
		t.Fatalf("err = %#v, want SQLSTATE 57014", err)
	}
	if d := time.Since(t0); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
	t.Logf("%v", err)
}

// SQL that turns statement_timeout off (SET, RESET, set_config) is still
// cancelled once the session's limit has passed, with an error that says
// so, and the session goes on working; a statement within the limit is
// not touched.
func TestStatementTimeoutTurnedOff(t *testing.T) {
	ctx, db := scenario(t, "timeout_off")
	if err := db.SetStatementTimeout(ctx, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, off := range []string{"SET statement_timeout = 0", "RESET statement_timeout", "SELECT set_config('statement_timeout', '0', false)"} {
		if err := db.Exec(ctx, off); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		err := db.Exec(ctx, "SELECT pg_sleep(30)")
		var pe *Error
		if !errors.As(err, &pe) || pe.SQLState != SQLStateQueryCanceled || !strings.Contains(pe.Message, "statement timeout") {
			t.Fatalf("%s: err = %v, want SQLSTATE 57014 naming the statement timeout", off, err)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Errorf("%s: cancelled after %s", off, d)
		}
		if err := db.Exec(ctx, "SELECT pg_sleep(0.1)"); err != nil {
			t.Errorf("%s: the session is unusable after the cancel: %v", off, err)
		}
	}
	// Three statements of 0.2 s each are within three limits.
	if err := db.ExecN(ctx, "SELECT pg_sleep(0.2); SELECT pg_sleep(0.2); SELECT pg_sleep(0.2)", 3); err != nil {
		t.Errorf("ExecN: %v", err)
	}
}

func TestSyntaxErrorPosition(t *testing.T) {
	ctx, db := scenario(t, "syntax")
	// "é" is two bytes; Position counts characters.
	sql := "SELECT 'é';\nSELEC 2"
	err := db.Exec(ctx, sql)
	var pe *Error
	if !errors.As(err, &pe) || pe.SQLState != "42601" {
		t.Fatalf("err = %#v, want SQLSTATE 42601", err)
	}
	if want := len([]rune("SELECT 'é';\n")) + 1; pe.Position != want {
		t.Errorf("Position = %d, want %d (%v)", pe.Position, want, pe)
	}
}

func TestTemplateCacheAndClose(t *testing.T) {
	bin := needBinaries(t)
	cache := t.TempDir()
	ctx := ctxT(t)
	start := func() (*Cluster, string, time.Duration) {
		var log bytes.Buffer
		t0 := time.Now()
		cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: bin, CacheDir: cache, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		return cl, log.String(), time.Since(t0)
	}

	cold, coldLog, coldDur := start()
	if !cold.InitdbRan() || !strings.Contains(coldLog, "initdb") {
		t.Errorf("first start did not run initdb:\n%s", coldLog)
	}
	checkClose(t, cold)

	warm, warmLog, warmDur := start()
	if warm.InitdbRan() || !strings.Contains(warmLog, "copied from template") {
		t.Errorf("second start did not use the template:\n%s", warmLog)
	}
	c, err := Connect(ctx, warm.DSN())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	// Restart keeps the data and the DSN, with a new postmaster.
	db, err := warm.Scenario(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, "CREATE TABLE kept (id int)"); err != nil {
		t.Fatal(err)
	}
	db.Conn.Close()
	oldPid := warm.Pid()
	if err := warm.Restart(ctx, []string{"TZ=UTC"}); err != nil {
		t.Fatal(err)
	}
	if warm.Pid() == oldPid || syscall.Kill(oldPid, 0) == nil {
		t.Errorf("old postmaster %d still there, new %d", oldPid, warm.Pid())
	}
	c, err = connect(ctx, warm.DSN(), db.Name, DefaultStatementTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "SELECT * FROM kept"); err != nil {
		t.Errorf("data lost over Restart: %v", err)
	}
	c.Close()
	checkClose(t, warm)
	t.Logf("time to ready: cold (initdb) %s, from template %s", coldDur.Round(time.Millisecond), warmDur.Round(time.Millisecond))
	t.Logf("cold log:\n%s\nwarm log:\n%s", coldLog, warmLog)
}

func checkClose(t *testing.T, cl *Cluster) {
	t.Helper()
	pid, dir := cl.Pid(), cl.TempDir()
	if pid == 0 || dir == "" {
		t.Fatalf("pid %d dir %q", pid, dir)
	}
	if err := cl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	assertGone(t, pid, dir)
}

// TestExternalDSNMode uses a throwaway cluster's DSN as if it were
// --postgres-url.
func TestExternalDSNMode(t *testing.T) {
	cl := sharedCluster(t)
	ctx := ctxT(t)
	ext, err := External(ctx, cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if ext.Major() != cl.Major() {
		t.Errorf("Major = %d, want %d", ext.Major(), cl.Major())
	}
	testScenario(t, ext)
	if err := ext.Close(); err != nil {
		t.Fatal(err)
	}
	// Close on an external cluster must leave the server alone.
	c, err := Connect(ctx, cl.DSN())
	if err != nil {
		t.Fatal("server gone after external Close:", err)
	}
	c.Close()

	// Also the key=value form.
	kv := fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres", dsnParam(t, cl, "host"), dsnParam(t, cl, "port"))
	ext2, err := External(ctx, kv)
	if err != nil {
		t.Fatal(err)
	}
	testScenario(t, ext2)
}

func dsnParam(t *testing.T, cl *Cluster, key string) string {
	t.Helper()
	c, err := Connect(ctxT(t), cl.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := c.Pgx().Config()
	if key == "host" {
		return cfg.Host
	}
	return fmt.Sprint(cfg.Port)
}

func TestExternalBadDSNRedacted(t *testing.T) {
	ctx := ctxT(t)
	for _, dsn := range []string{
		"postgres://bw:s3cr3t-pw@/postgres?host=/nonexistent-breakwater&connect_timeout=2",
		"postgres://bw:s3cr3t-pw@localhost:notaport/db",
		"host=/nonexistent-breakwater user=bw password=s3cr3t-pw connect_timeout=2",
		"host=/nonexistent-breakwater user=bw password='s3cr3t pw' port=x",
	} {
		_, err := External(ctx, dsn)
		if err == nil {
			t.Fatalf("%s: connected?", dsn)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("password leaked: %v", err)
		}
		t.Log(err)
	}
}

func TestStartFailureQuotesLog(t *testing.T) {
	bin := needBinaries(t)
	t0 := time.Now()
	_, err := StartThrowaway(ctxT(t), ThrowawayOptions{Bin: bin, CacheDir: testCacheDir, Extra: []string{"shared_buffers=lots"}})
	if err == nil {
		t.Fatal("server with a bad setting started")
	}
	if !strings.Contains(err.Error(), `invalid value for parameter "shared_buffers"`) {
		t.Errorf("error does not quote the server log:\n%v", err)
	}
	t.Logf("after %s: %v", time.Since(t0).Round(time.Millisecond), err)
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:secret@db:5432/x", "postgres://u:xxxxx@db:5432/x"},
		{"postgresql://u:p%40ss@db/x?sslmode=require", "postgresql://u:xxxxx@db/x?sslmode=require"},
		{"postgres://u:p@ss@db/x", "postgres://u:xxxxx@db/x"},
		{"postgres://u@db/x", "postgres://u@db/x"},
		{"postgres://db/x?user=u&password=secret&sslmode=disable", "postgres://db/x?user=u&password=xxxxx&sslmode=disable"},
		{"host=db user=u password=secret dbname=x", "host=db user=u password=xxxxx dbname=x"},
		{"host=db password = 'se cr\\'et' dbname=x", "host=db password = xxxxx dbname=x"},
		{"password=secret", "password=xxxxx"},
		{"host=db sslpassword=secret", "host=db sslpassword=xxxxx"},
		// pgx and net/url quote the string they failed on.
		{"cannot parse `postgres://u:secret@db:bad/x`: failed to parse as URL (parse \"postgres://u:secret@db:bad/x\": invalid port \":bad\" after host)",
			"cannot parse `postgres://u:xxxxx@db:bad/x`: failed to parse as URL (parse \"postgres://u:xxxxx@db:bad/x\": invalid port \":bad\" after host)"},
		{"failed to connect to `user=u database=x`: 10.0.0.1:5432 (db): failed SASL auth: FATAL: password authentication failed for user \"u\" (SQLSTATE 28P01)",
			"failed to connect to `user=u database=x`: 10.0.0.1:5432 (db): failed SASL auth: FATAL: password authentication failed for user \"u\" (SQLSTATE 28P01)"},
		{"no dsn here", "no dsn here"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestSignalCleanup runs the helper as breakwater's main would and sends
// it SIGTERM: Shutdown must stop the server and remove its dir.
func TestSignalCleanup(t *testing.T) {
	needBinaries(t)
	cmd, pid, dir := startHelper(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("helper exit: %v", err)
	}
	assertGone(t, pid, dir)
}

// assertGone checks that a cluster left nothing: no postmaster, no dir.
func assertGone(t *testing.T, pid int, dir string) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster %d still exists (kill 0: %v)", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s still there (%v)", dir, err)
	}
}

// TestParentKilled checks Pdeathsig: when breakwater cannot clean up
// (SIGKILL), the server must still go.
func TestParentKilled(t *testing.T) {
	needBinaries(t)
	cmd, pid, dir := startHelper(t)
	t.Cleanup(func() { os.RemoveAll(dir) })
	cmd.Process.Kill()
	cmd.Wait()
	t0 := time.Now()
	defer func() { t.Logf("postmaster gone %s after its parent", time.Since(t0).Round(time.Millisecond)) }()
	deadline := time.Now().Add(5 * time.Second)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postmaster %d survived SIGKILL of its parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The next start removes the dir the killed run left.
	var log bytes.Buffer
	removeStaleDirs(func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) })
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stale dir %s not removed (%v)", dir, err)
	}
	if !strings.Contains(log.String(), dir) {
		t.Errorf("removal not logged: %q", log.String())
	}
}

func startHelper(t *testing.T) (*exec.Cmd, int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "BREAKWATER_PG_TEST_CACHE="+testCacheDir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper: %v", err)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscanf(line, "READY %d %s", &pid, &dir); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	return cmd, pid, dir
}

// TestAllMajors runs SELECT version() on every install found, so CI with
// BREAKWATER_POSTGRES_BINS covers other majors.
func TestAllMajors(t *testing.T) {
	for _, b := range FindAllBinaries() {
		t.Run(b.Version, func(t *testing.T) {
			ctx := ctxT(t)
			cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: b, CacheDir: testCacheDir})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			c, err := Connect(ctx, cl.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var v string
			if err := c.Pgx().QueryRow(ctx, "SELECT version()").Scan(&v); err != nil || !strings.Contains(v, "PostgreSQL "+b.Version) {
				t.Errorf("version() = %q, %v", v, err)
			}
			if cl.Major() != b.Major {
				t.Errorf("Major = %d", cl.Major())
			}
		})
	}
}

// scenario is a fresh database on the shared cluster, dropped at the end.
func scenario(t *testing.T, name string) (context.Context, *DB) {
	t.Helper()
	cl := sharedCluster(t)
	ctx := ctxT(t)
	db, err := cl.Scenario(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return ctx, db
}

// eachMajor runs f in a fresh database of a throwaway cluster of every
// installed major ($BREAKWATER_POSTGRES_BINS adds to them).
func eachMajor(t *testing.T, scenario string, f func(t *testing.T, ctx context.Context, cl *Cluster, db *DB)) {
	for _, b := range FindAllBinaries() {
		t.Run(b.Version, func(t *testing.T) {
			ctx := ctxT(t)
			cl, err := StartThrowaway(ctx, ThrowawayOptions{Bin: b, CacheDir: testCacheDir})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			db, err := cl.Scenario(ctx, scenario)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			f(t, ctx, cl, db)
		})
	}
}

// BenchmarkStart measures time to ready, cold (initdb) and from the
// template cache.
func BenchmarkStart(b *testing.B) {
	bin := needBinaries(b)
	for _, mode := range []string{"initdb", "template"} {
		b.Run(mode, func(b *testing.B) {
			cache := b.TempDir()
			if mode == "template" { // fill the cache outside the timer
				cl, err := StartThrowaway(context.Background(), ThrowawayOptions{Bin: bin, CacheDir: cache})
				if err != nil {
					b.Fatal(err)
				}
				cl.Close()
				b.ResetTimer()
			}
			for i := 0; i < b.N; i++ {
				cl, err := StartThrowaway(context.Background(), ThrowawayOptions{Bin: bin, CacheDir: cache, NoCache: mode == "initdb"})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cl.Close()
				b.StartTimer()
			}
		})
	}
}
