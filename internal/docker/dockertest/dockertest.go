// Package dockertest is a fake Docker Engine for tests: an httptest server
// that speaks the calls package docker makes, keeps containers and volumes
// in memory and records one readable line per request.
//
// It is stricter than a real daemon where that catches ordering bugs: a
// container cannot mount a volume that was not created first (dockerd
// would create it silently), and a volume used by any container, running
// or not, cannot be removed.
package dockertest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/docker"
)

// APIVersion is what the fake's /_ping reports.
const APIVersion = "1.47"

// DefaultIP is the address of a running container on its network until
// SetIP changes it.
const DefaultIP = "172.17.0.2"

// Container is a container the fake holds.
type Container struct {
	ID, Name, Image string
	Env, Cmd        []string
	User            string
	Labels          map[string]string
	Mounts          []docker.Mount
	Network         string // "" for the default, bridge
	Running         bool
	ExitCode        int
	Logs            string
}

func (c Container) clone() Container {
	c.Env, c.Cmd = slices.Clone(c.Env), slices.Clone(c.Cmd)
	c.Labels = maps.Clone(c.Labels)
	c.Mounts = slices.Clone(c.Mounts)
	return c
}

type container struct {
	Container
	exited chan struct{} // closed when it stops; remade at each start
}

type execState struct {
	id, container string
	cmd           []string
	started       bool
	exitCode      int
}

// Engine is the fake daemon. Its methods are safe for concurrent use.
type Engine struct {
	t    testing.TB
	srv  *httptest.Server
	done chan struct{} // closed at cleanup, so blocked waits let the server close

	mu         sync.Mutex
	calls      []string
	containers []*container // in creation order
	volumes    map[string]map[string]string
	missing    map[string]bool
	failStart  map[string]string
	onExec     func(Container, []string) (int, string)
	ip         string
	execs      map[string]*execState
	nc, ne     int
}

// NewEngine starts a fake daemon that lives until the test ends.
func NewEngine(t testing.TB) *Engine {
	t.Helper()
	e := &Engine{
		t:         t,
		done:      make(chan struct{}),
		volumes:   map[string]map[string]string{},
		missing:   map[string]bool{},
		failStart: map[string]string{},
		ip:        DefaultIP,
		execs:     map[string]*execState{},
	}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(func() {
		close(e.done)
		e.srv.Close()
	})
	return e
}

// Client returns a client of the fake.
func (e *Engine) Client() *docker.Client { return docker.NewURL(e.srv.URL, e.srv.Client()) }

// Calls returns one line per request so far, such as "POST /containers/c1/start",
// without the API version prefix or the query.
func (e *Engine) Calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.calls)
}

// OnExec sets what an exec does: f gets the container and the command and
// returns the exit code and output. The default exits 0 with no output.
func (e *Engine) OnExec(f func(container Container, cmd []string) (exit int, output string)) {
	e.mu.Lock()
	e.onExec = f
	e.mu.Unlock()
}

// FailStart makes containers of image exit with code 1 as soon as they
// start, leaving logs as their logs. Start itself succeeds, as with a
// real daemon whose entrypoint fails.
func (e *Engine) FailStart(image string, logs string) {
	e.mu.Lock()
	e.failStart[normalize(image)] = logs
	e.mu.Unlock()
}

// SetIP sets the address every running container reports on its network
// (bridge unless the container names another).
func (e *Engine) SetIP(ip string) {
	e.mu.Lock()
	e.ip = ip
	e.mu.Unlock()
}

// MissingImage makes ref absent until it is pulled. Every other image is
// present. References compare as written, with ":latest" added to one
// without a tag or digest.
func (e *Engine) MissingImage(ref string) {
	e.mu.Lock()
	e.missing[normalize(ref)] = true
	e.mu.Unlock()
}

// Containers returns the containers that exist, in creation order.
func (e *Engine) Containers() []Container {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Container, 0, len(e.containers))
	for _, c := range e.containers {
		out = append(out, c.clone())
	}
	return out
}

// Volumes returns the names of the volumes that exist, sorted.
func (e *Engine) Volumes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(maps.Keys(e.volumes))
}

var versionPrefix = regexp.MustCompile(`^/v[0-9]+\.[0-9]+/`)

func (e *Engine) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if loc := versionPrefix.FindStringIndex(path); loc != nil {
		path = path[loc[1]-1:]
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	n := len(parts)
	call := r.Method + " " + path
	route := func(method string, segs ...string) bool {
		if r.Method != method || n != len(segs) {
			return false
		}
		for i, s := range segs {
			if s != "*" && s != parts[i] {
				return false
			}
		}
		return true
	}
	switch {
	case route("GET", "_ping"):
		e.record(call)
		w.Header().Set("Api-Version", APIVersion)
		_, _ = w.Write([]byte("OK"))
	case r.Method == "GET" && n >= 3 && parts[0] == "images" && parts[n-1] == "json":
		e.record(call)
		e.imageInspect(w, strings.Join(parts[1:n-1], "/"))
	case route("POST", "images", "create"):
		e.pull(w, r, call)
	case route("POST", "volumes", "create"):
		e.volumeCreate(w, r, call)
	case route("DELETE", "volumes", "*"):
		e.record(call)
		e.volumeRemove(w, parts[1])
	case route("POST", "containers", "create"):
		e.containerCreate(w, r, call)
	case route("POST", "containers", "*", "start"):
		e.record(call)
		e.start(w, parts[1])
	case route("POST", "containers", "*", "stop"):
		e.record(call)
		e.stop(w, parts[1])
	case route("POST", "containers", "*", "wait"):
		e.record(call)
		e.wait(w, r, parts[1])
	case route("GET", "containers", "*", "json"):
		e.record(call)
		e.inspect(w, parts[1])
	case route("GET", "containers", "*", "logs"):
		e.record(call)
		e.logs(w, r, parts[1])
	case route("DELETE", "containers", "*"):
		e.record(call)
		e.remove(w, r, parts[1])
	case route("POST", "containers", "*", "exec"):
		e.execCreate(w, r, call, parts[1])
	case route("POST", "exec", "*", "start"):
		e.record(call)
		e.execStart(w, r, parts[1])
	case route("GET", "exec", "*", "json"):
		e.record(call)
		e.execInspect(w, parts[1])
	default:
		e.record(call)
		e.t.Errorf("dockertest: unexpected request %s %s", r.Method, r.URL.Path)
		apiError(w, http.StatusNotFound, "dockertest: no such endpoint: %s %s", r.Method, path)
	}
}

func (e *Engine) record(call string) {
	e.mu.Lock()
	e.calls = append(e.calls, call)
	e.mu.Unlock()
}

func (e *Engine) imageInspect(w http.ResponseWriter, ref string) {
	e.mu.Lock()
	missing := e.missing[normalize(ref)]
	e.mu.Unlock()
	if missing {
		apiError(w, http.StatusNotFound, "No such image: %s", ref)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"Id": "sha256:" + strings.Repeat("0", 64), "RepoTags": []string{ref}})
}

func (e *Engine) pull(w http.ResponseWriter, r *http.Request, call string) {
	repo, tag := r.URL.Query().Get("fromImage"), r.URL.Query().Get("tag")
	ref := repo + ":" + tag
	if strings.Contains(tag, ":") { // a digest
		ref = repo + "@" + tag
	}
	e.record(call + " image=" + ref)
	e.mu.Lock()
	delete(e.missing, normalize(ref))
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	_ = enc.Encode(map[string]string{"status": "Pulling from " + repo, "id": tag})
	_ = enc.Encode(map[string]string{"status": "Status: Downloaded newer image for " + ref})
}

func (e *Engine) volumeCreate(w http.ResponseWriter, r *http.Request, call string) {
	var body struct {
		Name   string
		Labels map[string]string
	}
	if !readJSON(w, r, &body) {
		e.record(call)
		return
	}
	e.record(call + " name=" + body.Name)
	if body.Name == "" {
		apiError(w, http.StatusBadRequest, "dockertest: a volume needs a name")
		return
	}
	e.mu.Lock()
	labels, ok := e.volumes[body.Name]
	if !ok {
		labels = maps.Clone(body.Labels)
		e.volumes[body.Name] = labels
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"Name": body.Name, "Driver": "local", "Labels": labels})
}

func (e *Engine) volumeRemove(w http.ResponseWriter, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.volumes[name]; !ok {
		apiError(w, http.StatusNotFound, "get %s: no such volume", name)
		return
	}
	var users []string
	for _, c := range e.containers {
		for _, m := range c.Mounts {
			if m.Volume == name {
				users = append(users, c.ID)
			}
		}
	}
	if len(users) > 0 {
		apiError(w, http.StatusConflict, "remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))
		return
	}
	delete(e.volumes, name)
	w.WriteHeader(http.StatusNoContent)
}

func (e *Engine) containerCreate(w http.ResponseWriter, r *http.Request, call string) {
	var body struct {
		Image      string
		Env        []string
		Cmd        []string
		User       string
		Labels     map[string]string
		HostConfig struct {
			Mounts []struct {
				Type, Source, Target string
			}
			NetworkMode string
		}
	}
	name := r.URL.Query().Get("name")
	if !readJSON(w, r, &body) {
		e.record(call)
		return
	}
	c := Container{Name: name, Image: body.Image, Env: body.Env, Cmd: body.Cmd, User: body.User,
		Labels: body.Labels, Network: body.HostConfig.NetworkMode}
	var mounts []string
	for _, m := range body.HostConfig.Mounts {
		c.Mounts = append(c.Mounts, docker.Mount{Volume: m.Source, Target: m.Target})
		mounts = append(mounts, m.Source+":"+m.Target)
	}
	line := call
	for _, kv := range [][2]string{
		{"name", name}, {"image", body.Image}, {"mounts", strings.Join(mounts, ",")},
		{"network", c.Network}, {"cmd", strings.Join(c.Cmd, " ")},
	} {
		if kv[1] != "" {
			line += " " + kv[0] + "=" + kv[1]
		}
	}
	e.record(line)

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range body.HostConfig.Mounts {
		if m.Type != "volume" {
			apiError(w, http.StatusBadRequest, "dockertest: mount type %q: only volume mounts are faked", m.Type)
			return
		}
		if _, ok := e.volumes[m.Source]; !ok {
			apiError(w, http.StatusNotFound, "dockertest: no such volume: %s (create it before the container that mounts it)", m.Source)
			return
		}
	}
	if body.Image == "" {
		apiError(w, http.StatusBadRequest, "config cannot be empty in order to create a container")
		return
	}
	if e.missing[normalize(body.Image)] {
		apiError(w, http.StatusNotFound, "No such image: %s", body.Image)
		return
	}
	if name != "" {
		for _, o := range e.containers {
			if o.Name == name {
				apiError(w, http.StatusConflict, "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", name, o.ID)
				return
			}
		}
	}
	e.nc++
	c.ID = fmt.Sprintf("c%d", e.nc)
	if c.Name == "" {
		c.Name = "fake_" + c.ID
	}
	ctr := &container{Container: c, exited: make(chan struct{})}
	close(ctr.exited) // created, not running
	e.containers = append(e.containers, ctr)
	writeJSON(w, http.StatusCreated, map[string]any{"Id": c.ID, "Warnings": []string{}})
}

// lookup finds a container by ID or name, as the daemon does. e.mu is held.
func (e *Engine) lookup(w http.ResponseWriter, ref string) *container {
	for _, c := range e.containers {
		if c.ID == ref || c.Name == ref {
			return c
		}
	}
	apiError(w, http.StatusNotFound, "No such container: %s", ref)
	return nil
}

func (e *Engine) start(w http.ResponseWriter, ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(w, ref)
	if c == nil {
		return
	}
	if c.Running {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if logs, fail := e.failStart[normalize(c.Image)]; fail {
		c.ExitCode, c.Logs = 1, logs
		w.WriteHeader(http.StatusNoContent)
		return
	}
	c.Running, c.ExitCode = true, 0
	c.exited = make(chan struct{})
	w.WriteHeader(http.StatusNoContent)
}

// halt stops a running container. e.mu is held.
func (c *container) halt() {
	if c.Running {
		c.Running, c.ExitCode = false, 0
		close(c.exited)
	}
}

func (e *Engine) stop(w http.ResponseWriter, ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(w, ref)
	if c == nil {
		return
	}
	if !c.Running {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	c.halt()
	w.WriteHeader(http.StatusNoContent)
}

func (e *Engine) wait(w http.ResponseWriter, r *http.Request, ref string) {
	e.mu.Lock()
	c := e.lookup(w, ref)
	if c == nil {
		e.mu.Unlock()
		return
	}
	exited := c.exited
	e.mu.Unlock()
	select {
	case <-exited:
	case <-r.Context().Done():
		return
	case <-e.done:
		apiError(w, http.StatusServiceUnavailable, "dockertest: engine shut down during wait")
		return
	}
	e.mu.Lock()
	code := c.ExitCode
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"StatusCode": code, "Error": nil})
}

func (e *Engine) inspect(w http.ResponseWriter, ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(w, ref)
	if c == nil {
		return
	}
	network := c.Network
	if network == "" {
		network = "bridge"
	}
	ip := ""
	if c.Running && network != "host" && network != "none" {
		ip = e.ip
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"Id":     c.ID,
		"Name":   "/" + c.Name,
		"Config": map[string]any{"Image": c.Image, "Env": c.Env, "Labels": c.Labels},
		"State":  map[string]any{"Running": c.Running, "ExitCode": c.ExitCode, "Error": ""},
		"NetworkSettings": map[string]any{
			"Networks": map[string]any{network: map[string]any{"IPAddress": ip}},
		},
	})
}

func (e *Engine) logs(w http.ResponseWriter, r *http.Request, ref string) {
	e.mu.Lock()
	c := e.lookup(w, ref)
	if c == nil {
		e.mu.Unlock()
		return
	}
	logs := c.Logs
	e.mu.Unlock()
	lines := strings.SplitAfter(logs, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var tail int
	if _, err := fmt.Sscan(r.URL.Query().Get("tail"), &tail); err == nil && tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	for _, l := range lines {
		writeFrame(w, 1, l)
	}
}

func (e *Engine) remove(w http.ResponseWriter, r *http.Request, ref string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(w, ref)
	if c == nil {
		return
	}
	if c.Running && r.URL.Query().Get("force") != "1" {
		apiError(w, http.StatusConflict, "cannot remove container \"/%s\": container is running: stop the container before removing or force remove", c.Name)
		return
	}
	c.halt()
	e.containers = slices.DeleteFunc(e.containers, func(o *container) bool { return o == c })
	w.WriteHeader(http.StatusNoContent)
}

func (e *Engine) execCreate(w http.ResponseWriter, r *http.Request, call, ref string) {
	var body struct {
		AttachStdout, AttachStderr bool
		Cmd                        []string
		Env                        []string
	}
	if !readJSON(w, r, &body) {
		e.record(call)
		return
	}
	e.record(call + " cmd=" + strings.Join(body.Cmd, " "))
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(w, ref)
	if c == nil {
		return
	}
	if !c.Running {
		apiError(w, http.StatusConflict, "container %s is not running", c.ID)
		return
	}
	if len(body.Cmd) == 0 {
		apiError(w, http.StatusBadRequest, "No exec command specified")
		return
	}
	e.ne++
	x := &execState{id: fmt.Sprintf("e%d", e.ne), container: c.ID, cmd: body.Cmd}
	e.execs[x.id] = x
	writeJSON(w, http.StatusCreated, map[string]string{"Id": x.id})
}

func (e *Engine) execStart(w http.ResponseWriter, r *http.Request, id string) {
	var body struct{ Detach, Tty bool }
	if !readJSON(w, r, &body) {
		return
	}
	e.mu.Lock()
	x, ok := e.execs[id]
	if !ok {
		e.mu.Unlock()
		apiError(w, http.StatusNotFound, "No such exec instance: %s", id)
		return
	}
	if x.started {
		e.mu.Unlock()
		apiError(w, http.StatusConflict, "Error: Exec command %s has already run", id)
		return
	}
	x.started = true
	var ctr Container
	for _, c := range e.containers {
		if c.ID == x.container {
			ctr = c.clone()
		}
	}
	hook := e.onExec
	e.mu.Unlock()

	code, out := 0, ""
	if hook != nil {
		code, out = hook(ctr, slices.Clone(x.cmd)) // outside the lock: the hook may call the Engine
	}
	e.mu.Lock()
	x.exitCode = code
	e.mu.Unlock()
	// The label a real daemon sends when the client does not ask to upgrade
	// the connection, though the stream is multiplexed.
	w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	if out != "" {
		writeFrame(w, 1, out)
	}
}

func (e *Engine) execInspect(w http.ResponseWriter, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[id]
	if !ok {
		apiError(w, http.StatusNotFound, "No such exec instance: %s", id)
		return
	}
	var code any // null until it has run, as with dockerd
	if x.started {
		code = x.exitCode
	}
	writeJSON(w, http.StatusOK, map[string]any{"ID": x.id, "ContainerID": x.container, "Running": false, "ExitCode": code})
}

// readJSON decodes a request body, insisting on the Content-Type dockerd
// insists on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		apiError(w, http.StatusBadRequest, "unsupported Content-Type header (%s): must be 'application/json'", r.Header.Get("Content-Type"))
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		apiError(w, http.StatusBadRequest, "invalid JSON: %v", err)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"message": fmt.Sprintf(format, args...)})
}

func writeFrame(w http.ResponseWriter, stream byte, payload string) {
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	_, _ = w.Write(hdr[:])
	_, _ = w.Write([]byte(payload))
}

// normalize adds the tag docker assumes for a reference with neither a tag
// nor a digest.
func normalize(ref string) string {
	if strings.Contains(ref, "@") {
		return ref
	}
	if strings.LastIndexByte(ref, ':') > strings.LastIndexByte(ref, '/') {
		return ref
	}
	return ref + ":latest"
}
