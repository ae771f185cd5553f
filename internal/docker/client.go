package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const defaultSocket = "/var/run/docker.sock"

// Limits on what is read into memory from one answer.
const (
	maxJSON      = 4 << 20  // an inspect or create answer
	maxErrorBody = 64 << 10 // an error answer; its message is all we keep
)

var (
	// maxVersion is the API version this package's shapes are written against.
	maxVersion = apiVersion{1, 47}
	// minVersion is the first with POST /containers/{id}/wait?condition=.
	minVersion = apiVersion{1, 30}
)

// Client talks to one Docker daemon. It is safe for concurrent use.
type Client struct {
	base  string // URL the paths are appended to
	where string // the socket or base URL, for "no Docker daemon at" errors
	hc    *http.Client
	err   error // set when New cannot use DOCKER_HOST: every call returns it

	mu      sync.Mutex
	version string // "" until Ping negotiates one
}

// New returns a client for the daemon at socket, a path or unix://path.
// With socket "", it uses $DOCKER_HOST when that is unix://path, and
// /var/run/docker.sock when DOCKER_HOST is unset. Any other DOCKER_HOST
// (tcp://, ssh://, npipe://) makes every call fail with an error naming it,
// rather than quietly reaching a different daemon than the user chose; use
// NewURL for a TCP daemon.
func New(socket string) *Client {
	if socket == "" {
		socket = defaultSocket
		if host := os.Getenv("DOCKER_HOST"); host != "" {
			path, ok := strings.CutPrefix(host, "unix://")
			if !ok || path == "" {
				return &Client{where: host, err: fmt.Errorf(
					"docker: DOCKER_HOST=%s is not a unix socket; breakwater reaches the daemon only through unix://PATH (unset DOCKER_HOST to use %s)",
					host, defaultSocket)}
			}
			socket = path
		}
	}
	socket = strings.TrimPrefix(socket, "unix://")
	tr := &http.Transport{
		// No Proxy: HTTP_PROXY must not capture requests meant for a socket.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 4,
	}
	// No Client.Timeout: pulls and waits run for minutes; ctx bounds them.
	return &Client{base: "http://docker", where: socket, hc: &http.Client{Transport: tr}}
}

// NewURL returns a client for the daemon at base, such as
// "http://127.0.0.1:2375" or a test server's URL, sending with hc
// (http.DefaultClient when nil).
func NewURL(base string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base = strings.TrimSuffix(base, "/")
	return &Client{base: base, where: base, hc: hc}
}

// Ping checks that the daemon answers and negotiates the API version of
// the calls that follow.
func (c *Client) Ping(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/_ping", nil, nil, http.StatusOK)
	if err != nil {
		return err
	}
	drainClose(resp)
	h := resp.Header.Get("Api-Version")
	if h == "" {
		c.setVersion("")
		return nil
	}
	v, ok := parseVersion(h)
	if !ok {
		return fmt.Errorf("docker: the daemon at %s reports API version %q, which is not MAJOR.MINOR", c.where, h)
	}
	if v.less(minVersion) {
		return fmt.Errorf("docker: the daemon at %s speaks API %s; breakwater needs %s or later (Docker 17.06+)", c.where, v, minVersion)
	}
	if maxVersion.less(v) {
		v = maxVersion
	}
	c.setVersion(v.String())
	return nil
}

func (c *Client) setVersion(v string) {
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
}

// prefix is "/v1.NN" once a version is negotiated. /_ping stays
// unversioned, as it is the call that finds the version out.
func (c *Client) prefix(path string) string {
	if path == "/_ping" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == "" {
		return ""
	}
	return "/v" + c.version
}

// do sends one request. path is already escaped. An answer whose status is
// not in ok is read, closed and returned as an *APIError; otherwise the
// caller owns resp.Body.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, ok ...int) (*http.Response, error) {
	if c.err != nil {
		return nil, c.err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("docker: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + c.prefix(path) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("docker: %s %s: %w", method, path, err)
	}
	if body != nil {
		// The daemon rejects a JSON body without this header.
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.transportError(method, path, err)
	}
	if slices.Contains(ok, resp.StatusCode) {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readAPIError(method, path, resp)
}

// transportError names the socket when nothing listens there, since that
// is the error a user without a running Docker sees first.
func (c *Client) transportError(method, path string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("docker: no permission to use the Docker daemon at %s (is this user in the docker group?): %w", c.where, op)
		}
		return fmt.Errorf("docker: no Docker daemon at %s: %w", c.where, op)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the URL, whose host is made up for sockets
	}
	return fmt.Errorf("docker: %s %s: %w", method, path, err)
}

// doJSON sends in (when not nil) and decodes the answer into out (when not
// nil).
func (c *Client) doJSON(ctx context.Context, method, path string, query url.Values, in, out any, ok ...int) error {
	resp, err := c.do(ctx, method, path, query, in, ok...)
	if err != nil {
		return err
	}
	defer drainClose(resp)
	if out == nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		return fmt.Errorf("docker: %s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > maxJSON {
		return fmt.Errorf("docker: %s %s: answer larger than %d bytes", method, path, maxJSON)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("docker: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// drainClose reads a little of what is left so the connection can be
// reused, then closes the body.
func drainClose(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// APIError is an answer of status 4xx or 5xx from the daemon.
type APIError struct {
	Method, Path string // Path as requested, without the version prefix or query
	Status       int
	Message      string // the daemon's "message", or the body's text when not JSON
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("docker: %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// IsNotFound reports whether err is, or wraps, an APIError of status 404.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func readAPIError(method, path string, resp *http.Response) *APIError {
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil && body.Message != "" {
		e.Message = body.Message
	} else {
		e.Message = strings.TrimSpace(string(data))
		if len(e.Message) > 1024 {
			e.Message = e.Message[:1024] + "…"
		}
	}
	return e
}

// apiVersion is an Engine API version such as 1.47.
type apiVersion struct{ major, minor int }

func parseVersion(s string) (apiVersion, bool) {
	maj, min, ok := strings.Cut(s, ".")
	if !ok {
		return apiVersion{}, false
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	if err1 != nil || err2 != nil || a < 0 || b < 0 {
		return apiVersion{}, false
	}
	return apiVersion{a, b}, true
}

func (v apiVersion) less(w apiVersion) bool {
	return v.major < w.major || (v.major == w.major && v.minor < w.minor)
}

func (v apiVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }
