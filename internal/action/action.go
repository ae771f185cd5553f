// Package action is the GitHub Actions glue: inputs and the event in,
// outputs, the job summary, annotations and the PR comment and check run
// out. The verdict is always the report's; publishing can only warn.
package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/github"
	"github.com/breakwater-ci/breakwater/internal/pipeline"
	"github.com/breakwater-ci/breakwater/internal/registry"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// Exit codes, as the CLI's.
const (
	exitClean    = 0
	exitFindings = 1
	exitFailed   = 2
)

// summaryLimit keeps the job summary under GitHub's 1 MiB per step.
const summaryLimit = 1<<20 - 4096

// Inputs are action.yml's inputs.
type Inputs struct {
	Command     string
	Base, Head  string
	Config      string
	FailOn      string
	Token       string
	Comment     string // always, on-findings, never
	CheckRun    bool
	SARIFFile   string
	WorkDir     string
	Resolve     bool   // read changed database images from their registries
	PostgresURL string // an existing server for the migration checks
	DB          string // auto, always, never
	Rehearse    string // auto, always, never
	Report      string // publish: the JSON report
	PRNumber    string // publish
	HeadSHA     string // publish
}

func readInputs(a *githubactions.Action) (Inputs, error) {
	in := Inputs{
		Command:     orDefault(a.GetInput("command"), "check"),
		Base:        a.GetInput("base"),
		Head:        a.GetInput("head"),
		Config:      a.GetInput("config"),
		FailOn:      a.GetInput("fail-on"),
		Token:       a.GetInput("github-token"),
		Comment:     orDefault(a.GetInput("comment"), "on-findings"),
		SARIFFile:   a.GetInput("sarif-file"),
		WorkDir:     orDefault(a.GetInput("working-directory"), "."),
		Report:      orDefault(a.GetInput("report"), "breakwater-report.json"),
		PRNumber:    a.GetInput("pr-number"),
		HeadSHA:     a.GetInput("head-sha"),
		PostgresURL: a.GetInput("postgres-url"),
		DB:          orDefault(a.GetInput("db"), "auto"),
		Rehearse:    orDefault(a.GetInput("rehearse"), "auto"),
	}
	if in.Token != "" {
		a.AddMask(in.Token)
	}
	if in.PostgresURL != "" {
		a.AddMask(in.PostgresURL)
	}
	switch in.DB {
	case "auto", "always", "never":
	default:
		return in, fmt.Errorf("input db: %q is not auto, always or never", in.DB)
	}
	switch in.Rehearse {
	case "auto", "always", "never":
	default:
		return in, fmt.Errorf("input rehearse: %q is not auto, always or never", in.Rehearse)
	}
	switch in.Comment {
	case "always", "on-findings", "never":
	default:
		return in, fmt.Errorf("input comment: %q is not always, on-findings or never", in.Comment)
	}
	switch cr := strings.ToLower(a.GetInput("check-run")); cr {
	case "", "false":
	case "true":
		in.CheckRun = true
	default:
		return in, fmt.Errorf("input check-run: %q is not true or false", cr)
	}
	switch ri := strings.ToLower(orDefault(a.GetInput("resolve-images"), "true")); ri {
	case "true":
		in.Resolve = true
	case "false":
	default:
		return in, fmt.Errorf("input resolve-images: %q is not true or false", ri)
	}
	switch in.Command {
	case "check", "detect", "publish":
	default:
		return in, fmt.Errorf("input command: %q is not check, detect or publish", in.Command)
	}
	return in, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// Main runs the action and returns the exit code.
func Main(ctx context.Context, a *githubactions.Action) int {
	r := &run{a: a}
	code, err := r.main(ctx)
	if err != nil {
		a.Errorf("breakwater: %s", err)
		r.summary("## :boom: breakwater could not run\n\n" + report.EscapeMarkdown(err.Error()) + "\n")
		return exitFailed
	}
	return code
}

type run struct {
	a         *githubactions.Action
	in        Inputs
	ghctx     *githubactions.GitHubContext
	workspace string
	dir       string // the repository: workspace/working-directory
}

func (r *run) main(ctx context.Context) (int, error) {
	var err error
	if r.in, err = readInputs(r.a); err != nil {
		return exitFailed, err
	}
	if r.ghctx, err = r.a.Context(); err != nil {
		return exitFailed, fmt.Errorf("read the GitHub context: %w", err)
	}
	r.workspace = orDefault(r.ghctx.Workspace, ".")
	if r.dir, err = inside(r.workspace, r.in.WorkDir); err != nil {
		return exitFailed, fmt.Errorf("input working-directory: %w", err)
	}
	if r.in.Command == "publish" {
		return r.publishReport(ctx)
	}
	if err := change.TrustDirectory(ctx, r.dir); err != nil {
		r.a.Warningf("could not mark %s as a safe git directory: %v", r.dir, err)
	}
	payload, err := readEvent(r.ghctx.EventPath)
	if err != nil {
		return exitFailed, err
	}
	target, err := resolveTarget(r.ghctx.EventName, payload, r.ghctx.SHA, r.in.Base, r.in.Head)
	if err != nil {
		return exitFailed, err
	}
	opt := pipeline.Options{Repo: r.dir, Base: target.Base, Head: target.Head, FetchMissing: true,
		Database:  pipeline.Database{Mode: r.in.DB, URL: r.in.PostgresURL},
		Rehearsal: pipeline.Rehearsal{On: r.in.Rehearse == "always", Auto: r.in.Rehearse == "auto"}}
	if r.in.Resolve {
		opt.Resolver = registry.Identities{R: registry.New()}
	}
	if r.in.Config != "" {
		if opt.ConfigFile, err = inside(r.dir, r.in.Config); err != nil {
			return exitFailed, fmt.Errorf("input config: %w", err)
		}
	}
	if r.in.Command == "detect" {
		return r.detect(ctx, opt)
	}
	return r.check(ctx, opt, target)
}

func (r *run) detect(ctx context.Context, opt pipeline.Options) (int, error) {
	d, err := pipeline.Detect(ctx, opt)
	if err != nil {
		return exitFailed, err
	}
	js, err := json.Marshal(d)
	if err != nil {
		return exitFailed, err
	}
	r.output("base-postgres-image", d.BasePrimary)
	r.output("head-postgres-image", d.HeadPrimary)
	r.output("images-json", string(js))
	r.a.Infof("%s\n", js)
	return exitClean, nil
}

func (r *run) check(ctx context.Context, opt pipeline.Options, target Target) (int, error) {
	res, err := pipeline.Run(ctx, opt)
	if err != nil {
		return exitFailed, err
	}
	gate, err := failLevel(r.in.FailOn, res.Config.FailOn)
	if err != nil {
		return exitFailed, err
	}
	rep := res.Report
	if err := r.writeFiles(rep); err != nil {
		return exitFailed, err
	}
	r.finish(ctx, rep, gate, target.PR, target.CheckSHA)
	if rep.Failed(gate) {
		return exitFindings, nil
	}
	return exitClean, nil
}

// publishReport posts a report made by an earlier check run, for the
// fork-safe pair: it reads only the report, never the PR's code.
func (r *run) publishReport(ctx context.Context) (int, error) {
	p, err := inside(r.workspace, r.in.Report)
	if err != nil {
		return exitFailed, fmt.Errorf("input report: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return exitFailed, fmt.Errorf("input report: %w", err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		return exitFailed, fmt.Errorf("%s: %w", r.in.Report, err)
	}
	pr, err := strconv.Atoi(r.in.PRNumber)
	if r.in.PRNumber != "" && (err != nil || pr <= 0) {
		return exitFailed, fmt.Errorf("input pr-number: %q is not a pull request number", r.in.PRNumber)
	}
	gate, err := failLevel(r.in.FailOn, "")
	if err != nil {
		return exitFailed, err
	}
	r.finish(ctx, rep, gate, pr, r.in.HeadSHA)
	// The analysis run already gave the verdict; failing here too would
	// mark the default branch's publish run red for a PR's findings.
	return exitClean, nil
}

// finish reports everywhere: outputs, job summary, comment, check run,
// and annotations when the check run cannot carry them. Nothing here
// changes the verdict.
func (r *run) finish(ctx context.Context, rep *report.Report, gate finding.Severity, pr int, checkSHA string) {
	s := rep.Summary
	r.output("errors", strconv.Itoa(s.Errors))
	r.output("warnings", strconv.Itoa(s.Warnings))
	r.output("notices", strconv.Itoa(s.Notices))
	highest := "none"
	if h := rep.Highest(); h != 0 {
		highest = h.String()
	}
	r.output("highest-severity", highest)

	var body bytes.Buffer
	(&report.Markdown{Limit: summaryLimit}).Render(&body, rep)
	r.summary(body.String())

	annotated := false
	if r.in.Token == "" {
		r.a.Warningf("no github-token: the PR comment and check run are skipped")
	} else if pub, err := r.publisher(); err != nil {
		r.a.Warningf("cannot reach the GitHub API: %v", err)
	} else {
		if pr > 0 && r.in.Comment != "never" {
			if url, err := pub.comment(ctx, pr, r.in.WorkDir, rep, r.in.Comment, r.summaryURL()); err != nil {
				r.a.Warningf("%v", err)
			} else if url != "" {
				r.a.Infof("breakwater: PR comment %s\n", url)
			}
		}
		if r.in.CheckRun && checkSHA != "" {
			if url, err := pub.checkRun(ctx, checkSHA, checkName(r.in.WorkDir), rep, github.Conclusion(rep, gate), r.summaryURL()); err != nil {
				r.a.Warningf("%v", err)
			} else {
				annotated = true
				r.a.Infof("breakwater: check run %s\n", url)
			}
		}
	}
	if !annotated {
		annotate(r.a, rep)
	}
}

// writeFiles writes the JSON report and SARIF into the workspace and
// names them in the outputs, relative to the workspace.
func (r *run) writeFiles(rep *report.Report) error {
	files := []struct {
		input, output string
		render        report.Renderer
	}{
		// One report per working directory, so two runs in a job keep both.
		{filepath.Join(r.in.WorkDir, "breakwater-report.json"), "report-json", &report.JSON{}},
		{r.in.SARIFFile, "sarif-file", &report.SARIF{ToolVersion: Version}},
	}
	for _, f := range files {
		if f.input == "" {
			r.output(f.output, "")
			continue
		}
		p, err := inside(r.workspace, f.input)
		if err != nil {
			return fmt.Errorf("%s: %w", f.output, err)
		}
		var buf bytes.Buffer
		if err := f.render.Render(&buf, rep); err != nil {
			return err
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return err
		}
		rel, _ := filepath.Rel(r.workspace, p)
		r.output(f.output, filepath.ToSlash(rel))
	}
	return nil
}

// Version is the tool version named in SARIF; the CLI sets it.
var Version = "dev"

func failLevel(input, config string) (finding.Severity, error) {
	level := strings.ToLower(strings.TrimSpace(orDefault(input, config)))
	switch level {
	case "":
		return finding.Error, nil
	case "none":
		return 0, nil
	}
	s, err := finding.ParseSeverity(level)
	if err != nil {
		return 0, fmt.Errorf("fail-on: %w", err)
	}
	return s, nil
}

// checkName keeps one check run per working directory.
func checkName(workDir string) string {
	if workDir == "." || workDir == "" {
		return "breakwater"
	}
	return "breakwater (" + workDir + ")"
}

func (r *run) summaryURL() string {
	c := r.ghctx
	if c.ServerURL == "" || c.Repository == "" || c.RunID == 0 {
		return ""
	}
	u := fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimSuffix(c.ServerURL, "/"), c.Repository, c.RunID)
	if c.RunAttempt > 1 {
		u += fmt.Sprintf("/attempts/%d", c.RunAttempt)
	}
	return u
}

// output sets an output. Values are single lines: the file-command
// format would otherwise let a value end its own delimiter.
func (r *run) output(k, v string) {
	v = strings.Map(func(c rune) rune {
		if c == '\n' || c == '\r' {
			return ' '
		}
		return c
	}, v)
	if r.ghctx == nil || r.a.Getenv("GITHUB_OUTPUT") == "" {
		return
	}
	r.safely("set output "+k, func() { r.a.SetOutput(k, v) })
}

func (r *run) summary(markdown string) {
	if r.a.Getenv("GITHUB_STEP_SUMMARY") == "" {
		return
	}
	r.safely("write the job summary", func() { r.a.AddStepSummary(markdown) })
}

// safely turns go-githubactions' panics on a failed file write into a
// warning: the summary is a courtesy, the exit code is the verdict.
func (r *run) safely(what string, f func()) {
	defer func() {
		if p := recover(); p != nil {
			r.a.Warningf("could not %s: %v", what, p)
		}
	}()
	f()
}

func readEvent(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	return b, nil
}

// inside joins rel to root and refuses anything that leaves root.
func inside(root, rel string) (string, error) {
	if filepath.IsAbs(rel) {
		return "", fmt.Errorf("%q must be relative to %s", rel, root)
	}
	p := filepath.Join(root, rel)
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", errors.New(rel + " leaves the workspace")
	}
	return p, nil
}
