package pipeline

import (
	"bytes"
	"context"
	"errors"
	"path"
	"sort"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/dockerfile"
	"github.com/breakwater-ci/breakwater/internal/facts"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
	"github.com/breakwater-ci/breakwater/internal/manifest"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// inventory is what breakwater knows about one side of the change: the
// facts of every file it reads, changed or not, since version skew is a
// property of the whole repository.
type inventory struct {
	commit string
	files  map[string]*fileFacts
}

// fileFacts is one file's facts, or why there are none.
type fileFacts struct {
	path      string
	images    []*facts.ImageUse
	engines   []*facts.EngineVersion
	workloads []*facts.Workload
	// err is a *finding.InputError (the file is malformed) or a
	// *change.SkipError (it was not read); reported for changed files only.
	err error
	// Inline suppressions written in the file, and malformed ones.
	sups       []report.Suppression
	inlineErrs []config.InlineError
}

// reader builds inventories, sharing work between the two sides: a file
// with the same path and blob on both sides is read and parsed once.
type reader struct {
	repo    *change.Repo
	cfg     *config.Config
	kb      *imageref.KB
	cache   map[string]*fileFacts
	modules map[string][]*fileFacts
	read    int
}

func newReader(repo *change.Repo, cfg *config.Config) *reader {
	return &reader{repo: repo, cfg: cfg, kb: imageref.Default(), cache: map[string]*fileFacts{}, modules: map[string][]*fileFacts{}}
}

// relevant reports whether breakwater reads a path.
func (rd *reader) relevant(p string) bool {
	if rd.cfg.Excluded(p) {
		return false
	}
	return dockerfile.IsDockerfile(p) || manifest.Classify(p) != manifest.None
}

func (rd *reader) inventory(ctx context.Context, commit string) (*inventory, error) {
	entries, err := rd.repo.Tree(ctx, commit)
	if err != nil {
		return nil, err
	}
	inv := &inventory{commit: commit, files: map[string]*fileFacts{}}
	byPath := map[string]change.Entry{}
	modules := map[string][]change.Entry{} // Terraform, by directory
	for _, e := range entries {
		byPath[e.Path] = e
	}
	for _, e := range entries {
		if e.Mode == "160000" || !rd.relevant(e.Path) {
			continue
		}
		if manifest.Classify(e.Path) == manifest.TerraformFile && !dockerfile.IsDockerfile(e.Path) {
			modules[path.Dir(e.Path)] = append(modules[path.Dir(e.Path)], e)
			continue
		}
		ff, err := rd.file(commit, e, byPath)
		if err != nil {
			return nil, err
		}
		inv.files[e.Path] = ff
	}
	dirs := make([]string, 0, len(modules))
	for d := range modules {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if err := rd.module(commit, modules[d], inv); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// cached looks a file up by path and blob; the work tree has no blob IDs,
// so its files are always read.
func (rd *reader) cached(e change.Entry, extra string) (string, *fileFacts) {
	if e.OID == "" {
		return "", nil
	}
	key := e.Path + "\x00" + e.OID + "\x00" + extra
	return key, rd.cache[key]
}

func (rd *reader) file(commit string, e change.Entry, tree map[string]change.Entry) (*fileFacts, error) {
	kind := manifest.Classify(e.Path)
	var env change.Entry
	if kind == manifest.Compose {
		env = tree[path.Join(path.Dir(e.Path), ".env")]
	}
	key, ff := rd.cached(e, env.OID)
	if ff != nil {
		return ff, nil
	}
	ff = &fileFacts{path: e.Path}
	data, err := rd.repo.ReadEntry(commit, e)
	var skip *change.SkipError
	switch {
	case errors.As(err, &skip):
		ff.err = skip
	case err != nil:
		return nil, err
	default:
		rd.read++
		rd.extract(ff, kind, commit, data, env)
		ff.sups, ff.inlineErrs = inline(e.Path, data)
	}
	if key != "" {
		rd.cache[key] = ff
	}
	return ff, nil
}

func (rd *reader) extract(ff *fileFacts, kind manifest.Kind, commit string, data []byte, env change.Entry) {
	if dockerfile.IsDockerfile(ff.path) {
		uses, err := dockerfile.Parse(ff.path, data, rd.cfg.BuildArgs)
		if err != nil {
			ff.err = err
			return
		}
		ff.images = imageFacts(ff.path, uses, rd.kb)
		return
	}
	var vars map[string]string
	if env.Path != "" {
		if b, err := rd.repo.ReadEntry(commit, env); err == nil {
			vars = manifest.ParseDotEnv(b)
		}
	}
	m, err := manifest.Extract(kind, ff.path, data, vars)
	if err != nil {
		ff.err = err
		return
	}
	rd.identify(m.Images)
	for _, w := range m.Workloads {
		for i := range w.Containers {
			c := &w.Containers[i]
			if ref, err := imageref.Parse(c.Image); err == nil {
				c.Database = rd.kb.Identify(ref).Database
			}
		}
	}
	ff.images, ff.workloads = m.Images, m.Workloads
}

// module reads the Terraform files of one directory together, since
// variables and locals are shared across them.
func (rd *reader) module(commit string, entries []change.Entry, inv *inventory) error {
	var oids []string
	for _, e := range entries {
		oids = append(oids, e.Path+"="+e.OID)
	}
	key := ""
	if entries[0].OID != "" {
		key = "tf\x00" + strings.Join(oids, "\x00")
		if ffs, ok := rd.modules[key]; ok {
			for _, ff := range ffs {
				inv.files[ff.path] = ff
			}
			return nil
		}
	}
	files := map[string][]byte{}
	ffs := map[string]*fileFacts{}
	for _, e := range entries {
		ff := &fileFacts{path: e.Path}
		ffs[e.Path] = ff
		data, err := rd.repo.ReadEntry(commit, e)
		var skip *change.SkipError
		switch {
		case errors.As(err, &skip):
			ff.err = skip
		case err != nil:
			return err
		default:
			rd.read++
			files[e.Path] = data
			ff.sups, ff.inlineErrs = inline(e.Path, data)
		}
	}
	m, errs := manifest.Terraform(files)
	for _, err := range errs {
		if p := errPath(err); ffs[p] != nil {
			ffs[p].err = err
		}
	}
	for _, ev := range m.Engines {
		if ff := ffs[ev.File]; ff != nil {
			ff.engines = append(ff.engines, ev)
		}
	}
	list := make([]*fileFacts, 0, len(ffs))
	for _, ff := range ffs {
		inv.files[ff.path] = ff
		list = append(list, ff)
	}
	if key != "" {
		rd.modules[key] = list
	}
	return nil
}

func (rd *reader) identify(uses []*facts.ImageUse) {
	for _, u := range uses {
		if u.Image == "" {
			continue
		}
		ref, err := imageref.Parse(u.Image)
		if err != nil {
			u.RefError = err.Error()
			continue
		}
		u.Identity = rd.kb.Identify(ref)
	}
}

func inline(p string, data []byte) ([]report.Suppression, []config.InlineError) {
	if !bytes.Contains(data, []byte("breakwater:ignore")) {
		return nil, nil
	}
	return config.Inline(p, data)
}

// errPath is the file an extractor's error is about.
func errPath(err error) string {
	var ie *finding.InputError
	if errors.As(err, &ie) {
		return ie.File
	}
	return ""
}

// refs lists every place the side names a Postgres major.
func (inv *inventory) refs() []check.PGRef {
	var images []*facts.ImageUse
	var engines []*facts.EngineVersion
	for _, ff := range inv.sorted() {
		images = append(images, ff.images...)
		engines = append(engines, ff.engines...)
	}
	return check.Refs(images, engines)
}

// sorted lists the files by path, for deterministic output.
func (inv *inventory) sorted() []*fileFacts {
	out := make([]*fileFacts, 0, len(inv.files))
	for _, ff := range inv.files {
		out = append(out, ff)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}
