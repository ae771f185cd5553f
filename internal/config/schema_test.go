package config

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	_ "github.com/breakwater-ci/breakwater/internal/check" // the rules the README names
)

// The schema and the Config type describe the same keys: a key added to
// one and not the other fails here.
func TestSchemaMatchesConfig(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, typ reflect.Type, node map[string]any)
	walk = func(prefix string, typ reflect.Type, node map[string]any) {
		for typ.Kind() == reflect.Slice || typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
			if items, ok := node["items"].(map[string]any); ok {
				node = items
			}
		}
		if typ.Kind() == reflect.Map {
			if ap, ok := node["additionalProperties"].(map[string]any); ok {
				node = ap
			}
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		props, _ := node["properties"].(map[string]any)
		var fields []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "-" || tag == "" {
				continue
			}
			fields = append(fields, tag)
			sub, ok := props[tag].(map[string]any)
			if !ok {
				t.Errorf("schema has no property %s%s", prefix, tag)
				continue
			}
			walk(prefix+tag+".", f.Type, sub)
		}
		for name := range props {
			if !contains(fields, name) {
				t.Errorf("schema property %s%s is not a field of %s", prefix, name, typ)
			}
		}
	}
	walk("", reflect.TypeOf(Config{}), schema)
}

func contains(xs []string, x string) bool {
	sort.Strings(xs)
	i := sort.SearchStrings(xs, x)
	return i < len(xs) && xs[i] == x
}

func TestConfigTargets(t *testing.T) {
	cfg, err := Parse(".breakwater.yml", []byte("config:\n  - schema: schema/site.schema.json\n    files: [config/options.yml, \"config/*.example.yml\", \"deploy/**/site.json\"]\n  - files: [app.toml]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Config) != 2 || cfg.Config[0].Schema != "schema/site.schema.json" || cfg.Config[0].Line != 2 || cfg.Config[1].Line != 4 {
		t.Fatalf("config = %+v", cfg.Config)
	}
	for p, want := range map[string]bool{
		"config/options.yml": true, "config/a.example.yml": true, "deploy/eu/west/site.json": true, "deploy/site.json": true,
		"config/sub/a.example.yml": false, "options.yml": false,
	} {
		if got := cfg.Config[0].Matches(p); got != want {
			t.Errorf("Matches(%q) = %v, want %v", p, got, want)
		}
	}
}

// Every YAML example in the README that configures breakwater is valid.
func TestReadmeConfigExamples(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	n := 0
	for _, b := range blocks {
		if !strings.Contains(b[1], "fail-on: error            #") {
			continue // workflow examples
		}
		n++
		if _, err := Parse("README.md", []byte(b[1])); err != nil {
			t.Errorf("README example does not parse: %v\n%s", err, b[1])
		}
	}
	if n == 0 {
		t.Error("no .breakwater.yml example found in README.md")
	}
}

// The repository's own config is valid.
func TestOwnConfig(t *testing.T) {
	data, err := os.ReadFile("../../.breakwater.yml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(".breakwater.yml", data); err != nil {
		t.Error(err)
	}
}
