package change

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// worktreeCleanupTimeout bounds the git calls of a remove: it runs on the
// way out, often after the run's own context is cancelled, so it cannot
// use that context.
const worktreeCleanupTimeout = time.Minute

// AddWorktree checks commit out, detached, in a new temporary directory,
// so a command that migrates (an ORM's) can run in the tree of one side
// without touching the user's work tree or index. For the Worktree side
// the work tree itself is that tree: it returns the root and a remove that
// does nothing. remove may be called more than once; it always returns
// the first call's error.
func (r *Repo) AddWorktree(ctx context.Context, commit string) (dir string, remove func() error, err error) {
	if commit == Worktree {
		return r.root, func() error { return nil }, nil
	}
	// Resolve first: it refuses option-like names and its error names the
	// ref, where git worktree add would only say "invalid reference".
	oid, err := r.Resolve(ctx, commit)
	if err != nil {
		return "", nil, err
	}
	dir, err = os.MkdirTemp("", "breakwater-wt-")
	if err != nil {
		return "", nil, fmt.Errorf("worktree for %s: %w", commit, err)
	}
	// Hooks are the user's tooling for their own checkouts (husky and the
	// like install dependencies on post-checkout); they have no business
	// in a scratch tree.
	if _, err := git(ctx, r.root, "-c", "core.hooksPath=/dev/null", "worktree", "add", "--detach", dir, oid); err != nil {
		// A half-made worktree may already be registered.
		r.removeWorktree(dir)
		return "", nil, fmt.Errorf("worktree for %s: %w", commit, err)
	}
	var once sync.Once
	var rerr error
	remove = func() error {
		once.Do(func() { rerr = r.removeWorktree(dir) })
		return rerr
	}
	return dir, remove, nil
}

// removeWorktree takes a worktree away however far it got. git worktree
// remove fails on a tree a command left in a state git dislikes (or one
// never registered); RemoveAll and prune then clean up what it left, so
// only their errors count.
func (r *Repo) removeWorktree(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), worktreeCleanupTimeout)
	defer cancel()
	git(ctx, r.root, "worktree", "remove", "--force", dir)
	rmErr := removeAll(dir)
	_, pruneErr := git(ctx, r.root, "worktree", "prune")
	if err := errors.Join(rmErr, pruneErr); err != nil {
		return fmt.Errorf("remove worktree %s: %w", dir, err)
	}
	return nil
}

// removeAll is os.RemoveAll that also takes read-only directories, which
// tools leave behind (Go's module cache is one) and which RemoveAll cannot
// empty when not running as root.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
