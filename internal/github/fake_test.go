package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// token is what the tests authenticate with; it must never show in an
// error or a log line.
const token = "ghs_SECRET"

// Rules of the tests' findings.
var (
	ruleError = &finding.Rule{ID: "ghtest/libc-swap", Title: "Base image changes libc", Severity: finding.Error,
		Summary: "test rule", Incident: "test incident"}
	ruleWarning = &finding.Rule{ID: "ghtest/floating-tag", Title: "Floating OS tag", Severity: finding.Warning,
		Summary: "test rule", Incident: "test incident"}
	ruleNotice = &finding.Rule{ID: "ghtest/unknown-image", Title: "Unknown image", Severity: finding.Notice,
		Summary: "test rule", Incident: "test incident"}
)

func init() { finding.Register(ruleError, ruleWarning, ruleNotice) }

// sampleReport has one finding of each severity.
func sampleReport() *report.Report {
	return report.New("base", "head", []finding.Finding{
		finding.New(ruleError, "docker/db/Dockerfile", 3, "db", "postgres:11 moves from glibc to musl."),
		finding.New(ruleWarning, "docker/db/Dockerfile", 1, "builder", "debian:stable floats."),
		finding.New(ruleNotice, "compose.yaml", 7, "cache", "cannot tell the libc of redis:7."),
	}, nil)
}

// manyReport has n findings over files files, severities in turn.
func manyReport(n, files int) *report.Report {
	rules := []*finding.Rule{ruleError, ruleWarning, ruleNotice}
	fs := make([]finding.Finding, 0, n)
	for i := range n {
		f := finding.New(rules[i%3], fmt.Sprintf("services/svc-%04d/Dockerfile", i%files), i+1,
			fmt.Sprintf("stage-%d", i), strings.Repeat("postgres:11 moves from glibc to musl. ", 4))
		f.Remediation = "REINDEX DATABASE app;"
		fs = append(fs, f)
	}
	return report.New("base", "head", fs, nil)
}

// request is one request the fake received.
type request struct {
	Method, Path string
	Query        string
	Auth         string
	Body         []byte
}

func (r request) String() string { return r.Method + " " + r.Path }

// fakeGitHub speaks the part of the REST API the package uses, the way
// go-github's own tests do: handlers per path, JSON bodies, Link headers.
// Comments live on pull request 1; the check run it creates has ID 7.
type fakeGitHub struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []request
	comments []*gh.IssueComment
	nextID   int64
	perPage  int // page size served when the request asks for more; 0 honours per_page
	// intercept, when set, may answer a request instead of the handlers:
	// n counts the requests with the same method and path, this one
	// included. It returns false to let the handlers answer.
	intercept func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newFake(t *testing.T) *fakeGitHub {
	t.Helper()
	f := &fakeGitHub{t: t, nextID: 1000}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/o/r/issues/1/comments", f.listComments)
	mux.HandleFunc("POST /repos/o/r/issues/1/comments", f.createComment)
	mux.HandleFunc("PATCH /repos/o/r/issues/comments/{id}", f.editComment)
	mux.HandleFunc("POST /repos/o/r/check-runs", f.createCheckRun)
	mux.HandleFunc("PATCH /repos/o/r/check-runs/7", f.updateCheckRun)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request body: %v", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body}
		f.requests = append(f.requests, req)
		n := 0
		for _, q := range f.requests {
			if q.Method == req.Method && q.Path == req.Path {
				n++
			}
		}
		intercept := f.intercept
		f.mu.Unlock()
		if intercept != nil && intercept(w, r, n) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// addComment stores a comment as if someone had posted it.
func (f *fakeGitHub) addComment(body, login, userType string) *gh.IssueComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c := &gh.IssueComment{
		ID:      gh.Int64(f.nextID),
		Body:    gh.String(body),
		HTMLURL: gh.String(fmt.Sprintf("https://github.com/o/r/pull/1#issuecomment-%d", f.nextID)),
		User:    &gh.User{Login: gh.String(login), Type: gh.String(userType)},
	}
	f.comments = append(f.comments, c)
	return c
}

func (f *fakeGitHub) comment(id int64) *gh.IssueComment {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.comments {
		if c.GetID() == id {
			return c
		}
	}
	return nil
}

func (f *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	f.mu.Lock()
	if f.perPage > 0 {
		per = min(per, f.perPage)
	}
	all := append([]*gh.IssueComment(nil), f.comments...)
	f.mu.Unlock()
	last := max((len(all)+per-1)/per, 1)
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="%s"`, f.srv.URL, r.URL.Path, p, per, rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*per, len(all))
	f.json(w, http.StatusOK, all[lo:min(lo+per, len(all))])
}

func (f *fakeGitHub) createComment(w http.ResponseWriter, r *http.Request) {
	var in gh.IssueComment
	if !f.decode(w, r, &in) {
		return
	}
	f.json(w, http.StatusCreated, f.addComment(in.GetBody(), "github-actions[bot]", "Bot"))
}

func (f *fakeGitHub) editComment(w http.ResponseWriter, r *http.Request) {
	var in gh.IssueComment
	if !f.decode(w, r, &in) {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	c := f.comment(id)
	if c == nil {
		f.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	f.mu.Lock()
	c.Body = in.Body
	f.mu.Unlock()
	f.json(w, http.StatusOK, c)
}

func (f *fakeGitHub) createCheckRun(w http.ResponseWriter, r *http.Request) {
	var in gh.CreateCheckRunOptions
	if !f.decode(w, r, &in) {
		return
	}
	if in.Name == "" || in.HeadSHA == "" {
		f.json(w, http.StatusUnprocessableEntity, map[string]string{"message": "Invalid request"})
		return
	}
	f.json(w, http.StatusCreated, &gh.CheckRun{ID: gh.Int64(7), Name: gh.String(in.Name),
		HTMLURL: gh.String("https://github.com/o/r/runs/7")})
}

func (f *fakeGitHub) updateCheckRun(w http.ResponseWriter, r *http.Request) {
	var in gh.UpdateCheckRunOptions
	if !f.decode(w, r, &in) {
		return
	}
	if in.Output != nil && (in.Output.GetTitle() == "" || in.Output.GetSummary() == "") {
		f.json(w, http.StatusUnprocessableEntity, map[string]string{"message": "output needs title and summary"})
		return
	}
	f.json(w, http.StatusOK, &gh.CheckRun{ID: gh.Int64(7), Name: gh.String(in.Name),
		HTMLURL: gh.String("https://github.com/o/r/runs/7")})
}

func (f *fakeGitHub) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		f.t.Errorf("%s %s: body is not JSON: %v", r.Method, r.URL.Path, err)
		f.json(w, http.StatusBadRequest, map[string]string{"message": "Problems parsing JSON"})
		return false
	}
	return true
}

func (f *fakeGitHub) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		f.t.Errorf("encoding response: %v", err)
	}
}

// log is every request so far.
func (f *fakeGitHub) log() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

// writes is every request but GETs.
func (f *fakeGitHub) writes() []request {
	var out []request
	for _, r := range f.log() {
		if r.Method != http.MethodGet {
			out = append(out, r)
		}
	}
	return out
}

// commentBodies decodes the bodies of the comment writes.
func (f *fakeGitHub) commentBodies() []string {
	var out []string
	for _, r := range f.writes() {
		var c gh.IssueComment
		if err := json.Unmarshal(r.Body, &c); err != nil {
			f.t.Fatalf("%s: %v", r, err)
		}
		out = append(out, c.GetBody())
	}
	return out
}

// sleeper records waits instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleeper) get() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// logs records WithLogf lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// client is a Client of the fake whose waits are recorded by s.
func (f *fakeGitHub) client(s *sleeper, l *logs) *Client {
	f.t.Helper()
	opts := []Option{WithHTTPClient(f.srv.Client()), WithSleep(s.sleep)}
	if l != nil {
		opts = append(opts, WithLogf(l.logf))
	}
	c, err := NewClient(token, f.srv.URL, "o/r", opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// respond writes a JSON error answer as GitHub does.
func respond(w http.ResponseWriter, status int, header map[string]string, message string) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	doc := "https://docs.github.com/rest"
	if strings.Contains(message, "secondary rate limit") {
		doc = "https://docs.github.com/free-pro-team@latest/rest/overview/resources-in-the-rest-api#secondary-rate-limits"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message, "documentation_url": doc})
}
