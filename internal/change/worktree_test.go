package change

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

// A worktree holds exactly the commit's files, not the work tree's, and
// removing it leaves neither a directory nor a registration behind.
func TestWorktreeAddRemove(t *testing.T) {
	g := testgit.New(t)
	g.Write("db/1.sql", "CREATE TABLE t (id int);\n")
	base := g.Commit("base")
	g.Write("db/2.sql", "ALTER TABLE t ADD x int;\n")
	g.Commit("head")
	g.Write("db/1.sql", "uncommitted\n")
	g.Write("untracked.txt", "x\n")

	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	dir, remove, err := r.AddWorktree(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(dir), "breakwater-wt-") {
		t.Errorf("dir %s", dir)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "db/1.sql")); err != nil || string(b) != "CREATE TABLE t (id int);\n" {
		t.Errorf("db/1.sql = %q, %v", b, err)
	}
	for _, p := range []string{"db/2.sql", "untracked.txt"} {
		if _, err := os.Stat(filepath.Join(dir, p)); !os.IsNotExist(err) {
			t.Errorf("%s in the base worktree: %v", p, err)
		}
	}
	if list := g.Git("worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 2 {
		t.Errorf("worktree list while added:\n%s", list)
	}

	// What a migrating tool leaves in its tree goes too.
	os.WriteFile(filepath.Join(dir, "db/schema.rb"), []byte("dumped"), 0o644)
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if err := remove(); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("worktree dir still there: %v", err)
	}
	if list := g.Git("worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 1 {
		t.Errorf("worktree list after remove:\n%s", list)
	}
	if b, _ := os.ReadFile(filepath.Join(g.Dir, "db/1.sql")); string(b) != "uncommitted\n" {
		t.Errorf("the user's work tree changed: %q", b)
	}
}

// A ref that resolves works as well as a SHA; the work tree side is the
// work tree itself, which remove must not touch.
func TestWorktreeRefAndWorktreeSide(t *testing.T) {
	g := testgit.New(t)
	g.Write("a.txt", "one\n")
	g.Commit("one")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()

	dir, remove, err := r.AddWorktree(ctx, "main")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a.txt")); err != nil || string(b) != "one\n" {
		t.Errorf("a.txt = %q, %v", b, err)
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}

	dir, remove, err = r.AddWorktree(ctx, Worktree)
	if err != nil {
		t.Fatal(err)
	}
	if dir != r.Root() {
		t.Errorf("work tree side in %s, want %s", dir, r.Root())
	}
	if err := remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.Root(), "a.txt")); err != nil {
		t.Errorf("remove of the work tree side touched it: %v", err)
	}
}

// A commit that is not there is an error that names it, and leaves no
// temporary directory or registration behind.
func TestWorktreeBadCommit(t *testing.T) {
	g := testgit.New(t)
	g.Write("a.txt", "one\n")
	g.Commit("one")
	r, err := Open(g.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, bad := range []string{"0123456789abcdef0123456789abcdef01234567", "no-such-branch", "--orphan"} {
		_, _, err := r.AddWorktree(context.Background(), bad)
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("AddWorktree(%q): %v", bad, err)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("temp dirs left: %v", left)
	}
	if list := g.Git("worktree", "list", "--porcelain"); strings.Count(list, "worktree ") != 1 {
		t.Errorf("worktree list:\n%s", list)
	}
}
