package pg

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// StartError is a server that would not start on a data dir, with what
// the server itself said in its log.
type StartError struct {
	Version string // the binaries that were started
	// Message is the server's FATAL line with its DETAIL and HINT, as it
	// logged them; "" when it logged none (it was killed, say).
	Message string
	// Incompatible says the data dir belongs to another major version,
	// which is how a server refuses an upgrade that skipped pg_upgrade.
	Incompatible bool
	Log          string // the log's last lines
	Err          error
}

func (e *StartError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("pg: PostgreSQL %s would not start: %s", e.Version, e.Message)
	}
	return e.Err.Error()
}

func (e *StartError) Unwrap() error { return e.Err }

// Swap stops the server and starts bin's on the same data dir, with env
// added to the environment: the rollout of a new runtime onto old data.
// A server that will not start gives a *StartError; the cluster is then
// stopped and Close still removes it. Not to be called concurrently with
// Close.
func (cl *Cluster) Swap(ctx context.Context, bin Binaries, env []string) error {
	if cl.base == "" {
		return errors.New("pg: Swap needs a throwaway cluster")
	}
	if bin.Full == "" {
		var err error
		if bin, err = probeBinaries(bin.Dir); err != nil {
			return err
		}
	}
	cl.stop()
	cl.bin, cl.major = bin, bin.Major
	var from int64
	if fi, err := os.Stat(cl.logPath); err == nil {
		from = fi.Size()
	}
	if err := cl.startServer(ctx, childEnv(env)); err != nil {
		cl.stop()
		return cl.startError(from, err)
	}
	return nil
}

// startError reads what the server logged since offset from.
func (cl *Cluster) startError(from int64, err error) *StartError {
	se := &StartError{Version: cl.bin.Version, Err: err, Log: cl.logTail(20)}
	f, ferr := os.Open(cl.logPath)
	if ferr != nil {
		return se
	}
	defer f.Close()
	if _, ferr := f.Seek(from, 0); ferr != nil {
		return se
	}
	b, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	se.Message, se.Incompatible = ParseStartLog(string(b))
	return se
}

// ParseStartLog finds why a server would not start in what it logged:
// the first FATAL or PANIC line with its DETAIL and HINT, and whether
// it refused a data dir of another major version.
func ParseStartLog(log string) (message string, incompatible bool) {
	var msg []string
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		_, text, ok := cutLevel(sc.Text())
		switch {
		case !ok:
		case strings.HasPrefix(text, "FATAL:") || strings.HasPrefix(text, "PANIC:"):
			if len(msg) == 0 {
				msg = append(msg, strings.TrimSpace(text))
			}
		case len(msg) > 0 && len(msg) < 3 && (strings.HasPrefix(text, "DETAIL:") || strings.HasPrefix(text, "HINT:")):
			msg = append(msg, strings.TrimSpace(text))
		}
	}
	message = strings.Join(msg, " ")
	return message, strings.Contains(message, "database files are incompatible with server")
}

// cutLevel finds the message level in a log line, after whatever
// log_line_prefix put before it ("2026-12-02 10:00:00.000 UTC [123] ").
func cutLevel(line string) (prefix, rest string, ok bool) {
	for _, lvl := range []string{"FATAL:", "PANIC:", "DETAIL:", "HINT:", "LOG:", "ERROR:", "WARNING:"} {
		if i := strings.Index(line, lvl); i >= 0 {
			return line[:i], line[i:], true
		}
	}
	return "", "", false
}

// UpgradeResult is a finished pg_upgrade.
type UpgradeResult struct {
	From, To string // versions
	Took     time.Duration
}

// Upgrade runs pg_upgrade from the cluster's current data dir to a new
// one initialised by bin with the same locale, then starts bin's server
// on it: what production does when a major upgrade is done properly.
// The cluster's binaries must be the ones that wrote the data (after a
// Swap refused, pass them as old). env is the new server's environment.
func (cl *Cluster) Upgrade(ctx context.Context, old, bin Binaries, env []string) (UpgradeResult, error) {
	res := UpgradeResult{From: old.Version, To: bin.Version}
	if cl.base == "" {
		return res, errors.New("pg: Upgrade needs a throwaway cluster")
	}
	for _, b := range []*Binaries{&old, &bin} {
		if b.Full == "" {
			var err error
			if *b, err = probeBinaries(b.Dir); err != nil {
				return res, err
			}
		}
	}
	res.From, res.To = old.Version, bin.Version
	upgrade, err := toolPath(bin, "pg_upgrade")
	if err != nil {
		return res, err
	}
	t0 := time.Now()
	cl.stop()
	oldData := cl.dataDir
	newData := filepath.Join(cl.base, "data-"+strconv.Itoa(bin.Major))
	if err := mkdirOwned(newData, cl.cred); err != nil {
		return res, err
	}
	childenv := childEnv(env)
	args := []string{"-D", newData, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=" + cl.locale, "--no-sync", "--wal-segsize=1"}
	// pg_upgrade wants the same checksum setting on both sides, and 18
	// turned them on by default; ours never had them.
	if bin.Major >= 18 {
		args = append(args, "--no-data-checksums")
	}
	if out, err := cl.run(ctx, filepath.Join(bin.Dir, "initdb"), args, childenv, cl.base); err != nil {
		return res, fmt.Errorf("pg: initdb for pg_upgrade (PostgreSQL %s): %w\n%s", bin.Version, err, tail(out, 20))
	}
	// pg_upgrade writes its logs into the working dir (before 15) or the
	// new data dir; either must be the server user's.
	work := filepath.Join(cl.base, "upgrade")
	if err := mkdirOwned(work, cl.cred); err != nil && !errors.Is(err, os.ErrExist) {
		return res, err
	}
	if err := checkOldTools(old); err != nil {
		return res, err
	}
	oldUpgrade, _ := toolPath(old, "pg_controldata")
	p1, err := freePort()
	if err != nil {
		return res, err
	}
	p2, err := freePort()
	if err != nil {
		return res, err
	}
	out, err := cl.run(ctx, upgrade, []string{
		"-b", filepath.Dir(oldUpgrade), "-B", filepath.Dir(upgrade), "-d", oldData, "-D", newData,
		"-U", "postgres", "-s", filepath.Join(cl.base, "sock"),
		// Copy mode, the default (--copy is only spelt out from 16):
		// the old data dir is untouched if it fails.
		"-p", strconv.Itoa(p1), "-P", strconv.Itoa(p2),
	}, childenv, work)
	if err != nil {
		return res, fmt.Errorf("pg: pg_upgrade %s → %s: %w\n%s", old.Version, bin.Version, err, tail(out, 30))
	}
	os.RemoveAll(oldData)
	cl.dataDir = newData
	for i := range cl.args {
		if cl.args[i] == "-D" && i+1 < len(cl.args) {
			cl.args[i+1] = newData
		}
	}
	cl.bin, cl.major = bin, bin.Major
	var from int64
	if fi, err := os.Stat(cl.logPath); err == nil {
		from = fi.Size()
	}
	if err := cl.startServer(ctx, childenv); err != nil {
		cl.stop()
		return res, cl.startError(from, err)
	}
	res.Took = time.Since(t0)
	return res, nil
}

// checkOldTools fails early, and says what is missing, when the old
// install lacks what pg_upgrade reads the old cluster with: embedded
// builds ship only initdb, pg_ctl and postgres, and another major's
// tools refuse the data.
func checkOldTools(old Binaries) error {
	for _, name := range []string{"pg_controldata", "pg_resetwal"} {
		if _, err := toolPath(old, name); err != nil {
			return fmt.Errorf("pg: pg_upgrade needs PostgreSQL %d's %s beside %s, to read the old cluster; this install has none (scripts/fetch-postgres.sh adds them to the 13 it fetches)", old.Major, name, filepath.Join(old.Dir, "postgres"))
		}
	}
	return nil
}

// toolPath finds one of the other tools of an install, beside its
// postgres or beside what that links to: /usr/local/bin often links only
// the three server binaries into Debian's dir.
func toolPath(bin Binaries, name string) (string, error) {
	p := filepath.Join(bin.Dir, name)
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if real, err := filepath.EvalSymlinks(filepath.Join(bin.Dir, "postgres")); err == nil {
		if q := filepath.Join(filepath.Dir(real), name); q != p {
			if _, err := os.Stat(q); err == nil {
				return q, nil
			}
		}
	}
	return "", fmt.Errorf("pg: no %s beside %s (Debian ships it in the server package)", name, filepath.Join(bin.Dir, "postgres"))
}

// run runs one of the server's tools as the server user.
func (cl *Cluster) run(ctx context.Context, path string, args, env []string, dir string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cl.cred, Pdeathsig: syscall.SIGKILL}
	return cmd.CombinedOutput()
}

// Binaries are the ones the server runs now.
func (cl *Cluster) Binaries() Binaries { return cl.bin }
