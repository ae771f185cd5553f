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
	"github.com/breakwater-ci/breakwater/internal/migrate"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// inventory is what breakwater knows about one side of the change: the
// facts of every file it reads, changed or not, since version skew is a
// property of the whole repository.
type inventory struct {
	commit string
	files  map[string]*fileFacts
	// bake maps image repositories that docker-bake.hcl targets tag to
	// the Dockerfile that builds them.
	bake map[string]string
	// tree is every file of the side by path, and paths their paths in
	// order: the config checks read files the inventory does not.
	tree  map[string]change.Entry
	paths []string
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
	repo        *change.Repo
	cfg         *config.Config
	kb          *imageref.KB
	cache       map[string]*fileFacts
	idents      map[string]identity
	moduleCache map[string][]*fileFacts
	read        int
	early       *earlyStart // the database server, starting in the background
	seeds       *[]migrate.File
}

// identity is an image reference's identity, or why it has none.
type identity struct {
	id  imageref.Identity
	err string
}

func newReader(repo *change.Repo, cfg *config.Config) *reader {
	return &reader{repo: repo, cfg: cfg, kb: imageref.Default(), cache: map[string]*fileFacts{}, idents: map[string]identity{}, moduleCache: map[string][]*fileFacts{}}
}

// relevant reports whether breakwater reads a path.
func (rd *reader) relevant(p string) bool {
	if rd.cfg.Excluded(p) {
		return false
	}
	return dockerfile.IsDockerfile(p) || manifest.Classify(p) != manifest.None || manifest.IsBake(p)
}

func (rd *reader) inventory(ctx context.Context, commit string) (*inventory, error) {
	entries, err := rd.repo.Tree(ctx, commit)
	if err != nil {
		return nil, err
	}
	byPath := make(map[string]change.Entry, len(entries))
	paths := make([]string, len(entries))
	modules := map[string][]change.Entry{} // Terraform, by directory
	for i, e := range entries {
		byPath[e.Path] = e
		paths[i] = e.Path
	}
	inv := &inventory{commit: commit, files: map[string]*fileFacts{}, bake: map[string]string{}, tree: byPath, paths: paths}
	var todo, bakes []change.Entry
	for _, e := range entries {
		if e.Mode == "160000" || !rd.relevant(e.Path) {
			continue
		}
		if manifest.IsBake(e.Path) && !dockerfile.IsDockerfile(e.Path) {
			bakes = append(bakes, e)
			continue
		}
		if manifest.Classify(e.Path) == manifest.TerraformFile && !dockerfile.IsDockerfile(e.Path) {
			modules[path.Dir(e.Path)] = append(modules[path.Dir(e.Path)], e)
			continue
		}
		todo = append(todo, e)
	}
	if err := rd.files(ctx, commit, todo, byPath, inv); err != nil {
		return nil, err
	}
	if err := rd.modules(ctx, commit, modules, inv); err != nil {
		return nil, err
	}
	if err := rd.bakes(ctx, commit, bakes, inv); err != nil {
		return nil, err
	}
	return inv, nil
}

// bakes reads docker-bake.hcl files for the images their targets build.
func (rd *reader) bakes(ctx context.Context, commit string, entries []change.Entry, inv *inventory) error {
	return rd.readAll(ctx, commit, entries, func(ff *fileFacts, data []byte) {
		targets, err := manifest.Bake(ff.path, data)
		if err != nil {
			ff.err = err
			return
		}
		for img, df := range targets {
			inv.bake[img] = df
		}
	}, func(ff *fileFacts) {
		inv.files[ff.path] = ff
	})
}

// tfKey names a module by its files and blobs, or "" in the work tree.
func tfKey(entries []change.Entry) string {
	if entries[0].OID == "" {
		return ""
	}
	parts := []string{"tf"}
	for _, e := range entries {
		parts = append(parts, e.Path+"="+e.OID)
	}
	return strings.Join(parts, "\x00")
}

// modules reads the Terraform modules not seen before, their files in one
// batch from git, then each module as a whole.
func (rd *reader) modules(ctx context.Context, commit string, modules map[string][]change.Entry, inv *inventory) error {
	var todo []change.Entry
	dirs := make([]string, 0, len(modules))
	for d, entries := range modules {
		if ffs, ok := rd.moduleCache[tfKey(entries)]; ok && tfKey(entries) != "" {
			for _, ff := range ffs {
				inv.files[ff.path] = ff
			}
			continue
		}
		dirs = append(dirs, d)
		todo = append(todo, entries...)
	}
	sort.Strings(dirs)
	data := map[string][]byte{}
	ffs := map[string]*fileFacts{}
	err := rd.readAll(ctx, commit, todo, func(ff *fileFacts, b []byte) {
		data[ff.path] = b
	}, func(ff *fileFacts) {
		ffs[ff.path] = ff
	})
	if err != nil {
		return err
	}
	for _, d := range dirs {
		rd.module(modules[d], data, ffs, inv)
	}
	return nil
}

// module extracts one Terraform module: variables and locals are shared
// across its files.
func (rd *reader) module(entries []change.Entry, data map[string][]byte, ffs map[string]*fileFacts, inv *inventory) {
	files := map[string][]byte{}
	for _, e := range entries {
		if b, ok := data[e.Path]; ok {
			files[e.Path] = b
		}
	}
	m, errs := manifest.Terraform(files)
	for _, err := range errs {
		if ff := ffs[errPath(err)]; ff != nil {
			ff.err = err
		}
	}
	for _, ev := range m.Engines {
		if ff := ffs[ev.File]; ff != nil {
			ff.engines = append(ff.engines, ev)
		}
	}
	list := make([]*fileFacts, 0, len(entries))
	for _, e := range entries {
		ff := ffs[e.Path]
		inv.files[e.Path] = ff
		list = append(list, ff)
	}
	if key := tfKey(entries); key != "" {
		rd.moduleCache[key] = list
	}
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

// files reads and extracts the files not seen before, in one batch from
// git. Parsing stays on this goroutine: on a small machine git needs the
// other core.
func (rd *reader) files(ctx context.Context, commit string, todo []change.Entry, tree map[string]change.Entry, inv *inventory) error {
	var (
		misses []change.Entry
		keys   = map[string]string{}
		envs   = map[string]change.Entry{}
	)
	for _, e := range todo {
		var env change.Entry
		if manifest.Classify(e.Path) == manifest.Compose {
			env = tree[path.Join(path.Dir(e.Path), ".env")]
		}
		key, ff := rd.cached(e, env.OID)
		if ff != nil {
			inv.files[e.Path] = ff
			continue
		}
		keys[e.Path], envs[e.Path] = key, env
		misses = append(misses, e)
	}
	// The .env files first: the batch below holds git's reader.
	vars := map[string]map[string]string{}
	var envList []change.Entry
	for _, env := range envs {
		if env.Path != "" && vars[env.Path] == nil {
			vars[env.Path] = map[string]string{}
			envList = append(envList, env)
		}
	}
	err := rd.repo.ReadEntries(commit, envList, func(e change.Entry, data []byte, err error) error {
		if err == nil {
			vars[e.Path] = manifest.ParseDotEnv(data)
		}
		return nil // an unreadable .env is one without values
	})
	if err != nil {
		return err
	}
	return rd.readAll(ctx, commit, misses, func(ff *fileFacts, data []byte) {
		rd.extract(ff, manifest.Classify(ff.path), data, vars[envs[ff.path].Path])
	}, func(ff *fileFacts) {
		if key := keys[ff.path]; key != "" {
			rd.cache[key] = ff
		}
		inv.files[ff.path] = ff
	})
}

// readAll reads entries in one batch from git. parse gets each readable
// file's bytes; a file git will not give gets the reason as its error.
// Every file, read or not, then goes to keep.
func (rd *reader) readAll(ctx context.Context, commit string, entries []change.Entry, parse func(*fileFacts, []byte), keep func(*fileFacts)) error {
	return rd.repo.ReadEntries(commit, entries, func(e change.Entry, data []byte, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ff := &fileFacts{path: e.Path}
		var skip *change.SkipError
		switch {
		case errors.As(err, &skip):
			ff.err = skip
		case err != nil:
			return err
		default:
			rd.read++
			parse(ff, data)
			ff.sups, ff.inlineErrs = inline(e.Path, data)
		}
		keep(ff)
		return nil
	})
}

func (rd *reader) extract(ff *fileFacts, kind manifest.Kind, data []byte, vars map[string]string) {
	if dockerfile.IsDockerfile(ff.path) {
		uses, err := dockerfile.Parse(ff.path, data, rd.cfg.BuildArgs)
		if err != nil {
			ff.err = err
			return
		}
		ff.images = dockerfileFacts(ff.path, uses)
		rd.identify(ff.images)
		return
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
			c.Database = rd.ident(c.Image).id.Database
		}
	}
	ff.images, ff.workloads = m.Images, m.Workloads
}

func (rd *reader) identify(uses []*facts.ImageUse) {
	for _, u := range uses {
		if u.Image == "" {
			continue
		}
		id := rd.ident(u.Image)
		u.Identity, u.RefError = id.id, id.err
		if u.PackageMajor != 0 {
			// The package a stage installs decides its Postgres; the OS
			// under it still comes from the FROM image.
			u.Identity.PostgresMajor, u.Identity.Database = u.PackageMajor, true
			u.Identity.Sources = withSource(u.Identity.Sources, imageref.FactPostgres, imageref.SourcePackage)
		}
	}
}

// ident identifies an image, once per distinct reference: a monorepo
// names the same few images thousands of times.
func (rd *reader) ident(image string) identity {
	id, ok := rd.idents[image]
	if ok {
		return id
	}
	if ref, err := imageref.Parse(image); err != nil {
		id.err = err.Error()
	} else {
		id.id = rd.kb.Identify(ref)
	}
	rd.idents[image] = id
	return id
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

// dockerfileFacts turns a Dockerfile's FROMs into facts. Stage references
// and scratch have nothing of their own to check.
func dockerfileFacts(file string, uses []dockerfile.ImageUse) []*facts.ImageUse {
	out := make([]*facts.ImageUse, 0, len(uses))
	for _, u := range uses {
		if u.StageRef || u.Scratch {
			continue
		}
		major, pkg := u.PackageMajor()
		out = append(out, &facts.ImageUse{
			File: file, Line: u.Line, Key: u.Key(), Label: u.Label(),
			Raw: u.Raw, Image: u.Image, Unresolved: u.Unresolved, RunsPostgres: u.RunsPostgres,
			Package: pkg, PackageMajor: major,
		})
	}
	return out
}

// withSource copies a sources map with one fact's source set; identities
// are shared between uses, so their maps are never written in place.
func withSource(m map[string]string, fact, source string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out[fact] = source
	return out
}
