package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/change"
	"github.com/breakwater-ci/breakwater/internal/testgit"
)

const closedSchema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {"title": {"type": "string"}, "legacy": {"type": "boolean"}}
}
`

// The config checks in the situations a fixture cannot show: what is
// looked at by default, what is left alone, and schemas that cannot be
// read.
func TestConfigs(t *testing.T) {
	tests := []struct {
		name       string
		base, head map[string]string
		links      map[string]string // head symlinks: name → target
		want       string
	}{
		{
			name: "default names: a compose file under config/ is a manifest, not a config",
			base: map[string]string{"config/compose.yml": "services:\n  web:\n    image: nginx:1\n", "config/app.yml": "a: 1\nb: 2\n"},
			head: map[string]string{"config/compose.yml": "services:\n  api:\n    image: nginx:1\n", "config/app.yml": "a: 1\n"},
			want: "config/app.yml:1 config/key-removed",
		},
		{
			name: "a file outside the default names is not compared",
			base: map[string]string{"deploy/app.yml": "a: 1\nb: 2\n"},
			head: map[string]string{"deploy/app.yml": "a: 1\n"},
		},
		{
			name: "configured targets replace the defaults",
			base: map[string]string{".breakwater.yml": "config:\n  - files: [deploy/*.yml]\n", "deploy/app.yml": "a: 1\nb: 2\n", "config/x.yml": "a: 1\n"},
			head: map[string]string{".breakwater.yml": "config:\n  - files: [deploy/*.yml]\n", "deploy/app.yml": "a: 1\n", "config/x.yml": "b: 1\n"},
			want: "deploy/app.yml:1 config/key-removed",
		},
		{
			name: "an unchanged schema does not revalidate old configs",
			base: map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n    files: [c.json]\n", "s.json": closedSchema, "c.json": `{"nope": 1}`},
			head: map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n    files: [c.json]\n", "s.json": closedSchema, "c.json": `{"nope": 1}`, "README": "x"},
		},
		{
			name: "a schema that changes only in a $ref'd file is checked",
			base: map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n    files: [c.json]\n", "s.json": `{"$ref": "d.json"}`, "d.json": closedSchema, "c.json": `{"legacy": true}`},
			head: map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n    files: [c.json]\n", "s.json": `{"$ref": "d.json"}`, "d.json": strings.Replace(closedSchema, `, "legacy": {"type": "boolean"}`, "", 1), "c.json": `{"legacy": true}`},
			want: "c.json:1 config/old-config-rejected\nd.json:4 config/schema-property-removed",
		},
		{
			name: "a configured schema that does not exist",
			base: map[string]string{"a": "x"},
			head: map[string]string{".breakwater.yml": "fail-on: error\nconfig:\n  - schema: missing.json\n"},
			want: ".breakwater.yml:3 input/parse-error",
		},
		{
			name: "a remote $ref is refused, not fetched",
			base: map[string]string{"a": "x"},
			head: map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n", "s.json": "{\n  \"$ref\": \"https://example.com/s.json\"\n}\n"},
			want: "s.json:2 input/parse-error",
		},
		{
			name:  "a config file that links out of the repository is not read",
			base:  map[string]string{"config/app.toml": "a = 1\n"},
			links: map[string]string{"config/app.toml": "/etc/passwd"},
			want:  "config/app.toml:0 input/skipped",
		},
		{
			name:  "a schema that links out of the repository is not read",
			base:  map[string]string{"a": "x"},
			head:  map[string]string{".breakwater.yml": "config:\n  - schema: s.json\n"},
			links: map[string]string{"s.json": "/etc/passwd"},
			want:  "s.json:0 input/parse-error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := testgit.New(t)
			for p, s := range tt.base {
				g.Write(p, s)
			}
			base := g.Commit("base")
			for p := range tt.base {
				g.Remove(p)
			}
			for p, s := range tt.head {
				g.Write(p, s)
			}
			for p, target := range tt.links {
				g.Symlink(target, p)
			}
			head := g.Commit("head")
			for _, h := range []string{head, change.Worktree} {
				res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: h})
				if err != nil {
					t.Fatal(err)
				}
				if got := rules(res.Report.Findings); got != tt.want {
					t.Errorf("head %s: findings\n%s\nwant\n%s", h, got, tt.want)
				}
				for _, f := range res.Report.Findings {
					if strings.Contains(f.Message, "root:") {
						t.Errorf("a file outside the repository was read: %s", f.Message)
					}
				}
			}
		})
	}
}

// Inline suppressions work in config files the inventory does not read,
// such as TOML.
func TestConfigInlineSuppression(t *testing.T) {
	g := testgit.New(t)
	g.Write("config/app.toml", "[db]\nmax_conns = 10\ntimeout = 5\n")
	base := g.Commit("base")
	g.Write("config/app.toml", "[db]\n# breakwater:ignore config/key-renamed the reader takes both names\nmax_connections = 10\n# breakwater:ignore config/key-removed\n")
	head := g.Commit("head")
	res, err := Run(context.Background(), Options{Repo: g.Dir, Base: base, Head: head})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Report.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s suppressed=%v %s", f.File, f.Line, f.Rule, f.Suppressed, f.SuppressionReason))
	}
	want := []string{
		"config/app.toml:1 config/key-removed suppressed=false ",
		"config/app.toml:3 config/key-renamed suppressed=true the reader takes both names",
		"config/app.toml:4 input/parse-error suppressed=false ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
