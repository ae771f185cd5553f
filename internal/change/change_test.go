package change

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/testgit"
)

func open(t *testing.T, dir string) *Repo {
	t.Helper()
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func byPath(t *testing.T, s *Set) map[string]File {
	t.Helper()
	m := map[string]File{}
	for _, f := range s.Files {
		m[f.Path()] = f
	}
	return m
}

func TestDiffStatusesAndContent(t *testing.T) {
	g := testgit.New(t)
	g.Write("keep/Dockerfile", "FROM postgres:11\n")
	g.Write("old/Dockerfile", "FROM golang:1.22\nRUN echo a long enough body for rename detection\nRUN echo more\n")
	g.Write("gone/Dockerfile", "FROM alpine:3.19\n")
	base := g.Commit("base")
	g.Write("keep/Dockerfile", "FROM postgres:11-alpine\n")
	g.Remove("old")
	g.Write("new/Dockerfile", "FROM golang:1.22\nRUN echo a long enough body for rename detection\nRUN echo more\n")
	g.Remove("gone")
	g.Write("added/Dockerfile", "FROM debian:bookworm\n")
	head := g.Commit("head")

	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(t, s)
	want := map[string]Status{"keep/Dockerfile": Modified, "new/Dockerfile": Renamed, "gone/Dockerfile": Deleted, "added/Dockerfile": Added}
	if len(files) != len(want) {
		t.Fatalf("got %d files %v, want %d", len(files), files, len(want))
	}
	for p, st := range want {
		if files[p].Status != st {
			t.Errorf("%s: status %v, want %v", p, files[p].Status, st)
		}
	}
	if f := files["new/Dockerfile"]; f.OldPath != "old/Dockerfile" {
		t.Errorf("rename old path = %q", f.OldPath)
	}
	old, err := s.ReadOld(files["keep/Dockerfile"])
	if err != nil || string(old) != "FROM postgres:11\n" {
		t.Errorf("ReadOld = %q, %v", old, err)
	}
	cur, err := s.ReadNew(files["keep/Dockerfile"])
	if err != nil || string(cur) != "FROM postgres:11-alpine\n" {
		t.Errorf("ReadNew = %q, %v", cur, err)
	}
	if _, err := s.ReadNew(files["gone/Dockerfile"]); err == nil {
		t.Error("ReadNew of a deleted file succeeded")
	}
}

// The work tree must not leak into committed sides.
func TestCommittedSidesIgnoreWorktree(t *testing.T) {
	g := testgit.New(t)
	g.Write("Dockerfile", "FROM postgres:11\n")
	base := g.Commit("base")
	g.Write("Dockerfile", "FROM postgres:12\n")
	head := g.Commit("head")
	g.Write("Dockerfile", "FROM postgres:13\n") // uncommitted

	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadNew(s.Files[0])
	if err != nil || string(got) != "FROM postgres:12\n" {
		t.Fatalf("head side = %q, %v; want the committed bytes", got, err)
	}

	w, err := r.Diff(context.Background(), base, Worktree)
	if err != nil {
		t.Fatal(err)
	}
	got, err = w.ReadNew(w.Files[0])
	if err != nil || string(got) != "FROM postgres:13\n" {
		t.Fatalf("WORKTREE head side = %q, %v", got, err)
	}
}

func TestWorktreeIncludesUntracked(t *testing.T) {
	g := testgit.New(t)
	g.Write(".gitignore", "ignored/\n")
	base := g.Commit("base")
	g.Write("svc/Dockerfile", "FROM postgres:16\n")
	g.Write("ignored/Dockerfile", "FROM postgres:16\n")
	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, Worktree)
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(t, s)
	if _, ok := files["svc/Dockerfile"]; !ok {
		t.Errorf("untracked file missing: %v", files)
	}
	if _, ok := files["ignored/Dockerfile"]; ok {
		t.Errorf("ignored file listed: %v", files)
	}
}

func TestSkips(t *testing.T) {
	outside := t.TempDir() + "/secret"
	if err := os.WriteFile(outside, []byte("FROM secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := testgit.New(t)
	base := g.Commit("base")
	g.Write("real/Dockerfile", "FROM postgres:16\n")
	g.Symlink("../real/Dockerfile", "inside/Dockerfile")
	g.Symlink("/etc/passwd", "abs/Dockerfile")
	g.Symlink("../../outside", "rel/Dockerfile")
	g.Symlink(outside, "tmp/Dockerfile")
	g.Symlink("missing", "dangling/Dockerfile")
	g.Write("bin/Dockerfile", "FROM x\x00\x01")
	g.Write("big/Dockerfile", strings.Repeat("# padding\n", 200))
	head := g.Commit("head")

	r := open(t, g.Dir)
	r.MaxSize = 1000
	for _, headRef := range []string{head, Worktree} {
		s, err := r.Diff(context.Background(), base, headRef)
		if err != nil {
			t.Fatal(err)
		}
		files := byPath(t, s)
		got, err := s.ReadNew(files["inside/Dockerfile"])
		if err != nil || string(got) != "FROM postgres:16\n" {
			t.Errorf("%s: link inside the repo: %q, %v", headRef, got, err)
		}
		for _, p := range []string{"abs/Dockerfile", "rel/Dockerfile", "tmp/Dockerfile", "dangling/Dockerfile", "bin/Dockerfile", "big/Dockerfile"} {
			data, err := s.ReadNew(files[p])
			var skip *SkipError
			if !errors.As(err, &skip) {
				t.Errorf("%s: %s: got %q, %v; want a skip", headRef, p, data, err)
				continue
			}
			if skip.Path != p || skip.Reason == "" {
				t.Errorf("%s: skip = %+v", headRef, skip)
			}
		}
	}
}

func TestSubmoduleIsSkipped(t *testing.T) {
	sub := testgit.New(t)
	sub.Write("Dockerfile", "FROM postgres:16\n")
	sub.Commit("sub")
	g := testgit.New(t)
	base := g.Commit("base")
	g.Git("-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.Dir, "vendor/db")
	head := g.Commit("add submodule")
	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	f := byPath(t, s)["vendor/db"]
	if !f.IsSubmodule() {
		t.Fatalf("vendor/db not seen as a submodule: %+v", f)
	}
	var skip *SkipError
	if _, err := s.ReadNew(f); !errors.As(err, &skip) {
		t.Errorf("reading a submodule: %v, want a skip", err)
	}
}

func TestDefaultBase(t *testing.T) {
	g := testgit.New(t)
	g.Write("a", "1")
	fork := g.Commit("on main")
	g.Git("checkout", "-q", "-b", "feature")
	g.Write("a", "2")
	g.Commit("on feature")
	g.Git("checkout", "-q", "main")
	g.Write("b", "3")
	g.Commit("main moves on")
	g.Git("checkout", "-q", "feature")

	r := open(t, g.Dir)
	got, err := r.DefaultBase(context.Background(), "HEAD")
	if err != nil || got != fork {
		t.Fatalf("DefaultBase = %q, %v; want the fork point %s", got, err, fork)
	}

	g.Git("branch", "-m", "main", "trunk")
	_, err = r.DefaultBase(context.Background(), "HEAD")
	if err == nil || !strings.Contains(err.Error(), "--base") {
		t.Fatalf("without a default branch: %v; want an error naming --base", err)
	}
}

func TestResolveErrors(t *testing.T) {
	g := testgit.New(t)
	g.Commit("first")
	r := open(t, g.Dir)
	for _, ref := range []string{"nope", "--output=/tmp/x", "deadbeef"} {
		if _, err := r.Resolve(context.Background(), ref); err == nil {
			t.Errorf("Resolve(%q) succeeded", ref)
		}
	}
	if _, err := Open(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside a git work tree") {
		t.Errorf("Open(non-repo) = %v", err)
	}
}

func TestReadHead(t *testing.T) {
	g := testgit.New(t)
	base := g.Commit("base")
	g.Write(".breakwater.yml", "suppress: []\n")
	head := g.Commit("head")
	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.ReadHead(context.Background(), ".breakwater.yml"); err != nil || string(got) != "suppress: []\n" {
		t.Errorf("ReadHead = %q, %v", got, err)
	}
	if _, err := s.ReadHead(context.Background(), "absent.yml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadHead(absent) = %v, want ErrNotExist", err)
	}
}

func TestParseRawNames(t *testing.T) {
	// Paths with spaces, tabs and newlines come through -z intact.
	g := testgit.New(t)
	base := g.Commit("base")
	g.Write("we\nird/Docker file\t", "FROM x\n")
	head := g.Commit("head")
	r := open(t, g.Dir)
	s, err := r.Diff(context.Background(), base, head)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 1 || s.Files[0].NewPath != "we\nird/Docker file\t" {
		t.Fatalf("files = %+v", s.Files)
	}
	if got, err := s.ReadNew(s.Files[0]); err != nil || string(got) != "FROM x\n" {
		t.Errorf("ReadNew = %q, %v", got, err)
	}
}

// A depth-1 clone, as actions/checkout makes, lacks the base commit;
// EnsureCommit fetches it from origin.
func TestEnsureCommitFetchesIntoShallowClone(t *testing.T) {
	origin := testgit.New(t)
	origin.Write("Dockerfile", "FROM postgres:16-bookworm\n")
	base := origin.Commit("base")
	origin.Write("Dockerfile", "FROM postgres:16-alpine3.20\n")
	head := origin.Commit("head")
	origin.Git("config", "uploadpack.allowReachableSHA1InWant", "true")

	clone := t.TempDir()
	origin.Git("clone", "-q", "--depth=1", "--no-local", "file://"+origin.Dir, clone)
	r := open(t, clone)
	ctx := context.Background()
	if _, err := r.Resolve(ctx, base); err == nil {
		t.Fatal("the shallow clone already has the base commit; the test proves nothing")
	}
	if err := r.EnsureCommit(ctx, base); err != nil {
		t.Fatal(err)
	}
	s, err := r.Diff(ctx, base, head)
	if err != nil {
		t.Fatal(err)
	}
	old, err := s.ReadOld(s.Files[0])
	if err != nil || string(old) != "FROM postgres:16-bookworm\n" {
		t.Fatalf("base side = %q, %v", old, err)
	}
	if err := r.EnsureCommit(ctx, "0123456789abcdef0123456789abcdef01234567"); err == nil {
		t.Error("fetching a commit origin does not have succeeded")
	}
	if err := r.EnsureCommit(ctx, "main~3"); err == nil || !strings.Contains(err.Error(), "full commit SHA") {
		t.Errorf("EnsureCommit(main~3) = %v", err)
	}
}

func TestTree(t *testing.T) {
	g := testgit.New(t)
	g.Write("a/Dockerfile", "FROM postgres:16-bookworm\n")
	g.Write("b.txt", "x")
	head := g.Commit("one")
	g.Write("c/Dockerfile", "FROM postgres:17-bookworm\n") // untracked
	r := open(t, g.Dir)
	for commit, want := range map[string]string{head: "a/Dockerfile b.txt", Worktree: "a/Dockerfile b.txt c/Dockerfile"} {
		entries, err := r.Tree(context.Background(), commit)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, e := range entries {
			paths = append(paths, e.Path)
		}
		if got := strings.Join(paths, " "); got != want {
			t.Errorf("Tree(%.8s) = %q, want %q", commit, got, want)
		}
		data, err := r.ReadEntry(commit, entries[0])
		if err != nil || string(data) != "FROM postgres:16-bookworm\n" {
			t.Errorf("ReadEntry = %q, %v", data, err)
		}
	}
}

// ReadEntries gives the same answers as ReadEntry, file by file, for
// plain files, links in and out of the tree, binaries and big files.
func TestReadEntriesMatchesReadEntry(t *testing.T) {
	g := testgit.New(t)
	g.Write("a/Dockerfile", "FROM postgres:16-bookworm\n")
	g.Write("b/compose.yml", "services: {}\n")
	g.Symlink("../a/Dockerfile", "c/Dockerfile")
	g.Symlink("/etc/passwd", "d/Dockerfile")
	g.Write("e/Dockerfile", "FROM x\x00")
	g.Write("f/Dockerfile", strings.Repeat("# x\n", 400))
	for i := 0; i < 300; i++ {
		g.Write(fmt.Sprintf("many/%03d.yml", i), fmt.Sprintf("n: %d\n", i))
	}
	head := g.Commit("c")
	r := open(t, g.Dir)
	r.MaxSize = 1000
	for _, commit := range []string{head, Worktree} {
		entries, err := r.Tree(context.Background(), commit)
		if err != nil {
			t.Fatal(err)
		}
		type answer struct {
			data string
			err  error
		}
		got := map[string]answer{}
		err = r.ReadEntries(commit, entries, func(e Entry, data []byte, err error) error {
			got[e.Path] = answer{string(data), err}
			return nil
		})
		if err != nil || len(got) != len(entries) {
			t.Fatalf("%.8s: ReadEntries = %v after %d of %d", commit, err, len(got), len(entries))
		}
		for _, e := range entries {
			want, wantErr := r.ReadEntry(commit, e)
			if a := got[e.Path]; a.data != string(want) || (a.err == nil) != (wantErr == nil) {
				t.Errorf("%s: batch %q, %v; one by one %q, %v", e.Path, a.data, a.err, want, wantErr)
			}
		}
	}
}
