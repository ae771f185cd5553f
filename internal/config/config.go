// Package config reads .breakwater.yml and inline suppression comments.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/imageref"
	"github.com/breakwater-ci/breakwater/internal/rehearse"
	"github.com/breakwater-ci/breakwater/internal/report"
	"github.com/breakwater-ci/breakwater/internal/yamlerr"
)

// DefaultPath is where the config lives in a repository.
const DefaultPath = ".breakwater.yml"

// Config is .breakwater.yml.
type Config struct {
	// FailOn is the lowest severity that fails the run; the command-line
	// flag wins over it.
	FailOn string `yaml:"fail-on"`
	// BuildArgs stand in for `docker build --build-arg`.
	BuildArgs map[string]string `yaml:"build-args"`
	Suppress  []Suppression     `yaml:"suppress"`
	// Exclude lists path globs breakwater does not read at all, such as
	// test fixtures that are broken or outdated on purpose.
	Exclude []string `yaml:"exclude"`
	// Postgres is the Postgres policy.
	Postgres Postgres `yaml:"postgres"`
	// Images declares what images breakwater cannot identify by name
	// are: built from a Dockerfile here, or the same as a known image.
	Images map[string]ImageDecl `yaml:"images"`
	// Config lists config targets: a JSON Schema and the config files it
	// describes. Empty means the defaults (see internal/pipeline).
	Config []ConfigTarget `yaml:"config"`
	// Migrations lists the migration directories; empty means found by
	// their file names.
	Migrations []MigrationDir `yaml:"migrations"`
	// Seed is the data loaded between the base and head migrations.
	Seed Seed `yaml:"seed"`
	// Severity overrides rules' default severities by rule ID, such as
	// migration/no-down: warning for a team that wants every migration
	// reversible.
	Severity map[string]string `yaml:"severity"`
	// Rehearse is the upgrade rehearsal's runtimes.
	Rehearse Rehearse `yaml:"rehearse"`
}

// Rehearse is the `rehearse:` section.
type Rehearse struct {
	// From and To are runtimes as rehearse.ParseRuntime reads them; ""
	// takes the change's base and head Postgres images.
	From string `yaml:"from"`
	To   string `yaml:"to"`
	// Check makes every `breakwater check` rehearse, as --rehearse does.
	Check bool `yaml:"check"`
}

// MigrationDir is one entry of `migrations:`: a directory of SQL
// migrations in a known format, or a command that migrates (an ORM's).
type MigrationDir struct {
	Dir string `yaml:"dir"`
	// Format is golang-migrate, goose, flyway, dbmate or plain; "" detects
	// it from the file names and markers.
	Format string `yaml:"format"`
	// Command migrates up with DATABASE_URL set, run in a worktree of
	// each side; DownCommand migrates one step down.
	Command     string `yaml:"command"`
	DownCommand string `yaml:"down_command"`
	Line        int    `yaml:"-"`
}

// Seed is the `seed:` section: SQL files or a command, from one side.
type Seed struct {
	Files   []string `yaml:"files"`
	Command string   `yaml:"command"`
	// Side is "head" (the default) or "base": where the seed is read.
	Side string `yaml:"side"`
}

// ConfigTarget is one entry of `config:`. At least one field is set.
type ConfigTarget struct {
	// Schema is the repository path of a JSON Schema (JSON or YAML).
	Schema string `yaml:"schema"`
	// Files are path globs of the config files (YAML, JSON or TOML).
	Files []string `yaml:"files"`
	Line  int      `yaml:"-"` // where the entry is written, for errors
}

// Matches reports whether a repository path is one of the target's files.
func (t ConfigTarget) Matches(p string) bool {
	for _, g := range t.Files {
		if report.MatchGlob(g, p) {
			return true
		}
	}
	return false
}

// ImageDecl says what an image is. Exactly one field is set.
type ImageDecl struct {
	Dockerfile string `yaml:"dockerfile"` // repository path of the Dockerfile that builds it
	SameAs     string `yaml:"same-as"`    // a reference breakwater knows, e.g. postgres:12.6-alpine
}

// Postgres is the `postgres:` section.
type Postgres struct {
	// Supported is a range of majors such as ">=13 <=17"; every reference
	// outside it is a finding.
	Supported string `yaml:"supported"`
	// Range is Supported, parsed.
	Range imageref.MajorRange `yaml:"-"`
}

// Excluded reports whether a path matches one of the exclude globs.
func (c *Config) Excluded(p string) bool {
	for _, g := range c.Exclude {
		if report.MatchGlob(g, p) {
			return true
		}
	}
	return false
}

// Suppression silences one rule on the files matching Path.
type Suppression struct {
	Rule   string `yaml:"rule"`
	Path   string `yaml:"path"`
	Reason string `yaml:"reason"`
	Line   int    `yaml:"-"` // where it is written, for errors
}

// Error is a problem in the config with the line it is on.
type Error = finding.InputError

// Parse reads a config. Unknown keys, unknown rule IDs and suppressions
// without a reason are errors: a typo must not silently turn a check off.
func Parse(file string, data []byte) (*Config, error) {
	var cfg Config
	if len(bytes.TrimSpace(data)) == 0 {
		return &cfg, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	// The schema first: its errors name the key and line for every shape
	// problem, where the decoder would name a Go type.
	if err := validate(file, &doc); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	// Line numbers for list entries come from the node tree.
	if lines := itemLines(&doc, "suppress"); len(lines) == len(cfg.Suppress) {
		for i := range cfg.Suppress {
			cfg.Suppress[i].Line = lines[i]
		}
	}
	if lines := itemLines(&doc, "config"); len(lines) == len(cfg.Config) {
		for i := range cfg.Config {
			cfg.Config[i].Line = lines[i]
		}
	}
	if cfg.FailOn != "" && cfg.FailOn != "none" {
		if _, err := finding.ParseSeverity(cfg.FailOn); err != nil {
			return nil, &Error{File: file, Line: findLine(&doc, "fail-on"), Msg: "fail-on: " + err.Error()}
		}
	}
	if cfg.Postgres.Supported != "" {
		r, err := imageref.ParseMajorRange(cfg.Postgres.Supported)
		if err != nil {
			return nil, &Error{File: file, Line: findLine(&doc, "postgres", "supported"), Msg: "postgres.supported: " + err.Error()}
		}
		cfg.Postgres.Range = r
	}
	for name, d := range cfg.Images {
		line := findLine(&doc, "images", name)
		if (d.Dockerfile == "") == (d.SameAs == "") {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("images: %s: set exactly one of dockerfile and same-as", name)}
		}
		if d.SameAs != "" {
			if _, err := imageref.Parse(d.SameAs); err != nil {
				return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("images: %s: same-as: %v", name, err)}
			}
		}
		if d.Dockerfile != "" && !inside(d.Dockerfile) {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("images: %s: dockerfile %q must be a path inside the repository", name, d.Dockerfile)}
		}
		if _, err := imageref.Parse(name); err != nil {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("images: %q is not an image name: %v", name, err)}
		}
	}
	for _, g := range cfg.Exclude {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "x"), ""); err != nil || g == "" {
			return nil, &Error{File: file, Line: findLine(&doc, "exclude"), Msg: fmt.Sprintf("exclude: bad path glob %q", g)}
		}
	}
	for i, t := range cfg.Config {
		if t.Schema != "" && !inside(t.Schema) {
			return nil, &Error{File: file, Line: t.Line, Msg: fmt.Sprintf("config[%d]: schema %q must be a path inside the repository", i, t.Schema)}
		}
		for _, g := range t.Files {
			if _, err := path.Match(strings.ReplaceAll(g, "**", "x"), ""); err != nil || !inside(g) {
				return nil, &Error{File: file, Line: t.Line, Msg: fmt.Sprintf("config[%d]: bad path glob %q: it must be a glob of paths inside the repository", i, g)}
			}
		}
	}
	if lines := itemLines(&doc, "migrations"); len(lines) == len(cfg.Migrations) {
		for i := range cfg.Migrations {
			cfg.Migrations[i].Line = lines[i]
		}
	}
	for i, m := range cfg.Migrations {
		if m.Dir != "" && !inside(m.Dir) {
			return nil, &Error{File: file, Line: m.Line, Msg: fmt.Sprintf("migrations[%d]: dir %q must be a path inside the repository", i, m.Dir)}
		}
	}
	for _, g := range cfg.Seed.Files {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "x"), ""); err != nil || !inside(g) {
			return nil, &Error{File: file, Line: findLine(&doc, "seed", "files"), Msg: fmt.Sprintf("seed.files: bad path glob %q: it must be a glob of paths inside the repository", g)}
		}
	}
	for _, rt := range []struct{ key, value string }{{"from", cfg.Rehearse.From}, {"to", cfg.Rehearse.To}} {
		if rt.value == "" {
			continue
		}
		if _, err := rehearse.ParseRuntime(rt.value); err != nil {
			return nil, &Error{File: file, Line: findLine(&doc, "rehearse", rt.key), Msg: "rehearse." + rt.key + ": " + err.Error()}
		}
	}
	for id, sev := range cfg.Severity {
		line := findLine(&doc, "severity", id)
		if _, ok := finding.Lookup(id); !ok {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("severity: unknown rule %q (`breakwater rules` lists them)", id)}
		}
		if _, err := finding.ParseSeverity(sev); err != nil {
			return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("severity: %s: %v", id, err)}
		}
	}
	for _, s := range cfg.Suppress {
		if err := checkSuppression(s.Rule, s.Reason); err != nil {
			return nil, &Error{File: file, Line: s.Line, Msg: "suppress: " + err.Error()}
		}
		if s.Path != "" {
			if _, err := path.Match(strings.ReplaceAll(s.Path, "**", "x"), ""); err != nil {
				return nil, &Error{File: file, Line: s.Line, Msg: fmt.Sprintf("suppress: bad path glob %q: %v", s.Path, err)}
			}
		}
	}
	return &cfg, nil
}

// Suppressions turns the config's entries into report suppressions.
func (c *Config) Suppressions() []report.Suppression {
	out := make([]report.Suppression, 0, len(c.Suppress))
	for _, s := range c.Suppress {
		out = append(out, report.Suppression{Rule: s.Rule, Path: s.Path, Reason: s.Reason})
	}
	return out
}

func checkSuppression(rule, reason string) error {
	if rule == "" {
		return errors.New("an entry has no rule")
	}
	if _, ok := finding.Lookup(rule); !ok {
		return fmt.Errorf("unknown rule %q (see `breakwater rules`)", rule)
	}
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("suppression of %s has no reason", rule)
	}
	return nil
}

// inside reports whether a repository path (or glob) stays inside the
// repository.
func inside(p string) bool {
	c := path.Clean(p)
	return p != "" && !path.IsAbs(p) && c != ".." && !strings.HasPrefix(c, "../")
}

// itemLines lists the lines of the items of the top-level list key.
func itemLines(doc *yaml.Node, key string) []int {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == key && root.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, item := range root.Content[i+1].Content {
				lines = append(lines, item.Line)
			}
			return lines
		}
	}
	return nil
}

// findLine follows a path of mapping keys and returns the last key's line.
func findLine(doc *yaml.Node, keys ...string) int {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range keys {
		found := false
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			break
		}
	}
	return line
}

// yamlError names the file and line of a yaml.v3 error.
func yamlError(file string, err error) error {
	return yamlerr.InputError(file, nil, err)
}

// Image finds the declaration for an image reference: by its repository,
// with or without the registry ("acme/pgsql" matches docker.io/acme/pgsql:1).
func (c *Config) Image(ref imageref.Ref) (ImageDecl, bool) {
	for _, name := range []string{ref.Path, ref.Name} {
		if d, ok := c.Images[name]; ok {
			return d, true
		}
	}
	return ImageDecl{}, false
}
