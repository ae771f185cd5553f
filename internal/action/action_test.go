package action

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-githubactions"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// env is a GitHub Actions environment in temp files.
type env struct {
	vars    map[string]string
	out     bytes.Buffer
	outputs string // GITHUB_OUTPUT file
	summary string // GITHUB_STEP_SUMMARY file
}

func newEnv(t *testing.T, workspace string) *env {
	dir := t.TempDir()
	// The action marks the workspace safe in git's global config; keep
	// that in the test's own file.
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(dir, "gitconfig"))
	e := &env{
		outputs: filepath.Join(dir, "output"),
		summary: filepath.Join(dir, "summary"),
	}
	e.vars = map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_WORKSPACE":    workspace,
		"GITHUB_OUTPUT":       e.outputs,
		"GITHUB_STEP_SUMMARY": e.summary,
		"GITHUB_REPOSITORY":   "acme/shop",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_RUN_ID":       "7",
		"GITHUB_RUN_ATTEMPT":  "1",
		"INPUT_COMMENT":       "on-findings",
		"INPUT_SARIF-FILE":    "breakwater.sarif",
		// The tests have no network; registry reads are tested in
		// internal/registry and internal/pipeline against a local registry.
		"INPUT_RESOLVE-IMAGES": "false",
		// Nor Docker; TestRehearseAutoWithoutDocker covers the default.
		"INPUT_REHEARSE": "never",
	}
	return e
}

func (e *env) event(t *testing.T, name string, payload any) {
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.vars["GITHUB_EVENT_NAME"] = name
	e.vars["GITHUB_EVENT_PATH"] = p
}

func (e *env) run(t *testing.T) int {
	t.Helper()
	a := githubactions.New(githubactions.WithWriter(&e.out), githubactions.WithGetenv(func(k string) string { return e.vars[k] }))
	return Main(context.Background(), a)
}

// outputsMap reads GITHUB_OUTPUT's heredoc format.
func (e *env) outputsMap(t *testing.T) map[string]string {
	b, err := os.ReadFile(e.outputs)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	lines := strings.Split(string(b), "\n")
	for i := 0; i+2 < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			continue
		}
		var val []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			val = append(val, lines[i])
		}
		m[name] = strings.Join(val, "\n")
	}
	return m
}

// shallowPR makes an origin with a base and a head commit and a depth-1
// clone of the head, as actions/checkout leaves a pull_request run.
func shallowPR(t *testing.T, baseFiles, headFiles map[string]string) (clone, base, head string) {
	origin := testgit.New(t)
	for p, c := range baseFiles {
		origin.Write(p, c)
	}
	base = origin.Commit("base")
	for p, c := range headFiles {
		origin.Write(p, c)
	}
	head = origin.Commit("head")
	origin.Git("config", "uploadpack.allowReachableSHA1InWant", "true")
	clone = filepath.Join(t.TempDir(), "workspace")
	origin.Git("clone", "-q", "--depth=1", "--no-local", "file://"+origin.Dir, clone)
	return clone, base, head
}

func prEvent(base, head string) map[string]any {
	return map[string]any{
		"number": 42,
		"pull_request": map[string]any{
			"number": 42,
			"base":   map[string]any{"sha": base},
			"head":   map[string]any{"sha": head},
		},
	}
}

// With the default rehearse: auto, a PR that moves the Postgres image is
// rehearsed when Docker is there; without it the report says so in a
// notice and the verdict is the static checks' alone.
func TestRehearseAutoWithoutDocker(t *testing.T) {
	ws, base, head := shallowPR(t,
		map[string]string{"db/Dockerfile": "FROM postgres:16-bookworm\n"},
		map[string]string{"db/Dockerfile": "FROM postgres:16-alpine3.20\n"})
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "docker.sock"))
	e := newEnv(t, ws)
	e.vars["INPUT_REHEARSE"] = "auto"
	e.vars["GITHUB_SHA"] = head
	e.event(t, "pull_request", prEvent(base, head))
	if code := e.run(t); code != exitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, e.out.String())
	}
	out := e.outputsMap(t)
	if out["errors"] != "2" || out["notices"] != "1" {
		t.Errorf("errors %s, notices %s; want 2 and the rehearsal/not-run notice", out["errors"], out["notices"])
	}
	b, err := os.ReadFile(filepath.Join(ws, "breakwater-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"rule": "rehearsal/not-run"`) || !strings.Contains(string(b), "no Docker daemon at") ||
		!strings.Contains(string(b), "image:postgres:16-bookworm → image:postgres:16-alpine3.20") {
		t.Errorf("report lacks the not-run notice naming the images and the missing daemon:\n%s", b)
	}
}

func TestCheckOnShallowPullRequest(t *testing.T) {
	ws, base, head := shallowPR(t,
		map[string]string{"db/Dockerfile": "FROM postgres:16-bookworm\n"},
		map[string]string{"db/Dockerfile": "FROM postgres:16-alpine3.20\n"})
	e := newEnv(t, ws)
	e.vars["GITHUB_SHA"] = head
	e.event(t, "pull_request", prEvent(base, head))

	if code := e.run(t); code != exitFindings {
		t.Fatalf("exit %d, want 1\n%s", code, e.out.String())
	}
	out := e.outputsMap(t)
	want := map[string]string{"errors": "2", "warnings": "0", "notices": "0", "highest-severity": "error",
		"report-json": "breakwater-report.json", "sarif-file": "breakwater.sarif"}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q", k, out[k], v)
		}
	}
	for _, f := range []string{"breakwater-report.json", "breakwater.sarif"} {
		if _, err := os.Stat(filepath.Join(ws, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if cfg, err := os.ReadFile(filepath.Join(filepath.Dir(e.outputs), "gitconfig")); err != nil || !strings.Contains(string(cfg), "directory = "+ws) {
		t.Errorf("workspace not marked safe: %q, %v", cfg, err)
	}
	summary, _ := os.ReadFile(e.summary)
	if !strings.Contains(string(summary), "image/libc-swap") {
		t.Errorf("job summary lacks the finding:\n%s", summary)
	}
	// No token: annotations carry the findings.
	if !strings.Contains(e.out.String(), "::error file=db/Dockerfile,line=1,title=image/libc-swap") {
		t.Errorf("no error annotation:\n%s", e.out.String())
	}
}

func TestAnnotationsAreCapped(t *testing.T) {
	base := map[string]string{}
	head := map[string]string{}
	for i := 0; i < 15; i++ {
		p := filepath.Join("svc", string(rune('a'+i)), "Dockerfile")
		base[p] = "FROM postgres:15-bookworm\n"
		head[p] = "FROM postgres:16-bookworm\n"
	}
	ws, b, h := shallowPR(t, base, head)
	e := newEnv(t, ws)
	e.vars["GITHUB_SHA"] = h
	e.event(t, "pull_request", prEvent(b, h))
	if code := e.run(t); code != exitFindings {
		t.Fatalf("exit %d\n%s", code, e.out.String())
	}
	if n := strings.Count(e.out.String(), "::error "); n != annotationsPerLevel {
		t.Errorf("%d error annotations, want %d", n, annotationsPerLevel)
	}
	if !strings.Contains(e.out.String(), "5 more findings are not annotated") {
		t.Errorf("no note of the findings left out:\n%s", e.out.String())
	}
}

func TestDetectOutputs(t *testing.T) {
	ws, base, head := shallowPR(t,
		map[string]string{"db/Dockerfile": "FROM postgres:15-bookworm\n"},
		map[string]string{"db/Dockerfile": "FROM postgres:16-bookworm\n"})
	e := newEnv(t, ws)
	e.vars["GITHUB_SHA"] = head
	e.vars["INPUT_COMMAND"] = "detect"
	e.event(t, "pull_request", prEvent(base, head))
	if code := e.run(t); code != exitClean {
		t.Fatalf("exit %d\n%s", code, e.out.String())
	}
	out := e.outputsMap(t)
	if out["base-postgres-image"] != "postgres:15-bookworm" || out["head-postgres-image"] != "postgres:16-bookworm" {
		t.Errorf("outputs = %v", out)
	}
	if !json.Valid([]byte(out["images-json"])) {
		t.Errorf("images-json is not JSON: %q", out["images-json"])
	}
}

func TestBadInputsFail(t *testing.T) {
	ws, base, head := shallowPR(t, map[string]string{"a": "1"}, map[string]string{"a": "2"})
	for name, vars := range map[string]map[string]string{
		"working-directory outside":  {"INPUT_WORKING-DIRECTORY": "../elsewhere"},
		"working-directory absolute": {"INPUT_WORKING-DIRECTORY": "/etc"},
		"comment":                    {"INPUT_COMMENT": "sometimes"},
		"check-run":                  {"INPUT_CHECK-RUN": "yes"},
		"fail-on":                    {"INPUT_FAIL-ON": "fatal"},
		"command":                    {"INPUT_COMMAND": "deploy"},
		"rehearse":                   {"INPUT_REHEARSE": "sometimes"},
		"sarif outside":              {"INPUT_SARIF-FILE": "../x.sarif"},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, ws)
			e.vars["GITHUB_SHA"] = head
			e.event(t, "pull_request", prEvent(base, head))
			for k, v := range vars {
				e.vars[k] = v
			}
			if code := e.run(t); code != exitFailed {
				t.Errorf("exit %d, want 2\n%s", code, e.out.String())
			}
			if !strings.Contains(e.out.String(), "::error::breakwater:") {
				t.Errorf("no error printed:\n%s", e.out.String())
			}
		})
	}
}

func TestUnsupportedEventFails(t *testing.T) {
	ws, _, head := shallowPR(t, map[string]string{"a": "1"}, map[string]string{"a": "2"})
	e := newEnv(t, ws)
	e.vars["GITHUB_SHA"] = head
	e.event(t, "schedule", map[string]any{})
	if code := e.run(t); code != exitFailed {
		t.Errorf("exit %d, want 2", code)
	}
}
