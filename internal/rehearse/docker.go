package rehearse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

// The official images keep their data under PGDATA; a dir of the named
// volume rather than its root, as initdb wants an empty dir it owns, and
// set explicitly because 18 moved the default.
const (
	dataMount = "/var/lib/postgresql/breakwater"
	pgdata    = dataMount + "/data"
)

// NoDockerError is an image rehearsal without a Docker daemon to run it
// on, which a rehearsal that runs only when it can (--rehearse auto)
// reports as not run rather than failing.
type NoDockerError struct{ Err error }

func (e *NoDockerError) Error() string { return e.Err.Error() }
func (e *NoDockerError) Unwrap() error { return e.Err }

// dockerHost runs both runtimes as containers of the official images on
// one named volume.
type dockerHost struct {
	from, to Runtime
	c        *docker.Client
	network  string
	prefix   string // names every container and volume of this rehearsal
	log      io.Writer

	vol        string
	volumes    []string // made, to remove
	containers []string
	current    string // the running server's container
	fromIP     string

	// connect opens the server a container runs; pg.External, but tests
	// of the call sequence have no server behind the fake engine.
	connect      func(ctx context.Context, dsn string) (*pg.Cluster, error)
	readyTimeout time.Duration
	poll         time.Duration
}

func newDockerHost(opt Options) *dockerHost {
	c := opt.Docker
	if c == nil {
		c = docker.New("")
	}
	return &dockerHost{
		from: opt.From, to: opt.To, c: c, network: opt.Network, log: opt.Progress,
		prefix:  "breakwater-rehearse-" + randomSuffix(),
		connect: pg.External, readyTimeout: 3 * time.Minute, poll: 250 * time.Millisecond,
	}
}

func (h *dockerHost) start(ctx context.Context) (*pg.Cluster, error) {
	if err := h.c.Ping(ctx); err != nil {
		return nil, &NoDockerError{Err: err}
	}
	if h.network == "" {
		h.network = h.ownNetwork(ctx)
	}
	for _, ref := range []string{h.from.Image, h.to.Image} {
		if err := h.ensureImage(ctx, ref); err != nil {
			return nil, err
		}
	}
	h.vol = h.prefix + "-data"
	if err := h.volume(ctx, h.vol); err != nil {
		return nil, err
	}
	id, err := h.run(ctx, "from", h.from.Image, h.vol)
	if err != nil {
		return nil, err
	}
	if h.fromIP, err = h.waitReady(ctx, id, h.from.Image); err != nil {
		return nil, err
	}
	return h.connect(ctx, dsnFor(h.fromIP))
}

func (h *dockerHost) swap(ctx context.Context) (*pg.Cluster, error) {
	if err := h.stop(ctx, h.current); err != nil {
		return nil, err
	}
	id, err := h.run(ctx, "to", h.to.Image, h.vol)
	if err != nil {
		return nil, err
	}
	ip, err := h.waitReady(ctx, id, h.to.Image)
	if err != nil {
		return nil, err
	}
	return h.connect(ctx, dsnFor(ip))
}

// upgrade is a dump and restore: the new image's pg_dumpall reads the
// old server, which runs again on the old volume, into a new server on a
// fresh one. pg_upgrade needs both majors' binaries in one container,
// which no official image has.
func (h *dockerHost) upgrade(ctx context.Context) (*pg.Cluster, string, error) {
	const method = "pg_dumpall"
	if err := h.stop(ctx, h.current); err != nil {
		return nil, method, err
	}
	old, err := h.run(ctx, "from-dump", h.from.Image, h.vol)
	if err != nil {
		return nil, method, err
	}
	oldIP, err := h.waitReady(ctx, old, h.from.Image)
	if err != nil {
		return nil, method, err
	}
	h.vol = h.prefix + "-data-new"
	if err := h.volume(ctx, h.vol); err != nil {
		return nil, method, err
	}
	id, err := h.run(ctx, "to-restored", h.to.Image, h.vol)
	if err != nil {
		return nil, method, err
	}
	ip, err := h.waitReady(ctx, id, h.to.Image)
	if err != nil {
		return nil, method, err
	}
	// psql goes on past errors: the dump recreates the postgres role,
	// which the new server already has.
	script := fmt.Sprintf("set -o pipefail 2>/dev/null; pg_dumpall -h %s -U postgres | psql -X -q -h 127.0.0.1 -U postgres -d postgres", oldIP)
	exit, out, err := h.c.Exec(ctx, id, []string{"sh", "-c", script}, nil)
	if err != nil {
		return nil, method, err
	}
	if exit != 0 {
		return nil, method, fmt.Errorf("docker: pg_dumpall | psql exited %d:\n%s", exit, lastLines(out, 20))
	}
	if err := h.c.StopContainer(ctx, old, 60*time.Second); err != nil {
		return nil, method, err
	}
	h.current = id
	cl, err := h.connect(ctx, dsnFor(ip))
	return cl, method, err
}

// close removes every container and volume of the rehearsal, on a fresh
// context: the run's may be what ended it.
func (h *dockerHost) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for i := len(h.containers) - 1; i >= 0; i-- {
		if err := h.c.RemoveContainer(ctx, h.containers[i]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, v := range h.volumes {
		if err := h.c.RemoveVolume(ctx, v); err != nil {
			errs = append(errs, err)
		}
	}
	h.containers, h.volumes = nil, nil
	return errors.Join(errs...)
}

func (h *dockerHost) ensureImage(ctx context.Context, ref string) error {
	ok, err := h.c.ImagePresent(ctx, ref)
	if err != nil || ok {
		return err
	}
	progress(h.log, "rehearse: pulling %s", ref)
	return h.c.PullImage(ctx, ref)
}

func (h *dockerHost) volume(ctx context.Context, name string) error {
	if err := h.c.CreateVolume(ctx, name, map[string]string{"io.breakwater.rehearsal": h.prefix}); err != nil {
		return err
	}
	h.volumes = append(h.volumes, name)
	return nil
}

// run creates and starts a server container on vol. Durability is off,
// as for throwaway clusters; a clean shutdown still writes everything.
func (h *dockerHost) run(ctx context.Context, role, image, vol string) (string, error) {
	id, err := h.c.CreateContainer(ctx, h.prefix+"-"+role, docker.ContainerSpec{
		Image: image,
		Env:   []string{"POSTGRES_HOST_AUTH_METHOD=trust", "PGDATA=" + pgdata},
		Cmd: []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off"},
		Labels:  map[string]string{"io.breakwater.rehearsal": h.prefix},
		Mounts:  []docker.Mount{{Volume: vol, Target: dataMount}},
		Network: h.network,
	})
	if err != nil {
		return "", err
	}
	h.containers = append(h.containers, id)
	if err := h.c.StartContainer(ctx, id); err != nil {
		return "", err
	}
	h.current = id
	return id, nil
}

// waitReady polls pg_isready over TCP inside the container: the
// entrypoint's first server, during initdb, listens only on its socket,
// so TCP answers only once the real server is up. A container that
// exits instead gives a *pg.StartError from its log.
func (h *dockerHost) waitReady(ctx context.Context, id, image string) (string, error) {
	deadline := time.Now().Add(h.readyTimeout)
	for {
		info, err := h.c.InspectContainer(ctx, id)
		if err != nil {
			return "", err
		}
		if !info.Running {
			logs, lerr := h.c.Logs(ctx, id, 40)
			if lerr != nil {
				logs = "(no logs: " + lerr.Error() + ")"
			}
			msg, incompatible := pg.ParseStartLog(logs)
			return "", &pg.StartError{Version: image, Message: msg, Incompatible: incompatible,
				Log: lastLines(logs, 20), Err: fmt.Errorf("docker: container of %s exited with %d", image, info.ExitCode)}
		}
		exit, _, err := h.c.Exec(ctx, id, []string{"pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres"}, nil)
		if err != nil {
			return "", err
		}
		if exit == 0 {
			return h.ip(info)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("docker: %s not ready after %s", image, h.readyTimeout)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(h.poll):
		}
	}
}

func (h *dockerHost) ip(info docker.Container) (string, error) {
	if ip := info.Networks[h.network]; ip != "" {
		return ip, nil
	}
	if ip := info.Networks["bridge"]; ip != "" {
		return ip, nil
	}
	for _, n := range slices.Sorted(maps.Keys(info.Networks)) {
		if info.Networks[n] != "" {
			return info.Networks[n], nil
		}
	}
	return "", fmt.Errorf("docker: container %s has no IP address", info.Name)
}

// ownNetwork is the network of the container breakwater runs in, if it
// does: a container action's network, from which the default bridge
// cannot be reached.
func (h *dockerHost) ownNetwork(ctx context.Context) string {
	if _, err := os.Stat("/.dockerenv"); err != nil {
		return ""
	}
	self, err := os.Hostname()
	if err != nil {
		return ""
	}
	info, err := h.c.InspectContainer(ctx, self)
	if err != nil {
		return ""
	}
	if names := slices.Sorted(maps.Keys(info.Networks)); len(names) > 0 {
		return names[0]
	}
	return ""
}

func (h *dockerHost) stop(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if err := h.c.StopContainer(ctx, id, 60*time.Second); err != nil {
		return err
	}
	_, err := h.c.WaitContainer(ctx, id)
	return err
}

func dsnFor(ip string) string {
	return "postgres://postgres@" + ip + ":5432/postgres?sslmode=disable"
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
