// Package pipeline runs one check of a change from end to end:
// change set → extractors → checks → report. Publishing is the caller's.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"time"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/dockerfile"
	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/manifest"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// Options say what to compare.
type Options struct {
	Repo string // any directory inside the work tree
	Base string // "" for the merge base with the default branch
	Head string // "" for HEAD; change.Worktree for the files on disk
	// ConfigFile is a path on disk; "" reads .breakwater.yml from the
	// head side, where a missing file means defaults.
	ConfigFile string
	// MaxFileSize caps one file's size; 0 means change.DefaultMaxFileSize.
	MaxFileSize int64
	// Progress gets one line per long step; nil is quiet.
	Progress io.Writer
	// FetchMissing fetches a base or head commit given as a full SHA that
	// a shallow clone lacks, as the Action's depth-1 checkout does.
	FetchMissing bool
	// Resolver, when set, reads changed database images from their
	// registries (--resolve-images).
	Resolver Resolver
	// Database says how the migrations are run on a real Postgres.
	Database Database
	// Rehearsal says whether the rollout of a new Postgres runtime is
	// rehearsed on one data directory.
	Rehearsal Rehearsal
}

// Database modes.
const (
	DBAuto   = "auto"   // when the change touches migrations, and a server can be had
	DBAlways = "always" // as auto, but no server is a failure (exit 2)
	DBNever  = "never"
)

// Database is where and when the migration checks run on a real server.
type Database struct {
	Mode string // DBAuto when empty
	// URL is an existing server (--postgres-url); otherwise a throwaway
	// cluster from the binaries in BinDir, on PATH or under
	// /usr/lib/postgresql.
	URL, BinDir string
	// StatementTimeout bounds every statement; 0 means 60 s.
	StatementTimeout time.Duration
	// NoTrace turns lock tracing off, NoRoundTrip the rollback round
	// trip (--trace-locks=false, --rollback=false).
	NoTrace, NoRoundTrip bool
}

// Result is a finished run.
type Result struct {
	Report *report.Report
	Config *config.Config
}

// Run checks the change from base to head. An error means the tool could
// not do its job (exit 2); problems in the files are findings.
func Run(ctx context.Context, opt Options) (*Result, error) {
	repo, set, cfg, err := prepare(ctx, opt)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	rd := newReader(repo, cfg)
	defer rd.stopEarly()
	baseInv, err := rd.inventory(ctx, set.Base)
	if err != nil {
		return nil, err
	}
	rd.prestart(ctx, opt, set, baseInv)
	headInv, err := rd.inventory(ctx, set.Head)
	if err != nil {
		return nil, err
	}
	progress(opt.Progress, "%d changed files; %d files read", len(set.Files), rd.read)
	rd.resolveBuilt(baseInv)
	rd.resolveBuilt(headInv)

	c := compare(set, baseInv, headInv, cfg.Excluded)
	found := c.findings
	if opt.Resolver != nil {
		found = append(found, resolveImages(ctx, opt.Resolver, c.images)...)
	}
	found = append(found, check.Images(c.images)...)
	found = append(found, check.Engines(c.engines)...)
	found = append(found, check.Workloads(c.workloads)...)
	baseRefs, headRefs := baseInv.refs(), headInv.refs()
	found = append(found, check.Skew(baseRefs, headRefs, func(f string) bool { return c.touched[f] })...)
	found = append(found, check.Unsupported(headRefs, cfg.Postgres.Range)...)
	cfgFound, cfgSups, err := rd.configs(ctx, set, baseInv, headInv, c.touched)
	if err != nil {
		return nil, err
	}
	found = append(found, cfgFound...)
	dirs, migFound, migSups, err := rd.migrations(ctx, set, baseInv, headInv, c.touched)
	if err != nil {
		return nil, err
	}
	found = append(found, migFound...)
	changing := slices.ContainsFunc(found, func(f finding.Finding) bool {
		return (f.Rule == check.LibcSwap.ID || f.Rule == check.CollationChange.ID) && f.Severity == finding.Error
	})
	dbFound, err := rd.database(ctx, opt, set, baseInv, headInv, dirs, changing)
	if err != nil {
		// Say which check is missing from the report: no report is
		// printed, and "no findings" would be a lie.
		return nil, fmt.Errorf("the migration checks on a real Postgres could not run: %w", err)
	}
	found = append(found, dbFound...)
	if opt.Rehearsal.On || opt.Rehearsal.Auto || cfg.Rehearse.Check {
		rf, err := rd.rehearse(ctx, opt, set, baseInv, headInv, c.images, dirs)
		if err != nil {
			return nil, err
		}
		found = append(found, rf...)
	}
	return finish(set, cfg, headInv, found, append(cfgSups, migSups...)), nil
}

// finish applies the config's severities, which win over the rules' own
// (Parse has checked them), and every suppression.
func finish(set *change.Set, cfg *config.Config, head *inventory, found []finding.Finding, sups []report.Suppression) *Result {
	for i := range found {
		if sev, ok := cfg.Severity[found[i].Rule]; ok {
			found[i].Severity, _ = finding.ParseSeverity(sev)
		}
	}
	all := append(cfg.Suppressions(), sups...)
	for _, ff := range head.sorted() {
		all = append(all, ff.sups...)
	}
	return &Result{Report: report.New(set.Base, set.Head, found, all), Config: cfg}
}

// Rehearse runs only the upgrade rehearsal of the change (breakwater
// rehearse): the runtimes from opt.Rehearsal, the config or the change's
// Postgres images, and the migrations and seed of the two sides.
func Rehearse(ctx context.Context, opt Options) (*Result, error) {
	repo, set, cfg, err := prepare(ctx, opt)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	rd := newReader(repo, cfg)
	baseInv, err := rd.inventory(ctx, set.Base)
	if err != nil {
		return nil, err
	}
	headInv, err := rd.inventory(ctx, set.Head)
	if err != nil {
		return nil, err
	}
	rd.resolveBuilt(baseInv)
	rd.resolveBuilt(headInv)
	c := compare(set, baseInv, headInv, cfg.Excluded)
	dirs, migFound, migSups, err := rd.migrations(ctx, set, baseInv, headInv, c.touched)
	if err != nil {
		return nil, err
	}
	// A directory that does not parse cannot be rehearsed; say so.
	var found []finding.Finding
	for _, f := range migFound {
		if f.Rule == finding.ParseError.ID {
			found = append(found, f)
		}
	}
	rf, err := rd.rehearse(ctx, opt, set, baseInv, headInv, c.images, dirs)
	if err != nil {
		return nil, err
	}
	return finish(set, cfg, headInv, append(found, rf...), migSups), nil
}

// comparison is what the changed files say, side by side.
type comparison struct {
	images    []facts.Pair
	engines   []check.EnginePair
	workloads []*facts.Workload
	findings  []finding.Finding // about the input: skips, parse errors
	touched   map[string]bool   // head paths the change touched
}

// compare pairs the facts of each changed file across the change. Input
// problems are reported for changed files only: a change is not blamed
// for a file it did not touch.
func compare(set *change.Set, base, head *inventory, excluded func(string) bool) *comparison {
	c := &comparison{touched: map[string]bool{}}
	files := append([]change.File(nil), set.Files...)
	for _, f := range set.Files {
		c.touched[f.Path()] = true
	}
	files = append(files, dependents(c.touched, head)...)
	for _, f := range files {
		if f.IsSubmodule() {
			if !excluded(f.Path()) {
				c.skip(&change.SkipError{Path: f.Path(), Reason: "submodule: its files are not checked"})
			}
			continue
		}
		old, cur := base.files[f.OldPath], head.files[f.NewPath]
		if cur == nil {
			continue // deleted, or not a file breakwater reads
		}
		var skip *change.SkipError
		var bad *finding.InputError
		switch {
		case errors.As(cur.err, &skip):
			c.skip(skip)
			continue
		case errors.As(cur.err, &bad):
			what := "No check ran on this file."
			c.findings = append(c.findings, finding.New(finding.ParseError, bad.File, bad.Line, "parse",
				fmt.Sprintf("%s does not parse: %s. %s", kindName(bad.File), bad.Msg, what)))
			continue
		}
		for _, e := range cur.inlineErrs {
			c.findings = append(c.findings, finding.New(finding.ParseError, cur.path, e.Line, "inline:"+e.Msg, e.Msg))
		}
		var oldImages []*facts.ImageUse
		var oldEngines []*facts.EngineVersion
		if old != nil {
			oldImages, oldEngines = old.images, old.engines
		}
		c.images = append(c.images, facts.Match(oldImages, cur.images)...)
		c.engines = append(c.engines, check.MatchEngines(oldEngines, cur.engines)...)
		c.workloads = append(c.workloads, cur.workloads...)
	}
	return c
}

// dependents lists the unchanged files whose facts still changed: a
// compose file whose .env changed, a Terraform file whose module did.
func dependents(touched map[string]bool, head *inventory) []change.File {
	modules := map[string]bool{} // directories with a touched .tf file
	for p := range touched {
		if manifest.Classify(p) == manifest.TerraformFile {
			modules[path.Dir(p)] = true
		}
	}
	var out []change.File
	for _, ff := range head.sorted() {
		if touched[ff.path] {
			continue
		}
		dir := path.Dir(ff.path)
		dep := false
		for _, u := range ff.images {
			dep = dep || touched[u.BuiltFrom]
		}
		switch manifest.Classify(ff.path) {
		case manifest.Compose:
			dep = dep || touched[path.Join(dir, ".env")]
		case manifest.TerraformFile:
			dep = dep || modules[dir]
		}
		if dep {
			out = append(out, change.File{Status: change.Modified, OldPath: ff.path, NewPath: ff.path})
		}
	}
	return out
}

func (c *comparison) skip(s *change.SkipError) {
	c.findings = append(c.findings, finding.New(finding.Skipped, s.Path, 0, s.Reason, s.Path+": "+s.Reason))
}

// kindName names a file's format in messages.
func kindName(p string) string {
	if dockerfile.IsDockerfile(p) {
		return "Dockerfile"
	}
	switch manifest.Classify(p) {
	case manifest.Compose:
		return "Compose file"
	case manifest.Kubernetes:
		return "YAML file" // any other .yml may be a manifest: the parse comes first
	case manifest.Helm:
		return "Helm values file"
	case manifest.Workflow:
		return "Workflow"
	case manifest.TerraformFile:
		return "Terraform file"
	}
	if manifest.IsBake(p) {
		return "Bake file"
	}
	return "File"
}

// prepare opens the repository, lists the change and reads the config:
// what every command needs before it looks at files.
func prepare(ctx context.Context, opt Options) (*change.Repo, *change.Set, *config.Config, error) {
	repo, base, head, err := open(ctx, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	progress(opt.Progress, "comparing %.12s..%.12s", base, head)
	set, err := repo.Diff(ctx, base, head)
	if err == nil {
		var cfg *config.Config
		if cfg, err = loadConfig(ctx, set, opt.ConfigFile); err == nil {
			return repo, set, cfg, nil
		}
	}
	repo.Close()
	return nil, nil, nil, err
}

// open opens the repository and resolves base and head to commits.
func open(ctx context.Context, opt Options) (_ *change.Repo, base, head string, err error) {
	repo, err := change.Open(opt.Repo)
	if err != nil {
		return nil, "", "", err
	}
	defer func() {
		if err != nil {
			repo.Close()
		}
	}()
	if opt.MaxFileSize > 0 {
		repo.MaxSize = opt.MaxFileSize
	}
	headRef := opt.Head
	if headRef == "" {
		headRef = "HEAD"
	}
	if opt.FetchMissing {
		for _, ref := range []string{opt.Base, headRef} {
			if ref != "" && ref != change.Worktree {
				if err := repo.EnsureCommit(ctx, ref); err != nil {
					return nil, "", "", err
				}
			}
		}
	}
	if head, err = repo.Resolve(ctx, headRef); err != nil {
		return nil, "", "", fmt.Errorf("--head: %w", err)
	}
	if opt.Base == "" {
		if base, err = repo.DefaultBase(ctx, headRef); err != nil {
			return nil, "", "", err
		}
	} else if base, err = repo.Resolve(ctx, opt.Base); err != nil {
		return nil, "", "", fmt.Errorf("--base: %w", err)
	}
	return repo, base, head, nil
}

func loadConfig(ctx context.Context, set *change.Set, file string) (*config.Config, error) {
	var (
		data []byte
		err  error
		name = file
	)
	if file != "" {
		data, err = os.ReadFile(file)
	} else {
		name = config.DefaultPath
		data, err = set.ReadHead(ctx, config.DefaultPath)
		if errors.Is(err, os.ErrNotExist) {
			return &config.Config{}, nil
		}
	}
	if err != nil {
		var skip *change.SkipError
		if errors.As(err, &skip) {
			return nil, fmt.Errorf("%s: %s", name, skip.Reason)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return config.Parse(name, data)
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "breakwater: "+format+"\n", args...)
	}
}
