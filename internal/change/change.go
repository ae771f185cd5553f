// Package change is the only package that runs git. It lists the files
// that changed between two commits and reads their old and new bytes
// straight from git objects, so the work tree never leaks into a check
// unless the caller asks for it with the WORKTREE head.
package change

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Worktree as a head ref compares the base commit with the files on disk.
const Worktree = "WORKTREE"

// DefaultMaxFileSize caps what is read of one file; larger files are
// skipped with a notice rather than slowing or exhausting the run.
const DefaultMaxFileSize = 4 << 20

// Git file modes that need care.
const (
	modeSymlink = "120000"
	modeGitlink = "160000"
)

// Status of a changed file, as git's diff --raw letters.
type Status byte

const (
	Added    Status = 'A'
	Modified Status = 'M'
	Deleted  Status = 'D'
	Renamed  Status = 'R'
	Copied   Status = 'C'
	TypeChg  Status = 'T'
)

func (s Status) String() string {
	switch s {
	case Added:
		return "added"
	case Modified:
		return "modified"
	case Deleted:
		return "deleted"
	case Renamed:
		return "renamed"
	case Copied:
		return "copied"
	case TypeChg:
		return "type changed"
	}
	return string(rune(s))
}

// File is one changed path. OldPath is empty for an added file and
// NewPath for a deleted one; both are set for the rest.
type File struct {
	Status           Status
	OldPath, NewPath string
	OldMode, NewMode string
	OldOID, NewOID   string
}

// Path is the head-side path, or the base-side path of a deletion.
func (f File) Path() string {
	if f.NewPath != "" {
		return f.NewPath
	}
	return f.OldPath
}

// IsSubmodule reports whether either side is a gitlink.
func (f File) IsSubmodule() bool { return f.OldMode == modeGitlink || f.NewMode == modeGitlink }

// SkipError says a file was deliberately not read, and why. Callers turn
// it into a notice; any other error from a read is a failure.
type SkipError struct {
	Path   string
	Reason string
}

func (e *SkipError) Error() string { return e.Path + ": skipped: " + e.Reason }

// Repo is an open git repository with one cat-file process behind it.
type Repo struct {
	root    string
	cat     *catFile
	MaxSize int64
}

// Open finds the top of the work tree that contains dir.
func Open(dir string) (*Repo, error) {
	out, err := git(context.Background(), dir, "rev-parse", "--show-toplevel")
	if err != nil {
		if _, statErr := os.Stat(dir); statErr != nil {
			return nil, fmt.Errorf("open repository: %w", statErr)
		}
		return nil, fmt.Errorf("%s is not inside a git work tree (%v)", dir, err)
	}
	root := strings.TrimSpace(string(out))
	cat, err := startCatFile(root)
	if err != nil {
		return nil, err
	}
	return &Repo{root: root, cat: cat, MaxSize: DefaultMaxFileSize}, nil
}

// Root is the top of the work tree.
func (r *Repo) Root() string { return r.root }

// Close stops the cat-file process.
func (r *Repo) Close() error { return r.cat.close() }

// Resolve turns a ref into a full commit ID.
func (r *Repo) Resolve(ctx context.Context, ref string) (string, error) {
	if ref == Worktree {
		return Worktree, nil
	}
	if strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("ref %q: refs may not start with '-'", ref)
	}
	out, err := git(ctx, r.root, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return "", fmt.Errorf("ref %q is not a commit in %s (in a shallow clone, fetch it first)", ref, r.root)
	}
	return strings.TrimSpace(string(out)), nil
}

// DefaultBase is the merge base of head with the default branch:
// origin/HEAD, else main, else master (local or origin's).
func (r *Repo) DefaultBase(ctx context.Context, head string) (string, error) {
	if head == Worktree {
		head = "HEAD"
	}
	var tried []string
	for _, cand := range []string{"origin/HEAD", "main", "origin/main", "master", "origin/master"} {
		if _, err := r.Resolve(ctx, cand); err != nil {
			tried = append(tried, cand)
			continue
		}
		out, err := git(ctx, r.root, "merge-base", cand, head)
		if err != nil {
			return "", fmt.Errorf("no merge base between %s and %s: pass --base REF", cand, head)
		}
		return strings.TrimSpace(string(out)), nil
	}
	return "", fmt.Errorf("cannot find the default branch (tried %s): pass --base REF", strings.Join(tried, ", "))
}

// Set is the change between two commits.
type Set struct {
	Base, Head string // resolved commit IDs; Head may be Worktree
	Files      []File
	repo       *Repo
}

// Diff lists what changed from base to head with rename detection.
func (r *Repo) Diff(ctx context.Context, base, head string) (*Set, error) {
	var (
		out []byte
		err error
	)
	if head == Worktree {
		out, err = git(ctx, r.root, "diff", "--raw", "-z", "-M", "--no-abbrev", "--no-ext-diff", base, "--")
	} else {
		out, err = git(ctx, r.root, "diff-tree", "-r", "-z", "-M", "--no-abbrev", base, head, "--")
	}
	if err != nil {
		return nil, err
	}
	files, err := parseRaw(out)
	if err != nil {
		return nil, err
	}
	if head == Worktree {
		untracked, err := git(ctx, r.root, "ls-files", "-z", "--others", "--exclude-standard")
		if err != nil {
			return nil, err
		}
		for _, p := range strings.Split(string(untracked), "\x00") {
			if p != "" {
				files = append(files, File{Status: Added, NewPath: p})
			}
		}
	}
	return &Set{Base: base, Head: head, Files: files, repo: r}, nil
}

// parseRaw reads `git diff --raw -z`: ":oldmode newmode oldoid newoid
// status\0path\0[newpath\0]".
func parseRaw(out []byte) ([]File, error) {
	parts := strings.Split(string(out), "\x00")
	var files []File
	for i := 0; i < len(parts); i++ {
		meta := parts[i]
		if meta == "" {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(meta, ":"))
		if len(f) != 5 || i+1 >= len(parts) {
			return nil, fmt.Errorf("git diff: unexpected output %q", meta)
		}
		file := File{Status: Status(f[4][0]), OldMode: f[0], NewMode: f[1], OldOID: f[2], NewOID: f[3]}
		i++
		switch file.Status {
		case Renamed, Copied:
			if i+1 >= len(parts) {
				return nil, fmt.Errorf("git diff: rename without a new path after %q", parts[i])
			}
			file.OldPath, file.NewPath = parts[i], parts[i+1]
			i++
		case Added:
			file.NewPath = parts[i]
		case Deleted:
			file.OldPath = parts[i]
		default:
			file.OldPath, file.NewPath = parts[i], parts[i]
		}
		if file.Status == Added {
			file.OldMode, file.OldOID = "", ""
		}
		if file.Status == Deleted {
			file.NewMode, file.NewOID = "", ""
		}
		if strings.Trim(file.NewOID, "0") == "" {
			file.NewOID = "" // the work tree side has no object yet
		}
		files = append(files, file)
	}
	return files, nil
}

// ReadOld reads the base-side bytes of f.
func (s *Set) ReadOld(f File) ([]byte, error) {
	if f.OldPath == "" {
		return nil, errors.New(f.Path() + ": no base side")
	}
	return s.repo.readCommitted(s.Base, f.OldPath, f.OldMode, f.OldOID)
}

// ReadNew reads the head-side bytes of f.
func (s *Set) ReadNew(f File) ([]byte, error) {
	if f.NewPath == "" {
		return nil, errors.New(f.Path() + ": no head side")
	}
	if s.Head == Worktree {
		return s.repo.readWorktree(f.NewPath)
	}
	return s.repo.readCommitted(s.Head, f.NewPath, f.NewMode, f.NewOID)
}

// ReadHead reads any path as it is on the head side, changed or not. It
// returns an error wrapping os.ErrNotExist when the path is absent.
func (s *Set) ReadHead(ctx context.Context, p string) ([]byte, error) {
	if s.Head == Worktree {
		return s.repo.readWorktree(p)
	}
	mode, oid, err := s.repo.lsTree(ctx, s.Head, p)
	if err != nil {
		return nil, err
	}
	return s.repo.readCommitted(s.Head, p, mode, oid)
}

// lsTree finds the mode and object of one path in a commit.
func (r *Repo) lsTree(ctx context.Context, commit, p string) (mode, oid string, err error) {
	out, err := git(ctx, r.root, "ls-tree", "-z", "--full-tree", commit, "--", p)
	if err != nil {
		return "", "", err
	}
	line, _, _ := strings.Cut(string(out), "\x00")
	meta, name, ok := strings.Cut(line, "\t")
	if !ok || name != p {
		return "", "", fmt.Errorf("%s: %w at %.12s", p, os.ErrNotExist, commit)
	}
	f := strings.Fields(meta)
	if len(f) != 3 {
		return "", "", fmt.Errorf("git ls-tree: unexpected output %q", line)
	}
	return f[0], f[2], nil
}

// maxLinkHops bounds symlink chains inside the tree.
const maxLinkHops = 8

// readCommitted reads a file from a commit, following symlinks only while
// they stay inside the repository.
func (r *Repo) readCommitted(commit, p, mode, oid string) ([]byte, error) {
	orig := p
	for hop := 0; ; hop++ {
		switch mode {
		case modeGitlink:
			return nil, &SkipError{orig, "submodule: its files are not checked"}
		case modeSymlink:
			if hop == maxLinkHops {
				return nil, &SkipError{orig, "too many levels of symbolic links"}
			}
			obj, err := r.cat.read(oid, 4096)
			if err != nil {
				return nil, damaged(p, commit, err)
			}
			target, ok := insideLink(p, string(obj.data))
			if obj.data == nil || !ok {
				return nil, &SkipError{orig, fmt.Sprintf("symlink to %q leaves the repository; not followed", string(obj.data))}
			}
			p = target
			if mode, oid, err = r.lsTree(context.Background(), commit, p); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, &SkipError{orig, fmt.Sprintf("symlink to %q points at nothing", target)}
				}
				return nil, err
			}
			continue
		}
		obj, err := r.cat.read(oid, r.MaxSize)
		if err != nil {
			return nil, damaged(p, commit, err)
		}
		if obj.typ != "blob" {
			return nil, &SkipError{orig, "not a regular file (" + obj.typ + ")"}
		}
		return r.checkContent(orig, obj.size, obj.data)
	}
}

// insideLink resolves a symlink target relative to the link's directory
// and reports whether it stays inside the repository.
func insideLink(link, target string) (string, bool) {
	if target == "" || path.IsAbs(target) || strings.ContainsRune(target, 0) {
		return "", false
	}
	p := path.Clean(path.Join(path.Dir(link), target))
	if p == ".." || strings.HasPrefix(p, "../") || p == "." {
		return "", false
	}
	return p, true
}

// readWorktree reads a file from disk, refusing links out of the tree.
func (r *Repo) readWorktree(p string) ([]byte, error) {
	full := filepath.Join(r.root, filepath.FromSlash(p))
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, lerr := os.Lstat(full); lerr == nil {
				return nil, &SkipError{p, "symlink points at nothing"}
			}
		}
		return nil, err
	}
	root, err := filepath.EvalSymlinks(r.root)
	if err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, &SkipError{p, "symlink leaves the repository; not followed"}
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, &SkipError{p, "a directory (submodule or nested repository): its files are not checked"}
	}
	if !fi.Mode().IsRegular() {
		return nil, &SkipError{p, "not a regular file"}
	}
	if fi.Size() > r.MaxSize {
		return r.checkContent(p, fi.Size(), nil)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return nil, err
	}
	return r.checkContent(p, int64(len(data)), data)
}

// checkContent applies the size cap and the binary test git itself uses:
// a NUL byte in the first 8000 bytes.
func (r *Repo) checkContent(p string, size int64, data []byte) ([]byte, error) {
	if size > r.MaxSize || data == nil && size > 0 {
		return nil, &SkipError{p, fmt.Sprintf("%d bytes is over the %d byte cap", size, r.MaxSize)}
	}
	head := data
	if len(head) > 8000 {
		head = head[:8000]
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return nil, &SkipError{p, "binary file"}
	}
	return data, nil
}
