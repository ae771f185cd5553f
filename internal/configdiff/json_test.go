package configdiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/breakwater-ci/breakwater/internal/textpos"
	"io"
	"reflect"
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

// jsonErrorTests are also seeds of FuzzParseJSONMatchesStdlib, which
// holds their messages and lines to those of parseJSONDecoder.
var jsonErrorTests = []struct {
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
	{"too deep, then a syntax error: the syntax error", strings.Repeat("[", 300) + "1\n}", 2, "invalid character '}' after array element"},
	{"deeper than encoding/json allows", strings.Repeat("[\n", 10001), 10001, "invalid character '[' exceeded max depth"},
	{"end inside a number", "[\n1.", 2, "invalid character ' ' after decimal point in numeric literal"},
	{"end inside an exponent", "1e+", 1, "invalid character ' ' in exponent of numeric literal"},
	{"end after a minus", "-", 1, "invalid character ' ' in numeric literal"},
	{"end inside a literal", "[tr", 1, "invalid character ' ' in literal true (expecting 'u')"},
	{"end inside an escape", `"\u12`, 1, `invalid character ' ' in \u hexadecimal character escape`},
	{"end inside a string", "\"abc", 1, "unexpected end of JSON input"},
	{"bad literal", "{\"a\": nul}", 1, "invalid character '}' in literal null (expecting 'l')"},
	{"leading zero", "[01]", 1, "invalid character '1' after array element"},
	{"no digit after the point", "1.e5", 1, "invalid character 'e' after decimal point in numeric literal"},
	{"bad hex", `"\u12g4"`, 1, `invalid character 'g' in \u hexadecimal character escape`},
	{"tab in a string", "\"a\tb\"", 1, `invalid character '\t' in string literal`},
	{"key not a string", "{\n1: 2}", 2, "invalid character '1' looking for beginning of object key string"},
	{"trailing comma in an object", "{\"a\": 1,\n}", 2, "invalid character '}' looking for beginning of object key string"},
	{"comment", "// c\n{}", 1, "invalid character '/' looking for beginning of value"},
	{"NaN", "NaN", 1, "invalid character 'N' looking for beginning of value"},
	{"byte order mark", "\ufeff{}", 1, "invalid character 'ï' looking for beginning of value"},
}

func TestParseJSONErrors(t *testing.T) {
	for _, tt := range jsonErrorTests {
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

// FuzzParseJSONMatchesStdlib holds parseJSON to encoding/json: it accepts
// what json.Valid accepts (too deep aside) and reads the same value as
// Decode with UseNumber. Lines and messages are held to parseJSONDecoder,
// the reader built on encoding/json's Decoder that parseJSON replaced.
func FuzzParseJSONMatchesStdlib(f *testing.F) {
	for _, s := range []string{
		"{\n\t\"a\":\t1,\n\t\"b\":\t[true, null]\n}\n",
		`{"url": "http:\/\/x", "e": "\ud83d\ude00", "lone": "\ud83d", "pair after lone": "\ud83d\ud83d\ude00", "low": "\ude00x"}`,
		`{"a": 1, "a": {"b": 2}, "<<": {"c": 3}}`,
		`[123456789012345678901234567890, 1.5e300, -0, -0.0, 1E5, 1e-7, 0.5E+3]`,
		"{\"a\": \"\xff\xed\xa0\x80\xc3\", \"b\": \"\\\"\\\\\\b\\f\\n\\r\\t\\u00e9\"}",
		"\n\"s\"\n", "null", "", " \n\t\r\n", "[1,\n2,\n]", "{\"a\" 1}", "[01]", "1.", "-", "tru", "\"\\u12", "{}\n{}",
		strings.Repeat("[", 201) + "1" + strings.Repeat("]", 201),
		strings.Repeat("[", 250) + "x",
	} {
		f.Add([]byte(s))
	}
	for _, tt := range jsonErrorTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseJSON("f.json", data)
		wn, werr := parseJSONDecoder("f.json", data)
		if fmt.Sprint(err) != fmt.Sprint(werr) {
			t.Fatalf("%q: error\n got %v\nwant %v", data, err, werr)
		}
		if got, want := dump(n), dump(wn); got != want {
			t.Fatalf("%q:\n got %s\nwant %s", data, got, want)
		}
		valid := json.Valid(data)
		if err != nil {
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: error %T: %v", data, err, err)
			}
			if deep := strings.Contains(ie.Msg, "nested deeper"); deep != valid {
				t.Fatalf("%q: json.Valid = %v, but parseJSON: %v", data, valid, err)
			}
			return
		}
		if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
			if n != nil {
				t.Fatalf("%q: blank input read as %s", data, dump(n))
			}
			return
		}
		if !valid {
			t.Fatalf("%q: json.Valid rejects what parseJSON read as %s", data, dump(n))
		}
		got, err := Value(n)
		if err != nil {
			t.Fatalf("%q: Value: %v", data, err)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: Decode: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
		}
	})
}

func parseJSONDecoder(file string, data []byte) (*yaml.Node, error) {
	lines := textpos.New(data)
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return nil, nil
	}
	// The scanner behind Unmarshal reports every syntax error (trailing
	// data included) at the offset just past the offending byte; the
	// Decoder's token errors sometimes point at it and sometimes before
	// it, across whitespace, so their lines could be one off. Checking
	// first leaves the Decoder only valid input.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, decoderError(file, data, lines, err)
	}
	b := &decoderBuilder{file: file, data: data, lines: lines, dec: json.NewDecoder(bytes.NewReader(data))}
	b.dec.UseNumber()
	tok, line, err := b.next()
	if err != nil {
		return nil, err
	}
	root, err := b.value(tok, line, 0)
	if err != nil {
		return nil, err
	}
	if _, _, err := b.next(); !errors.Is(err, io.EOF) {
		return nil, &finding.InputError{File: file, Line: b.lines.Line(b.skip(int(b.dec.InputOffset()))),
			Msg: "invalid character after top-level value"}
	}
	return root, nil
}

type decoderBuilder struct {
	file  string
	data  []byte
	lines textpos.Lines
	dec   *json.Decoder
}

// next reads a token and the line it starts on. InputOffset is the end of
// the previous token, and the Decoder reads the ',' or ':' that follows a
// token only when asked for the next one, so the start is found by
// skipping those and whitespace.
func (b *decoderBuilder) next() (json.Token, int, error) {
	start := b.skip(int(b.dec.InputOffset()))
	line := b.lines.Line(start)
	tok, err := b.dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, line, decoderError(b.file, b.data, b.lines, err)
	}
	return tok, line, err
}

func (b *decoderBuilder) skip(off int) int {
	for off < len(b.data) && strings.IndexByte(" \t\r\n,:", b.data[off]) >= 0 {
		off++
	}
	return off
}

// value builds the node of tok, which starts on line and is depth levels
// below the root.
func (b *decoderBuilder) value(tok json.Token, line, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		if t == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for b.dec.More() {
			if n.Kind == yaml.MappingNode {
				k, kl, err := b.next()
				if err != nil {
					return nil, err
				}
				ks, _ := k.(string) // the input is valid, so a key is a string
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks, Line: kl})
			}
			c, cl, err := b.next()
			if err != nil {
				return nil, err
			}
			v, err := b.value(c, cl, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, _, err := b.next(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Line: line}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v, Line: line}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
	return nil, &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf("unexpected JSON token %v", tok)}
}

// jsonError names the line of an encoding/json error. A SyntaxError's
// offset is just past the offending byte, so the line is that byte's; at
// the end of the input it is the last line with content, not the empty
// line after the final newline.
func decoderError(file string, data []byte, lines textpos.Lines, err error) error {
	e := &finding.InputError{File: file, Line: 1, Msg: err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := min(int(se.Offset), len(data)) - 1
		if off >= len(data)-1 {
			off = len(bytes.TrimRight(data, " \t\r\n")) - 1
		}
		e.Line = lines.Line(max(off, 0))
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		e.Line = lines.Line(max(len(bytes.TrimRight(data, " \t\r\n"))-1, 0))
	}
	return e
}
