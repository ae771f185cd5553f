package change

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

var fullSHA = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// EnsureCommit makes a commit available locally. actions/checkout clones
// with depth 1, so the base of a pull request is usually missing; it is
// fetched alone, without tags or history.
func (r *Repo) EnsureCommit(ctx context.Context, sha string) error {
	if _, err := r.Resolve(ctx, sha); err == nil {
		return nil
	}
	if !fullSHA.MatchString(sha) {
		return fmt.Errorf("commit %q is not in the clone, and only a full commit SHA can be fetched", sha)
	}
	if _, err := git(ctx, r.root, "fetch", "--no-tags", "--no-recurse-submodules", "--depth=1", "origin", sha); err != nil {
		return fmt.Errorf("commit %.12s is not in the clone and could not be fetched from origin: %w", sha, err)
	}
	if _, err := r.Resolve(ctx, sha); err != nil {
		return fmt.Errorf("commit %.12s is still missing after a fetch: %w", sha, err)
	}
	return nil
}

// TrustDirectory marks dir as safe for git. The Actions workspace is owned
// by another user than the container's root, and git refuses to work in it
// otherwise. It is called before Open, which would fail without it.
func TrustDirectory(ctx context.Context, dir string) error {
	out, _ := git(ctx, os.TempDir(), "config", "--global", "--get-all", "safe.directory")
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) == dir {
			return nil
		}
	}
	_, err := git(ctx, os.TempDir(), "config", "--global", "--add", "safe.directory", dir)
	return err
}

// Entry is one file of a tree.
type Entry struct {
	Path, Mode, OID string
}

// Tree lists every file of a commit, or of the work tree for Worktree
// (tracked and untracked files that are not ignored).
func (r *Repo) Tree(ctx context.Context, commit string) ([]Entry, error) {
	if commit == Worktree {
		out, err := git(ctx, r.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
		if err != nil {
			return nil, err
		}
		var entries []Entry
		seen := map[string]bool{}
		for _, p := range strings.Split(string(out), "\x00") {
			if p != "" && !seen[p] {
				seen[p] = true
				entries = append(entries, Entry{Path: p})
			}
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
		return entries, nil
	}
	out, err := git(ctx, r.root, "ls-tree", "-r", "-z", "--full-tree", commit)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	for _, rec := range strings.Split(string(out), "\x00") {
		meta, p, ok := strings.Cut(rec, "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta)
		if len(f) != 3 {
			return nil, fmt.Errorf("git ls-tree: unexpected output %q", rec)
		}
		entries = append(entries, Entry{Path: p, Mode: f[0], OID: f[2]})
	}
	return entries, nil
}

// ReadEntry reads a file listed by Tree, with the same rules as ReadNew:
// no links out of the repository, no binaries, nothing over the cap.
func (r *Repo) ReadEntry(commit string, e Entry) ([]byte, error) {
	if commit == Worktree {
		return r.readWorktree(e.Path)
	}
	return r.readCommitted(commit, e.Path, e.Mode, e.OID)
}

// ReadEntries reads many files of a commit, as ReadEntry does, calling fn
// for each in order. Regular files are fetched in one pipelined batch;
// links, submodules and the work tree go one by one. An error from fn is
// returned after all files are read; a failure of git stops at once. fn
// must not read from the repository itself: the batch holds git's reader.
func (r *Repo) ReadEntries(commit string, entries []Entry, fn func(e Entry, data []byte, err error) error) error {
	var batch []int
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for i, e := range entries {
		if commit != Worktree && (e.Mode == "100644" || e.Mode == "100755") && e.OID != "" {
			batch = append(batch, i)
			continue
		}
		data, err := r.ReadEntry(commit, e)
		keep(fn(e, data, err))
	}
	oids := make([]string, len(batch))
	for j, i := range batch {
		oids[j] = entries[i].OID
	}
	err := r.cat.readMany(oids, r.MaxSize, func(j int, obj object, err error) error {
		e := entries[batch[j]]
		if err != nil {
			return fn(e, nil, damaged(e.Path, commit, err))
		}
		if obj.typ != "blob" {
			return fn(e, nil, &SkipError{e.Path, "not a regular file (" + obj.typ + ")"})
		}
		data, err := r.checkContent(e.Path, obj.size, obj.data)
		return fn(e, data, err)
	})
	keep(err)
	return firstErr
}
