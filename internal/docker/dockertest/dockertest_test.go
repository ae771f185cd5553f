package dockertest

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker"
)

var ctx = context.Background()

func mount(vol string) []docker.Mount {
	return []docker.Mount{{Volume: vol, Target: "/var/lib/postgresql/breakwater"}}
}

// status is the HTTP status of err, 0 when it is no APIError.
func status(err error) int {
	var ae *docker.APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

func TestStrictness(t *testing.T) {
	tests := []struct {
		name       string
		run        func(e *Engine, c *docker.Client) error
		wantStatus int
		wantMsg    string
	}{
		{
			name: "mount before the volume exists",
			run: func(e *Engine, c *docker.Client) error {
				_, err := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15", Mounts: mount("bw-x")})
				return err
			},
			wantStatus: http.StatusNotFound, wantMsg: "no such volume: bw-x",
		},
		{
			name: "remove a volume a stopped container uses",
			run: func(e *Engine, c *docker.Client) error {
				_ = c.CreateVolume(ctx, "bw-x", nil)
				if _, err := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15", Mounts: mount("bw-x")}); err != nil {
					return err
				}
				return c.RemoveVolume(ctx, "bw-x")
			},
			wantStatus: http.StatusConflict, wantMsg: "volume is in use - [c1]",
		},
		{
			name: "a name taken",
			run: func(e *Engine, c *docker.Client) error {
				_, _ = c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
				_, err := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
				return err
			},
			wantStatus: http.StatusConflict, wantMsg: `"/pg" is already in use by container "c1"`,
		},
		{
			name: "missing image",
			run: func(e *Engine, c *docker.Client) error {
				e.MissingImage("postgres")
				_, err := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:latest"})
				return err
			},
			wantStatus: http.StatusNotFound, wantMsg: "No such image: postgres:latest",
		},
		{
			name: "exec in a stopped container",
			run: func(e *Engine, c *docker.Client) error {
				id, _ := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
				_, _, err := c.Exec(ctx, id, []string{"psql"}, nil)
				return err
			},
			wantStatus: http.StatusConflict, wantMsg: "container c1 is not running",
		},
		{
			name: "start a missing container",
			run: func(e *Engine, c *docker.Client) error {
				return c.StartContainer(ctx, "c9")
			},
			wantStatus: http.StatusNotFound, wantMsg: "No such container: c9",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEngine(t)
			err := tt.run(e, e.Client())
			if status(err) != tt.wantStatus || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %v, want status %d and %q", err, tt.wantStatus, tt.wantMsg)
			}
		})
	}
}

// TestAlreadySo checks the answers that the client treats as success.
func TestAlreadySo(t *testing.T) {
	e := NewEngine(t)
	c := e.Client()
	id, err := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		err  error
	}{
		{"start", c.StartContainer(ctx, id)},
		{"start again (304)", c.StartContainer(ctx, id)},
		{"stop", c.StopContainer(ctx, id, time.Second)},
		{"stop again (304)", c.StopContainer(ctx, id, time.Second)},
		{"remove", c.RemoveContainer(ctx, id)},
		{"remove again (404)", c.RemoveContainer(ctx, id)},
		{"remove a volume never made (404)", c.RemoveVolume(ctx, "bw-none")},
	} {
		if step.err != nil {
			t.Errorf("%s: %v", step.name, step.err)
		}
	}
}

func TestRemoveRunningWithoutForce(t *testing.T) {
	e := NewEngine(t)
	c := e.Client()
	id, _ := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
	if err := c.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	// The client always forces, so ask by hand.
	req, _ := http.NewRequest(http.MethodDelete, e.srv.URL+"/v1.47/containers/"+id, nil)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("status %d, want 409", resp.StatusCode)
	}
	if got := e.Containers(); len(got) != 1 || !got[0].Running {
		t.Errorf("containers %+v", got)
	}
	if err := c.RemoveContainer(ctx, id); err != nil || len(e.Containers()) != 0 {
		t.Errorf("forced remove: %v, left %+v", err, e.Containers())
	}
}

func TestFailStart(t *testing.T) {
	e := NewEngine(t)
	e.FailStart("postgres:18", "initdb: error: directory \"/var/lib/postgresql/data\" exists but is not empty\nline 2\n")
	c := e.Client()
	id, err := c.CreateContainer(ctx, "pg18", docker.ContainerSpec{Image: "postgres:18"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartContainer(ctx, id); err != nil {
		t.Fatalf("start fails at the API: %v", err)
	}
	code, err := c.WaitContainer(ctx, id)
	if err != nil || code != 1 {
		t.Errorf("Wait = %d, %v; want 1", code, err)
	}
	ctr, err := c.InspectContainer(ctx, id)
	if err != nil || ctr.Running || ctr.ExitCode != 1 || ctr.Networks["bridge"] != "" {
		t.Errorf("inspect %+v, %v", ctr, err)
	}
	for tail, want := range map[int]string{
		0: "initdb: error: directory \"/var/lib/postgresql/data\" exists but is not empty\nline 2\n",
		1: "line 2\n",
	} {
		if logs, err := c.Logs(ctx, id, tail); err != nil || logs != want {
			t.Errorf("Logs(tail %d) = %q, %v; want %q", tail, logs, err, want)
		}
	}
	// Other images start as usual.
	other, _ := c.CreateContainer(ctx, "pg15", docker.ContainerSpec{Image: "postgres:15"})
	_ = c.StartContainer(ctx, other)
	if ctr, _ := c.InspectContainer(ctx, other); !ctr.Running {
		t.Error("postgres:15 failed too")
	}
}

func TestWaitBlocksUntilStop(t *testing.T) {
	e := NewEngine(t)
	c := e.Client()
	id, _ := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
	_ = c.StartContainer(ctx, id)
	done := make(chan error, 1)
	go func() {
		_, err := c.WaitContainer(ctx, id)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("wait returned before the stop: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := c.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("wait did not return after the stop")
	}
}

// TestBlockedWaitAtCleanup checks a wait that never ends does not hang the
// engine's cleanup.
func TestBlockedWaitAtCleanup(t *testing.T) {
	t.Run("inner", func(t *testing.T) {
		e := NewEngine(t)
		c := e.Client()
		id, _ := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15"})
		_ = c.StartContainer(ctx, id)
		go func() { _, _ = c.WaitContainer(context.Background(), id) }()
		time.Sleep(20 * time.Millisecond)
	})
}

func TestExecHookAndNetworks(t *testing.T) {
	e := NewEngine(t)
	e.OnExec(func(ctr Container, cmd []string) (int, string) {
		if len(e.Containers()) != 1 { // the hook may call back into the engine
			t.Error("containers not visible from the hook")
		}
		if ctr.Network == "bw-net" && slices.Equal(cmd, []string{"psql", "-c", "select 1"}) {
			return 3, "ERROR:  relation does not exist\n"
		}
		return 0, ""
	})
	e.SetIP("10.9.0.3")
	c := e.Client()
	id, _ := c.CreateContainer(ctx, "pg", docker.ContainerSpec{Image: "postgres:15", Network: "bw-net", User: "postgres"})
	_ = c.StartContainer(ctx, id)
	code, out, err := c.Exec(ctx, id, []string{"psql", "-c", "select 1"}, []string{"PGUSER=postgres"})
	if err != nil || code != 3 || out != "ERROR:  relation does not exist\n" {
		t.Errorf("Exec = %d, %q, %v", code, out, err)
	}
	ctr, _ := c.InspectContainer(ctx, id)
	if !reflect.DeepEqual(ctr.Networks, map[string]string{"bw-net": "10.9.0.3"}) {
		t.Errorf("networks %v", ctr.Networks)
	}
	got := e.Containers()[0]
	if got.User != "postgres" || got.Network != "bw-net" || got.Image != "postgres:15" {
		t.Errorf("container %+v", got)
	}
	if calls := e.Calls(); calls[0] != "POST /containers/create name=pg image=postgres:15 network=bw-net" {
		t.Errorf("create recorded as %q", calls[0])
	}
}

func TestPullMakesPresent(t *testing.T) {
	tests := []struct{ missing, pull, check string }{
		{"postgres:17", "postgres:17", "postgres:17"},
		{"postgres", "postgres", "postgres:latest"},
		{"localhost:5000/pg", "localhost:5000/pg:latest", "localhost:5000/pg"},
		{"postgres@sha256:0123", "postgres@sha256:0123", "postgres@sha256:0123"},
	}
	for _, tt := range tests {
		t.Run(tt.missing, func(t *testing.T) {
			e := NewEngine(t)
			e.MissingImage(tt.missing)
			c := e.Client()
			if ok, err := c.ImagePresent(ctx, tt.check); ok || err != nil {
				t.Fatalf("before the pull: %v, %v", ok, err)
			}
			if err := c.PullImage(ctx, tt.pull); err != nil {
				t.Fatal(err)
			}
			if ok, err := c.ImagePresent(ctx, tt.check); !ok || err != nil {
				t.Errorf("after the pull: %v, %v", ok, err)
			}
		})
	}
}

func TestVersionPrefixStripped(t *testing.T) {
	e := NewEngine(t)
	c := e.Client()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.CreateVolume(ctx, "bw-x", nil)
	want := []string{"GET /_ping", "POST /volumes/create name=bw-x"}
	if got := e.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}
