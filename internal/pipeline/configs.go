package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/check"
	"github.com/breakwater-ci/breakwater/internal/config"
	"github.com/breakwater-ci/breakwater/internal/configdiff"
	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/manifest"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// defaultConfigFiles are the config names looked at when .breakwater.yml
// has no config: section.
var defaultConfigFiles = []string{
	"**/config/*.yml", "**/config/*.yaml", "**/*.example.yml", "**/*.example.yaml",
	"**/settings*.json", "**/config/**/*.toml",
}

// configTargets are the config: section, or the defaults: every changed
// *.schema.json (diffed, with no files to validate) and the common
// config names.
func configTargets(cfg *config.Config, set *change.Set) []config.ConfigTarget {
	if len(cfg.Config) > 0 {
		return cfg.Config
	}
	var out []config.ConfigTarget
	for _, f := range set.Files {
		if f.NewPath != "" && strings.HasSuffix(strings.ToLower(f.NewPath), ".schema.json") {
			out = append(out, config.ConfigTarget{Schema: f.NewPath})
		}
	}
	return append(out, config.ConfigTarget{Files: defaultConfigFiles})
}

// configs runs the config checks: the layout diff of every changed config
// file, and for each schema whose files changed the schema diff and the
// old configs validated against the new schema. Inline suppressions in
// the config files that the inventory does not read (TOML, JSON) come
// back with the findings.
func (rd *reader) configs(ctx context.Context, set *change.Set, base, head *inventory, touched map[string]bool) ([]finding.Finding, []report.Suppression, error) {
	targets := configTargets(rd.cfg, set)
	defaults := len(rd.cfg.Config) == 0
	var out []finding.Finding
	isConfig := func(p string) bool {
		if rd.cfg.Excluded(p) || !configFormat(p) {
			return false
		}
		for _, t := range targets {
			if t.Matches(p) {
				return !defaults || readsAsConfig(p)
			}
		}
		return false
	}

	// The layout diff: changed files present on both sides.
	var pairs []change.File
	for _, f := range set.Files {
		if f.OldPath != "" && f.NewPath != "" && !f.IsSubmodule() && isConfig(f.NewPath) {
			pairs = append(pairs, f)
		}
	}
	olds, err := rd.readSide(ctx, set.Base, base, oldPaths(pairs))
	if err != nil {
		return nil, nil, err
	}
	news, err := rd.readSide(ctx, set.Head, head, newPaths(pairs))
	if err != nil {
		return nil, nil, err
	}
	var sups []report.Suppression
	for _, f := range pairs {
		cur := news[f.NewPath]
		out = append(out, configFileDiff(f, olds[f.OldPath], cur, head, defaults)...)
		if _, read := head.files[f.NewPath]; !read && cur.err == nil {
			s, errs := inline(f.NewPath, cur.data)
			sups = append(sups, s...)
			for _, e := range errs {
				out = append(out, finding.New(finding.ParseError, f.NewPath, e.Line, "inline:"+e.Msg, e.Msg))
			}
		}
	}

	for _, t := range targets {
		if t.Schema == "" || rd.cfg.Excluded(t.Schema) {
			continue
		}
		fs, err := rd.schemaTarget(ctx, set, t, base, head, touched)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, fs...)
	}
	return out, sups, nil
}

// read is one file as read from one side: its bytes or why there are none.
type read struct {
	data []byte
	err  error
}

// readSide reads paths of one side in one batch. Missing paths are left
// out; a failure of git is an error.
func (rd *reader) readSide(ctx context.Context, commit string, inv *inventory, paths []string) (map[string]read, error) {
	var entries []change.Entry
	for _, p := range paths {
		if e, ok := inv.tree[p]; ok {
			entries = append(entries, e)
		}
	}
	out := make(map[string]read, len(entries))
	err := rd.repo.ReadEntries(commit, entries, func(e change.Entry, data []byte, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var skip *change.SkipError
		if err != nil && !errors.As(err, &skip) {
			return err
		}
		out[e.Path] = read{data, err}
		return nil
	})
	return out, err
}

// configFileDiff compares the two versions of one config file. A head
// side that is skipped or does not parse is reported, unless the
// inventory already did; a base side that does not parse has no layout to
// keep. Under the default names, a Kubernetes manifest is not an
// application config.
func configFileDiff(f change.File, old, cur read, head *inventory, defaults bool) []finding.Finding {
	var skip *change.SkipError
	if errors.As(cur.err, &skip) {
		if _, read := head.files[f.NewPath]; read {
			return nil
		}
		return []finding.Finding{finding.New(finding.Skipped, skip.Path, 0, skip.Reason, skip.Path+": "+skip.Reason)}
	}
	if old.err != nil || cur.err != nil || cur.data == nil {
		return nil
	}
	headLeaves, err := configdiff.Flatten(f.NewPath, cur.data)
	if err != nil {
		if ff := head.files[f.NewPath]; ff != nil && ff.err != nil {
			return nil // reported once, as the inventory's parse error
		}
		return []finding.Finding{parseError(err, f.NewPath, "Config file")}
	}
	baseLeaves, err := configdiff.Flatten(f.OldPath, old.data)
	if err != nil || (defaults && isManifest(headLeaves)) {
		return nil
	}
	return check.ConfigFile(f.NewPath, configdiff.Diff(baseLeaves, headLeaves))
}

// schemaTarget checks one schema: when any file it is read from changed,
// the schema diff, then every base-side config file listed for it
// validated against the head schema.
func (rd *reader) schemaTarget(ctx context.Context, set *change.Set, t config.ConfigTarget, base, head *inventory, touched map[string]bool) ([]finding.Finding, error) {
	if _, ok := head.tree[t.Schema]; !ok {
		if len(rd.cfg.Config) == 0 {
			return nil, nil // a default target: the schema went in the change
		}
		return []finding.Finding{finding.New(finding.ParseError, config.DefaultPath, t.Line, "schema:"+t.Schema,
			fmt.Sprintf("The config schema %s named in %s does not exist on the head side. No config check ran on it.", t.Schema, config.DefaultPath))}, nil
	}
	headLoad := rd.loader(ctx, set.Head, head)
	schema, err := configdiff.CompileSchema(t.Schema, headLoad)
	if err != nil {
		var bad *finding.InputError
		if !errors.As(err, &bad) {
			return nil, err
		}
		if !touched[t.Schema] && !touched[bad.File] {
			return nil, nil // broken before the change, and not touched by it
		}
		return []finding.Finding{parseError(err, t.Schema, "JSON Schema")}, nil
	}
	changed := false
	for _, p := range schema.Files {
		changed = changed || touched[p]
	}
	if !changed {
		return nil, nil
	}
	var out []finding.Finding
	if _, ok := base.tree[t.Schema]; ok {
		changes, err := configdiff.DiffSchemas(
			configdiff.SchemaSource{Path: t.Schema, Load: rd.loader(ctx, set.Base, base)},
			configdiff.SchemaSource{Path: t.Schema, Load: headLoad})
		var bad *finding.InputError
		switch {
		case errors.As(err, &bad):
			out = append(out, parseError(err, t.Schema, "JSON Schema"))
		case err != nil:
			return nil, err
		default:
			out = append(out, check.Schema(changes)...)
		}
	}
	rejected, err := rd.oldConfigs(ctx, set, t, schema, base, head)
	return append(out, rejected...), err
}

// oldConfigs validates the target's config files as they are on the base
// side against the head schema: what deployed configs meet after the
// upgrade.
func (rd *reader) oldConfigs(ctx context.Context, set *change.Set, t config.ConfigTarget, schema *configdiff.Schema, base, head *inventory) ([]finding.Finding, error) {
	var paths []string
	for _, p := range base.paths {
		if t.Matches(p) && configFormat(p) && !rd.cfg.Excluded(p) {
			paths = append(paths, p)
		}
	}
	olds, err := rd.readSide(ctx, set.Base, base, paths)
	if err != nil {
		return nil, err
	}
	news, err := rd.readSide(ctx, set.Head, head, paths)
	if err != nil {
		return nil, err
	}
	var out []finding.Finding
	for _, p := range paths {
		old := olds[p]
		if old.err != nil {
			continue
		}
		root, err := configdiff.ParseNode(p, old.data)
		if err != nil {
			continue // it did not load before the change either
		}
		v, err := configdiff.Value(root)
		if err != nil {
			continue
		}
		vs, n := schema.Validate(v)
		if n == 0 {
			continue
		}
		// Point at the head file where it is still there, so annotations
		// land on a real line; a deleted file keeps its base lines.
		at := root
		if cur, ok := news[p]; ok && cur.err == nil {
			if hroot, err := configdiff.ParseNode(p, cur.data); err == nil && hroot != nil {
				at = hroot
			}
		}
		out = append(out, check.RejectedConfigs(p, t.Schema, vs, n, func(loc []string) int {
			line, _ := configdiff.Locate(at, loc)
			return line
		})...)
	}
	return out, nil
}

// loader reads repository files of one side for the schema code.
func (rd *reader) loader(ctx context.Context, commit string, inv *inventory) configdiff.Loader {
	return func(p string) ([]byte, error) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e, ok := inv.tree[p]
		if !ok {
			return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
		}
		data, err := rd.repo.ReadEntry(commit, e)
		var skip *change.SkipError
		if errors.As(err, &skip) {
			return nil, &finding.InputError{File: p, Msg: skip.Reason}
		}
		return data, err
	}
}

func parseError(err error, file, kind string) finding.Finding {
	var bad *finding.InputError
	if !errors.As(err, &bad) {
		bad = &finding.InputError{File: file, Msg: err.Error()}
	}
	if bad.File == "" {
		bad.File = file
	}
	return finding.New(finding.ParseError, bad.File, bad.Line, "parse",
		fmt.Sprintf("%s does not parse: %s. No config check ran on it.", kind, bad.Msg))
}

// configFormat reports whether breakwater reads the file's format.
func configFormat(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".yml", ".yaml", ".json", ".toml":
		return true
	}
	return false
}

// readsAsConfig leaves out of the default targets the files that
// breakwater reads as manifests: a compose file under config/ is not an
// application config.
func readsAsConfig(p string) bool {
	switch manifest.Classify(p) {
	case manifest.Compose, manifest.Helm, manifest.Workflow:
		return false
	}
	return true
}

// isManifest reports whether a document is a Kubernetes object: it has
// apiVersion and kind at the top.
func isManifest(leaves []configdiff.Leaf) bool {
	var api, kind bool
	for _, l := range leaves {
		if len(l.Path) == 1 {
			api = api || l.Path[0] == "apiVersion"
			kind = kind || l.Path[0] == "kind"
		}
	}
	return api && kind
}

func oldPaths(fs []change.File) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.OldPath
	}
	return out
}

func newPaths(fs []change.File) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.NewPath
	}
	return out
}
