// Package github publishes a report on GitHub: the sticky pull request
// comment ([Client.UpsertComment]) and the check run with its annotations
// ([Client.PublishCheckRun]). It is the only package that talks to the
// GitHub REST API; the Actions environment (inputs, outputs, the event, the
// step summary) belongs to internal/action.
//
// # Faults
//
// Every request goes through a retrying transport: 5xx answers and rate
// limits (429, or a 403 that is a secondary or primary rate limit) are
// retried a bounded number of times with backoff; nothing else is. A 403
// or 404 on a write comes back as a [*PermissionError] that names the
// permission the workflow must grant, so the caller can warn and fall back
// to workflow-command annotations and the step summary. The token never
// appears in an error or a log line.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"
)

// DefaultAPIURL is GitHub.com's REST endpoint, used when GITHUB_API_URL is
// empty.
const DefaultAPIURL = "https://api.github.com/"

// Client publishes to one repository.
type Client struct {
	gh          *gh.Client
	owner, repo string
	token       string
	logf        func(format string, args ...any)
}

// Option configures NewClient.
type Option func(*options)

type options struct {
	httpClient *http.Client
	sleep      func(context.Context, time.Duration) error
	logf       func(format string, args ...any)
}

// WithHTTPClient makes the client send its requests with a copy of hc; the
// retrying transport wraps hc.Transport (http.DefaultTransport when nil).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithSleep replaces the wait between retries, which by default is a timer
// that ends early with the context's error. Tests pass a function that
// records the duration and returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *options) { o.sleep = sleep }
}

// WithLogf receives one line per retry, such as
// "github: POST /repos/o/r/issues/1/comments: 502 Bad Gateway; attempt 2 of 4 in 1s".
// Lines hold the method, path and status, never headers or the token.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// NewClient makes a client for repository ("owner/name", as in
// GITHUB_REPOSITORY) that authenticates with token and talks to apiURL
// (GITHUB_API_URL: DefaultAPIURL when empty, "https://HOST/api/v3" on GitHub
// Enterprise Server, or a test server's URL).
func NewClient(token, apiURL, repository string, opts ...Option) (*Client, error) {
	if token == "" {
		return nil, errors.New("github: no token (set the github-token input)")
	}
	owner, repo, ok := strings.Cut(repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return nil, fmt.Errorf("github: repository %q is not owner/name", repository)
	}
	base, err := baseURL(apiURL)
	if err != nil {
		return nil, err
	}
	o := options{sleep: sleepCtx}
	for _, opt := range opts {
		opt(&o)
	}
	hc := &http.Client{}
	if o.httpClient != nil {
		c := *o.httpClient
		hc = &c
	}
	hc.Transport = &retryTransport{
		base:        hc.Transport,
		maxAttempts: maxAttempts,
		sleep:       o.sleep,
		logf:        o.logf,
	}
	c := gh.NewClient(hc).WithAuthToken(token)
	c.BaseURL = base
	c.UserAgent = "breakwater"
	return &Client{gh: c, owner: owner, repo: repo, token: token, logf: o.logf}, nil
}

// baseURL parses GITHUB_API_URL and gives it the trailing slash go-github
// requires.
func baseURL(apiURL string) (*url.URL, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("github: API URL %q is not an http(s) URL", redactURL(apiURL))
	}
	if u.User != nil {
		return nil, errors.New("github: the API URL must not hold credentials")
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// redactURL hides what might be credentials in a URL that failed to parse.
func redactURL(s string) string {
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "…" + s[i:]
	}
	return s
}

// Permissions named by PermissionError, as written in a workflow's
// permissions block.
const (
	PermPullRequestsWrite = "pull-requests: write"
	PermPullRequestsRead  = "pull-requests: read"
	PermChecksWrite       = "checks: write"
)

// PermissionError is a 403 or 404 from GitHub on a request the token may
// not make: most often a pull request from a fork, whose token is
// read-only, or a workflow whose permissions block does not grant
// Permission. Callers find it with errors.As, warn with its message, and
// fall back to annotations and the step summary.
type PermissionError struct {
	Op         string // what was attempted, e.g. "create the pull request comment"
	Permission string // e.g. PermPullRequestsWrite
	Status     int    // 403 or 404
	Err        error  // the error from go-github, for errors.As; its text may hold server output
}

func (e *PermissionError) Error() string {
	msg := fmt.Sprintf("github: cannot %s: GitHub answered %d %s; the workflow needs `permissions: %s`",
		e.Op, e.Status, http.StatusText(e.Status), e.Permission)
	if strings.HasSuffix(e.Permission, ": write") {
		msg += " (pull requests from forks get a read-only token whatever the workflow asks for: " +
			"publish from a workflow_run workflow instead)"
	}
	if e.Status == http.StatusNotFound {
		msg += ", or the repository or pull request does not exist"
	}
	return msg
}

func (e *PermissionError) Unwrap() error { return e.Err }

// fail turns an error from go-github into the one the caller sees: a
// PermissionError for 403 and 404 (but not for rate limits), otherwise the
// error prefixed with the operation. The token is scrubbed from the text.
func (c *Client) fail(op, permission string, err error) error {
	if err == nil {
		return nil
	}
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var resp *gh.ErrorResponse
	switch {
	case errors.As(err, &rl), errors.As(err, &abuse):
		return c.redact(fmt.Errorf("github: cannot %s: rate limited by GitHub, even after retries: %w", op, err))
	case errors.As(err, &resp) && resp.Response != nil &&
		(resp.Response.StatusCode == http.StatusForbidden || resp.Response.StatusCode == http.StatusNotFound) &&
		!strings.Contains(strings.ToLower(resp.Message), "rate limit"):
		return &PermissionError{Op: op, Permission: permission, Status: resp.Response.StatusCode, Err: c.redact(err)}
	}
	return c.redact(fmt.Errorf("github: cannot %s: %w", op, err))
}

// redact hides the token should it appear in err's text (a server may echo
// a request back). errors.As and errors.Is still see the wrapped chain.
func (c *Client) redact(err error) error {
	if err == nil || c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), c.token, "***"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }
