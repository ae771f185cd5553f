package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/pg"
)

// DefaultCommandTimeout bounds one run of a migration or seed command. An
// ORM boots its whole application first, so this is far above
// pg.DefaultStatementTimeout.
const DefaultCommandTimeout = 10 * time.Minute

// CommandDir is migrations that a command applies (an ORM's), run with
// DATABASE_URL set in a worktree of each side.
type CommandDir struct {
	// Name is for messages: the configured dir or the command.
	Name string
	// Config and Line are where the command is configured
	// (.breakwater.yml), for findings: a command has no file of its own.
	Config string
	Line   int
	// Command migrates up; it runs with sh -c. DownCommand, when set,
	// migrates one step down: the rollback round trip runs it DownSteps
	// times (at least once) in the head worktree.
	Command     string
	DownCommand string
	DownSteps   int
	// Base and Head are worktree dirs of the base and head commits. Base
	// is "" when the base side has no such migrations; Head "" when the
	// head side has none, and then there is nothing to verify.
	Base, Head string
}

// CommandOptions say what to run where.
type CommandOptions struct {
	Cluster *pg.Cluster
	Dirs    []CommandDir
	// Seed files are loaded after the base migrations, as in Options.
	Seed []migrate.File
	// SeedCommand loads seed data after the seed files; it runs in
	// SeedDir, a worktree of the side the seed is read from.
	SeedCommand, SeedDir string
	// Timeout bounds each command run; 0 is DefaultCommandTimeout.
	Timeout time.Duration
	// NoRoundTrip turns the rollback round trip off, as in Options.
	NoRoundTrip bool
	Progress    io.Writer
}

// RunCommands verifies every command directory the way Run verifies SQL
// files: the upgrade path (base command, seed, head command) on one fresh
// database and the head command alone on another. A command that fails
// is a Failure at its configuration; an error means the verification
// itself could not run.
func RunCommands(ctx context.Context, opt CommandOptions) ([]Result, error) {
	if opt.SeedCommand != "" && opt.SeedDir == "" {
		return nil, errors.New("verify: a seed command needs the dir to run it in")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultCommandTimeout
	}
	var out []Result
	for _, d := range opt.Dirs {
		if d.Head == "" {
			continue
		}
		if d.Command == "" {
			return nil, fmt.Errorf("verify %s: no command", d.Name)
		}
		r := Result{Dir: d.Name, Major: opt.Cluster.Major(), Last: d.Config, Command: d.Command}
		if err := commandUpgradePath(ctx, opt, d, &r); err != nil {
			return nil, err
		}
		if err := commandHeadOnly(ctx, opt, d, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Base and Head stay 0: how many migrations a command applied is the
// tool's to know, not ours.
func commandUpgradePath(ctx context.Context, opt CommandOptions, d CommandDir, r *Result) error {
	db, err := opt.Cluster.Scenario(ctx, "upgrade")
	if err != nil {
		return fmt.Errorf("verify %s: %w", d.Name, err)
	}
	defer db.Close()
	if d.Base != "" {
		if r.Upgrade, err = runStep(ctx, opt, db, d, PhaseBase, d.Base, d.Command); err != nil || r.Upgrade != nil {
			return err
		}
		progress(opt.Progress, "%s: base side migrated on Postgres %d", d.Name, r.Major)
	}
	if r.Upgrade, err = applySeed(ctx, db, opt.Seed, r); err != nil || r.Upgrade != nil {
		return err
	}
	if opt.SeedCommand != "" {
		if r.Upgrade, err = runStep(ctx, opt, db, d, PhaseSeed, opt.SeedDir, opt.SeedCommand); err != nil || r.Upgrade != nil {
			return err
		}
	}
	if r.Before, err = db.Snapshot(ctx); err != nil {
		return fmt.Errorf("verify %s: %w", d.Name, err)
	}
	if r.Upgrade, err = runStep(ctx, opt, db, d, PhaseHead, d.Head, d.Command); err != nil || r.Upgrade != nil {
		return err
	}
	after, err := db.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("verify %s: %w", d.Name, err)
	}
	r.Steps = []Step{{File: d.Config, Schema: after}}
	progress(opt.Progress, "%s: upgrade path passed (%d seed statements)", d.Name, r.Seed)
	if err := inspect(ctx, db, r); err != nil {
		return err
	}
	if d.DownCommand == "" || opt.NoRoundTrip {
		return nil
	}
	return commandRoundTrip(ctx, opt, db, d, r)
}

// commandRoundTrip runs the down command once per new migration, compares
// the schema with the one before the head command, and migrates up again.
func commandRoundTrip(ctx context.Context, opt CommandOptions, db *pg.DB, d CommandDir, r *Result) error {
	rt := &RoundTrip{}
	r.RoundTrip = rt
	var err error
	for range max(d.DownSteps, 1) {
		if rt.Failure, err = runStep(ctx, opt, db, d, PhaseDown, d.Head, d.DownCommand); err != nil || rt.Failure != nil {
			return err
		}
	}
	step := DownStep{Up: d.Config, Down: d.Config, Line: d.Line}
	if step.Mismatch, _, err = mismatch(ctx, db, r.Before, nil); err != nil {
		return fmt.Errorf("verify %s: %w", d.Name, err)
	}
	rt.Down = append(rt.Down, step)
	if rt.Failure, err = runStep(ctx, opt, db, d, PhaseReapply, d.Head, d.Command); err != nil || rt.Failure != nil {
		return err
	}
	rt.Reapplied = 1
	return nil
}

func commandHeadOnly(ctx context.Context, opt CommandOptions, d CommandDir, r *Result) error {
	db, err := opt.Cluster.Scenario(ctx, "head")
	if err != nil {
		return fmt.Errorf("verify %s: %w", d.Name, err)
	}
	defer db.Close()
	r.HeadOnly, err = runStep(ctx, opt, db, d, PhaseHeadOnly, d.Head, d.Command)
	return err
}

// applySeed loads the seed files as upgradePath does.
func applySeed(ctx context.Context, db *pg.DB, seed []migrate.File, r *Result) (*Failure, error) {
	for _, f := range seed {
		stmts, err := migrate.Split(string(f.Data))
		if err != nil {
			var se *migrate.SplitError
			line := 1
			if errors.As(err, &se) {
				line = se.Line
			}
			return &Failure{Phase: PhaseSeed, File: f.Path, Line: line, Msg: err.Error()}, nil
		}
		s := &migrate.Script{File: f.Path, Line: 1, SQL: string(f.Data), InTransaction: true, Statements: stmts}
		if fail, err := apply(ctx, db, PhaseSeed, s); err != nil || fail != nil {
			return fail, err
		}
		r.Seed += len(stmts)
	}
	return nil, nil
}

// sideWords finish "`cmd` exited 1 ..." for each phase.
var sideWords = map[string]string{
	PhaseBase:     "on the base side",
	PhaseSeed:     "loading the seed",
	PhaseHead:     "on the head side",
	PhaseHeadOnly: "on the head side, on an empty database",
	PhaseDown:     "rolling the head side's migrations back",
	PhaseReapply:  "migrating up again after the rollback",
}

// runStep runs one command on db and turns its failure into a Failure at
// the command's configuration.
func runStep(ctx context.Context, opt CommandOptions, db *pg.DB, d CommandDir, phase, dir, command string) (*Failure, error) {
	progress(opt.Progress, "%s: %s: running `%s`", d.Name, phase, pg.Redact(command))
	msg, err := runCommand(ctx, opt.Timeout, db.DSN(), dir, command, sideWords[phase])
	if err != nil {
		return nil, fmt.Errorf("verify %s: %s: %w", d.Name, phase, err)
	}
	if msg == "" {
		return nil, nil
	}
	line := d.Line
	if phase == PhaseSeed {
		line = 0 // d.Line is where the migrations are configured, not the seed
	}
	return &Failure{Phase: phase, File: d.Config, Line: line, Msg: msg}, nil
}

// tailLines of a failed command's output go in its Failure: the error is
// nearly always at the end, after the tool's boot chatter.
const tailLines = 20

// commandWaitDelay is how long a command's output may stay open after it
// exits or is killed: a daemon it started (Spring, a file watcher) can
// hold the pipe for ever.
const commandWaitDelay = 5 * time.Second

// runCommand runs command with sh -c in dir against dsn. It returns what
// went wrong in words, "" when the command passed; an error only when
// the command could not be run at all or ctx ended.
func runCommand(ctx context.Context, timeout time.Duration, dsn, dir, command, side string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := &tailBuffer{max: 64 << 10}
	cmd := exec.CommandContext(cctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = commandEnv(os.Environ(), dsn)
	// No stdin: a tool that asks "are you sure?" gets EOF, not a hang
	// until the timeout.
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// A group of its own, so a timeout kills what sh started too
		// (sh does not pass signals on), and Ctrl-C on a terminal reaches
		// only breakwater, which then ends the run in order.
		Setpgid:   true,
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = commandWaitDelay
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("run `%s`: %w", pg.Redact(command), err)
	}
	werr := cmd.Wait()
	// What it left running in the background would hold the scenario
	// database open and outlive the run.
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	quoted := "`" + command + "`"
	tail := out.lastLines(tailLines)
	if tail != "" {
		tail = ": " + tail
	} else {
		tail = " with no output"
	}
	ps := cmd.ProcessState
	switch {
	case ps != nil && ps.Success():
		return "", nil
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		return pg.Redact(fmt.Sprintf("%s timed out after %s %s%s", quoted, timeout, side, tail)), nil
	case ps == nil:
		return "", fmt.Errorf("run %s: %w", pg.Redact(quoted), werr)
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return pg.Redact(fmt.Sprintf("%s was killed by %s %s%s", quoted, ws.Signal(), side, tail)), nil
	}
	return pg.Redact(fmt.Sprintf("%s exited %d %s%s", quoted, ps.ExitCode(), side, tail)), nil
}

// commandEnv is the environment a command runs with: the caller's, with
// DATABASE_URL and the libpq variables pointing at the scenario database,
// because many tools read one and not the other. Inherited PG variables
// the DSN does not set stay (PGSSLROOTCERT and the like), as they do for
// breakwater's own connections; the ones that could send a tool to
// another server go.
func commandEnv(environ []string, dsn string) []string {
	derived := libpqEnv(dsn)
	drop := map[string]bool{"DATABASE_URL": true, "PGHOSTADDR": true, "PGSERVICE": true}
	for _, kv := range derived {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	if derived == nil {
		// Nothing derived means nothing to override with: an inherited
		// PGHOST would point elsewhere than DATABASE_URL.
		for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"} {
			drop[k] = true
		}
	}
	env := make([]string, 0, len(environ)+len(derived)+1)
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] && !secret(k) {
			env = append(env, kv)
		}
	}
	env = append(env, "DATABASE_URL="+dsn)
	return append(env, derived...)
}

// secret says a variable is one of breakwater's credentials, which the
// command (named by the head side's config, so by the pull request) has
// no business reading: the action's inputs (INPUT_GITHUB-TOKEN,
// INPUT_POSTGRES-URL), the runner's tokens, breakwater's own database URL,
// and anything named like a token, secret or password. The scenario's
// PGPASSWORD is added back from the DSN.
func secret(k string) bool {
	u := strings.ToUpper(k)
	switch {
	case strings.HasPrefix(u, "PG"):
		return false // commandEnv's own business
	case strings.HasPrefix(u, "INPUT_"), strings.HasPrefix(u, "ACTIONS_"), u == "BREAKWATER_POSTGRES_URL":
		return true
	}
	for _, w := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"} {
		if strings.Contains(u, w) {
			return true
		}
	}
	return false
}

// libpqEnv derives PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE and
// PGSSLMODE from a postgres:// URL, taking host and port from the query
// as libpq does for a Unix socket. It returns nil for a key=value DSN.
func libpqEnv(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil
	}
	q := u.Query()
	vars := map[string]string{"PGDATABASE": strings.TrimPrefix(u.Path, "/"), "PGSSLMODE": q.Get("sslmode")}
	// A host list (a,b:5433) has no one PGHOST/PGPORT pair to give.
	if !strings.Contains(u.Host, ",") {
		vars["PGHOST"], vars["PGPORT"] = u.Hostname(), u.Port()
	}
	if u.User != nil {
		vars["PGUSER"] = u.User.Username()
		vars["PGPASSWORD"], _ = u.User.Password()
	}
	for k, param := range map[string]string{"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGPASSWORD": "password", "PGDATABASE": "dbname"} {
		if v := q.Get(param); v != "" {
			vars[k] = v
		}
	}
	env := []string{}
	for _, k := range []string{"PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE"} {
		if vars[k] != "" {
			env = append(env, k+"="+vars[k])
		}
	}
	return env
}

// tailBuffer keeps the last max bytes written to it (at least), so a
// chatty tool's output costs bounded memory.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > 2*b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]")

// maxLineBytes caps one line of quoted output: a tool that echoes a whole
// schema on one line should not fill the report.
const maxLineBytes = 500

// lastLines is the output's last n non-blank lines, as a terminal would
// have shown them: colour codes gone, a progress line at its final state.
func (b *tailBuffer) lastLines(n int) string {
	text := strings.ToValidUTF8(ansiEscape.ReplaceAllString(string(b.buf), ""), "")
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if i := strings.LastIndexByte(strings.TrimRight(l, "\r"), '\r'); i >= 0 {
			l = l[i+1:]
		}
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if len(l) > maxLineBytes {
			l = strings.ToValidUTF8(l[:maxLineBytes], "") + "…"
		}
		lines = append(lines, l)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
