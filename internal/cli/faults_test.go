package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// Faults in git: each is a clear error and exit 2, never a report.
func TestGitFaults(t *testing.T) {
	notRepo := t.TempDir()

	origin := testgit.New(t)
	origin.Write("db/Dockerfile", "FROM postgres:16-bookworm\n")
	base := origin.Commit("base")
	origin.Write("db/Dockerfile", "FROM postgres:16-alpine\n")
	origin.Commit("head")
	shallow := filepath.Join(t.TempDir(), "shallow")
	origin.Git("clone", "-q", "--depth=1", "--no-local", "file://"+origin.Dir, shallow)
	if out, err := exec.Command("git", "-C", shallow, "remote", "remove", "origin").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}

	corrupt := testgit.New(t)
	corrupt.Write("db/Dockerfile", "FROM postgres:16-bookworm\n")
	cbase := corrupt.Commit("base")
	corrupt.Write("db/Dockerfile", "FROM postgres:16-alpine\n")
	corrupt.Commit("head")
	blob := strings.TrimSpace(corrupt.Git("rev-parse", "HEAD:db/Dockerfile"))
	obj := filepath.Join(corrupt.Dir, ".git", "objects", blob[:2], blob[2:])
	if err := os.Chmod(obj, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(obj, []byte("not zlib"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not a work tree", []string{"--repo", notRepo}, "is not inside a git work tree"},
		{"base missing from a shallow clone with no remote", []string{"--repo", shallow, "--base", base},
			`--base: ref "` + base + `" is not a commit in ` + shallow + ` (in a shallow clone, fetch it first)`},
		{"corrupt object", []string{"--repo", corrupt.Dir, "--base", cbase, "--db", "never"}, "db/Dockerfile at "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), append([]string{"check", "--quiet"}, tc.args...), &stdout, &stderr)
			if code != ExitFailed {
				t.Errorf("exit %d, want %d", code, ExitFailed)
			}
			if stdout.Len() > 0 {
				t.Errorf("a failed run printed a report:\n%s", stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q, want it to say %q", stderr.String(), tc.want)
			}
		})
	}
}

// An external database that cannot be reached fails the run (exit 2),
// says which checks could not run, and never prints the password.
func TestUnreachableDatabase(t *testing.T) {
	g := testgit.New(t)
	g.Write("db/migrations/001_t.up.sql", "CREATE TABLE t (id int);\n")
	base := g.Commit("base")
	g.Write("db/migrations/002_u.up.sql", "CREATE TABLE u (id int);\n")
	head := g.Commit("head")
	const password = "s3cr3t-Pa55"
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"check", "--repo", g.Dir, "--base", base, "--head", head,
		"--postgres-url", "postgres://app:" + password + "@127.0.0.1:1/app?connect_timeout=2"}, &stdout, &stderr)
	if code != ExitFailed {
		t.Errorf("exit %d, want %d", code, ExitFailed)
	}
	all := stdout.String() + stderr.String()
	if strings.Contains(all, password) {
		t.Errorf("the password was printed:\n%s", all)
	}
	if !strings.Contains(stderr.String(), "the migration checks on a real Postgres could not run") {
		t.Errorf("stderr does not say which checks could not run:\n%s", stderr.String())
	}
	if strings.Contains(stdout.String(), "findings") {
		t.Errorf("a failed run printed a report:\n%s", stdout.String())
	}
}

// The postmaster killed in the middle of the upgrade path: exit 2, no
// report, and no process or temp dir left.
func TestPostmasterKilled(t *testing.T) {
	c, tmp := slowCheck(t)
	c.waitFor("base migrations applied")
	time.Sleep(300 * time.Millisecond)
	// Every cluster of the child: the upgrade path's and the head-only one.
	pids, _ := filepath.Glob(filepath.Join(tmp, "breakwater-pg-*", "data", "postmaster.pid"))
	if len(pids) == 0 {
		c.cmd.Process.Kill()
		_, log := c.wait(t)
		t.Fatalf("no postmaster.pid under %s\n%s", tmp, log)
	}
	for _, p := range pids {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	code, log := c.wait(t)
	if code != ExitFailed {
		t.Errorf("exit %d, want %d\n%s", code, ExitFailed, log)
	}
	if strings.Contains(c.stdout.String(), `"findings"`) {
		t.Errorf("a run whose server died printed a report: %s", c.stdout.String())
	}
	if !strings.Contains(log, "could not run") {
		t.Errorf("stderr does not say which checks could not run:\n%s", log)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "breakwater-pg-*")); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
