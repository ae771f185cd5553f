package action

import (
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeAPI answers the few GitHub REST calls the action makes, in the wire
// format go-github expects. writeStatus, when set, answers every write.
type fakeAPI struct {
	mu          sync.Mutex
	writeStatus int
	comments    []map[string]any
	checkRuns   int
	writes      []string
}

func (f *fakeAPI) server(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v3/repos/acme/shop/issues/42/comments", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(f.comments)
	})
	write := func(w http.ResponseWriter, r *http.Request, created func(body map[string]any) any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.writes = append(f.writes, r.Method+" "+r.URL.Path)
		if f.writeStatus != 0 {
			w.WriteHeader(f.writeStatus)
			io.WriteString(w, `{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}`)
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(created(body))
	}
	mux.HandleFunc("POST /api/v3/repos/acme/shop/issues/42/comments", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, func(body map[string]any) any {
			c := map[string]any{"id": 100 + len(f.comments), "body": body["body"], "html_url": "https://github.com/acme/shop/pull/42#issuecomment-1"}
			f.comments = append(f.comments, c)
			return c
		})
	})
	mux.HandleFunc("PATCH /api/v3/repos/acme/shop/issues/comments/{id}", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, func(body map[string]any) any {
			for _, c := range f.comments {
				if idString(c["id"]) == r.PathValue("id") {
					c["body"] = body["body"]
					return c
				}
			}
			return nil
		})
	})
	mux.HandleFunc("POST /api/v3/repos/acme/shop/check-runs", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, func(body map[string]any) any {
			f.checkRuns++
			return map[string]any{"id": 7, "html_url": "https://github.com/acme/shop/runs/7"}
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with a golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (rerun with -update to accept):\n got:\n%s", path, got)
	}
}

// The README shows the comment the golden file holds, so it cannot drift
// from what breakwater posts.
func TestREADMEShowsTheRealComment(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/comment.golden.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- comment-example -->\n")
	example, _, ok2 := strings.Cut(rest, "<!-- /comment-example -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no <!-- comment-example --> … <!-- /comment-example --> block")
	}
	if strings.TrimSpace(example) != strings.TrimSpace(string(want)) {
		t.Errorf("README.md's comment example differs from testdata/comment.golden.md; paste the golden file between the markers")
	}
}

func idString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func alpineChange(t *testing.T, api *fakeAPI) *env {
	ws, base, head := shallowPR(t,
		map[string]string{"db/Dockerfile": "FROM postgres:16-bookworm\n"},
		map[string]string{"db/Dockerfile": "FROM postgres:16-alpine3.20\n"})
	e := newEnv(t, ws)
	e.vars["GITHUB_SHA"] = head
	e.vars["GITHUB_API_URL"] = api.server(t).URL + "/api/v3/"
	e.vars["INPUT_GITHUB-TOKEN"] = "ghs_SECRET_TOKEN"
	e.vars["INPUT_CHECK-RUN"] = "true"
	e.event(t, "pull_request", prEvent(base, head))
	return e
}

func TestCommentAndCheckRun(t *testing.T) {
	api := &fakeAPI{}
	e := alpineChange(t, api)
	if code := e.run(t); code != exitFindings {
		t.Fatalf("exit %d\n%s", code, e.out.String())
	}
	if len(api.comments) != 1 {
		t.Fatalf("comments = %v", api.comments)
	}
	golden(t, "testdata/comment.golden.md", api.comments[0]["body"].(string))
	if api.checkRuns != 1 {
		t.Errorf("%d check runs", api.checkRuns)
	}
	// The check run carries the annotations; none are printed twice.
	if strings.Contains(e.out.String(), "::error file=") {
		t.Errorf("annotations printed though the check run has them:\n%s", e.out.String())
	}

	// A second run updates the same comment.
	e.out.Reset()
	if code := e.run(t); code != exitFindings {
		t.Fatalf("second run: exit %d", code)
	}
	posts := 0
	for _, w := range api.writes {
		if w == "POST /api/v3/repos/acme/shop/issues/42/comments" {
			posts++
		}
	}
	// The body is the same, so the comment is found and left as it is.
	if len(api.comments) != 1 || posts != 1 {
		t.Errorf("second run: %d comments, writes %v; want the one comment kept", len(api.comments), api.writes)
	}
}

// A fork's read-only token gets 403 on every write: the run warns with
// the permission, falls back to annotations and keeps its verdict.
func TestForkTokenFallsBack(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusNotFound} {
		api := &fakeAPI{writeStatus: status}
		e := alpineChange(t, api)
		if code := e.run(t); code != exitFindings {
			t.Fatalf("%d: exit %d, want 1 (the findings' verdict)\n%s", status, code, e.out.String())
		}
		out := e.out.String()
		for _, want := range []string{"::warning::", "pull-requests: write", "checks: write", "::error file=db/Dockerfile,line=1,title=image/libc-swap"} {
			if !strings.Contains(out, want) {
				t.Errorf("%d: output lacks %q:\n%s", status, want, out)
			}
		}
		// The only mention is the add-mask command, which the runner
		// consumes to hide the token from every later log line.
		if strings.Count(out, "ghs_SECRET_TOKEN") != strings.Count(out, "::add-mask::ghs_SECRET_TOKEN") {
			t.Errorf("%d: the token was printed:\n%s", status, out)
		}
		summary, _ := os.ReadFile(e.summary)
		if !strings.Contains(string(summary), "image/libc-swap") {
			t.Errorf("%d: job summary lacks the findings", status)
		}
	}
}

// The verdict is the checks' alone: a clean change stays green and a
// breaking one red when every write fails, for want of a permission or
// because the token was revoked after the comments were listed.
func TestFailedWritesNeverChangeTheVerdict(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		head   string
		want   int
	}{
		{"clean, no permission", http.StatusForbidden, "FROM postgres:16.4-bookworm\n", exitClean},
		{"clean, token revoked", http.StatusUnauthorized, "FROM postgres:16.4-bookworm\n", exitClean},
		{"findings, token revoked", http.StatusUnauthorized, "FROM postgres:16.4-alpine\n", exitFindings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{writeStatus: tc.status}
			ws, base, head := shallowPR(t,
				map[string]string{"db/Dockerfile": "FROM postgres:16.2-bookworm\n"},
				map[string]string{"db/Dockerfile": tc.head})
			e := newEnv(t, ws)
			e.vars["GITHUB_SHA"] = head
			e.vars["GITHUB_API_URL"] = api.server(t).URL + "/api/v3/"
			e.vars["INPUT_GITHUB-TOKEN"] = "t"
			e.vars["INPUT_COMMENT"] = "always"
			e.vars["INPUT_CHECK-RUN"] = "true"
			e.event(t, "pull_request", prEvent(base, head))
			if code := e.run(t); code != tc.want {
				t.Fatalf("exit %d, want %d\n%s", code, tc.want, e.out.String())
			}
			if len(api.writes) != 2 {
				t.Errorf("writes = %v, want a comment and a check run attempt", api.writes)
			}
		})
	}
}

// The fork-safe publish step posts a report it did not make, and never
// reads the PR's code.
func TestPublishFromReport(t *testing.T) {
	api := &fakeAPI{}
	e := alpineChange(t, api)
	if code := e.run(t); code != exitFindings {
		t.Fatalf("analysis: exit %d", code)
	}
	ws := e.vars["GITHUB_WORKSPACE"]
	report, err := os.ReadFile(filepath.Join(ws, "breakwater-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The publish job has no checkout: only the artifact.
	pub := t.TempDir()
	if err := os.WriteFile(filepath.Join(pub, "breakwater-report.json"), report, 0o644); err != nil {
		t.Fatal(err)
	}
	api2 := &fakeAPI{}
	p := newEnv(t, pub)
	p.vars["GITHUB_API_URL"] = api2.server(t).URL + "/api/v3/"
	p.vars["INPUT_GITHUB-TOKEN"] = "t"
	p.vars["INPUT_COMMAND"] = "publish"
	p.vars["INPUT_PR-NUMBER"] = "42"
	p.vars["INPUT_HEAD-SHA"] = "2222222222222222222222222222222222222222"
	p.vars["INPUT_CHECK-RUN"] = "true"
	p.event(t, "workflow_run", map[string]any{})
	if code := p.run(t); code != exitClean {
		t.Fatalf("publish: exit %d\n%s", code, p.out.String())
	}
	if len(api2.comments) != 1 || api2.checkRuns != 1 {
		t.Errorf("publish wrote %v", api2.writes)
	}
	for _, bad := range []string{"42; rm -rf /", "-1", "x"} {
		p.vars["INPUT_PR-NUMBER"] = bad
		if code := p.run(t); code != exitFailed {
			t.Errorf("pr-number %q: exit %d, want 2", bad, code)
		}
	}
}
