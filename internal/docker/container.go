package docker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Output limits.
const (
	maxLogs       = 16 << 20
	maxExecOutput = 64 << 10
)

// execSettle bounds how long Exec waits, after the output stream ends,
// for the daemon to record the exit code: the two are not in step.
const execSettle = 10 * time.Second

// CreateVolume creates the named local volume. Creating a volume that
// exists succeeds and keeps its labels.
func (c *Client) CreateVolume(ctx context.Context, name string, labels map[string]string) error {
	body := struct {
		Name   string            `json:"Name"`
		Labels map[string]string `json:"Labels,omitempty"`
	}{name, labels}
	return c.doJSON(ctx, http.MethodPost, "/volumes/create", nil, body, nil, http.StatusCreated, http.StatusOK)
}

// RemoveVolume removes the named volume; one that does not exist is not an
// error. A volume still used by a container, even a stopped one, cannot be
// removed: remove the container first.
func (c *Client) RemoveVolume(ctx context.Context, name string) error {
	err := c.doJSON(ctx, http.MethodDelete, "/volumes/"+url.PathEscape(name), url.Values{"force": {"1"}},
		nil, nil, http.StatusNoContent, http.StatusOK)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// ContainerSpec is what CreateContainer makes a container from.
type ContainerSpec struct {
	Image   string
	Env     []string // KEY=value
	Cmd     []string // nil or empty: the image's default command
	User    string
	Labels  map[string]string
	Mounts  []Mount
	Network string // HostConfig.NetworkMode; "" is the daemon's default, bridge
}

// Mount mounts a named volume at Target.
type Mount struct{ Volume, Target string }

type createBody struct {
	Image      string            `json:"Image"`
	Env        []string          `json:"Env,omitempty"`
	Cmd        []string          `json:"Cmd,omitempty"`
	User       string            `json:"User,omitempty"`
	Labels     map[string]string `json:"Labels,omitempty"`
	HostConfig hostConfig        `json:"HostConfig"`
}

type hostConfig struct {
	Mounts      []mountBody `json:"Mounts,omitempty"`
	NetworkMode string      `json:"NetworkMode,omitempty"`
}

type mountBody struct {
	Type   string `json:"Type"`
	Source string `json:"Source"`
	Target string `json:"Target"`
}

// CreateContainer creates a container called name ("" lets the daemon pick
// one) and returns its ID. It does not pull: a missing image is a 404.
func (c *Client) CreateContainer(ctx context.Context, name string, spec ContainerSpec) (string, error) {
	body := createBody{
		Image:  spec.Image,
		Env:    spec.Env,
		Cmd:    spec.Cmd,
		User:   spec.User,
		Labels: spec.Labels,
		HostConfig: hostConfig{
			NetworkMode: spec.Network,
		},
	}
	for _, m := range spec.Mounts {
		body.HostConfig.Mounts = append(body.HostConfig.Mounts, mountBody{Type: "volume", Source: m.Volume, Target: m.Target})
	}
	var q url.Values
	if name != "" {
		q = url.Values{"name": {name}}
	}
	var out struct {
		ID string `json:"Id"`
	}
	if err := c.doJSON(ctx, http.MethodPost, "/containers/create", q, body, &out, http.StatusCreated, http.StatusOK); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("docker: POST /containers/create: the daemon returned no container ID")
	}
	return out.ID, nil
}

// StartContainer starts the container; one already running is left so.
func (c *Client) StartContainer(ctx context.Context, id string) error {
	return c.doJSON(ctx, http.MethodPost, containerPath(id, "start"), nil, nil, nil,
		http.StatusNoContent, http.StatusOK, http.StatusNotModified)
}

// StopContainer sends the container its stop signal and kills it after
// timeout, rounded up to whole seconds; one already stopped is left so.
func (c *Client) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	secs := max(0, int(math.Ceil(timeout.Seconds())))
	return c.doJSON(ctx, http.MethodPost, containerPath(id, "stop"), url.Values{"t": {strconv.Itoa(secs)}}, nil, nil,
		http.StatusNoContent, http.StatusOK, http.StatusNotModified)
}

// WaitContainer blocks until the container is not running and returns its
// exit code. It uses condition=not-running, which returns at once for a
// container that has already exited, where the default (next-exit) would
// wait for an exit that never comes.
func (c *Client) WaitContainer(ctx context.Context, id string) (int, error) {
	var out struct {
		StatusCode int `json:"StatusCode"`
		Error      *struct {
			Message string `json:"Message"`
		} `json:"Error"`
	}
	path := containerPath(id, "wait")
	if err := c.doJSON(ctx, http.MethodPost, path, url.Values{"condition": {"not-running"}}, nil, &out, http.StatusOK); err != nil {
		return -1, err
	}
	if out.Error != nil && out.Error.Message != "" {
		return -1, fmt.Errorf("docker: POST %s: %s", path, out.Error.Message)
	}
	return out.StatusCode, nil
}

// RemoveContainer removes the container, killing it if it runs, and the
// anonymous volumes it made: the postgres images declare a VOLUME, so each
// container would otherwise leave one behind. Named volumes are kept. A
// container that does not exist is not an error.
func (c *Client) RemoveContainer(ctx context.Context, id string) error {
	err := c.doJSON(ctx, http.MethodDelete, containerPath(id, ""), url.Values{"force": {"1"}, "v": {"1"}}, nil, nil,
		http.StatusNoContent, http.StatusOK)
	if IsNotFound(err) {
		return nil
	}
	return err
}

// Container is what InspectContainer reports.
type Container struct {
	ID       string
	Name     string // without the leading "/" the API puts on it
	Running  bool
	ExitCode int
	Error    string            // why the daemon could not run it, if it could not
	Networks map[string]string // network name → IP address ("" when stopped)
}

// InspectContainer reports the container's state and addresses.
func (c *Client) InspectContainer(ctx context.Context, id string) (Container, error) {
	var out struct {
		ID    string `json:"Id"`
		Name  string `json:"Name"`
		State struct {
			Running  bool   `json:"Running"`
			ExitCode int    `json:"ExitCode"`
			Error    string `json:"Error"`
		} `json:"State"`
		NetworkSettings struct {
			Networks map[string]struct {
				IPAddress string `json:"IPAddress"`
			} `json:"Networks"`
		} `json:"NetworkSettings"`
	}
	if err := c.doJSON(ctx, http.MethodGet, containerPath(id, "json"), nil, nil, &out, http.StatusOK); err != nil {
		return Container{}, err
	}
	ctr := Container{
		ID:       out.ID,
		Name:     strings.TrimPrefix(out.Name, "/"),
		Running:  out.State.Running,
		ExitCode: out.State.ExitCode,
		Error:    out.State.Error,
		Networks: make(map[string]string, len(out.NetworkSettings.Networks)),
	}
	for name, n := range out.NetworkSettings.Networks {
		ctr.Networks[name] = n.IPAddress
	}
	return ctr, nil
}

// Logs returns the last tail lines (all when tail <= 0) of the container's
// stdout and stderr, interleaved. Past 16 MiB the rest is cut and a line
// at the end says so.
func (c *Client) Logs(ctx context.Context, id string, tail int) (string, error) {
	t := "all"
	if tail > 0 {
		t = strconv.Itoa(tail)
	}
	path := containerPath(id, "logs")
	resp, err := c.do(ctx, http.MethodGet, path, url.Values{"stdout": {"1"}, "stderr": {"1"}, "tail": {t}}, nil, http.StatusOK)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	w := &capWriter{max: maxLogs}
	err = demux(w, resp.Body, resp.Header.Get("Content-Type"))
	switch {
	case errors.Is(err, errFull):
		return w.buf.String() + fmt.Sprintf("\n[docker: logs cut at %d bytes]\n", maxLogs), nil
	case err != nil:
		return w.buf.String(), fmt.Errorf("docker: GET %s: %w", path, err)
	}
	return w.buf.String(), nil
}

// Exec runs cmd in the running container, with env added to its
// environment, and returns the exit code and the output (stdout and stderr
// interleaved; only the last 64 KiB, after a line saying how much was
// dropped). exitCode is -1 when err is not nil.
func (c *Client) Exec(ctx context.Context, id string, cmd []string, env []string) (exitCode int, output string, err error) {
	create := struct {
		AttachStdout bool     `json:"AttachStdout"`
		AttachStderr bool     `json:"AttachStderr"`
		Cmd          []string `json:"Cmd"`
		Env          []string `json:"Env,omitempty"`
	}{true, true, cmd, env}
	var created struct {
		ID string `json:"Id"`
	}
	if err := c.doJSON(ctx, http.MethodPost, containerPath(id, "exec"), nil, create, &created, http.StatusCreated, http.StatusOK); err != nil {
		return -1, "", err
	}
	if created.ID == "" {
		return -1, "", fmt.Errorf("docker: POST %s: the daemon returned no exec ID", containerPath(id, "exec"))
	}
	start := struct {
		Detach bool `json:"Detach"`
		Tty    bool `json:"Tty"`
	}{false, false}
	path := "/exec/" + url.PathEscape(created.ID) + "/start"
	resp, err := c.do(ctx, http.MethodPost, path, nil, start, http.StatusOK)
	if err != nil {
		return -1, "", err
	}
	out := &tailWriter{max: maxExecOutput}
	err = demux(out, resp.Body, resp.Header.Get("Content-Type"))
	_ = resp.Body.Close()
	if err != nil {
		return -1, out.String(), fmt.Errorf("docker: POST %s: %w", path, err)
	}
	code, err := c.execExitCode(ctx, created.ID)
	return code, out.String(), err
}

// execExitCode polls the exec until the daemon has recorded its exit,
// which can lag the end of the output stream by a few milliseconds.
func (c *Client) execExitCode(ctx context.Context, execID string) (int, error) {
	path := "/exec/" + url.PathEscape(execID) + "/json"
	deadline := time.Now().Add(execSettle)
	delay := 5 * time.Millisecond
	for {
		var st struct {
			Running  bool `json:"Running"`
			ExitCode *int `json:"ExitCode"`
		}
		if err := c.doJSON(ctx, http.MethodGet, path, nil, nil, &st, http.StatusOK); err != nil {
			return -1, err
		}
		if !st.Running && st.ExitCode != nil {
			return *st.ExitCode, nil
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("docker: GET %s: no exit code %s after the output ended", path, execSettle)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return -1, fmt.Errorf("docker: GET %s: %w", path, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 200*time.Millisecond)
	}
}

func containerPath(id, op string) string {
	p := "/containers/" + url.PathEscape(id)
	if op != "" {
		p += "/" + op
	}
	return p
}
