// Package pipeline runs one check of a change from end to end:
// change set → extractors → checks → report. Publishing is the caller's.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/dockerfile"
	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
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
	base, head := set.Base, set.Head

	x := &extraction{set: set, cfg: cfg, kb: imageref.Default(), heads: map[string][]byte{}}
	if err := x.dockerfiles(); err != nil {
		return nil, err
	}
	progress(opt.Progress, "%d changed files, %d Dockerfiles read", len(set.Files), x.read)

	found := append(x.findings, check.Images(x.pairs)...)
	sups := cfg.Suppressions()
	found, sups = x.inline(found, sups)
	return &Result{Report: report.New(base, head, found, sups), Config: cfg}, nil
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

// extraction gathers facts and input findings from the changed files.
type extraction struct {
	set      *change.Set
	cfg      *config.Config
	kb       *imageref.KB
	pairs    []facts.Pair
	findings []finding.Finding
	heads    map[string][]byte // head-side bytes of files read, for inline suppressions
	read     int
}

func (x *extraction) dockerfiles() error {
	for _, f := range x.set.Files {
		if f.IsSubmodule() && !x.cfg.Excluded(f.Path()) {
			x.skip(&change.SkipError{Path: f.Path(), Reason: "submodule: its files are not checked"})
			continue
		}
		oldIs := f.OldPath != "" && dockerfile.IsDockerfile(f.OldPath) && !x.cfg.Excluded(f.OldPath)
		newIs := f.NewPath != "" && dockerfile.IsDockerfile(f.NewPath) && !x.cfg.Excluded(f.NewPath)
		if !oldIs && !newIs {
			continue
		}
		var base, head []*facts.ImageUse
		if newIs {
			data, err := x.set.ReadNew(f)
			if err := x.inputErr(err); err != nil {
				return err
			}
			if data != nil {
				x.heads[f.NewPath] = data
				head = x.parse(f.NewPath, data, true)
			}
		}
		if oldIs {
			data, err := x.set.ReadOld(f)
			var skip *change.SkipError
			if err != nil && !errors.As(err, &skip) {
				return err
			}
			if data != nil {
				// The base side is only compared against: a base that did
				// not parse leaves the head to stand alone.
				base = x.parse(f.Path(), data, false)
			}
		}
		x.pairs = append(x.pairs, facts.Match(base, head)...)
	}
	return nil
}

// inputErr turns a skip into a notice and passes real failures up.
func (x *extraction) inputErr(err error) error {
	var skip *change.SkipError
	if errors.As(err, &skip) {
		x.skip(skip)
		return nil
	}
	return err
}

func (x *extraction) skip(s *change.SkipError) {
	x.findings = append(x.findings, finding.New(finding.Skipped, s.Path, 0, s.Reason, s.Path+": "+s.Reason))
}

// parse extracts image uses. Files are reported under their head path so
// a renamed Dockerfile keeps its fingerprints.
func (x *extraction) parse(file string, data []byte, headSide bool) []*facts.ImageUse {
	x.read++
	uses, err := dockerfile.Parse(file, data, x.cfg.BuildArgs)
	if err != nil {
		if headSide {
			var pe *dockerfile.ParseError
			line, msg := 0, err.Error()
			if errors.As(err, &pe) {
				line, msg = pe.Line, pe.Msg
			}
			f := finding.New(finding.ParseError, file, line, "dockerfile", "Dockerfile does not parse: "+msg+". No image check ran on this file.")
			x.findings = append(x.findings, f)
		}
		return nil
	}
	return imageFacts(file, uses, x.kb)
}

// imageFacts turns a Dockerfile's FROMs into facts, with identities.
// Stage references and scratch have nothing of their own to check.
func imageFacts(file string, uses []dockerfile.ImageUse, kb *imageref.KB) []*facts.ImageUse {
	out := make([]*facts.ImageUse, 0, len(uses))
	for _, u := range uses {
		if u.StageRef || u.Scratch {
			continue
		}
		fu := &facts.ImageUse{
			File: file, Line: u.Line, Key: u.Key(), Label: u.Label(),
			Raw: u.Raw, Image: u.Image, Unresolved: u.Unresolved, RunsPostgres: u.RunsPostgres,
		}
		if u.Image != "" {
			ref, err := imageref.Parse(u.Image)
			if err != nil {
				fu.RefError = err.Error()
			} else {
				fu.Identity = kb.Identify(ref)
			}
		}
		out = append(out, fu)
	}
	return out
}

// inline adds the inline suppressions of every file with findings, and
// turns malformed ones into findings of their own.
func (x *extraction) inline(found []finding.Finding, sups []report.Suppression) ([]finding.Finding, []report.Suppression) {
	files := map[string]bool{}
	for _, f := range found {
		files[f.File] = true
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		data, ok := x.heads[name]
		if !ok {
			continue
		}
		s, errs := config.Inline(name, data)
		sups = append(sups, s...)
		for _, e := range errs {
			found = append(found, finding.New(finding.ParseError, name, e.Line, "inline:"+e.Msg, e.Msg))
		}
	}
	return found, sups
}

func progress(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "breakwater: "+format+"\n", args...)
	}
}
