package configdiff

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

var schemaKinds = []string{SchemaPropertyRemoved, SchemaRequiredAdded, SchemaTypeNarrowed,
	SchemaEnumValueRemoved, SchemaConstraintTightened, SchemaClosed, SchemaDefaultChanged}

// FuzzSchemaDiff checks that DiffSchemas never panics, fails only with an
// InputError, reports only known kinds on real lines, and finds nothing
// between a schema and itself. Each side is one file, a.json, or a.yaml
// so that aliases are fuzzed too.
func FuzzSchemaDiff(f *testing.F) {
	for _, tt := range schemaTests {
		dir := filepath.Join("testdata", "schema", tt.name)
		root := filepath.FromSlash(cmpOr(tt.root, "schema.json"))
		a, errA := os.ReadFile(filepath.Join(dir, "base", root))
		b, errB := os.ReadFile(filepath.Join(dir, "head", root))
		if errA == nil && errB == nil {
			f.Add(a, b, strings.HasSuffix(root, ".yaml"))
		}
	}
	f.Add([]byte(`{"$ref": "#", "anyOf": [{"$ref": "#"}, false]}`), []byte(`{"allOf": [{"$ref": "#/allOf/0"}]}`), false)
	f.Add([]byte("a: &a {type: string}\nproperties: {x: *a, y: *a}\n"), []byte("properties: {x: {type: integer}}\n"), true)
	f.Fuzz(func(t *testing.T, a, b []byte, isYAML bool) {
		name := "a.json"
		if isYAML {
			name = "a.yaml"
		}
		side := func(data []byte) SchemaSource {
			return SchemaSource{name, func(p string) ([]byte, error) {
				if p != name {
					return nil, os.ErrNotExist
				}
				return data, nil
			}}
		}
		check := func(changes []SchemaChange, err error) {
			var ie *finding.InputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("error %T: %v", err, err)
			}
			for _, ch := range changes {
				if ch.Line < 1 || ch.File != name || !slices.Contains(schemaKinds, ch.Kind) || (ch.Location != "" && !strings.HasPrefix(ch.Location, "/")) {
					t.Fatalf("bad change %+v", ch)
				}
			}
		}
		check(DiffSchemas(side(a), side(b)))
		for _, x := range [][]byte{a, b} {
			changes, err := DiffSchemas(side(x), side(x))
			check(changes, err)
			if len(changes) != 0 {
				t.Fatalf("DiffSchemas(x, x) = %+v", changes)
			}
		}
	})
}
