package docker_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker"
	"github.com/breakwater-ci/breakwater/internal/docker/dockertest"
)

// TestRehearsalLifecycle drives the fake through the calls an upgrade
// rehearsal makes, in order, and checks that nothing is left behind.
func TestRehearsalLifecycle(t *testing.T) {
	e := dockertest.NewEngine(t)
	e.MissingImage("postgres:16")
	e.SetIP("172.17.0.9")
	var execs [][]string
	e.OnExec(func(ctr dockertest.Container, cmd []string) (int, string) {
		execs = append(execs, cmd)
		if ctr.Image != "postgres:16" || !ctr.Running {
			t.Errorf("exec in %+v", ctr)
		}
		return 0, "/var/run/postgresql:5432 - accepting connections\n"
	})
	c := e.Client()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(c.Ping(ctx))
	present, err := c.ImagePresent(ctx, "postgres:16")
	must(err)
	if present {
		t.Fatal("missing image is present")
	}
	must(c.PullImage(ctx, "postgres:16"))
	must(c.CreateVolume(ctx, "bw-x", map[string]string{"breakwater": "r1"}))
	id, err := c.CreateContainer(ctx, "bw-pg16", docker.ContainerSpec{
		Image:  "postgres:16",
		Env:    []string{"POSTGRES_PASSWORD=rehearsal"},
		Mounts: []docker.Mount{{Volume: "bw-x", Target: "/var/lib/postgresql/breakwater"}},
	})
	must(err)
	must(c.StartContainer(ctx, id))
	ctr, err := c.InspectContainer(ctx, id)
	must(err)
	want := docker.Container{ID: "c1", Name: "bw-pg16", Running: true, Networks: map[string]string{"bridge": "172.17.0.9"}}
	if !reflect.DeepEqual(ctr, want) {
		t.Errorf("inspect %+v, want %+v", ctr, want)
	}
	code, out, err := c.Exec(ctx, id, []string{"pg_isready", "-U", "postgres"}, nil)
	if err != nil || code != 0 || out != "/var/run/postgresql:5432 - accepting connections\n" {
		t.Errorf("Exec = %d, %q, %v", code, out, err)
	}
	must(c.StopContainer(ctx, id, 10*time.Second))
	code, err = c.WaitContainer(ctx, id)
	if err != nil || code != 0 {
		t.Errorf("Wait = %d, %v", code, err)
	}
	must(c.RemoveContainer(ctx, id))
	must(c.RemoveVolume(ctx, "bw-x"))

	wantCalls := []string{
		"GET /_ping",
		"GET /images/postgres:16/json",
		"POST /images/create image=postgres:16",
		"POST /volumes/create name=bw-x",
		"POST /containers/create name=bw-pg16 image=postgres:16 mounts=bw-x:/var/lib/postgresql/breakwater",
		"POST /containers/c1/start",
		"GET /containers/c1/json",
		"POST /containers/c1/exec cmd=pg_isready -U postgres",
		"POST /exec/e1/start",
		"GET /exec/e1/json",
		"POST /containers/c1/stop",
		"POST /containers/c1/wait",
		"DELETE /containers/c1",
		"DELETE /volumes/bw-x",
	}
	if got := e.Calls(); !slices.Equal(got, wantCalls) {
		t.Errorf("calls\n got %q\nwant %q", got, wantCalls)
	}
	if len(execs) != 1 {
		t.Errorf("%d execs", len(execs))
	}
	if cs, vs := e.Containers(), e.Volumes(); len(cs) != 0 || len(vs) != 0 {
		t.Errorf("left behind: containers %+v, volumes %q", cs, vs)
	}
}
