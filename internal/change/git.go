package change

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// git runs one git command in dir and returns its stdout. Errors carry
// git's own stderr, which names the ref or object that is wrong.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = gitEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("git %s: %s", args[0], msg)
	}
	return stdout.Bytes(), nil
}

// gitEnv keeps git's output stable and non-interactive whatever the
// user's locale and configuration.
func gitEnv() []string {
	return append(os.Environ(), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0")
}

// catFile is one long-lived `git cat-file --batch`: a diff of thousands of
// files costs one process, not one per blob.
type catFile struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr bytes.Buffer
}

func startCatFile(dir string) (*catFile, error) {
	c := &catFile{}
	c.cmd = exec.Command("git", "cat-file", "--batch")
	c.cmd.Dir = dir
	c.cmd.Env = gitEnv()
	c.cmd.Stderr = &c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.stdout = bufio.NewReaderSize(out, 64<<10)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start git cat-file: %w", err)
	}
	return c, nil
}

// errMissing is returned for an object name git does not have.
var errMissing = errors.New("object missing")

// damaged names the file whose object a listed tree points at but git
// cannot read: a corrupt or missing object in the repository.
func damaged(path, commit string, err error) error {
	if !errors.Is(err, errMissing) {
		return err
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return fmt.Errorf("%s at %s: git cannot read its object, so the repository is damaged (git fsck says more): %w", path, commit, err)
}

// object is what cat-file says about one object. data is nil when the
// object is larger than the cap it was read with.
type object struct {
	typ  string
	size int64
	data []byte
}

// read fetches one object by name ("<oid>" or "<commit>:<path>"). Objects
// over max bytes are drained, not kept.
func (c *catFile) read(name string, max int64) (object, error) {
	if strings.ContainsAny(name, "\n\x00") {
		return object{}, fmt.Errorf("object name %q: %w", name, errMissing)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.stdin, name+"\n"); err != nil {
		return object{}, c.fail(err)
	}
	return c.readAnswer(name, max)
}

// readAnswer reads cat-file's answer about one object.
func (c *catFile) readAnswer(name string, max int64) (object, error) {
	header, err := c.stdout.ReadString('\n')
	if err != nil {
		return object{}, c.fail(err)
	}
	header = strings.TrimSuffix(header, "\n")
	if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
		return object{}, fmt.Errorf("%s: %w", name, errMissing)
	}
	f := strings.Fields(header)
	if len(f) != 3 {
		return object{}, fmt.Errorf("git cat-file: unexpected header %q", header)
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return object{}, fmt.Errorf("git cat-file: unexpected header %q", header)
	}
	obj := object{typ: f[1], size: size}
	if size > max {
		if _, err := io.CopyN(io.Discard, c.stdout, size+1); err != nil {
			return object{}, c.fail(err)
		}
		return obj, nil
	}
	obj.data = make([]byte, size+1) // content plus the trailing newline
	if _, err := io.ReadFull(c.stdout, obj.data); err != nil {
		return object{}, c.fail(err)
	}
	obj.data = obj.data[:size]
	return obj, nil
}

func (c *catFile) fail(err error) error {
	if msg := strings.TrimSpace(c.stderr.String()); msg != "" {
		return fmt.Errorf("git cat-file: %s", msg)
	}
	return fmt.Errorf("git cat-file: %w", err)
}

func (c *catFile) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stdin.Close()
	return c.cmd.Wait()
}

// readMany fetches many objects by ID with requests and answers in
// flight together: a writer feeds cat-file while the answers are read, so
// thousands of small blobs cost no round trip each. fn gets each object in
// order; objects over max come back with nil data.
func (c *catFile) readMany(oids []string, max int64, fn func(i int, obj object, err error) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, oid := range oids {
		if strings.ContainsAny(oid, "\n\x00 ") || oid == "" {
			return fmt.Errorf("object name %q: %w", oid, errMissing)
		}
	}
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(c.stdin, 64<<10)
		for _, oid := range oids {
			if _, err := w.WriteString(oid + "\n"); err != nil {
				werr <- err
				return
			}
		}
		werr <- w.Flush()
	}()
	var firstErr error
	for i, oid := range oids {
		obj, err := c.readAnswer(oid, max)
		if err != nil && !errors.Is(err, errMissing) {
			// The stream is out of step: nothing after this can be
			// trusted, and the writer may be stuck on a full pipe.
			c.cmd.Process.Kill()
			<-werr
			return err
		}
		if ferr := fn(i, obj, err); ferr != nil && firstErr == nil {
			firstErr = ferr
		}
	}
	if err := <-werr; err != nil {
		return c.fail(err)
	}
	return firstErr
}
