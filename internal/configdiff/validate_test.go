package configdiff

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// mapLoader serves files from a map and records what was asked for.
func mapLoader(files map[string]string, asked *[]string) Loader {
	load := memLoader(files)
	return func(p string) ([]byte, error) {
		*asked = append(*asked, p)
		return load(p)
	}
}

func TestCompileAndValidate(t *testing.T) {
	files := map[string]string{
		"schema/site.schema.json": `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "name": {"$ref": "defs/common.json#/definitions/name"},
    "port": {"type": "integer"}
  }
}`,
		"schema/defs/common.json": `{"definitions": {"name": {"type": "string", "maxLength": 4}}}`,
	}
	var asked []string
	s, err := CompileSchema("schema/site.schema.json", mapLoader(files, &asked))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Files, " "); got != "schema/site.schema.json schema/defs/common.json" {
		t.Errorf("Files = %s", got)
	}
	if got := strings.Join(asked, " "); got != "schema/site.schema.json schema/defs/common.json" {
		t.Errorf("the loader was asked for %s; the metaschema must come from the validator itself", got)
	}
	doc, err := ParseNode("c.yml", []byte("name: toolong\nport: \"80\"\nlegacy: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Value(doc)
	if err != nil {
		t.Fatal(err)
	}
	vs, n := s.Validate(v)
	var got []string
	for _, x := range vs {
		line, _ := Locate(doc, x.Path())
		got = append(got, fmt.Sprintf("%s %s %s @%d", x.Pointer(), x.Keyword, x.Message, line))
	}
	want := []string{
		"/legacy additionalProperties additional properties 'legacy' not allowed @3",
		"/name maxLength maxLength: got 7, want 4 @1",
		"/port type got string, want integer @2",
	}
	if n != 3 || strings.Join(sorted(got), "\n") != strings.Join(want, "\n") {
		t.Errorf("n = %d, violations:\n%s\nwant\n%s", n, strings.Join(sorted(got), "\n"), strings.Join(want, "\n"))
	}
	ok, _ := Value(mustParse(t, "name: ok\nport: 80\n"))
	if vs, n := s.Validate(ok); n != 0 {
		t.Errorf("a valid config is rejected: %+v", vs)
	}
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

func mustParse(t *testing.T, src string) *yaml.Node {
	t.Helper()
	n, err := ParseNode("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Schemas come only from the repository, and every error names a file
// and line.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // file:line: contained message
	}{
		{"remote $ref", map[string]string{"s.json": "{\n  \"properties\": {\n    \"a\": {\"$ref\": \"https://example.com/a.json\"}\n  }\n}"},
			"s.json:3: $ref https://example.com/a.json is not followed"},
		{"$ref out of the repository", map[string]string{"dir/s.json": "{\n  \"$ref\": \"../../etc/x.json\"\n}"},
			"dir/s.json:2: $ref"},
		{"absolute $ref", map[string]string{"s.json": "{\n\n  \"$ref\": \"/etc/passwd\"\n}"},
			"s.json:3: $ref"},
		{"missing file", map[string]string{"s.json": "{\"allOf\": [\n  {\"$ref\": \"nope.json\"}\n]}"},
			"s.json:2: $ref nope.json does not resolve"},
		{"invalid keyword value", map[string]string{"s.json": "{\n  \"type\": \"object\",\n  \"minLength\": \"three\"\n}"},
			"s.json:3: not a valid JSON Schema at /minLength"},
		{"malformed JSON", map[string]string{"s.json": "{\n  \"type\": \"object\",,\n}"},
			"s.json:2:"},
		{"malformed referenced file", map[string]string{"s.json": `{"$ref": "d.json"}`, "d.json": "{\n\n  oops\n}"},
			"d.json:3:"},
		// A $ref cycle that never descends into the document is the
		// schema's error, not a reason to reject every config.
		{"$ref cycle", map[string]string{"s.json": "{\n  \"properties\": {\"host\": {\"$ref\": \"#/$defs/a\"}},\n  \"$defs\": {\n    \"a\": {\"$ref\": \"#/$defs/b\"},\n    \"b\": {\"$ref\": \"#/$defs/a\"}\n  }\n}"},
			"s.json:4: $ref cycle s.json#/$defs/a → s.json#/$defs/b → s.json#/$defs/a"},
		{"$ref cycle through allOf and another file", map[string]string{"s.json": `{"allOf": [{"$ref": "d.json"}]}`, "d.json": `{"not": {"$ref": "s.json"}}`},
			"$ref cycle s.json → s.json#/allOf/0 → d.json → d.json#/not → s.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			root := "s.json"
			if _, ok := tt.files[root]; !ok {
				root = "dir/s.json"
			}
			_, err := CompileSchema(root, mapLoader(tt.files, &asked))
			var bad *finding.InputError
			if !errors.As(err, &bad) {
				t.Fatalf("err = %v (%T), want *finding.InputError", err, err)
			}
			if !strings.HasPrefix(bad.Error(), tt.want) && !strings.Contains(bad.Error(), tt.want) {
				t.Errorf("err = %q, want %q", bad, tt.want)
			}
			for _, p := range asked {
				if _, ok := tt.files[p]; !ok && p != "nope.json" {
					t.Errorf("the loader was asked for %q, outside the schema's files", p)
				}
			}
		})
	}
}

// A schema that refers to itself below the value it applies to (a tree)
// is no cycle.
func TestRecursiveSchemaCompiles(t *testing.T) {
	tree := `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}, "parent": {"allOf": [{"$ref": "#"}]}}}`
	s, err := CompileSchema("s.json", memLoader(map[string]string{"s.json": tree}))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := Value(mustParse(t, "children: [{children: []}]\nparent: {children: []}\n"))
	if vs, n := s.Validate(v); n != 0 {
		t.Errorf("rejected: %+v", vs)
	}
}

func TestLocate(t *testing.T) {
	doc := mustParse(t, `base: &b
  pool:
    size: 5
prod:
  <<: *b
  hosts:
    - a
    - b
`)
	tests := []struct {
		loc           []string
		line, matched int
	}{
		{nil, 1, 0},
		{[]string{"prod", "hosts", "1"}, 8, 3},
		{[]string{"prod", "pool", "size"}, 3, 3}, // through the merge: the << line, then the anchor's lines
		{[]string{"prod", "gone", "deeper"}, 4, 1},
		{[]string{"prod", "hosts", "9"}, 6, 2},
	}
	for _, tt := range tests {
		line, matched := Locate(doc, tt.loc)
		if line != tt.line || matched != tt.matched {
			t.Errorf("Locate(%v) = %d, %d; want %d, %d", tt.loc, line, matched, tt.line, tt.matched)
		}
	}
	if n := Find(doc, []string{"prod", "hosts", "0"}); n == nil || n.Value != "a" {
		t.Errorf("Find = %+v", n)
	}
	if Find(doc, []string{"prod", "nope"}) != nil {
		t.Error("Find of a missing key is not nil")
	}
}
