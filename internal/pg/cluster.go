package pg

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a server to run scenarios on: a throwaway one started by
// StartThrowaway or an existing one from External.
type Cluster struct {
	dsn   string
	major int

	mu      sync.Mutex
	timeout time.Duration

	// Throwaway only.
	bin          Binaries
	locale       string
	initdbRan    bool
	base         string // temp dir holding data, socket and log
	dataDir      string
	logPath      string
	cred         *syscall.Credential
	args         []string // postgres command line, kept for Restart
	startTimeout time.Duration
	cmd          *exec.Cmd
	exited       chan struct{} // closed when the postmaster has been reaped
	closeOnce    sync.Once
	closeErr     error
}

// DSN is a URL. For a throwaway cluster it names the socket dir as host,
// user postgres, database postgres, and no password. For an external one
// it is the URL given, password included: pass it through Redact before
// printing it.
func (c *Cluster) DSN() string { return c.dsn }

// Major is the server's major version.
func (c *Cluster) Major() int { return c.major }

// Locale is the locale the throwaway cluster was initialised with, "" for
// an external one.
func (c *Cluster) Locale() string { return c.locale }

// InitdbRan says whether the data dir came from initdb rather than the
// template cache.
func (c *Cluster) InitdbRan() bool { return c.initdbRan }

// Pid is the postmaster's pid, 0 for an external cluster.
func (c *Cluster) Pid() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// TempDir is the throwaway cluster's private dir (data, socket, log); it
// is removed by Close.
func (c *Cluster) TempDir() string { return c.base }

// LogPath is the throwaway server's log file.
func (c *Cluster) LogPath() string { return c.logPath }

// StatementTimeout applies to sessions opened after it is set.
func (c *Cluster) StatementTimeout() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// SetStatementTimeout sets the statement_timeout of sessions opened from
// now on (Scenario); an open DB has its own SetStatementTimeout.
func (c *Cluster) SetStatementTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	c.mu.Unlock()
}

// ThrowawayOptions configures StartThrowaway. The zero value works.
type ThrowawayOptions struct {
	// Bin defaults to FindBinaries("").
	Bin Binaries
	// Locale for initdb --locale; "" picks en_US.UTF-8 when the system has
	// it, else C.UTF-8, which glibc always ships.
	Locale string
	// CacheDir holds initdb'd template data dirs; default
	// os.UserCacheDir()/breakwater/pg-templates.
	CacheDir string
	// NoCache always runs initdb and leaves the cache alone.
	NoCache bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Extra are server settings "name=value", each passed as -c.
	Extra []string
	// Env is added to the environment of initdb and postgres (LOCPATH to
	// reproduce a locale change). It is part of the template cache key.
	Env []string
	// StartTimeout bounds the wait for the server to accept connections;
	// default 30 s.
	StartTimeout time.Duration
}

// StartThrowaway creates a cluster in a temp dir and starts it as a child
// process with durability off. Close stops it and removes the dir.
func StartThrowaway(ctx context.Context, opts ThrowawayOptions) (_ *Cluster, err error) {
	t0 := time.Now()
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "pg: "+format+"\n", args...) }

	bin := opts.Bin
	if bin.Dir == "" {
		if bin, err = FindBinaries(""); err != nil {
			return nil, err
		}
	} else if bin.Version == "" || bin.Full == "" {
		if bin, err = probeBinaries(bin.Dir); err != nil {
			return nil, err
		}
	}
	locale := opts.Locale
	if locale == "" {
		locale = defaultLocale()
		if locale == "en_US.UTF-8" {
			logf("locale %s", locale)
		} else {
			logf("locale %s (en_US.UTF-8 is not installed)", locale)
		}
	} else {
		logf("locale %s", locale)
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}

	removeStaleDirs(logf)
	base, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("pg: %w", err)
	}
	if err := os.WriteFile(filepath.Join(base, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("pg: %w", err)
	}
	cl := &Cluster{
		bin:     bin,
		major:   bin.Major,
		locale:  locale,
		base:    base,
		dataDir: filepath.Join(base, "data"),
		logPath: filepath.Join(base, "postgres.log"),
		timeout: DefaultStatementTimeout,
	}
	defer func() {
		if err != nil {
			cl.Close()
		}
	}()
	// The server runs as another user when we are root; it must be able
	// to traverse down to its data dir and socket, but nothing else of
	// ours needs to be readable.
	if err := os.Chmod(base, 0o711); err != nil {
		return nil, fmt.Errorf("pg: %w", err)
	}
	if cred != nil {
		if err := checkTraversable(base); err != nil {
			return nil, err
		}
	}
	sock := filepath.Join(base, "sock")
	if err := mkdirOwned(sock, cred); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// sun_path is 108 bytes on Linux.
	if n := len(sock) + len("/.s.PGSQL.") + len(strconv.Itoa(port)); n >= 108 {
		return nil, fmt.Errorf("pg: socket path under %s is %d bytes, too long for a Unix socket; set TMPDIR to a shorter dir", base, n)
	}
	env := childEnv(opts.Env)

	if err := cl.prepareData(ctx, opts, cred, env, logf); err != nil {
		return nil, err
	}

	cl.args = []string{"-D", cl.dataDir, "-k", sock, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
	for _, s := range opts.Extra {
		cl.args = append(cl.args, "-c", s)
	}
	cl.cred = cred
	cl.startTimeout = opts.StartTimeout
	if cl.startTimeout == 0 {
		cl.startTimeout = 30 * time.Second
	}
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres"}
	u.RawQuery = "host=" + url.QueryEscape(sock) + "&port=" + strconv.Itoa(port) + "&sslmode=disable"
	cl.dsn = u.String()

	if err := cl.startServer(ctx, env); err != nil {
		return nil, err
	}
	how := "from template"
	if cl.initdbRan {
		how = "after initdb"
	}
	logf("PostgreSQL %s ready in %s (%s), pid %d", bin.Version, time.Since(t0).Round(time.Millisecond), how, cl.Pid())
	return cl, nil
}

// startServer runs the postmaster with cl.args and waits until it takes
// connections.
func (cl *Cluster) startServer(ctx context.Context, env []string) error {
	logFile, err := os.OpenFile(cl.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(cl.bin.Dir, "postgres"), cl.args...)
	cmd.Env = env
	cmd.Dir = cl.base
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cl.cred,
		// If breakwater dies without running Shutdown, the kernel takes
		// the server down with it. Go sets this after the uid change,
		// which would otherwise clear it.
		Pdeathsig: syscall.SIGKILL,
		// Its own process group, so a terminal's Ctrl-C reaches only
		// breakwater, which then stops the server in order.
		Setpgid: true,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pg: start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	cl.cmd, cl.exited = cmd, exited
	if !register(cl) {
		return errors.New("pg: shutting down")
	}
	return cl.waitReady(ctx, cl.startTimeout)
}

// Restart stops the server and starts it again on the same data dir,
// with env added to the environment instead of ThrowawayOptions.Env.
// That is how a locale change is reproduced: build data under
// LOCPATH=dirA, restart under LOCPATH=dirB. Open sessions are cut; the
// DSN stays the same. Not to be called concurrently with Close.
func (cl *Cluster) Restart(ctx context.Context, env []string) error {
	if cl.base == "" {
		return errors.New("pg: Restart needs a throwaway cluster")
	}
	cl.stop()
	return cl.startServer(ctx, childEnv(env))
}

// prepareData fills the data dir from the template cache, or by initdb
// (then saving the result as a template).
func (cl *Cluster) prepareData(ctx context.Context, opts ThrowawayOptions, cred *syscall.Credential, env []string, logf func(string, ...any)) error {
	var cacheDir, key string
	if !opts.NoCache {
		cacheDir = opts.CacheDir
		if cacheDir == "" {
			if d, err := os.UserCacheDir(); err == nil {
				cacheDir = filepath.Join(d, "breakwater", "pg-templates")
			}
		}
		key = templateKey(cl.bin, cl.locale, opts.Env)
	}
	if cacheDir != "" {
		tmpl := filepath.Join(cacheDir, key)
		if _, err := os.Stat(filepath.Join(tmpl, "PG_VERSION")); err == nil {
			t := time.Now()
			err := copyTree(tmpl, cl.dataDir, cred)
			if err == nil {
				logf("data dir copied from template %s in %s", tmpl, time.Since(t).Round(time.Millisecond))
				return nil
			}
			logf("template %s unusable (%v); running initdb", tmpl, err)
			os.RemoveAll(cl.dataDir)
		}
	}

	t := time.Now()
	if err := mkdirOwned(cl.dataDir, cred); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(cl.bin.Dir, "initdb"),
		"-D", cl.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale="+cl.locale, "--no-sync",
		// 1 MB WAL segments, not 16: the template copy is half WAL
		// otherwise, and a throwaway cluster never archives.
		"--wal-segsize=1")
	cmd.Env = env
	cmd.Dir = cl.base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg: initdb --locale=%s: %w\n%s", cl.locale, err, tail(out, 20))
	}
	cl.initdbRan = true
	logf("initdb (PostgreSQL %s) took %s", cl.bin.Version, time.Since(t).Round(time.Millisecond))

	if cacheDir != "" {
		if err := saveTemplate(cl.dataDir, cacheDir, key); err != nil {
			logf("could not save template: %v", err)
		} else {
			logf("saved template %s", filepath.Join(cacheDir, key))
		}
	}
	return nil
}

// templateKey names a template by everything that changes initdb's
// output: the exact build, the locale and the environment (LOCPATH).
func templateKey(bin Binaries, locale string, env []string) string {
	h := sha256.New()
	// v2: initdb --wal-segsize=1.
	fmt.Fprintf(h, "v2\x00%s\x00%s\x00%s", bin.Full, locale, strings.Join(env, "\x00"))
	return fmt.Sprintf("pg%s-%s-%s", bin.Version, sanitizeName(locale), hex.EncodeToString(h.Sum(nil))[:12])
}

// saveTemplate copies a fresh data dir into the cache. The copy goes to a
// temp dir inside cacheDir and is renamed into place, so readers never
// see half a template; if another run renamed first, its copy is as good.
// initdb does not run in cacheDir itself because as root that is under
// /root, which the postgres user cannot enter.
func saveTemplate(dataDir, cacheDir, key string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	cleanStaleTemps(cacheDir)
	tmp, err := os.MkdirTemp(cacheDir, ".tmp-"+key+"-")
	if err != nil {
		return err
	}
	if err := copyTree(dataDir, tmp, nil); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	final := filepath.Join(cacheDir, key)
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(filepath.Join(final, "PG_VERSION")); serr == nil {
			return nil
		}
		return err
	}
	return nil
}

const (
	tempPrefix = "breakwater-pg-"
	ownerFile  = "breakwater.pid"
)

// removeStaleDirs removes the temp dirs of earlier runs that were killed
// before Close or Shutdown could run (Pdeathsig stops their server but
// cannot remove files). A dir goes only when both its owner and its
// postmaster are gone; a reused pid keeps a dir, which is the safe way
// to be wrong.
func removeStaleDirs(logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		if !pidFileDead(filepath.Join(d, ownerFile)) {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "data", "postmaster.pid")); err == nil && !pidFileDead(filepath.Join(d, "data", "postmaster.pid")) {
			continue
		}
		if err := os.RemoveAll(d); err == nil {
			logf("removed %s, left by a run that was killed", d)
		}
	}
}

// pidFileDead reads a pid from the first line of file and says whether
// that process is gone. Unreadable files count as alive.
func pidFileDead(file string) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	return processGone(pid)
}

// processGone treats a zombie as gone: it holds no files, and once its
// parent is dead, reaping it is up to PID 1, which can take seconds.
func processGone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] == 'Z'
	}
	return false
}

// cleanStaleTemps removes temp dirs left by runs that died mid-copy.
func cleanStaleTemps(cacheDir string) {
	ents, _ := os.ReadDir(cacheDir)
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".tmp-") {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(filepath.Join(cacheDir, e.Name()))
		}
	}
}

// copyTree copies src into dst (which may exist), keeping modes, and
// gives everything to cred's user when cred is set. Files are copied by a
// few goroutines: a data dir is ~1000 small files, and on an idle disk the
// time goes to per-file syscalls.
func copyTree(src, dst string, cred *syscall.Credential) error {
	type job struct {
		from, to string
		perm     fs.FileMode
	}
	chown := func(p string) error {
		if cred == nil {
			return nil
		}
		return os.Lchown(p, int(cred.Uid), int(cred.Gid))
	}
	var files []job
	// Directories and symlinks first, in walk order, so every file's
	// parent exists before the workers start.
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil && !os.IsExist(err) {
				return err
			}
			if err := os.Chmod(target, info.Mode().Perm()); err != nil {
				return err
			}
			return chown(target)
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
			return chown(target)
		case d.Type().IsRegular():
			files = append(files, job{p, target, info.Mode().Perm()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	jobs := make(chan job)
	errs := make(chan error, copyWorkers)
	var wg sync.WaitGroup
	for w := 0; w < copyWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var first error
			for j := range jobs {
				if first != nil {
					continue
				}
				if err := copyFile(j.from, j.to, j.perm); err != nil {
					first = err
				} else if err := chown(j.to); err != nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for _, j := range files {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (cl *Cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		select {
		case <-cl.exited:
			return fmt.Errorf("pg: postgres exited during startup (%v); server log:\n%s", cl.cmd.ProcessState, cl.logTail(20))
		case <-ctx.Done():
			return fmt.Errorf("pg: waiting for postgres: %w", ctx.Err())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pg: postgres not ready after %s (last error: %v); server log:\n%s", timeout, lastErr, cl.logTail(20))
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := pgx.Connect(cctx, cl.dsn)
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		lastErr = convertErr(err)
		time.Sleep(20 * time.Millisecond)
	}
}

func (cl *Cluster) logTail(n int) string {
	b, err := os.ReadFile(cl.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return tail(b, n)
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}

// Close stops a throwaway server (fast shutdown, SIGKILL after 10 s) and
// removes its temp dir. For an external cluster it does nothing. Safe to
// call twice and from several goroutines.
func (cl *Cluster) Close() error {
	if cl.base == "" {
		return nil
	}
	cl.closeOnce.Do(func() {
		cl.stop()
		unregister(cl)
		if err := os.RemoveAll(cl.base); err != nil {
			cl.closeErr = fmt.Errorf("pg: remove %s: %w", cl.base, err)
		}
	})
	return cl.closeErr
}

func (cl *Cluster) stop() {
	if cl.cmd == nil || cl.exited == nil {
		return
	}
	// SIGINT is Postgres's fast shutdown: abort transactions, no
	// checkpoint wait beyond the shutdown one.
	_ = cl.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-cl.exited:
		return
	case <-time.After(10 * time.Second):
	}
	_ = cl.cmd.Process.Kill()
	<-cl.exited
}

var registry = struct {
	sync.Mutex
	live     map[*Cluster]struct{}
	shutdown bool
}{live: map[*Cluster]struct{}{}}

func register(cl *Cluster) bool {
	registry.Lock()
	defer registry.Unlock()
	if registry.shutdown {
		return false
	}
	registry.live[cl] = struct{}{}
	return true
}

func unregister(cl *Cluster) {
	registry.Lock()
	delete(registry.live, cl)
	registry.Unlock()
}

// Shutdown closes every live throwaway cluster and makes later
// StartThrowaway calls fail. main calls it from its SIGINT/SIGTERM
// handler before exiting (see the package doc).
func Shutdown() {
	registry.Lock()
	registry.shutdown = true
	live := make([]*Cluster, 0, len(registry.live))
	for cl := range registry.live {
		live = append(live, cl)
	}
	registry.Unlock()
	var wg sync.WaitGroup
	for _, cl := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl.Close()
		}()
	}
	wg.Wait()
}

// serverCredential is the user to run the server as: Postgres refuses to
// run as root, which is how CI runs us.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pg: running as root, and PostgreSQL refuses to: need a 'postgres' user to run it as: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("pg: bad uid/gid for user postgres: %q/%q", u.Uid, u.Gid)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func mkdirOwned(dir string, cred *syscall.Credential) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("pg: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("pg: %w", err)
		}
	}
	return nil
}

// checkTraversable fails early, with a readable message, when a parent
// of dir is closed to other users (TMPDIR under /root), instead of
// letting initdb fail with "permission denied".
func checkTraversable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pg: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pg: %s is not searchable by other users, so the postgres user cannot reach %s; set TMPDIR to a dir like /tmp", d, dir)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pg: pick a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the server's environment: what it needs to find its
// programs and libraries and to name locales and time zones, and
// nothing else. The SQL under test runs as a superuser and can read the
// server's environment (COPY ... FROM PROGRAM 'env'), so a token or a
// password of breakwater's must not be in it; PG* variables (PGDATA,
// PGOPTIONS...) would also make the children act on something else.
func childEnv(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "LANG", k == "LANGUAGE", k == "TZ", k == "TMPDIR",
			k == "LD_LIBRARY_PATH", k == "LOCPATH", strings.HasPrefix(k, "LC_"):
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// defaultLocale prefers en_US.UTF-8, the usual production locale, and
// falls back to C.UTF-8, which glibc has built in since 2.35.
func defaultLocale() string {
	if hasLocale("en_US.UTF-8") {
		return "en_US.UTF-8"
	}
	return "C.UTF-8"
}

func normLocale(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "")
}

func hasLocale(name string) bool {
	want := normLocale(name)
	if out, err := exec.Command("locale", "-a").Output(); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if normLocale(sc.Text()) == want {
				return true
			}
		}
		return false
	}
	ents, _ := os.ReadDir("/usr/lib/locale")
	for _, e := range ents {
		if normLocale(e.Name()) == want {
			return true
		}
	}
	return false
}

// randomHex is used for names that must not collide between runs.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// copyWorkers is small: the copy is bound by disk writes as soon as the
// disk is busy, and more workers only help on an idle one.
const copyWorkers = 2
