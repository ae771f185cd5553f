package cli

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// The child hook: breakwater's main, run in a child process by the
// tests that need a process of its own (a signal, a killed server, two
// checks at once, a memory ceiling). With BREAKWATER_CHILD_RSS set it
// then writes its peak RSS (VmHWM) to that file: the child's rusage would
// not do, as it inherits the high-water mark of the test binary, whose
// address space the child starts in.
func init() {
	args := os.Getenv("BREAKWATER_TEST_CHILD")
	if args == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr)
	stop()
	pg.Shutdown()
	if file := os.Getenv("BREAKWATER_CHILD_RSS"); file != "" {
		if status, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(status), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					os.WriteFile(file, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))), 0o644)
				}
			}
		}
	}
	os.Exit(code)
}

// childRun is breakwater run by the child hook above, its stderr read
// line by line as it comes.
type childRun struct {
	cmd    *exec.Cmd
	stdout strings.Builder
	lines  chan string
	mu     sync.Mutex
	log    []string
	done   chan struct{}
}

// privateTMP is a TMPDIR for a child, so other tests' servers cannot be
// taken for its leftovers; the postgres user must be able to reach it.
func privateTMP(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}

func startChild(t *testing.T, args []string, env ...string) *childRun {
	t.Helper()
	c := &childRun{lines: make(chan string, 1000), done: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(append(os.Environ(), "BREAKWATER_TEST_CHILD="+strings.Join(args, "\x1f")), env...)
	c.cmd.Stdout = &c.stdout
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.log = append(c.log, sc.Text())
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
	}()
	return c
}

// waitFor blocks until the child logs a line holding text, or ends.
func (c *childRun) waitFor(text string) {
	for line := range c.lines {
		if strings.Contains(line, text) {
			return
		}
	}
}

// wait returns the exit code and the whole log once the child is done.
func (c *childRun) wait(t *testing.T) (int, string) {
	t.Helper()
	<-c.done
	err := c.cmd.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	log := strings.Join(c.log, "\n")
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, log
	case errors.As(err, &exit):
		return exit.ExitCode(), log
	}
	t.Fatalf("child: %v\n%s", err, log)
	return 0, log
}

// slowCheck starts a check whose new migration sleeps for a minute, in
// a child with a TMPDIR of its own.
func slowCheck(t *testing.T) (*childRun, string) {
	t.Helper()
	pgtest.Binaries(t)
	g := testgit.New(t)
	g.Write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n")
	base := g.Commit("base")
	g.Write("db/migrations/002_slow.up.sql", "SELECT pg_sleep(60);\n")
	head := g.Commit("head")
	tmp := privateTMP(t)
	return startChild(t, []string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json"}, "TMPDIR="+tmp), tmp
}

// SIGTERM in the middle of a migration ends the run as a failure (exit
// 2, never "no findings") and leaves no server and no temp dir behind.
func TestInterruptMidMigration(t *testing.T) {
	c, tmp := slowCheck(t)
	// The base migration applied means the head's pg_sleep is next.
	c.waitFor("base migrations applied")
	time.Sleep(500 * time.Millisecond)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, log := c.wait(t)
	if code != ExitFailed {
		t.Errorf("exit %d, want %d\nstderr:\n%s\nstdout: %s", code, ExitFailed, log, c.stdout.String())
	}
	if strings.Contains(c.stdout.String(), `"findings"`) {
		t.Errorf("an interrupted run printed a report: %s", c.stdout.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "breakwater-pg-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
