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
	"syscall"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pgtest"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// interruptChild is breakwater's main, run in a child process by
// TestInterruptMidMigration.
func init() {
	if os.Getenv("BREAKWATER_INTERRUPT_CHILD") == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, strings.Split(os.Getenv("BREAKWATER_INTERRUPT_CHILD"), "\x1f"), os.Stdout, os.Stderr)
	stop()
	pg.Shutdown()
	os.Exit(code)
}

// SIGTERM in the middle of a migration ends the run as a failure (exit
// 2, never "no findings") and leaves no server and no temp dir behind.
func TestInterruptMidMigration(t *testing.T) {
	pgtest.Binaries(t)
	g := testgit.New(t)
	g.Write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n")
	base := g.Commit("base")
	g.Write("db/migrations/002_slow.up.sql", "SELECT pg_sleep(60);\n")
	head := g.Commit("head")

	// The child's clusters go to a temp dir of its own, so other tests'
	// servers cannot be taken for its leftovers. The postgres user must be
	// able to reach it.
	tmp := t.TempDir()
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := strings.Join([]string{"check", "--repo", g.Dir, "--base", base, "--head", head, "--format", "json"}, "\x1f")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BREAKWATER_INTERRUPT_CHILD="+args, "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The base migration applied means the head's pg_sleep is next.
	sc := bufio.NewScanner(stderr)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
		if strings.Contains(sc.Text(), "base migrations applied") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != ExitFailed {
		t.Errorf("exit: %v, want code %d\nstderr so far:\n%s\nstdout: %s", err, ExitFailed, strings.Join(log, "\n"), stdout.String())
	}
	if strings.Contains(stdout.String(), `"findings"`) {
		t.Errorf("an interrupted run printed a report: %s", stdout.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "breakwater-pg-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
