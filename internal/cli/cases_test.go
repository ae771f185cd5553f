package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// The cases under testdata/cases are real repositories in two commits:
// base/ is committed first, then the tree is replaced by head/. Expected
// findings sit beside the lines they are about, as analysistest's
// `// want` does: a `# want RULE…` comment names the findings on the next
// line that is neither blank nor a comment. RULE(warning) also checks the
// severity and RULE(suppressed) that it is reported as suppressed. A
// file's wants are read from the head side, or the base side for a
// deleted file. expect.txt holds the exit code ("exit 1") and findings
// that have no line to sit beside ("want PATH:LINE RULE").
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/cases/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { runCase(t, dir) })
	}
}

type want struct {
	file, rule, severity string
	line                 int
	suppressed           bool
}

func (w want) String() string {
	s := fmt.Sprintf("%s:%d %s", w.file, w.line, w.rule)
	if w.severity != "" {
		s += "(" + w.severity + ")"
	}
	if w.suppressed {
		s += "(suppressed)"
	}
	return s
}

func runCase(t *testing.T, dir string) {
	g := testgit.New(t)
	g.CopyTree(filepath.Join(dir, "base"))
	base := g.Commit("base")
	g.CopyTree(filepath.Join(dir, "head"))
	head := g.Commit("head")

	wantExit, wants := readExpectations(t, dir)

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json", "--quiet"}, &stdout, &stderr)
	if code != wantExit {
		t.Errorf("exit code %d, want %d\nstderr: %s\nstdout: %s", code, wantExit, stderr.String(), stdout.String())
	}
	var got struct {
		Findings []struct {
			Rule, Severity, File, Message string
			Line                          int
			Suppressed                    bool
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s\nstderr: %s", err, stdout.String(), stderr.String())
	}

	unmatched := append([]want(nil), wants...)
	for _, f := range got.Findings {
		i := -1
		for j, w := range unmatched {
			if w.file == f.File && w.line == f.Line && w.rule == f.Rule &&
				(w.severity == "" || w.severity == f.Severity) && w.suppressed == f.Suppressed {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("unexpected finding %s:%d %s(%s) suppressed=%v: %s", f.File, f.Line, f.Rule, f.Severity, f.Suppressed, f.Message)
			continue
		}
		unmatched = append(unmatched[:i], unmatched[i+1:]...)
	}
	for _, w := range unmatched {
		t.Errorf("missing finding %s", w)
	}
}

var wantRe = regexp.MustCompile(`^\s*#\s*want\s+(.+)$`)

func readExpectations(t *testing.T, dir string) (exit int, wants []want) {
	t.Helper()
	if data, err := os.ReadFile(filepath.Join(dir, "expect.txt")); err == nil {
		for n, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) == 0 || strings.HasPrefix(f[0], "#"):
			case f[0] == "exit" && len(f) == 2:
				exit, _ = strconv.Atoi(f[1])
			case f[0] == "want" && len(f) >= 3:
				file, l, _ := strings.Cut(f[1], ":")
				ln, _ := strconv.Atoi(l)
				for _, tok := range f[2:] {
					wants = append(wants, parseWant(file, ln, tok))
				}
			default:
				t.Fatalf("expect.txt:%d: cannot read %q", n+1, line)
			}
		}
	}
	headFiles := walk(t, filepath.Join(dir, "head"))
	baseFiles := walk(t, filepath.Join(dir, "base"))
	for rel, p := range headFiles {
		wants = append(wants, fileWants(t, rel, p)...)
	}
	for rel, p := range baseFiles {
		if _, ok := headFiles[rel]; !ok {
			wants = append(wants, fileWants(t, rel, p)...)
		}
	}
	return exit, wants
}

func walk(t *testing.T, root string) map[string]string {
	files := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files[filepath.ToSlash(rel)] = p
		}
		return nil
	})
	return files
}

func fileWants(t *testing.T, rel, p string) []want {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, pending []want
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if m := wantRe.FindStringSubmatch(line); m != nil {
			for _, tok := range strings.Fields(m[1]) {
				pending = append(pending, parseWant(rel, 0, tok))
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range pending {
			w.line = n
			out = append(out, w)
		}
		pending = nil
	}
	return out
}

// parseWant reads RULE, RULE(severity), RULE(suppressed).
func parseWant(file string, line int, tok string) want {
	w := want{file: file, line: line}
	rule, rest, _ := strings.Cut(tok, "(")
	w.rule = rule
	for _, q := range strings.Split(strings.TrimSuffix(rest, ")"), ",") {
		switch q {
		case "":
		case "suppressed":
			w.suppressed = true
		default:
			w.severity = q
		}
	}
	return w
}
