package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// keepAdversarial makes TestAdversarial only build the case repositories
// under the given directory and keep them, for bench/adversarial.sh:
//
//	go test ./internal/cli -run TestAdversarial -args -keep DIR
//
// DIR/<case>/repo is the repository; DIR/<case>/args holds the check's
// arguments after --repo, one a line; DIR/<case>/marker is the directory
// the case's ${MARKER} stands for.
var keepAdversarial = flag.String("keep", "", "build the adversarial case repositories under `DIR`, keep them and run nothing")

// The cases under testdata/adversarial are content a stranger's pull
// request can carry: inputs built to exhaust memory or time, to escape
// the repository or to inject markup into the report. Each is a
// repository in two commits, as in testdata/cases, from base/ and head/
// and from gen.txt, which makes what cannot or should not be committed
// (50 MB files, odd names, symlinks, NUL bytes). Each runs in a child
// process with a deadline, so a hang or a crash fails the case instead of
// the test binary, with a TMPDIR of its own, which must be empty after.
//
// gen.txt, one directive a line; SIDE is base, head or both; a PATH,
// TARGET or TEXT may be a Go string literal ("a\nb", "\u202e", "\xff"),
// and ${MARKER} in TEXT is replaced with the case's marker directory:
//
//	file SIDE PATH TEXT                  a file
//	symlink SIDE PATH TARGET             a symbolic link
//	dockerfile-line SIDE PATH BYTES      "FROM postgres:16-alpine AS aaaa…", one line of BYTES bytes
//	compose-services SIDE PATH N IMAGE   a compose file of N services
//	yaml-laughs SIDE PATH LEVELS KEY TAIL  a billion-laughs alias bomb (anchors l0…lLEVELS) under KEY
//	                                       ("-" for the top level), then TAIL, which may use *lLEVELS
//	json-nest SIDE PATH DEPTH            {"a":{"a":… 1 …}} nested DEPTH deep
//
// expect.txt, one directive a line; TEXT runs to the end of the line, or
// is one Go string literal:
//
//	exit N                  the exit code
//	args ARG…               more arguments of the check
//	db                      the case needs PostgreSQL binaries
//	timeout DURATION        the deadline of the run (default 30s)
//	want RULE PATH[:LINE]   a finding; every finding must be wanted
//	message RULE TEXT       a finding of RULE says TEXT
//	stderr TEXT             standard error says TEXT
//	markdown-lacks TEXT     the Markdown report (a second run) does not hold TEXT
//	markdown-has TEXT       it does
//	marker NAME present|absent   ${MARKER}/NAME exists after the run, or does not
//	max-rss MiB             the peak RSS of the run stays under it
func TestAdversarial(t *testing.T) {
	dirs, err := filepath.Glob("../../testdata/adversarial/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	if *keepAdversarial != "" {
		keepCases(t, dirs, *keepAdversarial)
		return
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			runAdversarial(t, dir)
		})
	}
}

// advExpect is a parsed expect.txt.
type advExpect struct {
	exit          int
	args          []string
	db            bool
	timeout       time.Duration
	wants         []advWant
	messages      [][2]string // rule, text
	stderr        []string
	mdLacks       []string
	mdHas         []string
	markers       map[string]bool // name → must exist
	maxRSS        int64           // MiB; 0 is the default
	seenExitToken bool
}

type advWant struct {
	rule, file string
	line       int // -1: any line
}

func (w advWant) String() string { return fmt.Sprintf("%s %q:%d", w.rule, w.file, w.line) }

// defaultMaxRSS is what a run may take when expect.txt does not say: far
// above what any case needs (the largest takes about 200 MiB), far below
// what an unbounded expansion would.
const defaultMaxRSS = 768

func runAdversarial(t *testing.T, dir string) {
	exp := readAdvExpect(t, dir)
	if exp.db {
		pgtest.Binaries(t)
	}
	marker := markerDir(t, t.TempDir())
	g, base, head := buildCase(t, dir, marker)
	tmp := privateTMP(t)
	trap := proxyTrap(t)
	env := append(trap.env, "TMPDIR="+tmp)

	args := append([]string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--quiet"}, exp.args...)
	res := runChild(t, exp.timeout, env, append(args, "--format", "json"))
	t.Logf("exit %d in %s, peak RSS %d MiB", res.code, res.wall.Round(time.Millisecond), res.maxRSS>>10)
	if res.killed {
		t.Fatalf("no answer in %s: killed\nstderr: %s", exp.timeout, res.stderr)
	}
	if strings.Contains(res.stderr, "panic:") || strings.Contains(res.stderr, "goroutine ") {
		t.Errorf("it crashed:\n%s", res.stderr)
	}
	if res.code != exp.exit {
		t.Errorf("exit %d, want %d\nstderr: %s\nstdout: %.4000s", res.code, exp.exit, res.stderr, res.stdout)
	}
	limit := exp.maxRSS
	if limit == 0 {
		limit = defaultMaxRSS
	}
	if res.maxRSS>>10 > limit {
		t.Errorf("peak RSS %d MiB, over %d MiB", res.maxRSS>>10, limit)
	}
	for _, s := range exp.stderr {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, res.stderr)
		}
	}
	assertEmpty(t, tmp)

	if res.code != ExitFailed {
		checkFindings(t, exp, res.stdout)
	}
	for name, want := range exp.markers {
		_, err := os.Lstat(filepath.Join(marker, name))
		if got := err == nil; got != want {
			t.Errorf("%s: exists %v, want %v", filepath.Join("${MARKER}", name), got, want)
		}
	}

	if len(exp.mdLacks)+len(exp.mdHas) > 0 {
		md := runChild(t, exp.timeout, env, append(args, "--format", "markdown"))
		if md.killed || md.code != exp.exit {
			t.Fatalf("markdown run: exit %d (killed %v)\n%s", md.code, md.killed, md.stderr)
		}
		for _, s := range exp.mdLacks {
			if strings.Contains(md.stdout, s) {
				t.Errorf("the Markdown report holds %q:\n%s", s, md.stdout)
			}
		}
		for _, s := range exp.mdHas {
			if !strings.Contains(md.stdout, s) {
				t.Errorf("the Markdown report lacks %q:\n%s", s, md.stdout)
			}
		}
		assertEmpty(t, tmp)
	}
	if n := trap.count(); n > 0 {
		t.Errorf("%d connections to the network (through the HTTP(S)_PROXY trap)", n)
	}
}

// trap is a proxy that no one should use: every HTTP(S) request the run
// makes goes to it, and it counts them.
type trap struct {
	env []string
	mu  sync.Mutex
	n   int
}

func (tr *trap) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.n
}

func proxyTrap(t *testing.T) *trap {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tr := &trap{}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tr.mu.Lock()
			tr.n++
			tr.mu.Unlock()
			c.Close()
		}
	}()
	u := "http://" + l.Addr().String()
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
		tr.env = append(tr.env, k+"="+u)
	}
	tr.env = append(tr.env, "NO_PROXY=", "no_proxy=")
	return tr
}

func checkFindings(t *testing.T, exp advExpect, stdout string) {
	t.Helper()
	var rep struct {
		Findings []struct {
			Rule, File, Message string
			Line                int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%.4000s", err, stdout)
	}
	unmatched := append([]advWant(nil), exp.wants...)
	for _, f := range rep.Findings {
		i := -1
		for j, w := range unmatched {
			if w.rule == f.Rule && w.file == f.File && (w.line < 0 || w.line == f.Line) {
				i = j
				break
			}
		}
		if i < 0 {
			t.Errorf("unexpected finding %s %q:%d: %s", f.Rule, f.File, f.Line, f.Message)
			continue
		}
		unmatched = append(unmatched[:i], unmatched[i+1:]...)
	}
	for _, w := range unmatched {
		t.Errorf("missing finding %s", w)
	}
	for _, m := range exp.messages {
		found := false
		for _, f := range rep.Findings {
			found = found || f.Rule == m[0] && strings.Contains(f.Message, m[1])
		}
		if !found {
			t.Errorf("no %s finding says %q", m[0], m[1])
		}
	}
}

// childResult is one run of breakwater in a child process.
type childResult struct {
	code           int
	stdout, stderr string
	killed         bool
	wall           time.Duration
	maxRSS         int64 // KiB
}

// runChild runs breakwater's Main in a child process with env added,
// killed after timeout.
func runChild(t *testing.T, timeout time.Duration, env, args []string) childResult {
	t.Helper()
	rss := filepath.Join(t.TempDir(), "rss")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...),
		"BREAKWATER_TEST_CHILD="+strings.Join(args, "\x1f"), "BREAKWATER_CHILD_RSS="+rss)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(timeout, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	killed := !timer.Stop()
	res := childResult{stdout: stdout.String(), stderr: stderr.String(), killed: killed, wall: time.Since(t0)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(rss); err == nil {
		res.maxRSS, _ = strconv.ParseInt(string(b), 10, 64)
	}
	return res
}

// markerDir is where a case's SQL may write (${MARKER}): the server's
// user must be able to.
func markerDir(t testing.TB, dir string) string {
	t.Helper()
	m := filepath.Join(dir, "marker")
	if err := os.MkdirAll(m, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(m), filepath.Dir(filepath.Dir(m))} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(m, 0o777); err != nil {
		t.Fatal(err)
	}
	return m
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("left behind: %s", filepath.Join(dir, e.Name()))
	}
}

// buildCase makes the case's repository: base/ and gen.txt's base side
// committed, then the tree replaced by head/ and the head side.
func buildCase(t testing.TB, dir, marker string) (*testgit.Repo, string, string) {
	t.Helper()
	return buildCaseIn(t, dir, marker, t.TempDir())
}

func buildCaseIn(t testing.TB, dir, marker, repo string) (*testgit.Repo, string, string) {
	t.Helper()
	gen := readGen(t, dir)
	g := testgit.NewIn(t, repo)
	var ids []string
	for _, side := range []string{"base", "head"} {
		src := filepath.Join(dir, side)
		if _, err := os.Stat(src); err != nil {
			src = t.TempDir() // all of this side is in gen.txt
		}
		g.CopyTree(src)
		for _, d := range gen {
			if d.side == side || d.side == "both" {
				d.apply(t, g, marker)
			}
		}
		ids = append(ids, g.Commit(side))
	}
	return g, ids[0], ids[1]
}

// genDirective is one line of gen.txt.
type genDirective struct {
	line       int
	kind, side string
	args       []string
}

func readGen(t testing.TB, dir string) []genDirective {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "gen.txt"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []genDirective
	for n, line := range strings.Split(string(data), "\n") {
		f, err := splitQuoted(line)
		if err != nil {
			t.Fatalf("%s/gen.txt:%d: %v", dir, n+1, err)
		}
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 3 {
			t.Fatalf("%s/gen.txt:%d: cannot read %q", dir, n+1, line)
		}
		out = append(out, genDirective{line: n + 1, kind: f[0], side: f[1], args: f[2:]})
	}
	return out
}

func (d genDirective) apply(t testing.TB, g *testgit.Repo, marker string) {
	t.Helper()
	need := func(n int) {
		if len(d.args) != n {
			t.Fatalf("gen.txt:%d: %s takes %d arguments after the side, has %d", d.line, d.kind, n, len(d.args))
		}
	}
	num := func(s string) int {
		n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
		if err != nil {
			t.Fatalf("gen.txt:%d: %v", d.line, err)
		}
		return n
	}
	switch d.kind {
	case "file":
		need(2)
		g.Write(d.args[0], strings.ReplaceAll(d.args[1], "${MARKER}", marker))
	case "symlink":
		need(2)
		g.Symlink(d.args[1], d.args[0])
	case "dockerfile-line":
		need(2)
		g.Write(d.args[0], generated(d.kind, d.args[1:], func() string {
			const from = "FROM postgres:16-alpine AS "
			return from + strings.Repeat("a", max(num(d.args[1])-len(from), 1))
		}))
	case "compose-services":
		need(3)
		g.Write(d.args[0], generated(d.kind, d.args[1:], func() string {
			var b strings.Builder
			b.WriteString("services:\n")
			for i := range num(d.args[1]) {
				fmt.Fprintf(&b, "  s%d:\n    image: %s\n", i, d.args[2])
			}
			return b.String()
		}))
	case "yaml-laughs":
		need(4)
		g.Write(d.args[0], yamlLaughs(num(d.args[1]), d.args[2])+d.args[3])
	case "json-nest":
		need(2)
		depth := num(d.args[1])
		g.Write(d.args[0], strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth)+"\n")
	default:
		t.Fatalf("gen.txt:%d: unknown directive %q", d.line, d.kind)
	}
}

// generated keeps large generated content, made once per test binary.
func generated(kind string, args []string, make func() string) string {
	key := kind + "\x00" + strings.Join(args, "\x00")
	genMu.Lock()
	defer genMu.Unlock()
	if s, ok := genCache[key]; ok {
		return s
	}
	s := make()
	genCache[key] = s
	return s
}

var (
	genMu    sync.Mutex
	genCache = map[string]string{}
)

// yamlLaughs is the billion laughs: levels anchors of ten aliases each to
// the one before, 10^levels strings in all; under key unless it is "-".
func yamlLaughs(levels int, key string) string {
	var b strings.Builder
	indent := ""
	if key != "-" {
		fmt.Fprintf(&b, "%s:\n", key)
		indent = "  "
	}
	fmt.Fprintf(&b, "%sl0: &l0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n", indent)
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "%sl%d: &l%d [%s]\n", indent, i, i, strings.TrimSuffix(strings.Repeat(p+",", 10), ","))
	}
	return b.String()
}

func readAdvExpect(t testing.TB, dir string) advExpect {
	t.Helper()
	exp := advExpect{timeout: 30 * time.Second, markers: map[string]bool{}}
	data, err := os.ReadFile(filepath.Join(dir, "expect.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		f, err := splitQuoted(line)
		if err != nil {
			t.Fatalf("%s/expect.txt:%d: %v", dir, n, err)
		}
		bad := func() { t.Fatalf("%s/expect.txt:%d: cannot read %q", dir, n, line) }
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rest := textAfter(line, 1)
		switch f[0] {
		case "exit":
			if len(f) != 2 {
				bad()
			}
			exp.exit, err = strconv.Atoi(f[1])
			exp.seenExitToken = true
		case "args":
			exp.args = append(exp.args, f[1:]...)
		case "db":
			exp.db = true
		case "timeout":
			exp.timeout, err = time.ParseDuration(rest)
		case "max-rss":
			exp.maxRSS, err = strconv.ParseInt(rest, 10, 64)
		case "want":
			if len(f) != 3 {
				bad()
			}
			w := advWant{rule: f[1], file: f[2], line: -1}
			// PATH:LINE, where PATH may be quoted ("a\nb":3).
			if i := strings.LastIndexByte(w.file, ':'); i >= 0 {
				if ln, err := strconv.Atoi(w.file[i+1:]); err == nil {
					w.file, w.line = w.file[:i], ln
				}
			}
			exp.wants = append(exp.wants, w)
		case "message":
			if len(f) < 3 {
				bad()
			}
			exp.messages = append(exp.messages, [2]string{f[1], textAfter(line, 2)})
		case "stderr":
			exp.stderr = append(exp.stderr, rest)
		case "markdown-lacks":
			exp.mdLacks = append(exp.mdLacks, rest)
		case "markdown-has":
			exp.mdHas = append(exp.mdHas, rest)
		case "marker":
			if len(f) != 3 || (f[2] != "present" && f[2] != "absent") {
				bad()
			}
			exp.markers[f[1]] = f[2] == "present"
		default:
			bad()
		}
		if err != nil {
			t.Fatalf("%s/expect.txt:%d: %v", dir, n, err)
		}
	}
	if !exp.seenExitToken {
		t.Fatalf("%s/expect.txt: no exit line", dir)
	}
	return exp
}

// textAfter is the text of line after its first n fields: as written,
// or unquoted when it is one Go string literal.
func textAfter(line string, n int) string {
	s := strings.TrimSpace(line)
	for range n {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	if v, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		return v
	}
	return s
}

// splitQuoted splits a line into fields at spaces; a field that starts
// with a double quote is a Go string literal, and may be followed by more
// text up to the next space (`"a b":3` is `a b:3`).
func splitQuoted(line string) ([]string, error) {
	var out []string
	for s := strings.TrimSpace(line); s != ""; s = strings.TrimLeft(s, " \t") {
		if s[0] != '"' {
			i := strings.IndexAny(s, " \t")
			if i < 0 {
				i = len(s)
			}
			out = append(out, s[:i])
			s = s[i:]
			continue
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			return nil, fmt.Errorf("bad string literal at %q: %v", s, err)
		}
		v, _ := strconv.Unquote(q)
		s = s[len(q):]
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			i = len(s)
		}
		out = append(out, v+s[:i])
		s = s[i:]
	}
	return out, nil
}

// keepCases builds every case's repository under dir for the benchmark.
func keepCases(t *testing.T, dirs []string, out string) {
	for _, dir := range dirs {
		name := filepath.Base(dir)
		root := filepath.Join(out, name)
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(root, 0o755); err != nil {
			t.Fatal(err)
		}
		exp := readAdvExpect(t, dir)
		marker := markerDir(t, root)
		g, base, head := buildCaseIn(t, dir, marker, filepath.Join(root, "repo"))
		args := append([]string{"--base", base, "--head", head}, exp.args...)
		if err := os.WriteFile(filepath.Join(root, "args"), []byte(strings.Join(args, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, g.Dir)
	}
}
