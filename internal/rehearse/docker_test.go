package rehearse

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker/dockertest"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

// These tests run against a fake Engine API (internal/docker/dockertest),
// not a real Docker daemon: they pin the calls the rehearsal makes and
// that everything it creates is removed on every way out.

func testDockerHost(t *testing.T, e *dockertest.Engine, from, to string) (*dockerHost, *[]string) {
	t.Helper()
	fr, err := ParseRuntime("image:" + from)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseRuntime("image:" + to)
	if err != nil {
		t.Fatal(err)
	}
	h := newDockerHost(Options{From: fr, To: tr, Docker: e.Client(), Network: "bridge"})
	h.prefix = "bw"
	h.poll = time.Millisecond
	var dsns []string
	h.connect = func(ctx context.Context, dsn string) (*pg.Cluster, error) {
		dsns = append(dsns, dsn)
		return nil, nil
	}
	return h, &dsns
}

const (
	ready  = "cmd=pg_isready -q -h 127.0.0.1 -p 5432 -U postgres"
	runCmd = " network=bridge cmd=postgres -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)

func TestDockerSwap(t *testing.T) {
	e := dockertest.NewEngine(t)
	e.MissingImage("postgres:15-alpine")
	h, dsns := testDockerHost(t, e, "postgres:15-bookworm", "postgres:15-alpine")
	ctx := context.Background()
	if _, err := h.start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.swap(ctx); err != nil {
		t.Fatal(err)
	}
	c := containerSpec(t, e, "bw-from")
	if !slices.Contains(c.Env, "PGDATA="+pgdata) || !slices.Contains(c.Env, "POSTGRES_HOST_AUTH_METHOD=trust") || c.Labels["io.breakwater.rehearsal"] != "bw" || c.Running {
		t.Errorf("from container: env %v labels %v running %v", c.Env, c.Labels, c.Running)
	}
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /_ping",
		"GET /images/postgres:15-bookworm/json",
		"GET /images/postgres:15-alpine/json",
		"POST /images/create image=postgres:15-alpine",
		"POST /volumes/create name=bw-data",
		"POST /containers/create name=bw-from image=postgres:15-bookworm mounts=bw-data:/var/lib/postgresql/breakwater" + runCmd,
		"POST /containers/c1/start",
		"GET /containers/c1/json",
		"POST /containers/c1/exec " + ready,
		"POST /exec/e1/start",
		"GET /exec/e1/json",
		"POST /containers/c1/stop",
		"POST /containers/c1/wait",
		"POST /containers/create name=bw-to image=postgres:15-alpine mounts=bw-data:/var/lib/postgresql/breakwater" + runCmd,
		"POST /containers/c2/start",
		"GET /containers/c2/json",
		"POST /containers/c2/exec " + ready,
		"POST /exec/e2/start",
		"GET /exec/e2/json",
		"DELETE /containers/c2",
		"DELETE /containers/c1",
		"DELETE /volumes/bw-data",
	}
	assertCalls(t, e.Calls(), want)
	if got := strings.Join(*dsns, " "); got != "postgres://postgres@172.17.0.2:5432/postgres?sslmode=disable postgres://postgres@172.17.0.2:5432/postgres?sslmode=disable" {
		t.Errorf("connected to %s", got)
	}
	assertEmpty(t, e)
}

// The new image exits on the old data: the server's own words come
// from the container's log, and nothing is left.
func TestDockerStartFailure(t *testing.T) {
	e := dockertest.NewEngine(t)
	e.FailStart("postgres:17", "2026-12-02 10:00:00.000 UTC [1] FATAL:  database files are incompatible with server\n2026-12-02 10:00:00.000 UTC [1] DETAIL:  The data directory was initialized by PostgreSQL version 15, which is not compatible with this version 17.6.\n")
	h, _ := testDockerHost(t, e, "postgres:15", "postgres:17")
	ctx := context.Background()
	if _, err := h.start(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := h.swap(ctx)
	var se *pg.StartError
	if !errors.As(err, &se) || !se.Incompatible || !strings.Contains(se.Message, "initialized by PostgreSQL version 15") {
		t.Fatalf("swap: %v, want the server's refusal", err)
	}
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	calls := e.Calls()
	if !slices.Contains(calls, "GET /containers/c2/logs") {
		t.Errorf("the refusal was not read from the log: %v", calls)
	}
	assertEmpty(t, e)
}

// Across majors the data moves by pg_dumpall from the old server, run
// again on the old volume, into the new one on a fresh volume.
func TestDockerDumpRestore(t *testing.T) {
	e := dockertest.NewEngine(t)
	var script string
	e.OnExec(func(c dockertest.Container, cmd []string) (int, string) {
		if cmd[0] == "sh" {
			script = cmd[2]
		}
		return 0, ""
	})
	h, _ := testDockerHost(t, e, "postgres:15", "postgres:17")
	ctx := context.Background()
	if _, err := h.start(ctx); err != nil {
		t.Fatal(err)
	}
	n := len(e.Calls())
	cl, method, err := h.upgrade(ctx)
	if err != nil || method != "pg_dumpall" || cl != nil {
		t.Fatalf("upgrade: %v %q %v", cl, method, err)
	}
	want := []string{
		"POST /containers/c1/stop",
		"POST /containers/c1/wait",
		"POST /containers/create name=bw-from-dump image=postgres:15 mounts=bw-data:/var/lib/postgresql/breakwater" + runCmd,
		"POST /containers/c2/start",
		"GET /containers/c2/json",
		"POST /containers/c2/exec " + ready,
		"POST /exec/e2/start",
		"GET /exec/e2/json",
		"POST /volumes/create name=bw-data-new",
		"POST /containers/create name=bw-to-restored image=postgres:17 mounts=bw-data-new:/var/lib/postgresql/breakwater" + runCmd,
		"POST /containers/c3/start",
		"GET /containers/c3/json",
		"POST /containers/c3/exec " + ready,
		"POST /exec/e3/start",
		"GET /exec/e3/json",
		"POST /containers/c3/exec cmd=sh -c " + script,
		"POST /exec/e4/start",
		"GET /exec/e4/json",
		"POST /containers/c2/stop",
	}
	assertCalls(t, e.Calls()[n:], want)
	if !strings.Contains(script, "pg_dumpall -h 172.17.0.2 -U postgres | psql") {
		t.Errorf("dump script %q", script)
	}
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, e)
}

// A server that never becomes ready fails the start, and close still
// removes the container and the volume.
func TestDockerCleanupOnFailure(t *testing.T) {
	e := dockertest.NewEngine(t)
	e.OnExec(func(dockertest.Container, []string) (int, string) { return 2, "no response" })
	h, _ := testDockerHost(t, e, "postgres:15", "postgres:16")
	h.readyTimeout = 20 * time.Millisecond
	if _, err := h.start(context.Background()); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("start: %v, want not ready", err)
	}
	if len(e.Containers()) != 1 || len(e.Volumes()) != 1 {
		t.Fatalf("before close: %v %v", e.Containers(), e.Volumes())
	}
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, e)
}

func assertCalls(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func assertEmpty(t *testing.T, e *dockertest.Engine) {
	t.Helper()
	if c, v := e.Containers(), e.Volumes(); len(c) > 0 || len(v) > 0 {
		t.Errorf("left behind: containers %v, volumes %v", c, v)
	}
}

func containerSpec(t *testing.T, e *dockertest.Engine, name string) dockertest.Container {
	t.Helper()
	for _, c := range e.Containers() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return dockertest.Container{}
}
