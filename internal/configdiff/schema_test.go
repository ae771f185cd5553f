package configdiff

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// dirLoader serves one side of a fixture from disk, as the lead's git
// loader serves a side of a change.
func dirLoader(dir string) Loader {
	fsys := os.DirFS(dir)
	return func(p string) ([]byte, error) { return fs.ReadFile(fsys, p) }
}

func fixture(name, root string) (base, head SchemaSource) {
	dir := filepath.Join("testdata", "schema", name)
	return SchemaSource{root, dirLoader(filepath.Join(dir, "base"))}, SchemaSource{root, dirLoader(filepath.Join(dir, "head"))}
}

// sc renders a schema change compactly for comparison.
func sc(ch SchemaChange) string {
	s := fmt.Sprintf("%s %q %s %q %q→%q %s:%d", ch.Kind, ch.Location, ch.Keyword, ch.Property, ch.From, ch.To, ch.File, ch.Line)
	if ch.Closed {
		s += " closed"
	}
	if ch.HasDefault {
		s += " default"
	}
	return s
}

var schemaTests = []struct {
	name string
	root string // default schema.json
	want []string
	err  string // "file:line: message" prefix of an InputError
}{
	{name: "closed-removed", want: []string{
		`schema-property-removed "/port" properties "port" ""→"" schema.json:5 closed`,
	}},
	{name: "open-removed", want: []string{
		`schema-property-removed "/server/port" properties "port" ""→"" schema.json:6`,
	}},
	{name: "required-added", want: []string{
		`schema-required-added "/name" required "name" ""→"" schema.json:5`,
		`schema-required-added "/port" required "port" ""→"" schema.json:6 default`,
	}},
	{name: "enum-removed", want: []string{
		`schema-enum-value-removed "/level" enum "" "\"debug\""→"" schema.json:3`,
		`schema-enum-value-removed "/mode" const "" "[\"fast\", \"slow\"]"→"\"fast\"" schema.json:5`,
		`schema-enum-value-removed "/kind" enum "" ""→"[\"a\", \"b\"]" schema.json:6`,
	}},
	{name: "maxlength", want: []string{
		`schema-constraint-tightened "/name" maxLength "" "64"→"32" schema.json:3`,
	}},
	{name: "defs-2020"},
	{name: "definitions-draft7"}, // the "maximum" beside $ref is ignored in draft 7
	{name: "ref-siblings-2020", want: []string{
		`schema-constraint-tightened "/port" maximum "" ""→"10" schema.json:3`,
	}},
	{name: "relative-file", root: "schemas/app.schema.json", want: []string{
		`schema-constraint-tightened "/name" maxLength "" "64"→"40" schemas/common.schema.json:5`,
		`schema-constraint-tightened "/owner/email" pattern "" ""→"\"@\"" schemas/defs/people.json:4`,
	}},
	{name: "pointer-escapes", want: []string{
		`schema-constraint-tightened "/a" minLength "" ""→"1" schema.json:8`,
		`schema-constraint-tightened "/c" minLength "" ""→"2" schema.json:9`,
		`schema-constraint-tightened "/e" minLength "" ""→"3" schema.json:10`,
	}},
	{name: "pure-extension"},
	{name: "items-narrowed", want: []string{
		`schema-type-narrowed "/tags/*" type "" "\"string\", \"integer\""→"\"integer\"" schema.json:5`,
		`schema-type-narrowed "/pair/1" type "" "\"number\""→"\"integer\"" schema.json:9`,
		`schema-type-narrowed "/pair/*" type "" ""→"false" schema.json:10`,
	}},
	{name: "allof-merge", want: []string{
		`schema-constraint-tightened "/b" maximum "" ""→"9" schema.json:5`,
		`schema-required-added "/b" required "b" ""→"" schema.json:6`,
	}},
	{name: "ref-cycle"},
	{name: "ref-cycle-changed", want: []string{
		`schema-constraint-tightened "/name" minLength "" ""→"1" schema.json:4`,
	}},
	{name: "anyof", want: []string{
		`schema-type-narrowed "/port" anyOf "" "\"string\", \"integer\""→"\"integer\"" schema.json:3`,
		`schema-enum-value-removed "/mode" enum "" "\"b\""→"" schema.json:4`,
		`schema-constraint-tightened "/db/url" maxLength "" ""→"10" schema.json:7`,
	}},
	{name: "closed", want: []string{
		`schema-closed "/a" unevaluatedProperties "" ""→"false" schema.json:3`,
		`schema-closed "/b" additionalProperties "" "{\"type\": \"string\"}"→"false" schema.json:4`,
		`schema-type-narrowed "/d/*" type "" "\"string\", \"integer\""→"\"integer\"" schema.json:6`,
	}},
	{name: "default-changed", want: []string{
		`schema-default-changed "/a" default "" "1"→"5" schema.json:3`,
		`schema-default-changed "/b" default "" "2"→"" schema.json:4`,
	}},
	{name: "constraints", want: []string{
		`schema-constraint-tightened "/n" exclusiveMaximum "" ""→"50" schema.json:3`,
		`schema-constraint-tightened "/n" minimum "" "0"→"1" schema.json:3`,
		`schema-constraint-tightened "/n" multipleOf "" "2"→"4" schema.json:3`,
		`schema-type-narrowed "/n" type "" "\"number\""→"\"integer\"" schema.json:3`,
		`schema-constraint-tightened "/s" minLength "" ""→"2" schema.json:4`,
		`schema-constraint-tightened "/s" pattern "" ""→"\"^x\"" schema.json:4`,
		`schema-constraint-tightened "/l" minItems "" ""→"1" schema.json:5`,
		`schema-constraint-tightened "/l" uniqueItems "" ""→"true" schema.json:5`,
		`schema-constraint-tightened "/o" maxProperties "" ""→"3" schema.json:6`,
	}},
	{name: "became-false", want: []string{
		`schema-type-narrowed "/legacy" type "" "\"string\""→"false" schema.json:3`,
		`schema-constraint-tightened "/*" maxLength "" ""→"9" schema.json:5`,
		`schema-type-narrowed "/gone" type "" ""→"\"integer\"" schema.json:5`,
		`schema-closed "" additionalProperties "" ""→"false" schema.json:6`,
	}},
	{name: "draft7-tuple", want: []string{ // prefixItems means nothing in draft 7
		`schema-type-narrowed "/1" type "" "\"number\""→"\"integer\"" schema.json:4`,
		`schema-type-narrowed "/*" type "" "\"string\""→"false" schema.json:5`,
	}},
	{name: "unevaluated-removed", root: "schema.yaml", want: []string{
		`schema-property-removed "/drop" properties "drop" ""→"" schema.yaml:3 closed`,
	}},
	{name: "anyof-paired", want: []string{ // one narrowing, from the union; a bound on a boolean is moot
		`schema-type-narrowed "" anyOf "" "\"string\", \"integer\""→"\"string\", \"boolean\"" schema.json:2`,
	}},
	{name: "cross-file-cycle", root: "a.json", want: []string{
		`schema-type-narrowed "/b/m" type "" "\"number\""→"\"integer\"" b.json:4`,
	}},
	{name: "remote-ref", err: `schema.json:4: remote $ref "https://example.com/schemas/a.json" is not followed: breakwater reads schemas only from the repository`},
	{name: "dotdot-ref", err: `schema.json:3: $ref "../../outside.json#/$defs/a" leaves the repository`},
	{name: "missing-ref", err: `schema.json:3: $ref "#/$defs/nope" does not resolve`},
	{name: "malformed", err: `schema.json:5: `},
}

func TestSchemaDiff(t *testing.T) {
	for _, tt := range schemaTests {
		t.Run(tt.name, func(t *testing.T) {
			base, head := fixture(tt.name, cmpOr(tt.root, "schema.json"))
			changes, err := DiffSchemas(base, head)
			if tt.err != "" {
				var ie *finding.InputError
				if !errors.As(err, &ie) || !strings.HasPrefix(ie.Error(), tt.err) {
					t.Fatalf("err = %v (%T), want an InputError starting %q", err, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ch := range changes {
				got = append(got, sc(ch))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

// TestSchemaDiffSelf diffs every fixture side with itself: no changes.
func TestSchemaDiffSelf(t *testing.T) {
	for _, tt := range schemaTests {
		if tt.err != "" {
			continue
		}
		base, head := fixture(tt.name, cmpOr(tt.root, "schema.json"))
		for _, s := range []SchemaSource{base, head} {
			if got, err := DiffSchemas(s, s); err != nil || len(got) != 0 {
				t.Errorf("%s: DiffSchemas(x, x) = %v, %v", tt.name, got, err)
			}
		}
	}
}

func TestSchemaDiffRefErrors(t *testing.T) {
	for _, tt := range []struct{ ref, msg string }{
		{"http://example.com/a.json", "remote $ref"},
		{"file:///etc/passwd", "remote $ref"},
		{"//example.com/a.json", "remote $ref"},
		{"/etc/a.json", "absolute path"},
		{"../../a.json", "leaves the repository"},
		{"sub/../../../a.json", "leaves the repository"},
		{"../gone.json", "gone.json not found"},
		{"gone.json", "gone.json not found"},
		{"#/nope/0", `no "nope"`},
		{"#/properties/a/items/3", `no "3"`},
		{"#anchor", `no anchor "anchor"`},
		{"#/properties/a%zz", "not a valid URI reference"},
	} {
		schema := fmt.Sprintf("{\n  \"properties\": {\n    \"a\": {\"items\": [true]},\n    \"b\": {\"$ref\": %q}\n  }\n}\n", tt.ref)
		src := SchemaSource{"dir/a.json", memLoader(map[string]string{"dir/a.json": schema})}
		_, err := DiffSchemas(src, src)
		var ie *finding.InputError
		if !errors.As(err, &ie) || ie.File != "dir/a.json" || ie.Line != 4 || !strings.Contains(ie.Msg, tt.msg) {
			t.Errorf("%s: err = %v, want dir/a.json:4 and %q", tt.ref, err, tt.msg)
		}
	}
}

// TestSchemaDiffMetaschemaNotLoaded: a loader that fails on anything but
// the root proves "$schema" is not fetched, and anchors resolve.
func TestSchemaDiffMetaschemaNotLoaded(t *testing.T) {
	base := `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"a": {"$ref": "#port"}}, "definitions": {"p": {"$id": "#port", "type": "integer"}}}`
	head := `{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"a": {"$ref": "#port"}}, "definitions": {"p": {"$id": "#port", "type": "integer", "maximum": 5}}}`
	got, err := DiffSchemas(SchemaSource{"s.json", memLoader(map[string]string{"s.json": base})},
		SchemaSource{"s.json", memLoader(map[string]string{"s.json": head})})
	if err != nil || len(got) != 1 || got[0].Keyword != "maximum" {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestSchemaDiffDepth(t *testing.T) {
	// Nesting through $defs, since the YAML parser stops plain nesting
	// at 200 levels.
	var b strings.Builder
	b.WriteString(`{"$ref": "#/$defs/d0", "$defs": {`)
	for i := range 600 {
		fmt.Fprintf(&b, `"d%d": {"items": {"$ref": "#/$defs/d%d"}}, `, i, i+1)
	}
	b.WriteString(`"d600": {}}}`)
	deep := b.String()
	src := SchemaSource{"a.json", memLoader(map[string]string{"a.json": deep})}
	_, err := DiffSchemas(src, src)
	var ie *finding.InputError
	if !errors.As(err, &ie) || !strings.Contains(ie.Msg, "deeper than 500") {
		t.Fatalf("err = %v", err)
	}
}

func memLoader(files map[string]string) Loader {
	return func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, fmt.Errorf("read %s: %w", p, fs.ErrNotExist)
		}
		return []byte(s), nil
	}
}

// TestSchemaDiffAliasBomb: aliases are followed by node, not expanded, so
// nested aliases cost their node count.
func TestSchemaDiffAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &x0 {type: object, enum: [1, {a: 1}], properties: {p: {type: string}}}\n")
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {allOf: [*x%d, *x%d], enum: [*x%d, *x%d], properties: {a: *x%d, b: *x%d}}\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("$ref: '#/x30'\n")
	src := SchemaSource{"a.yaml", memLoader(map[string]string{"a.yaml": b.String()})}
	start := time.Now()
	got, err := DiffSchemas(src, src)
	if err != nil || len(got) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}
