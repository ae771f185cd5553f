package docker_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/docker"
)

// request is what a hand-written handler saw of one request.
type request struct {
	Method, Path string // Path escaped, as on the wire
	Query        string
	ContentType  string
	Body         string
}

// wire is a hand-written Engine API: the test's handler answers, and every
// request is kept for asserting the exact wire format.
type wire struct {
	mu   sync.Mutex
	reqs []request
}

func newWire(t *testing.T, h http.HandlerFunc) (*docker.Client, *wire) {
	t.Helper()
	wr := &wire{}
	srv := httptest.NewServer(wr.wrap(h))
	t.Cleanup(srv.Close)
	return docker.NewURL(srv.URL, srv.Client()), wr
}

func (wr *wire) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		wr.mu.Lock()
		wr.reqs = append(wr.reqs, request{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)})
		wr.mu.Unlock()
		h(w, r)
	}
}

func (wr *wire) requests() []request {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	return append([]request(nil), wr.reqs...)
}

// last is the last request other than the ping.
func (wr *wire) last(t *testing.T) request {
	t.Helper()
	reqs := wr.requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path != "/_ping" {
			return reqs[i]
		}
	}
	t.Fatal("no request")
	return request{}
}

// pingOr answers /_ping with version (none when ""), and anything else
// with h.
func pingOr(version string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			if version != "" {
				w.Header().Set("Api-Version", version)
			}
			_, _ = io.WriteString(w, "OK")
			return
		}
		h(w, r)
	}
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func frame(stream byte, payload string) string {
	var hdr [8]byte
	hdr[0] = stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(payload)))
	return string(hdr[:]) + payload
}

func TestCreateContainerWire(t *testing.T) {
	tests := []struct {
		name      string
		container string
		spec      docker.ContainerSpec
		wantQuery string
		wantBody  string
	}{
		{
			name:      "everything",
			container: "bw-pg15",
			spec: docker.ContainerSpec{
				Image:  "postgres:15",
				Env:    []string{"POSTGRES_PASSWORD=rehearsal", "PGDATA=/var/lib/postgresql/breakwater/data"},
				Cmd:    []string{"postgres", "-c", "fsync=off"},
				User:   "postgres",
				Labels: map[string]string{"breakwater.rehearsal": "r1"},
				Mounts: []docker.Mount{
					{Volume: "bw-x", Target: "/var/lib/postgresql/breakwater"},
					{Volume: "bw-y", Target: "/backup"},
				},
				Network: "bw-net",
			},
			wantQuery: "name=bw-pg15",
			wantBody: `{
				"Image": "postgres:15",
				"Env": ["POSTGRES_PASSWORD=rehearsal", "PGDATA=/var/lib/postgresql/breakwater/data"],
				"Cmd": ["postgres", "-c", "fsync=off"],
				"User": "postgres",
				"Labels": {"breakwater.rehearsal": "r1"},
				"HostConfig": {
					"Mounts": [
						{"Type": "volume", "Source": "bw-x", "Target": "/var/lib/postgresql/breakwater"},
						{"Type": "volume", "Source": "bw-y", "Target": "/backup"}
					],
					"NetworkMode": "bw-net"
				}
			}`,
		},
		{
			// No Cmd key at all: "Cmd": null or [] would not mean the image's
			// default on every daemon version.
			name:      "image defaults",
			spec:      docker.ContainerSpec{Image: "postgres:15"},
			wantQuery: "",
			wantBody:  `{"Image": "postgres:15", "HostConfig": {}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, pingOr("1.47", reply(http.StatusCreated, `{"Id":"4f2a","Warnings":[]}`)))
			ctx := context.Background()
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			id, err := c.CreateContainer(ctx, tt.container, tt.spec)
			if err != nil || id != "4f2a" {
				t.Fatalf("CreateContainer = %q, %v", id, err)
			}
			got := wr.last(t)
			if got.Method != "POST" || got.Path != "/v1.47/containers/create" || got.Query != tt.wantQuery {
				t.Errorf("request %s %s?%s, want POST /v1.47/containers/create?%s", got.Method, got.Path, got.Query, tt.wantQuery)
			}
			if got.ContentType != "application/json" {
				t.Errorf("Content-Type %q", got.ContentType)
			}
			sameJSON(t, got.Body, tt.wantBody)
		})
	}
}

func TestCreateVolumeWire(t *testing.T) {
	tests := []struct {
		name     string
		labels   map[string]string
		wantBody string
	}{
		{"labels", map[string]string{"breakwater": "r1"}, `{"Name":"bw-x","Labels":{"breakwater":"r1"}}`},
		{"no labels", nil, `{"Name":"bw-x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, reply(http.StatusCreated, `{"Name":"bw-x","Driver":"local"}`))
			if err := c.CreateVolume(context.Background(), "bw-x", tt.labels); err != nil {
				t.Fatal(err)
			}
			got := wr.last(t)
			if got.Method != "POST" || got.Path != "/volumes/create" || got.ContentType != "application/json" {
				t.Errorf("request %+v", got)
			}
			sameJSON(t, got.Body, tt.wantBody)
		})
	}
}

func TestVersionNegotiation(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		noPing   bool
		wantPath string
		wantErr  string
	}{
		{name: "daemon's version", header: "1.45", wantPath: "/v1.45/containers/bw/start"},
		{name: "the cap itself", header: "1.47", wantPath: "/v1.47/containers/bw/start"},
		{name: "newer daemon is capped", header: "1.51", wantPath: "/v1.47/containers/bw/start"},
		{name: "newer major is capped", header: "2.3", wantPath: "/v1.47/containers/bw/start"},
		{name: "oldest accepted", header: "1.30", wantPath: "/v1.30/containers/bw/start"},
		{name: "no header", header: "", wantPath: "/containers/bw/start"},
		{name: "no ping", noPing: true, wantPath: "/containers/bw/start"},
		{name: "too old", header: "1.29", wantErr: "speaks API 1.29; breakwater needs 1.30 or later"},
		{name: "not a version", header: "latest", wantErr: `reports API version "latest"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, pingOr(tt.header, reply(http.StatusNoContent, "")))
			ctx := context.Background()
			if !tt.noPing {
				err := c.Ping(ctx)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("Ping error %v, want one containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := c.StartContainer(ctx, "bw"); err != nil {
				t.Fatal(err)
			}
			// A second ping stays unversioned: it is how the version is found.
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			reqs := wr.requests()
			if got := reqs[len(reqs)-1].Path; got != "/_ping" {
				t.Errorf("ping sent to %s", got)
			}
			if got := wr.last(t).Path; got != tt.wantPath {
				t.Errorf("start sent to %s, want %s", got, tt.wantPath)
			}
		})
	}
}

func TestAPIError(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		wantMessage  string
		wantError    string
		wantNotFound bool
	}{
		{
			name:        "JSON message",
			status:      http.StatusConflict,
			body:        `{"message":"Conflict. The container name \"/bw\" is already in use by container \"4f2a\"."}`,
			wantMessage: `Conflict. The container name "/bw" is already in use by container "4f2a".`,
			wantError:   `docker: POST /containers/create: 409 Conflict: Conflict. The container name "/bw" is already in use by container "4f2a".`,
		},
		{
			name:         "not found",
			status:       http.StatusNotFound,
			body:         `{"message":"No such image: postgres:99"}`,
			wantMessage:  "No such image: postgres:99",
			wantError:    "docker: POST /containers/create: 404 Not Found: No such image: postgres:99",
			wantNotFound: true,
		},
		{
			name:        "plain text body",
			status:      http.StatusInternalServerError,
			body:        "boom\n",
			wantMessage: "boom",
			wantError:   "docker: POST /containers/create: 500 Internal Server Error: boom",
		},
		{
			name:        "JSON without message",
			status:      http.StatusBadRequest,
			body:        `{"error":"x"}`,
			wantMessage: `{"error":"x"}`,
			wantError:   `docker: POST /containers/create: 400 Bad Request: {"error":"x"}`,
		},
		{
			name:      "empty body",
			status:    http.StatusServiceUnavailable,
			wantError: "docker: POST /containers/create: 503 Service Unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newWire(t, reply(tt.status, tt.body))
			_, err := c.CreateContainer(context.Background(), "bw", docker.ContainerSpec{Image: "postgres:15"})
			var ae *docker.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			want := docker.APIError{Method: "POST", Path: "/containers/create", Status: tt.status, Message: tt.wantMessage}
			if *ae != want {
				t.Errorf("APIError %+v, want %+v", *ae, want)
			}
			if err.Error() != tt.wantError {
				t.Errorf("Error()\n got %s\nwant %s", err, tt.wantError)
			}
			if got := docker.IsNotFound(fmt.Errorf("rehearsal: %w", err)); got != tt.wantNotFound {
				t.Errorf("IsNotFound(wrapped) = %v", got)
			}
		})
	}
	if docker.IsNotFound(nil) || docker.IsNotFound(errors.New("404 not found")) {
		t.Error("IsNotFound is true of an error that is no APIError")
	}
}

// TestTolerated covers the answers that mean "already so", which are not
// errors, next to the ones that are.
func TestTolerated(t *testing.T) {
	ctx := context.Background()
	notFound := `{"message":"No such container: bw"}`
	tests := []struct {
		name         string
		status       int
		body         string
		call         func(*docker.Client) error
		wantReq      string // method, escaped path and query
		wantNotFound bool
	}{
		{"start running", http.StatusNotModified, "", func(c *docker.Client) error { return c.StartContainer(ctx, "bw") },
			"POST /containers/bw/start", false},
		{"start missing", http.StatusNotFound, notFound, func(c *docker.Client) error { return c.StartContainer(ctx, "bw") },
			"POST /containers/bw/start", true},
		{"stop stopped", http.StatusNotModified, "", func(c *docker.Client) error { return c.StopContainer(ctx, "bw", 10*time.Second) },
			"POST /containers/bw/stop?t=10", false},
		{"stop rounds up", http.StatusNoContent, "", func(c *docker.Client) error { return c.StopContainer(ctx, "bw", 1500*time.Millisecond) },
			"POST /containers/bw/stop?t=2", false},
		{"stop at once", http.StatusNoContent, "", func(c *docker.Client) error { return c.StopContainer(ctx, "bw", -time.Second) },
			"POST /containers/bw/stop?t=0", false},
		{"stop missing", http.StatusNotFound, notFound, func(c *docker.Client) error { return c.StopContainer(ctx, "bw", 0) },
			"POST /containers/bw/stop?t=0", true},
		{"remove container", http.StatusNoContent, "", func(c *docker.Client) error { return c.RemoveContainer(ctx, "bw") },
			"DELETE /containers/bw?force=1&v=1", false},
		{"remove gone container", http.StatusNotFound, notFound, func(c *docker.Client) error { return c.RemoveContainer(ctx, "bw") },
			"DELETE /containers/bw?force=1&v=1", false},
		{"remove volume", http.StatusNoContent, "", func(c *docker.Client) error { return c.RemoveVolume(ctx, "bw-x") },
			"DELETE /volumes/bw-x?force=1", false},
		{"remove gone volume", http.StatusNotFound, `{"message":"get bw-x: no such volume"}`, func(c *docker.Client) error { return c.RemoveVolume(ctx, "bw-x") },
			"DELETE /volumes/bw-x?force=1", false},
		{"inspect missing", http.StatusNotFound, notFound, func(c *docker.Client) error { _, err := c.InspectContainer(ctx, "bw"); return err },
			"GET /containers/bw/json", true},
		{"escaped id", http.StatusNoContent, "", func(c *docker.Client) error { return c.StartContainer(ctx, "a b?") },
			"POST /containers/a%20b%3F/start", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, reply(tt.status, tt.body))
			err := tt.call(c)
			switch {
			case tt.wantNotFound && !docker.IsNotFound(err):
				t.Errorf("error %v, want a 404 APIError", err)
			case !tt.wantNotFound && err != nil:
				t.Errorf("error %v", err)
			}
			got := wr.last(t)
			line := got.Method + " " + got.Path
			if got.Query != "" {
				line += "?" + got.Query
			}
			if line != tt.wantReq {
				t.Errorf("request %s, want %s", line, tt.wantReq)
			}
		})
	}
}

func TestImagePresent(t *testing.T) {
	tests := []struct {
		ref, wantPath string
		status        int
		want          bool
	}{
		{"postgres:15", "/images/postgres:15/json", http.StatusOK, true},
		{"postgres:99", "/images/postgres:99/json", http.StatusNotFound, false},
		{"localhost:5000/team/pg:15", "/images/localhost:5000/team/pg:15/json", http.StatusOK, true},
		{"postgres@sha256:0123abcd", "/images/postgres@sha256:0123abcd/json", http.StatusOK, true},
		{"odd name?", "/images/odd%20name%3F/json", http.StatusOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			c, wr := newWire(t, reply(tt.status, `{"message":"No such image"}`))
			got, err := c.ImagePresent(context.Background(), tt.ref)
			if err != nil || got != tt.want {
				t.Errorf("ImagePresent = %v, %v; want %v", got, err, tt.want)
			}
			if p := wr.last(t).Path; p != tt.wantPath {
				t.Errorf("path %s, want %s", p, tt.wantPath)
			}
		})
	}
	c, _ := newWire(t, reply(http.StatusInternalServerError, `{"message":"storage driver failed"}`))
	if _, err := c.ImagePresent(context.Background(), "postgres:15"); err == nil || !strings.Contains(err.Error(), "storage driver failed") {
		t.Errorf("a 500 gives %v", err)
	}
}

func TestPullImage(t *testing.T) {
	tests := []struct {
		name      string
		ref       string
		status    int
		lines     []string
		wantQuery string
		wantErr   string
	}{
		{
			name:   "pulled",
			ref:    "postgres:15",
			status: http.StatusOK,
			lines: []string{
				`{"status":"Pulling from library/postgres","id":"15"}`,
				`{"status":"Downloading","progressDetail":{"current":1024,"total":4096},"id":"a1b2"}`,
				``,
				`{"status":"Status: Downloaded newer image for postgres:15"}`,
			},
			wantQuery: "fromImage=postgres&tag=15",
		},
		{
			name:   "error line",
			ref:    "postgres:99",
			status: http.StatusOK,
			lines: []string{
				`{"status":"Pulling from library/postgres","id":"99"}`,
				`{"errorDetail":{"message":"manifest for postgres:99 not found: manifest unknown"},"error":"manifest for postgres:99 not found"}`,
				`{"status":"never read"}`,
			},
			wantQuery: "fromImage=postgres&tag=99",
			wantErr:   "docker: pull postgres:99: manifest for postgres:99 not found: manifest unknown",
		},
		{
			name:      "error without detail",
			ref:       "postgres",
			status:    http.StatusOK,
			lines:     []string{`{"error":"toomanyrequests: You have reached your pull rate limit."}`},
			wantQuery: "fromImage=postgres&tag=latest",
			wantErr:   "docker: pull postgres: toomanyrequests: You have reached your pull rate limit.",
		},
		{
			name:      "registry port and digest",
			ref:       "localhost:5000/pg:15@sha256:0123abcd",
			status:    http.StatusOK,
			lines:     []string{`{"status":"Digest: sha256:0123abcd"}`},
			wantQuery: "fromImage=localhost%3A5000%2Fpg&tag=sha256%3A0123abcd",
		},
		{
			name:      "refused before streaming",
			ref:       "nosuch/image:1",
			status:    http.StatusNotFound,
			lines:     []string{`{"message":"pull access denied for nosuch/image, repository does not exist"}`},
			wantQuery: "fromImage=nosuch%2Fimage&tag=1",
			wantErr:   "docker: POST /images/create: 404 Not Found: pull access denied for nosuch/image",
		},
		{
			name:      "unreadable line",
			ref:       "postgres:15",
			status:    http.StatusOK,
			lines:     []string{`<html>proxy error</html>`},
			wantQuery: "fromImage=postgres&tag=15",
			wantErr:   "unreadable progress line",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				for _, l := range tt.lines {
					_, _ = io.WriteString(w, l+"\r\n")
					w.(http.Flusher).Flush()
				}
			})
			err := c.PullImage(context.Background(), tt.ref)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
			got := wr.last(t)
			if got.Method != "POST" || got.Path != "/images/create" || got.Query != tt.wantQuery {
				t.Errorf("request %s %s?%s, want POST /images/create?%s", got.Method, got.Path, got.Query, tt.wantQuery)
			}
		})
	}
	c, wr := newWire(t, reply(http.StatusOK, ""))
	if err := c.PullImage(context.Background(), "postgres:"); err == nil {
		t.Error("pulled a reference with an empty tag")
	}
	if n := len(wr.requests()); n != 0 {
		t.Errorf("a bad reference still sent %d requests", n)
	}
}

func TestLogs(t *testing.T) {
	tests := []struct {
		name      string
		tail      int
		chunks    []string // written with a flush after each, so frames arrive split
		header    string
		wantQuery string
		want      string
	}{
		{
			name:      "multiplexed, split across reads",
			tail:      50,
			chunks:    []string{frame(1, "LOG:  starting\n")[:5], frame(1, "LOG:  starting\n")[5:12], frame(1, "LOG:  starting\n")[12:] + frame(2, "FATAL:  bad\n")},
			header:    "application/vnd.docker.raw-stream",
			wantQuery: "stderr=1&stdout=1&tail=50",
			want:      "LOG:  starting\nFATAL:  bad\n",
		},
		{
			name:      "zero-length frame",
			chunks:    []string{frame(1, "a\n"), frame(2, ""), frame(1, "b\n")},
			header:    "application/vnd.docker.multiplexed-stream",
			wantQuery: "stderr=1&stdout=1&tail=all",
			want:      "a\nb\n",
		},
		{
			name:      "tty container",
			tail:      2,
			chunks:    []string{"LOG:  database system is ready\r\n", "LOG:  checkpoint\r\n"},
			header:    "application/vnd.docker.raw-stream",
			wantQuery: "stderr=1&stdout=1&tail=2",
			want:      "LOG:  database system is ready\r\nLOG:  checkpoint\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.header)
				for _, ch := range tt.chunks {
					_, _ = io.WriteString(w, ch)
					w.(http.Flusher).Flush()
				}
			})
			got, err := c.Logs(context.Background(), "bw", tt.tail)
			if err != nil || got != tt.want {
				t.Errorf("Logs = %q, %v; want %q", got, err, tt.want)
			}
			if r := wr.last(t); r.Method != "GET" || r.Path != "/containers/bw/logs" || r.Query != tt.wantQuery {
				t.Errorf("request %+v", r)
			}
		})
	}
}

// hijackStream answers the way dockerd answers exec start without an
// Upgrade header: raw HTTP on the hijacked connection, labelled a raw
// stream though it is multiplexed, with no length, ended by closing.
func hijackStream(t *testing.T, w http.ResponseWriter, chunks ...string) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
	_ = buf.Flush()
	for _, ch := range chunks {
		_, _ = io.WriteString(conn, ch)
		time.Sleep(time.Millisecond) // so the client's reads see the pieces apart
	}
}

func TestExec(t *testing.T) {
	big := strings.Repeat("x", 100<<10) + "END"
	tests := []struct {
		name       string
		env        []string
		chunks     []string
		polls      int // exec inspections that still report it running
		exit       int
		wantCreate string
		wantOutput func(string) bool
	}{
		{
			name: "exit code and interleaved output",
			env:  []string{"PGCONNECT_TIMEOUT=3"},
			chunks: []string{
				frame(1, "/var/run/postgresql:5432 - ")[:3],
				frame(1, "/var/run/postgresql:5432 - ")[3:],
				frame(2, ""),
				frame(2, "no response\n"),
			},
			polls:      2,
			exit:       2,
			wantCreate: `{"AttachStdout":true,"AttachStderr":true,"Cmd":["pg_isready","-U","postgres"],"Env":["PGCONNECT_TIMEOUT=3"]}`,
			wantOutput: func(s string) bool { return s == "/var/run/postgresql:5432 - no response\n" },
		},
		{
			name:       "no output",
			wantCreate: `{"AttachStdout":true,"AttachStderr":true,"Cmd":["pg_isready","-U","postgres"]}`,
			wantOutput: func(s string) bool { return s == "" },
		},
		{
			name:       "only the end of long output",
			chunks:     []string{frame(1, big[:70<<10]), frame(2, big[70<<10:])},
			exit:       1,
			wantCreate: `{"AttachStdout":true,"AttachStderr":true,"Cmd":["pg_isready","-U","postgres"]}`,
			wantOutput: func(s string) bool {
				head, rest, ok := strings.Cut(s, "\n")
				return ok && head == fmt.Sprintf("[docker: %d earlier bytes of output dropped]", len(big)-64<<10) &&
					len(rest) == 64<<10 && strings.HasSuffix(rest, "xxEND")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			polls := 0
			c, wr := newWire(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.Method + " " + r.URL.Path {
				case "POST /containers/bw/exec":
					reply(http.StatusCreated, `{"Id":"ex1"}`)(w, r)
				case "POST /exec/ex1/start":
					hijackStream(t, w, tt.chunks...)
				case "GET /exec/ex1/json":
					mu.Lock()
					polls++
					running := polls <= tt.polls
					mu.Unlock()
					if running {
						reply(http.StatusOK, `{"ID":"ex1","Running":true,"ExitCode":null}`)(w, r)
						return
					}
					reply(http.StatusOK, fmt.Sprintf(`{"ID":"ex1","Running":false,"ExitCode":%d}`, tt.exit))(w, r)
				default:
					t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
				}
			})
			code, out, err := c.Exec(context.Background(), "bw", []string{"pg_isready", "-U", "postgres"}, tt.env)
			if err != nil || code != tt.exit {
				t.Fatalf("Exec = %d, %v; want %d", code, err, tt.exit)
			}
			if !tt.wantOutput(out) {
				t.Errorf("output %.200q (%d bytes)", out, len(out))
			}
			reqs := wr.requests()
			if len(reqs) != 3+tt.polls {
				t.Errorf("%d requests, want %d", len(reqs), 3+tt.polls)
			}
			sameJSON(t, reqs[0].Body, tt.wantCreate)
			sameJSON(t, reqs[1].Body, `{"Detach":false,"Tty":false}`)
			if reqs[0].ContentType != "application/json" || reqs[1].ContentType != "application/json" {
				t.Errorf("Content-Types %q, %q", reqs[0].ContentType, reqs[1].ContentType)
			}
		})
	}

	c, _ := newWire(t, reply(http.StatusConflict, `{"message":"container bw is not running"}`))
	code, _, err := c.Exec(context.Background(), "bw", []string{"true"}, nil)
	var ae *docker.APIError
	if code != -1 || !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Errorf("exec in a stopped container = %d, %v", code, err)
	}
}

func TestWaitContainer(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
		wantErr    string
	}{
		{"exit code", `{"StatusCode":3,"Error":null}`, 3, ""},
		{"empty error", `{"StatusCode":0,"Error":{"Message":""}}`, 0, ""},
		{"no error field", `{"StatusCode":137}`, 137, ""},
		{"daemon error", `{"StatusCode":-1,"Error":{"Message":"failed to wait: context canceled"}}`, -1, "failed to wait: context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, wr := newWire(t, reply(http.StatusOK, tt.body))
			got, err := c.WaitContainer(context.Background(), "bw")
			if got != tt.want {
				t.Errorf("exit code %d, want %d", got, tt.want)
			}
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if r := wr.last(t); r.Method != "POST" || r.Path != "/containers/bw/wait" || r.Query != "condition=not-running" {
				t.Errorf("request %+v", r)
			}
		})
	}
}

func TestInspectContainer(t *testing.T) {
	c, _ := newWire(t, reply(http.StatusOK, `{
		"Id": "4f2a", "Name": "/bw-pg15",
		"State": {"Status": "exited", "Running": false, "ExitCode": 1, "Error": "exec: \"postgres\": not found"},
		"NetworkSettings": {"Networks": {"bridge": {"IPAddress": "172.17.0.5"}, "bw-net": {"IPAddress": "10.9.0.3"}}}
	}`))
	got, err := c.InspectContainer(context.Background(), "bw-pg15")
	if err != nil {
		t.Fatal(err)
	}
	want := docker.Container{ID: "4f2a", Name: "bw-pg15", ExitCode: 1, Error: `exec: "postgres": not found`,
		Networks: map[string]string{"bridge": "172.17.0.5", "bw-net": "10.9.0.3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestContextCancel(t *testing.T) {
	c, _ := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a wait on a container that never exits
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.WaitContainer(ctx, "bw")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want one wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v after the deadline", d)
	}
}

// unixDaemon serves h on a unix socket, as dockerd does.
func unixDaemon(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return sock
}

func TestUnixSocket(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	sock := unixDaemon(t, pingOr("1.44", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		reply(http.StatusOK, `{"Id":"4f2a","Name":"/bw","State":{"Running":true}}`)(w, r)
	}))
	missing := filepath.Join(t.TempDir(), "nothing.sock")
	tests := []struct {
		name       string
		socket     string
		dockerHost string
		wantErr    string
	}{
		{name: "path", socket: sock},
		{name: "unix URL", socket: "unix://" + sock},
		{name: "DOCKER_HOST", dockerHost: "unix://" + sock},
		{name: "argument wins over DOCKER_HOST", socket: sock, dockerHost: "tcp://docker:2375"},
		{name: "no daemon", socket: missing, wantErr: "docker: no Docker daemon at " + missing + ": dial unix " + missing},
		{name: "DOCKER_HOST not a socket", dockerHost: "tcp://docker:2375", wantErr: "DOCKER_HOST=tcp://docker:2375 is not a unix socket"},
		{name: "DOCKER_HOST empty unix", dockerHost: "unix://", wantErr: "DOCKER_HOST=unix:// is not a unix socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", tt.dockerHost)
			c := docker.New(tt.socket)
			ctx := context.Background()
			err := c.Ping(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Ping error %v, want one containing %q", err, tt.wantErr)
				}
				// Every call fails the same way, not just Ping.
				if _, err := c.InspectContainer(ctx, "bw"); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("InspectContainer error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.InspectContainer(ctx, "bw")
			if err != nil || got.ID != "4f2a" || !got.Running {
				t.Fatalf("InspectContainer = %+v, %v", got, err)
			}
			mu.Lock()
			last := paths[len(paths)-1]
			mu.Unlock()
			if last != "/v1.44/containers/bw/json" {
				t.Errorf("inspect sent to %s", last)
			}
		})
	}
}

func TestLogsCap(t *testing.T) {
	const limit = 16 << 20
	c, _ := newWire(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("y", 1<<20)
		for range 20 { // 20 MiB of a TTY's raw stream; the client stops reading at 16
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	got, err := c.Logs(context.Background(), "bw", 0)
	if err != nil {
		t.Fatal(err)
	}
	body, marker, _ := strings.Cut(got, "\n")
	if len(body) != limit || strings.Trim(body, "y") != "" || marker != fmt.Sprintf("[docker: logs cut at %d bytes]\n", limit) {
		t.Errorf("got %d bytes then %q", len(body), marker)
	}
}
