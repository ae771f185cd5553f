package configdiff

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// dump renders a node tree with the line of every node: scalars as
// tag:value@line, mappings as {key@line: value}@line, sequences as
// [items]@line.
func dump(n *yaml.Node) string {
	if n == nil {
		return "nil"
	}
	var b strings.Builder
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			b.WriteString("{")
			for i := 0; i+1 < len(n.Content); i += 2 {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(n.Content[i].Value) + "@" + strconv.Itoa(n.Content[i].Line) + ": ")
				walk(n.Content[i+1])
			}
			b.WriteString("}")
		case yaml.SequenceNode:
			b.WriteString("[")
			for i, c := range n.Content {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(c)
			}
			b.WriteString("]")
		case yaml.ScalarNode:
			b.WriteString(strings.TrimPrefix(n.ShortTag(), "!!") + ":" + strconv.Quote(n.Value))
		default:
			b.WriteString("?")
		}
		b.WriteString("@" + strconv.Itoa(n.Line))
	}
	walk(n)
	return b.String()
}

func TestParseJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"tabs", "{\n\t\"a\":\t1,\n\t\"b\":\t[true, null]\n}\n",
			`{"a"@2: int:"1"@2, "b"@3: [bool:"true"@3, null:"null"@3]@3}@1`},
		{"escaped slash and surrogate pairs", `{"url": "http:\/\/x", "e": "\ud83d\ude00", "lone": "\ud83d"}`,
			`{"url"@1: str:"http://x"@1, "e"@1: str:"😀"@1, "lone"@1: str:"�"@1}@1`},
		{"duplicate keys are all kept", `{"a": 1, "a": {"b": 2}}`,
			`{"a"@1: int:"1"@1, "a"@1: {"b"@1: int:"2"@1}@1}@1`},
		{"numbers keep their text", `{"n": 123456789012345678901234567890, "f": 1.5e300, "z": -0, "g": -0.0, "h": 1E5}`,
			`{"n"@1: int:"123456789012345678901234567890"@1, "f"@1: float:"1.5e300"@1, "z"@1: int:"-0"@1, "g"@1: float:"-0.0"@1, "h"@1: float:"1E5"@1}@1`},
		{"lines of keys and values",
			"{\n  \"a\":\n    1,\n  \"b\": {\n    \"c\": [\n      \"x\",\n      {\"d\": false}\n    ]\n  },\n  \"e\"\n  :\n  \"v\",\n  \"f\": [], \"g\": {}\n}\n",
			`{"a"@2: int:"1"@3, "b"@4: {"c"@5: [str:"x"@6, {"d"@7: bool:"false"@7}@7]@5}@4, "e"@10: str:"v"@12, "f"@13: []@13, "g"@13: {}@13}@1`},
		{"invalid UTF-8 is replaced", "{\"a\": \"\xff\"}", `{"a"@1: str:"�"@1}@1`},
		{"a scalar document", "\n\"s\"\n", `str:"s"@2`},
		{"null is a value", "null", `null:"null"@1`},
		{"empty", "", "nil"},
		{"only whitespace", " \n\t\r\n", "nil"},
		{"200 levels is the limit", strings.Repeat("[", 200) + "1" + strings.Repeat("]", 200), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, file := range []string{"x.json", "X.JSON"} {
				n, err := ParseNode(file, []byte(tt.in))
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if got := dump(n); tt.want != "" && got != tt.want {
					t.Errorf("%s:\n got %s\nwant %s", file, got, tt.want)
				}
			}
		})
	}
}

func TestParseJSONErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"unexpected end: the last line with content", "{\n  \"a\": 1,\n  \"b\": 2\n\n\n", 3, "unexpected end of JSON input"},
		{"missing comma", "{\n \"a\": 1\n \"b\": 2\n}", 3, "after object key:value pair"},
		{"missing comma in a list", "[\n1\n2]", 3, "after array element"},
		{"trailing comma", "[1,\n2,\n]", 3, "looking for beginning of value"},
		{"missing colon", `{"a" 1}`, 1, "after object key"},
		{"newline in a string: the string's line", "{\"a\": \"x\ny\"}", 1, "in string literal"},
		{"bad escape", "{\n\"a\": \"\\x\"}", 2, "in string escape code"},
		{"trailing value", "{}\n{}", 2, "after top-level value"},
		{"trailing garbage", "{\"a\": 1}\n\nx", 3, "after top-level value"},
		{"not JSON", "\xff", 1, "looking for beginning of value"},
		{"YAML is not JSON", "a: 1\n", 1, "invalid character"},
		{"nested 10,000 deep", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), 1, "nested deeper than 200 levels"},
		{"nested 10,000 deep in objects", strings.Repeat("{\"a\":\n", 10000) + "1" + strings.Repeat("}", 10000), 202, "nested deeper than 200 levels"},
		{"201 levels", strings.Repeat("[", 201) + "1" + strings.Repeat("]", 201), 1, "nested deeper than 200 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseNode("dir/x.json", []byte(tt.in))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *finding.InputError", err, err)
			}
			if ie.File != "dir/x.json" || ie.Line != tt.line || !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("err = %+v, want line %d and %q", ie, tt.line, tt.msg)
			}
		})
	}
}
