package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout:\n" + r.stdout + "\n--- stderr:\n" + r.stderr
}

// Dockerfiles of the changes the tests check.
const (
	pgDebian    = "FROM postgres:16-bookworm\n"
	pgAlpine    = "FROM postgres:16-alpine3.20\n"
	goDebian    = "FROM golang:1.22-bookworm AS build\nRUN go build -o /app .\n\nFROM debian:bookworm-slim\nCOPY --from=build /app /app\n"
	goAlpine    = "FROM golang:1.22-alpine3.19 AS build\nRUN go build -o /app .\n\nFROM debian:bookworm-slim\nCOPY --from=build /app /app\n"
	libcSwap    = "image/libc-swap"
	progressPfx = "breakwater: "
)

// change commits base, then head, on a fresh repository's main branch.
// A file whose content is "" is deleted.
func change(t *testing.T, base, head map[string]string) (g *testgit.Repo, baseID, headID string) {
	t.Helper()
	g = testgit.New(t)
	apply := func(files map[string]string) {
		for name, content := range files {
			if content == "" {
				g.Remove(name)
			} else {
				g.Write(name, content)
			}
		}
	}
	apply(base)
	baseID = g.Commit("base")
	apply(head)
	headID = g.Commit("head")
	return g, baseID, headID
}

// alpineChange is a Postgres image moving from Debian to Alpine: libc-swap
// at error severity.
func alpineChange(t *testing.T) (*testgit.Repo, string, string) {
	return change(t, map[string]string{"db/Dockerfile": pgDebian}, map[string]string{"db/Dockerfile": pgAlpine})
}

// builderChange is a Go build stage moving from Debian to Alpine: a
// libc-swap warning and nothing above it.
func builderChange(t *testing.T) (*testgit.Repo, string, string) {
	return change(t, map[string]string{"Dockerfile": goDebian}, map[string]string{"Dockerfile": goAlpine})
}

type jsonReport struct {
	Base     string `json:"base"`
	Head     string `json:"head"`
	Findings []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		File     string `json:"file"`
		Line     int    `json:"line"`
	} `json:"findings"`
	Summary *struct {
		Errors   int `json:"errors"`
		Warnings int `json:"warnings"`
		Notices  int `json:"notices"`
	} `json:"summary"`
}

func parseJSON(t *testing.T, data string) jsonReport {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(data), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, data)
	}
	return rep
}

// has reports whether the report holds a finding of rule in file.
func (r jsonReport) has(rule, severity, file string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Severity == severity && f.File == file {
			return true
		}
	}
	return false
}

func TestHelpAndUsage(t *testing.T) {
	commands := []string{"check", "rules", "explain", "version"}
	tests := []struct {
		name     string
		args     []string
		code     int
		toStdout bool // the usage is on stdout (asked for) or stderr (a mistake)
	}{
		{"no args", nil, ExitFailed, false},
		{"help", []string{"help"}, ExitClean, true},
		{"--help", []string{"--help"}, ExitClean, true},
		{"-h", []string{"-h"}, ExitClean, true},
		{"-help", []string{"-help"}, ExitClean, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r)
			}
			usage, other := r.stderr, r.stdout
			if tt.toStdout {
				usage, other = r.stdout, r.stderr
			}
			if other != "" {
				t.Errorf("usage expected on one stream only; other stream has:\n%s", other)
			}
			if !strings.HasPrefix(usage, "breakwater stops pull requests") || !strings.Contains(usage, "Usage:") {
				t.Errorf("usage not printed:\n%s", r)
			}
			for _, c := range commands {
				if !strings.Contains(usage, "breakwater "+c) {
					t.Errorf("usage does not list command %q:\n%s", c, usage)
				}
			}
			if !strings.Contains(usage, "Exit codes: 0 clean, 1 findings") {
				t.Errorf("usage does not document exit codes:\n%s", usage)
			}
		})
	}
}

func TestCommandHelp(t *testing.T) {
	tests := []struct {
		args  []string
		wants []string
	}{
		{[]string{"check", "--help"}, []string{"Usage: breakwater check", "--repo DIR", "--base REF", "--head REF", "--config FILE", "--format FORMAT", "--fail-on SEVERITY", "--output FILE", "--quiet"}},
		{[]string{"check", "-h"}, []string{"Usage: breakwater check", "--repo DIR", "--base REF", "--head REF", "--config FILE", "--format FORMAT", "--fail-on SEVERITY", "--output FILE", "--quiet"}},
		{[]string{"rules", "--help"}, []string{"Usage: breakwater rules"}},
		{[]string{"explain", "--help"}, []string{"Usage: breakwater explain RULE"}},
		{[]string{"version", "--help"}, []string{"Usage: breakwater version"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != ExitClean {
				t.Fatalf("exit %d, want 0\n%s", r.code, r)
			}
			help := r.stdout + r.stderr
			for _, w := range tt.wants {
				if !strings.Contains(help, w) {
					t.Errorf("help lacks %q:\n%s", w, help)
				}
			}
			// Flags are spelled as the messages spell them, never "-repo".
			if m := regexp.MustCompile(`(?m)^\s+-[a-z]`).FindString(help); m != "" {
				t.Errorf("flag listed with one dash (%q):\n%s", m, help)
			}
			if strings.Contains(help, "comparing") {
				t.Errorf("help ran the command:\n%s", help)
			}
		})
	}
	// The defaults are shown, even after flags that changed the values.
	for _, args := range [][]string{{"check", "--help"}, {"check", "--format", "json", "--head", "WORKTREE", "--quiet", "--help"}} {
		r := run(t, args...)
		if r.code != ExitClean {
			t.Fatalf("%v: exit %d, want 0\n%s", args, r.code, r)
		}
		help := r.stdout + r.stderr
		for _, w := range []string{`(default "text")`, `(default "HEAD")`, `(default ".")`} {
			if !strings.Contains(help, w) {
				t.Errorf("%v lacks %s:\n%s", args, w, help)
			}
		}
		_, quiet, _ := strings.Cut(help, "--quiet\n")
		quiet, _, _ = strings.Cut(quiet, "\n")
		if strings.Contains(quiet, "(default true)") || strings.Contains(help, `(default "json")`) {
			t.Errorf("%v shows a parsed value as a default:\n%s", args, help)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	// Bad flag values are caught before the repository is opened: this
	// directory is no repository, and that must not be the complaint.
	notRepo := t.TempDir()
	tests := []struct {
		name    string
		args    []string
		mention string // stderr must name what was wrong
	}{
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"check", "--bogus"}, "bogus"},
		{"unknown flag on rules", []string{"rules", "--bogus"}, "bogus"},
		{"flag without value", []string{"check", "--format"}, "format"},
		{"stray argument to check", []string{"check", "--repo", ".", "extra"}, `unexpected argument "extra"`},
		{"stray argument to rules", []string{"rules", "extra"}, `unexpected argument "extra"`},
		{"stray argument to version", []string{"version", "extra"}, `unexpected argument "extra"`},
		{"bad --fail-on", []string{"check", "--repo", notRepo, "--fail-on", "fatal"}, `--fail-on: unknown severity "fatal"`},
		{"bad --format", []string{"check", "--repo", notRepo, "--format", "xml"}, `unknown --format "xml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			usageError(t, tt.args, tt.mention)
		})
	}
}

func TestRules(t *testing.T) {
	r := run(t, "rules")
	if r.code != ExitClean {
		t.Fatalf("exit %d\n%s", r.code, r)
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty:\n%s", r.stderr)
	}
	rules := finding.Rules()
	if len(rules) < 8 {
		t.Fatalf("only %d rules registered; the check package's rules are missing", len(rules))
	}
	lines := strings.Split(r.stdout, "\n")
	if !regexp.MustCompile(`^RULE\s+SEVERITY\s+TITLE$`).MatchString(lines[0]) {
		t.Errorf("first line %q is not the header", lines[0])
	}
	for _, rule := range rules {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(rule.ID) + `\s+` + rule.Severity.String() + `\s+` + regexp.QuoteMeta(rule.Title) + `$`)
		if !re.MatchString(r.stdout) {
			t.Errorf("no line for %s with severity %s and its title:\n%s", rule.ID, rule.Severity, r.stdout)
		}
	}
	// Every line between the header and the hint is a rule.
	var rows int
	for _, l := range lines[1:] {
		if l == "" {
			break
		}
		rows++
	}
	if rows != len(rules) {
		t.Errorf("%d rule rows, want %d:\n%s", rows, len(rules), r.stdout)
	}
	if !strings.Contains(r.stdout, "breakwater explain RULE") {
		t.Errorf("no hint to explain:\n%s", r.stdout)
	}
}

func TestExplain(t *testing.T) {
	t.Run("image/libc-swap", func(t *testing.T) {
		r := run(t, "explain", "image/libc-swap")
		if r.code != ExitClean {
			t.Fatalf("exit %d\n%s", r.code, r)
		}
		if !strings.HasPrefix(r.stdout, "# image/libc-swap:") {
			t.Errorf("page does not start with its title:\n%.200s", r.stdout)
		}
		if !strings.HasSuffix(r.stdout, "\n") {
			t.Errorf("page does not end with a newline")
		}
		if r.stderr != "" {
			t.Errorf("stderr not empty:\n%s", r.stderr)
		}
	})
	// Every rule that `rules` lists can be explained.
	for _, rule := range finding.Rules() {
		t.Run("every/"+rule.ID, func(t *testing.T) {
			r := run(t, "explain", rule.ID)
			if r.code != ExitClean {
				t.Fatalf("exit %d\n%s", r.code, r)
			}
			if !strings.HasPrefix(r.stdout, "# "+rule.ID+":") {
				t.Errorf("page does not start with %q:\n%.200s", "# "+rule.ID+":", r.stdout)
			}
		})
	}

	errs := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown rule", []string{"explain", "nope/nope"}, `unknown rule "nope/nope"`},
		{"path outside the docs", []string{"explain", "../docs"}, `unknown rule "../docs"`},
		{"empty rule", []string{"explain", ""}, `unknown rule ""`},
		{"no rule", []string{"explain"}, "Usage: breakwater explain RULE"},
		{"two rules", []string{"explain", "image/libc-swap", "image/unknown"}, "Usage: breakwater explain RULE"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			usageError(t, tt.args, tt.mention)
		})
	}
}

func TestVersion(t *testing.T) {
	r := run(t, "version")
	if r.code != ExitClean {
		t.Fatalf("exit %d\n%s", r.code, r)
	}
	if !regexp.MustCompile(`^breakwater \S+\n$`).MatchString(r.stdout) {
		t.Errorf("version output %q, want \"breakwater VERSION\\n\"", r.stdout)
	}

	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v9.8.7"
	if r := run(t, "version"); r.stdout != "breakwater v9.8.7\n" {
		t.Errorf("with Version set: %q, want %q", r.stdout, "breakwater v9.8.7\n")
	}
}

// TestFailOn checks the exit code against the fail level from the flag,
// the config at head, or the default (error).
func TestFailOn(t *testing.T) {
	const warnConfig = "fail-on: warning\n"
	tests := []struct {
		name  string
		setup func(t *testing.T) (*testgit.Repo, string, string)
		args  []string
		code  int
	}{
		{"error change, default", alpineChange, nil, ExitFindings},
		{"error change, --fail-on error", alpineChange, []string{"--fail-on", "error"}, ExitFindings},
		{"error change, --fail-on none", alpineChange, []string{"--fail-on", "none"}, ExitClean},
		{"error change, --fail-on fatal", alpineChange, []string{"--fail-on", "fatal"}, ExitFailed},
		{"warning change, default", builderChange, nil, ExitClean},
		{"warning change, --fail-on error", builderChange, []string{"--fail-on", "error"}, ExitClean},
		{"warning change, --fail-on warning", builderChange, []string{"--fail-on", "warning"}, ExitFindings},
		{"warning change, --fail-on notice", builderChange, []string{"--fail-on", "notice"}, ExitFindings},
		{"config fail-on warning at head", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"Dockerfile": goDebian},
				map[string]string{"Dockerfile": goAlpine, ".breakwater.yml": warnConfig})
		}, nil, ExitFindings},
		{"config fail-on warning, flag wins", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"Dockerfile": goDebian},
				map[string]string{"Dockerfile": goAlpine, ".breakwater.yml": warnConfig})
		}, []string{"--fail-on", "error"}, ExitClean},
		{"config fail-on none, flag wins", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"db/Dockerfile": pgDebian},
				map[string]string{"db/Dockerfile": pgAlpine, ".breakwater.yml": "fail-on: none\n"})
		}, []string{"--fail-on", "error"}, ExitFindings},
		{"config fail-on none at head", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"db/Dockerfile": pgDebian},
				map[string]string{"db/Dockerfile": pgAlpine, ".breakwater.yml": "fail-on: none\n"})
		}, nil, ExitClean},
		{"config only at base is not read", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"Dockerfile": goDebian, ".breakwater.yml": warnConfig},
				map[string]string{"Dockerfile": goAlpine, ".breakwater.yml": ""})
		}, nil, ExitClean},
		{"bad config fail-on at head", func(t *testing.T) (*testgit.Repo, string, string) {
			return change(t, map[string]string{"Dockerfile": goDebian},
				map[string]string{"Dockerfile": goAlpine, ".breakwater.yml": "fail-on: fatal\n"})
		}, nil, ExitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, base, head := tt.setup(t)
			args := append([]string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--quiet"}, tt.args...)
			r := run(t, args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tt.code, r)
			}
			if tt.code == ExitFailed {
				if r.stdout != "" {
					t.Errorf("a failed run wrote a report:\n%s", r.stdout)
				}
				if !strings.Contains(r.stderr, "fatal") {
					t.Errorf("stderr does not name the bad level:\n%s", r.stderr)
				}
				return
			}
			// Whatever the gate, the findings are reported in full.
			rep := parseJSON(t, r.stdout)
			if len(rep.Findings) == 0 || !(rep.has(libcSwap, "error", "db/Dockerfile") || rep.has(libcSwap, "warning", "Dockerfile")) {
				t.Errorf("libc-swap finding missing:\n%s", r.stdout)
			}
		})
	}
}

// The builder change really is warnings only, or TestFailOn proves nothing.
func TestBuilderChangeIsWarningOnly(t *testing.T) {
	g, base, head := builderChange(t)
	r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--quiet")
	rep := parseJSON(t, r.stdout)
	if rep.Summary == nil || rep.Summary.Errors != 0 || rep.Summary.Warnings == 0 {
		t.Fatalf("want warnings and no errors:\n%s", r.stdout)
	}
	if !rep.has(libcSwap, "warning", "Dockerfile") {
		t.Errorf("no libc-swap warning:\n%s", r.stdout)
	}
}

func TestConfigFlag(t *testing.T) {
	g, base, head := builderChange(t)
	cfg := filepath.Join(t.TempDir(), "bw.yml")
	if err := os.WriteFile(cfg, []byte("fail-on: warning\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--config", cfg, "--quiet")
	if r.code != ExitFindings {
		t.Errorf("--config with fail-on warning: exit %d, want 1\n%s", r.code, r)
	}
	missing := filepath.Join(t.TempDir(), "missing.yml")
	r = run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--config", missing, "--quiet")
	if r.code != ExitFailed || !strings.Contains(r.stderr, "missing.yml") {
		t.Errorf("missing --config file: exit %d, want 2 naming the file\n%s", r.code, r)
	}
}

func TestDefaultBase(t *testing.T) {
	t.Run("merge base with main", func(t *testing.T) {
		g := testgit.New(t)
		g.Write("db/Dockerfile", pgDebian)
		fork := g.Commit("base")
		g.Git("checkout", "-q", "-b", "feature")
		g.Write("db/Dockerfile", pgAlpine)
		g.Commit("move to alpine")
		// main moves on and makes the same change: against main's tip the
		// feature branch changes nothing, against the merge base it does.
		g.Git("checkout", "-q", "main")
		g.Write("db/Dockerfile", pgAlpine)
		g.Write("README", "main moved on\n")
		g.Commit("main moves on")
		g.Git("checkout", "-q", "feature")

		r := run(t, "check", "--repo", g.Dir, "--format", "json", "--quiet")
		if r.code != ExitFindings {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		rep := parseJSON(t, r.stdout)
		if rep.Base != fork {
			t.Errorf("base %s, want the merge base %s", rep.Base, fork)
		}
		if !rep.has(libcSwap, "error", "db/Dockerfile") {
			t.Errorf("feature's change not found:\n%s", r.stdout)
		}
	})
	t.Run("no default branch", func(t *testing.T) {
		g, _, _ := alpineChange(t)
		g.Git("branch", "-m", "main", "trunk")
		r := run(t, "check", "--repo", g.Dir, "--quiet")
		if r.code != ExitFailed {
			t.Fatalf("exit %d, want 2\n%s", r.code, r)
		}
		if !strings.Contains(r.stderr, "--base") {
			t.Errorf("stderr does not point at --base:\n%s", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout not empty:\n%s", r.stdout)
		}
	})
}

func TestFormats(t *testing.T) {
	g, base, head := alpineChange(t)
	tests := []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"json", func(t *testing.T, out string) {
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &raw); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			for _, k := range []string{"findings", "summary"} {
				if _, ok := raw[k]; !ok {
					t.Errorf("no %q key:\n%s", k, out)
				}
			}
			rep := parseJSON(t, out)
			if rep.Base != base || rep.Head != head {
				t.Errorf("base/head %s..%s, want %s..%s", rep.Base, rep.Head, base, head)
			}
			if rep.Summary == nil || rep.Summary.Errors == 0 {
				t.Errorf("summary counts no errors:\n%s", out)
			}
			if !rep.has(libcSwap, "error", "db/Dockerfile") {
				t.Errorf("no libc-swap error:\n%s", out)
			}
		}},
		{"sarif", func(t *testing.T, out string) {
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Tool struct {
						Driver struct {
							Name    string `json:"name"`
							Version string `json:"version"`
						} `json:"driver"`
					} `json:"tool"`
					Results []struct {
						RuleID string `json:"ruleId"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(out), &log); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, out)
			}
			if log.Version != "2.1.0" || !strings.Contains(out, `"version": "2.1.0"`) {
				t.Errorf("SARIF version %q, want 2.1.0", log.Version)
			}
			if len(log.Runs) != 1 {
				t.Fatalf("%d runs, want 1", len(log.Runs))
			}
			if v := log.Runs[0].Tool.Driver.Version; v != version() {
				t.Errorf("driver version %q, want %q", v, version())
			}
			found := false
			for _, res := range log.Runs[0].Results {
				found = found || res.RuleID == libcSwap
			}
			if !found {
				t.Errorf("no %s result:\n%s", libcSwap, out)
			}
		}},
		{"markdown", checkMarkdown},
		{"md", checkMarkdown},
		{"text", func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "db/Dockerfile\n") {
				t.Errorf("text does not start with the file name:\n%s", out)
			}
			if !regexp.MustCompile(`(?m)^  error   image/libc-swap line 1: `).MatchString(out) {
				t.Errorf("no libc-swap error line:\n%s", out)
			}
			if strings.Contains(out, "\x1b[") {
				t.Errorf("colours written to a non-terminal:\n%q", out)
			}
			if !strings.HasSuffix(out, "\n") {
				t.Fatalf("text does not end with a newline:\n%s", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			last := lines[len(lines)-1]
			if !regexp.MustCompile(`^[1-9]\d* errors?, \d+ warnings?, \d+ notices?$`).MatchString(last) {
				t.Errorf("last line %q is not a summary with errors", last)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", tt.format, "--quiet")
			if r.code != ExitFindings {
				t.Fatalf("exit %d, want 1\n%s", r.code, r)
			}
			if r.stderr != "" {
				t.Errorf("--quiet, yet stderr:\n%s", r.stderr)
			}
			tt.check(t, r.stdout)
		})
	}
	t.Run("xml", func(t *testing.T) {
		r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "xml")
		if r.code != ExitFailed {
			t.Fatalf("exit %d, want 2\n%s", r.code, r)
		}
		if !strings.Contains(r.stderr, `unknown --format "xml"`) || r.stdout != "" {
			t.Errorf("want an error naming the format and no report\n%s", r)
		}
	})
}

func checkMarkdown(t *testing.T, out string) {
	t.Helper()
	if !strings.HasPrefix(out, "## ") {
		t.Errorf("markdown does not start with a heading:\n%s", out)
	}
	if !strings.Contains(out, libcSwap) {
		t.Errorf("markdown does not name %s:\n%s", libcSwap, out)
	}
	if !strings.Contains(out, "|") {
		t.Errorf("markdown has no table:\n%s", out)
	}
	if strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Errorf("markdown looks like JSON:\n%s", out)
	}
}

func TestOutputFile(t *testing.T) {
	g, base, head := alpineChange(t)
	t.Run("written", func(t *testing.T) {
		for _, quiet := range []bool{false, true} {
			file := filepath.Join(t.TempDir(), "report.json")
			args := []string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--output", file}
			if quiet {
				args = append(args, "--quiet")
			}
			r := run(t, args...)
			if r.code != ExitFindings {
				t.Fatalf("quiet=%v: exit %d, want 1\n%s", quiet, r.code, r)
			}
			if r.stdout != "" {
				t.Errorf("quiet=%v: stdout not empty:\n%s", quiet, r.stdout)
			}
			if !regexp.MustCompile(`(?m)^breakwater: [1-9]\d* errors, .*report written to ` + regexp.QuoteMeta(file) + `$`).MatchString(r.stderr) {
				t.Errorf("quiet=%v: stderr does not name the file:\n%s", quiet, r.stderr)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rep := parseJSON(t, string(data))
			if !rep.has(libcSwap, "error", "db/Dockerfile") {
				t.Errorf("quiet=%v: report file lacks the finding:\n%s", quiet, data)
			}
		}
	})
	t.Run("replaces an existing file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "report.txt")
		if err := os.WriteFile(file, []byte(strings.Repeat("old content\n", 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--output", file, "--quiet")
		if r.code != ExitFindings {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		data, _ := os.ReadFile(file)
		if strings.Contains(string(data), "old content") || !strings.HasPrefix(string(data), "db/Dockerfile\n") {
			t.Errorf("file not replaced by the text report:\n%.300s", data)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "no", "such", "dir", "report.json")
		r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--output", file, "--quiet")
		if r.code != ExitFailed {
			t.Fatalf("exit %d, want 2\n%s", r.code, r)
		}
		if !strings.Contains(r.stderr, file) {
			t.Errorf("stderr does not name the file:\n%s", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("report fell back to stdout:\n%s", r.stdout)
		}
	})
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--output", dir, "--quiet")
		if r.code != ExitFailed || r.stdout != "" {
			t.Errorf("exit %d, want 2 and no stdout\n%s", r.code, r)
		}
	})
}

func TestBadRepoAndRefs(t *testing.T) {
	g, base, head := alpineChange(t)
	notRepo := t.TempDir()
	// Keep git from finding a repository above the temp dir.
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(notRepo))
	tests := []struct {
		name     string
		args     []string
		mentions []string
	}{
		{"missing base ref", []string{"--repo", g.Dir, "--base", "no-such-ref", "--head", head}, []string{"--base", `"no-such-ref"`}},
		{"missing head ref", []string{"--repo", g.Dir, "--base", base, "--head", "no-such-ref"}, []string{"--head", `"no-such-ref"`}},
		{"missing commit ID", []string{"--repo", g.Dir, "--base", strings.Repeat("0", 40), "--head", head}, []string{strings.Repeat("0", 40)}},
		{"ref that looks like a flag", []string{"--repo", g.Dir, "--base", "--upload-pack=x", "--head", head}, []string{"--upload-pack=x"}},
		{"not a repository", []string{"--repo", notRepo, "--base", base, "--head", head}, []string{notRepo, "not inside a git work tree"}},
		{"no such directory", []string{"--repo", filepath.Join(notRepo, "absent"), "--base", base, "--head", head}, []string{"absent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, append([]string{"check"}, tt.args...)...)
			if r.code != ExitFailed {
				t.Fatalf("exit %d, want 2\n%s", r.code, r)
			}
			for _, m := range tt.mentions {
				if !strings.Contains(r.stderr, m) {
					t.Errorf("stderr does not mention %q:\n%s", m, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty:\n%s", r.stdout)
			}
		})
	}
}

func TestWorktreeHead(t *testing.T) {
	g, base, _ := change(t,
		map[string]string{"db/Dockerfile": pgDebian},
		map[string]string{"README": "unrelated\n"})
	g.Write("db/Dockerfile", pgAlpine) // not committed

	r := run(t, "check", "--repo", g.Dir, "--base", base, "--format", "json", "--quiet")
	if r.code != ExitClean {
		t.Fatalf("default head: exit %d, want 0\n%s", r.code, r)
	}
	if rep := parseJSON(t, r.stdout); len(rep.Findings) != 0 {
		t.Errorf("default head saw the uncommitted change:\n%s", r.stdout)
	}

	r = run(t, "check", "--repo", g.Dir, "--base", base, "--head", "WORKTREE", "--format", "json", "--quiet")
	if r.code != ExitFindings {
		t.Fatalf("--head WORKTREE: exit %d, want 1\n%s", r.code, r)
	}
	rep := parseJSON(t, r.stdout)
	if rep.Head != "WORKTREE" || !rep.has(libcSwap, "error", "db/Dockerfile") {
		t.Errorf("--head WORKTREE missed the uncommitted change:\n%s", r.stdout)
	}
}

func TestRepoSubdirectory(t *testing.T) {
	g, base, head := alpineChange(t)
	r := run(t, "check", "--repo", filepath.Join(g.Dir, "db"), "--base", base, "--head", head, "--format", "json", "--quiet")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want 1\n%s", r.code, r)
	}
	if rep := parseJSON(t, r.stdout); !rep.has(libcSwap, "error", "db/Dockerfile") {
		t.Errorf("file not reported from the top of the repository:\n%s", r.stdout)
	}
}

func TestProgressAndQuiet(t *testing.T) {
	g, base, head := alpineChange(t)
	for _, format := range []string{"json", "sarif", "text"} {
		t.Run(format, func(t *testing.T) {
			r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", format)
			if r.code != ExitFindings {
				t.Fatalf("exit %d, want 1\n%s", r.code, r)
			}
			if !strings.Contains(r.stderr, progressPfx+"comparing "+base[:12]+".."+head[:12]) {
				t.Errorf("no progress line naming the commits:\n%s", r.stderr)
			}
			for _, l := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
				if !strings.HasPrefix(l, progressPfx) {
					t.Errorf("stderr line %q is not a progress line", l)
				}
			}
			if strings.Contains(r.stdout, progressPfx+"comparing") {
				t.Errorf("progress on stdout:\n%s", r.stdout)
			}
			if format != "text" && !json.Valid([]byte(r.stdout)) {
				t.Errorf("stdout is not only the %s report:\n%s", format, r.stdout)
			}

			q := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--format", format, "--quiet")
			if q.code != ExitFindings {
				t.Fatalf("--quiet: exit %d, want 1\n%s", q.code, q)
			}
			if q.stderr != "" {
				t.Errorf("--quiet, yet stderr:\n%s", q.stderr)
			}
			if q.stdout != r.stdout {
				t.Errorf("--quiet changed the report:\n%s\nvs\n%s", q.stdout, r.stdout)
			}
		})
	}
}

func TestNoChange(t *testing.T) {
	g, base, head := change(t, map[string]string{"db/Dockerfile": pgDebian}, map[string]string{"README": "docs\n"})
	r := run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--quiet")
	if r.code != ExitClean {
		t.Fatalf("exit %d, want 0\n%s", r.code, r)
	}
	if r.stdout != "no findings\n" {
		t.Errorf("text report %q, want %q", r.stdout, "no findings\n")
	}
	r = run(t, "check", "--repo", g.Dir, "--base", base, "--head", head, "--quiet", "--fail-on", "notice")
	if r.code != ExitClean {
		t.Errorf("--fail-on notice with no findings: exit %d, want 0\n%s", r.code, r)
	}
}

// usageError runs a command that must fail as a usage error: exit 2, the
// problem named on standard error, nothing on standard output.
func usageError(t *testing.T, args []string, mention string) {
	t.Helper()
	r := run(t, args...)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 2\n%s", r.code, r)
	}
	if !strings.Contains(r.stderr, mention) {
		t.Errorf("stderr does not mention %q:\n%s", mention, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty:\n%s", r.stdout)
	}
}
