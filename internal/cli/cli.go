// Package cli is breakwater's command line: flags in, exit code out. It
// holds no checking logic of its own.
package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/sethvargo/go-githubactions"

	"github.com/breakwater-ci/breakwater/docs"
	"github.com/breakwater-ci/breakwater/internal/action"
	_ "github.com/breakwater-ci/breakwater/internal/check" // registers the rules
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/pg"
	"github.com/breakwater-ci/breakwater/internal/pipeline"
	"github.com/breakwater-ci/breakwater/internal/registry"
	"github.com/breakwater-ci/breakwater/internal/rehearse"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// Exit codes.
const (
	ExitClean    = 0 // nothing at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitFailed   = 2 // breakwater itself failed
)

// Version is set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3".
var Version = ""

const usage = `breakwater stops pull requests that would break an upgrade.

Usage:
  breakwater check [flags]     compare two commits and report findings
  breakwater rules             list every rule
  breakwater explain RULE      print a rule's documentation
  breakwater rehearse [flags]  run the old Postgres runtime, then the new one, on one data directory
  breakwater detect [flags]    list the Postgres images of both sides, as JSON
  breakwater collation-audit   audit a live database's indexes for a collation change
  breakwater action            run as the GitHub Action (reads INPUT_* and the event)
  breakwater version           print the version

Run 'breakwater COMMAND --help' for a command's flags.

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 breakwater failed.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitFailed
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "rules":
		return runRules(args[1:], stdout, stderr)
	case "explain":
		return runExplain(args[1:], stdout, stderr)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	case "detect":
		return runDetect(ctx, args[1:], stdout, stderr)
	case "rehearse":
		return runRehearse(ctx, args[1:], stdout, stderr)
	case "action":
		return runAction(ctx, args[1:], stdout, stderr)
	case "collation-audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitClean
	}
	fmt.Fprintf(stderr, "breakwater: unknown command %q\n\n%s", args[0], usage)
	return ExitFailed
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: breakwater %s\n\n", synopsis)
		printFlags(fs)
	}
	return fs
}

// printFlags lists the flags as flag.PrintDefaults does, but spelled with
// two dashes as everywhere else in breakwater's messages (--base REF).
func printFlags(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
		// The default, not the value: `check --format json --help` still
		// says the default is text.
		if g, ok := f.Value.(flag.Getter); ok && f.DefValue != "" && f.DefValue != "false" {
			if _, isString := g.Get().(string); isString {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintln(w, line)
	})
}

// parseFlags returns done=true with the exit code when flags were wrong
// or help was asked for.
func parseFlags(fs *flag.FlagSet, args []string) (done bool, code int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, ExitClean
		}
		return true, ExitFailed
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "breakwater %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return true, ExitFailed
	}
	return false, 0
}

const checkSynopsis = `check [flags]

Compares the base commit with the head commit of a change and reports what
would break an upgrade: base images that swap libc or change collation,
floating OS tags on database images, Postgres major upgrades and downgrades.
Facts come from git objects only, never from the work tree, unless --head
WORKTREE is given.`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", checkSynopsis, stderr)
	rf := addReportFlags(fs, "`DIR` of the git repository to check")
	resolve := fs.Bool("resolve-images", false, "read changed database images from their registries (os-release, dpkg/apk database, PG_MAJOR),\ncached by digest; credentials come from ~/.docker/config.json or DOCKER_CONFIG")
	db := fs.String("db", pipeline.DBAuto, "`MODE` of the migration checks on a real Postgres: auto (when the change touches migrations\nand a server can be had; otherwise the report says they did not run), always (no server is a failure), never")
	pgURL := fs.String("postgres-url", "", "`URL` of an existing Postgres to run them on, in a fresh database per scenario\n(default: $BREAKWATER_POSTGRES_URL, else a throwaway cluster); its password is never printed")
	pgBin := fs.String("postgres-bin", "", "`DIR` of initdb, pg_ctl and postgres for the throwaway cluster (default: PATH, then /usr/lib/postgresql/*/bin)")
	timeout := fs.Duration("statement-timeout", pg.DefaultStatementTimeout, "longest any migration or seed statement may run (`DURATION`)")
	rollback := fs.Bool("rollback", true, "roll the new migrations back with their down steps and apply them again (the rollback round trip)")
	traceLocks := fs.Bool("trace-locks", true, "read the locks and rewrites of every new migration statement from pg_locks and pg_class")
	rehearsal := fs.Bool("rehearse", false, "also rehearse the rollout of the new Postgres runtime on one data directory (see 'breakwater rehearse --help');\nthe runtimes come from the config's rehearse: section, else the change's base and head Postgres images")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	switch *db {
	case pipeline.DBAuto, pipeline.DBAlways, pipeline.DBNever:
	default:
		fmt.Fprintf(stderr, "breakwater check: --db: unknown mode %q (want auto, always or never)\n", *db)
		return ExitFailed
	}
	if *pgURL == "" {
		*pgURL = os.Getenv("BREAKWATER_POSTGRES_URL")
	}
	renderer, ok := rf.renderer("check", stdout, stderr)
	if !ok {
		return ExitFailed
	}

	opt := pipeline.Options{Repo: *rf.repo, Base: *rf.base, Head: *rf.head, ConfigFile: *rf.config,
		Database: pipeline.Database{Mode: *db, URL: *pgURL, BinDir: *pgBin, StatementTimeout: *timeout,
			NoTrace: !*traceLocks, NoRoundTrip: !*rollback},
		Rehearsal: pipeline.Rehearsal{On: *rehearsal}}
	if *resolve {
		opt.Resolver = registry.Identities{R: registry.New()}
	}
	if !*rf.quiet {
		opt.Progress = stderr
	}
	res, err := pipeline.Run(ctx, opt)
	if err != nil {
		fmt.Fprintf(stderr, "breakwater check: %v\n", err)
		return ExitFailed
	}
	return deliver("check", res, renderer, *rf.output, *rf.failOn, stdout, stderr)
}

const rehearseSynopsis = `rehearse --from RUNTIME --to RUNTIME [flags]

Does to a copy of the data what the rollout of a new Postgres runtime will
do to production: initdb and start the current runtime (--from), apply the
base side's migrations and seed plus a collation canary (indexed text whose
order differs between glibc releases, musl and byte order), stop it, start
the new runtime (--to) on the same data directory, apply the head side's new
migrations, then run amcheck (bt_index_parent_check, heapallindexed) on every
B-tree index, the collation version checks and a duplicate probe of unique
indexes over text. Each corrupt index is REINDEXed and checked again, so the
report says whether the fix works and how long it took. When the majors
differ, the server's refusal is reported, the data is moved with pg_upgrade
(local binaries) or pg_dumpall (images), and the rehearsal goes on.

A RUNTIME is
  bin:DIR[?locpath=DIR&locale=NAME]  local binaries; LOCPATH of compiled locales
                                     (reproduces a glibc locale change); initdb locale
  image:REF                          a Docker image, run through /var/run/docker.sock
                                     (or DOCKER_HOST) with the data on a named volume

Without --from or --to, the config's rehearse: section, then the change's base
and head Postgres images, fill them in. Everything it starts (clusters,
containers, volumes, temp dirs) is removed on every way out.`

func runRehearse(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rehearse", rehearseSynopsis, stderr)
	from := fs.String("from", "", "the current `RUNTIME` (bin:DIR[?locpath=DIR&locale=NAME] or image:REF)")
	to := fs.String("to", "", "the new `RUNTIME`, in the same form")
	rf := addReportFlags(fs, "`DIR` of the git repository whose migrations and seed build the data")
	timeout := fs.Duration("statement-timeout", pg.DefaultStatementTimeout, "longest any migration, seed or check statement may run (`DURATION`)")
	network := fs.String("docker-network", "", "Docker `NETWORK` for the containers (default: the one breakwater's own container is on, else bridge)")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	for _, rt := range []struct{ flag, value string }{{"--from", *from}, {"--to", *to}} {
		if rt.value == "" {
			continue
		}
		if _, err := rehearse.ParseRuntime(rt.value); err != nil {
			fmt.Fprintf(stderr, "breakwater rehearse: %s: %v\n", rt.flag, err)
			return ExitFailed
		}
	}
	renderer, ok := rf.renderer("rehearse", stdout, stderr)
	if !ok {
		return ExitFailed
	}
	opt := pipeline.Options{Repo: *rf.repo, Base: *rf.base, Head: *rf.head, ConfigFile: *rf.config,
		Database:  pipeline.Database{StatementTimeout: *timeout},
		Rehearsal: pipeline.Rehearsal{On: true, From: *from, To: *to, Network: *network}}
	if !*rf.quiet {
		opt.Progress = stderr
	}
	res, err := pipeline.Rehearse(ctx, opt)
	if err != nil {
		fmt.Fprintf(stderr, "breakwater rehearse: %v\n", err)
		return ExitFailed
	}
	return deliver("rehearse", res, renderer, *rf.output, *rf.failOn, stdout, stderr)
}

// reportFlags are the flags of every command that compares two commits
// and writes a report.
type reportFlags struct {
	repo, base, head, config, format, failOn, output *string
	quiet                                            *bool
}

func addReportFlags(fs *flag.FlagSet, repoUsage string) reportFlags {
	return reportFlags{
		repo:   fs.String("repo", ".", repoUsage),
		base:   fs.String("base", "", "base `REF` (default: the merge base of head with origin/HEAD, main or master)"),
		head:   fs.String("head", "HEAD", "head `REF`, or WORKTREE for the files on disk"),
		config: fs.String("config", "", "config `FILE` (default: .breakwater.yml on the head side)"),
		format: fs.String("format", "text", "output `FORMAT`: text, json, markdown or sarif"),
		failOn: fs.String("fail-on", "", "lowest `SEVERITY` that exits 1: error, warning, notice or none (default: the config's fail-on, else error)"),
		output: fs.String("output", "", "write the report to `FILE` instead of standard output"),
		quiet:  fs.Bool("quiet", false, "no progress lines on standard error"),
	}
}

// renderer checks --format and --fail-on before anything runs.
func (rf reportFlags) renderer(cmd string, stdout, stderr io.Writer) (report.Renderer, bool) {
	renderer, err := rendererFor(*rf.format, *rf.output == "" && isTerminal(stdout))
	if err != nil {
		fmt.Fprintf(stderr, "breakwater %s: %v\n", cmd, err)
		return nil, false
	}
	if *rf.failOn != "" {
		if _, err := parseFailOn(*rf.failOn); err != nil {
			fmt.Fprintf(stderr, "breakwater %s: --fail-on: %v\n", cmd, err)
			return nil, false
		}
	}
	return renderer, true
}

// deliver writes the report and maps it to the exit code.
func deliver(cmd string, res *pipeline.Result, renderer report.Renderer, output, failOn string, stdout, stderr io.Writer) int {
	level := failOn
	if level == "" {
		level = res.Config.FailOn
	}
	gate, err := parseFailOn(level)
	if err != nil {
		fmt.Fprintf(stderr, "breakwater %s: fail-on: %v\n", cmd, err)
		return ExitFailed
	}

	// Render fully before writing, so a failure leaves no partial report.
	var buf bytes.Buffer
	if err := renderer.Render(&buf, res.Report); err != nil {
		fmt.Fprintf(stderr, "breakwater %s: render report: %v\n", cmd, err)
		return ExitFailed
	}
	if output == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			fmt.Fprintf(stderr, "breakwater %s: write report: %v\n", cmd, err)
			return ExitFailed
		}
	} else {
		if err := os.WriteFile(output, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "breakwater %s: write report: %v\n", cmd, err)
			return ExitFailed
		}
		s := res.Report.Summary
		fmt.Fprintf(stderr, "breakwater: %s; report written to %s\n", s, output)
	}
	if res.Report.Failed(gate) {
		return ExitFindings
	}
	return ExitClean
}

// parseFailOn reads a fail level; "" means error, "none" never fails.
func parseFailOn(s string) (finding.Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return finding.Error, nil
	case "none":
		return 0, nil
	}
	return finding.ParseSeverity(s)
}

func rendererFor(format string, color bool) (report.Renderer, error) {
	switch format {
	case "text":
		return &report.Text{Color: color && os.Getenv("NO_COLOR") == ""}, nil
	case "json":
		return &report.JSON{}, nil
	case "markdown", "md":
		return &report.Markdown{}, nil
	case "sarif":
		return &report.SARIF{ToolVersion: version()}, nil
	}
	return nil, fmt.Errorf("unknown --format %q (want text, json, markdown or sarif)", format)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func runRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", "rules\n\nLists every rule with its default severity and title.", stderr)
	if done, code := parseFlags(fs, args); done {
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tTITLE")
	for _, r := range finding.Rules() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nRun 'breakwater explain RULE' for a rule's documentation.")
	return ExitClean
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", "explain RULE\n\nPrints the documentation of a rule: what it catches, why, how to fix and how to suppress it.", stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitClean
		}
		return ExitFailed
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return ExitFailed
	}
	id := fs.Arg(0)
	page, ok := docs.Rule(id)
	if _, registered := finding.Lookup(id); !ok || !registered {
		fmt.Fprintf(stderr, "breakwater explain: unknown rule %q; 'breakwater rules' lists them\n", id)
		return ExitFailed
	}
	fmt.Fprint(stdout, page)
	if !strings.HasSuffix(page, "\n") {
		fmt.Fprintln(stdout)
	}
	return ExitClean
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "version\n\nPrints breakwater's version.", stderr)
	if done, code := parseFlags(fs, args); done {
		return code
	}
	fmt.Fprintf(stdout, "breakwater %s\n", version())
	return ExitClean
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const detectSynopsis = `detect [flags]

Lists the Postgres images that the base and the head commit use, in every
Dockerfile of each side (changed or not), as JSON. base_primary and
head_primary are the images a CI job should start as its Postgres service.`

func runDetect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("detect", detectSynopsis, stderr)
	repo := fs.String("repo", ".", "`DIR` of the git repository")
	base := fs.String("base", "", "base `REF` (default: the merge base of head with origin/HEAD, main or master)")
	head := fs.String("head", "HEAD", "head `REF`, or WORKTREE for the files on disk")
	configFile := fs.String("config", "", "config `FILE` (default: .breakwater.yml on the head side)")
	if done, code := parseFlags(fs, args); done {
		return code
	}
	d, err := pipeline.Detect(ctx, pipeline.Options{Repo: *repo, Base: *base, Head: *head, ConfigFile: *configFile})
	if err != nil {
		fmt.Fprintf(stderr, "breakwater detect: %v\n", err)
		return ExitFailed
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		fmt.Fprintf(stderr, "breakwater detect: %v\n", err)
		return ExitFailed
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return ExitClean
}

func runAction(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("action", "action\n\nRuns as the GitHub Action: reads the inputs of action.yml from INPUT_* variables and\nthe event from GITHUB_EVENT_PATH, and publishes the report. See README.md.", stderr)
	if done, code := parseFlags(fs, args); done {
		return code
	}
	action.Version = version()
	return action.Main(ctx, githubactions.New(githubactions.WithWriter(stdout)))
}
