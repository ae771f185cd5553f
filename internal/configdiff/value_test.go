package configdiff

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

func TestValue(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	type m = map[string]any
	type l = []any
	tests := []struct {
		name, file, in string
		want           any
	}{
		{"JSON", "x.json", `{"s": "\/", "i": 12345678901234567890123, "f": -1.5E+3, "b": false, "n": null, "l": [1, {}], "a": 1, "a": 2}`,
			m{"s": "/", "i": n("12345678901234567890123"), "f": n("-1.5E+3"), "b": false, "n": nil, "l": l{n("1"), m{}}, "a": n("2")}},
		{"TOML", "x.toml", "h = 0x10\nf = 1_000.5\ni = inf\nd = 1979-05-27\n[t]\nk = [true]\n[[a]]\n[[a]]\nx = 'y'\n",
			m{"h": n("16"), "f": n("1000.5"), "i": ".inf", "d": "1979-05-27", "t": m{"k": l{true}}, "a": l{m{}, m{"x": "y"}}}},
		{"YAML scalars", "x.yml", "hex: 0x10\noct: 0o17\nu: 1_000\nbig: 123456789012345678901234567890\nhalf: .5\nplus: +1.5\ne: 1e3\n" +
			"inf: -.Inf\nnan: .NaN\nnull: ~\nt: 2001-12-14\nyes: yes\nno: False\nnotint: !!int abc\n1: one\n? [a, b]\n: complex\n",
			m{"hex": n("16"), "oct": n("15"), "u": n("1000"), "big": n("123456789012345678901234567890"), "half": n("0.5"), "plus": n("1.5"), "e": n("1e3"),
				"inf": "-.Inf", "nan": ".NaN", "null": nil, "t": "2001-12-14", "yes": "yes", "no": false, "notint": "abc", "1": "one", `["a", "b"]`: "complex"}},
		{"YAML aliases and merges", "x.yml", "base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\nc:\n  <<: [*b, *o]\n  x: 9\nd: *b\ne: [*o]\n",
			m{"base": m{"x": n("1"), "y": n("2")}, "other": m{"y": n("3"), "z": n("4")},
				"c": m{"x": n("9"), "y": n("2"), "z": n("4")}, "d": m{"x": n("1"), "y": n("2")}, "e": l{m{"y": n("3"), "z": n("4")}}}},
		{"a scalar document", "x.yml", "hello\n", "hello"},
		{"an empty document", "x.yml", "---\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := ParseNode(tt.file, []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Value(root)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Value:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: [1]\n"), &doc); err != nil {
		t.Fatal(err)
	}
	if got, err := Value(&doc); err != nil || !reflect.DeepEqual(got, m{"a": l{n("1")}}) {
		t.Errorf("Value(document node) = %#v, %v", got, err)
	}
}

func TestValueErrors(t *testing.T) {
	bomb, mergeBomb := aliasBomb(), mergeBomb()
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"alias bomb", bomb, 5, "more than 100000 nodes"},
		{"merge bomb", mergeBomb, 0, "more than 100000 nodes"},
		{"alias cycle", "a: &a\n  b: *a\n", 2, "contains it"},
		{"bad merge", "a:\n  <<: 1\n", 2, "merge key"},
		{"too deep", strings.Repeat("- ", 201) + "1\n", 1, "deeper than 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := ParseNode("x.yml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = Value(root)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *finding.InputError", err, err)
			}
			if (tt.line != 0 && ie.Line != tt.line) || ie.Line < 1 || !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("err = %+v, want line %d and %q", ie, tt.line, tt.msg)
			}
		})
	}
}

// TestFlattenFormats flattens one config written in each format: the
// paths, kinds and values agree, and lines are each file's own.
func TestFlattenFormats(t *testing.T) {
	files := map[string]string{
		"c.yml": `name: app
port: 8080
ratio: 0.5
debug: false
since: 1979-05-27
tags: [a, b]
empty_list: []
db:
  host: localhost
  pool: {size: 10}
servers:
  - host: x
  - host: y
empty: {}
`,
		"c.json": `{
  "name": "app",
  "port": 8080,
  "ratio": 0.5,
  "debug": false,
  "since": "1979-05-27",
  "tags": ["a", "b"],
  "empty_list": [],
  "db": {
    "host": "localhost",
    "pool": {"size": 10}
  },
  "servers": [
    {"host": "x"},
    {"host": "y"}
  ],
  "empty": {}
}
`,
		"c.toml": `name = "app"
port = 8080
ratio = 0.5
debug = false
since = 1979-05-27
tags = ["a", "b"]
empty_list = []

[db]
host = "localhost"
pool = {size = 10}

[[servers]]
host = "x"

[[servers]]
host = "y"

[empty]
`,
	}
	wantLines := map[string]string{
		"c.yml":  "1 2 3 4 5 6 6 7 9 10 12 13 14",
		"c.json": "2 3 4 5 6 7 7 8 10 11 14 15 17",
		"c.toml": "1 2 3 4 5 6 6 7 10 11 14 17 19",
	}
	var want []string
	for _, file := range []string{"c.yml", "c.json", "c.toml"} {
		leaves, err := Flatten(file, []byte(files[file]))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var got, lines []string
		for _, l := range leaves {
			got = append(got, fmt.Sprintf("%s=%s:%s", strings.Join(l.Path, "."), l.Kind, l.Value))
			lines = append(lines, fmt.Sprint(l.Line))
		}
		if want == nil {
			want = got
		} else if !slices.Equal(got, want) {
			t.Errorf("%s leaves:\n got %v\nwant %v", file, got, want)
		}
		if g := strings.Join(lines, " "); g != wantLines[file] {
			t.Errorf("%s lines: got %s, want %s", file, g, wantLines[file])
		}
		root, err := ParseNode(file, []byte(files[file]))
		if err != nil {
			t.Fatal(err)
		}
		again, err := FlattenNode(file, root)
		if err != nil || !reflect.DeepEqual(again, leaves) {
			t.Errorf("%s: FlattenNode differs from Flatten: %v", file, err)
		}
	}
	if len(want) != 13 {
		t.Errorf("leaves = %v", want)
	}
}

func TestParseNodeYAML(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "nil"},
		{"# only a comment\n", "nil"},
		{"---\n", "nil"},
		{"--- # c\n", "nil"},
		{"~\n", `null:"~"@1`},
		{"null\n", `null:"null"@1`},
		{"!!null\n", `null:""@1`},
		{"a: 1\n---\nb: 2\n", `{"a"@1: int:"1"@1}@1`},
		{"{\"a\": 1}\n", `{"a"@1: int:"1"@1}@1`},
	} {
		for _, file := range []string{"x.yml", "x.yaml", "x", "x.txt"} {
			n, err := ParseNode(file, []byte(tt.in))
			if err != nil || dump(n) != tt.want {
				t.Errorf("ParseNode(%s, %q) = %s, %v; want %s", file, tt.in, dump(n), err, tt.want)
			}
		}
	}
	if l, err := FlattenNode("x.yml", nil); l != nil || err != nil {
		t.Errorf("FlattenNode(nil) = %v, %v", l, err)
	}
}
