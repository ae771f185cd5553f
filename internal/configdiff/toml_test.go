package configdiff

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// tomlAll has every TOML construct, one a line, so each line is checked.
const tomlAll = `# comment
title = "basic \"q\" \u00e9"
lit = 'C:\path'
ml = """
multi
line"""
mll = '''
raw'''
dec = +1_000
hex = 0xDEAD_beef
oct = 0o755
bin = 0b1101
neg = -17
flt = 6.626e-34
flu = 1_000.5
pinf = +inf
ninf = -inf
nan = -nan
yes = true
odt = 1979-05-27T07:32:00Z
ldt = 1979-05-27 07:32:00.5
ld = 1979-05-27
lt = 07:32:00
a.b.c = 1
a . "d e" = 2
"quoted key" = [[1]]
arr = [ # open
  1,
  [2, "]", 3],   # c ]
  [
    4,
  ],
  {x = 1},
  []
]
inl = { p = 1, q.r = "s", e = {} }

[server]
host = "h"

[server.tls]
on = false

[[products]]
name = "a"

[[products]]

[[products]]
name = "c"
[products.sub]
k = 1

[empty]
`

func TestParseTOML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"every construct", tomlAll, `{"title"@2: str:"basic \"q\" é"@2, "lit"@3: str:"C:\\path"@3, "ml"@4: str:"multi\nline"@4, "mll"@7: str:"raw"@7, ` +
			`"dec"@9: int:"1000"@9, "hex"@10: int:"3735928559"@10, "oct"@11: int:"493"@11, "bin"@12: int:"13"@12, "neg"@13: int:"-17"@13, ` +
			`"flt"@14: float:"6.626e-34"@14, "flu"@15: float:"1000.5"@15, "pinf"@16: float:".inf"@16, "ninf"@17: float:"-.inf"@17, "nan"@18: float:".nan"@18, ` +
			`"yes"@19: bool:"true"@19, "odt"@20: str:"1979-05-27T07:32:00Z"@20, "ldt"@21: str:"1979-05-27 07:32:00.5"@21, "ld"@22: str:"1979-05-27"@22, "lt"@23: str:"07:32:00"@23, ` +
			`"a"@24: {"b"@24: {"c"@24: int:"1"@24}@24, "d e"@25: int:"2"@25}@24, "quoted key"@26: [[int:"1"@26]@26]@26, ` +
			`"arr"@27: [int:"1"@28, [int:"2"@29, str:"]"@29, int:"3"@29]@29, [int:"4"@31]@30, {"x"@33: int:"1"@33}@33, []@34]@27, ` +
			`"inl"@36: {"p"@36: int:"1"@36, "q"@36: {"r"@36: str:"s"@36}@36, "e"@36: {}@36}@36, ` +
			`"server"@38: {"host"@39: str:"h"@39, "tls"@41: {"on"@42: bool:"false"@42}@41}@38, ` +
			`"products"@44: [{"name"@45: str:"a"@45}@44, {}@47, {"name"@50: str:"c"@50, "sub"@51: {"k"@52: int:"1"@52}@51}@49]@44, ` +
			`"empty"@54: {}@54}@1`},
		{"a sub-table of an array of tables goes into its last element", "[a]\n[[a.b]]\n[a.b.c]\n[[a.b]]\n",
			`{"a"@1: {"b"@2: [{"c"@3: {}@3}@2, {}@4]@2}@1}@1`},
		{"a table defined after its sub-table", "[x.y]\nk = 1\n[x]\nj = 2\n",
			`{"x"@1: {"y"@1: {"k"@2: int:"1"@2}@1, "j"@4: int:"2"@4}@1}@1`},
		{"CRLF", "a = 1\r\n[t]\r\nb = [\r\n  2,\r\n]\r\n",
			`{"a"@1: int:"1"@1, "t"@2: {"b"@3: [int:"2"@4]@3}@2}@1`},
		{"empty", "", "nil"},
		{"only comments", "# only\n\n", "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, file := range []string{"x.toml", "Cargo.TOML"} {
				n, err := ParseNode(file, []byte(tt.in))
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				if got := dump(n); got != tt.want {
					t.Errorf("%s:\n got %s\nwant %s", file, got, tt.want)
				}
			}
		})
	}
}

func TestParseTOMLErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"missing value", "a = 1\nb = \n", 2, "start of value"},
		{"duplicate key", "a = 1\n\na = 2\n", 3, "already defined"},
		{"table redefined", "[t]\nx = 1\n[t]\n", 3, "already exists"},
		{"dotted key then table", "a.b = 1\n[a]\nb = 2\n", 2, "dotted key"},
		{"array of tables then table", "[[a]]\n[a]\n", 2, "array of tables"},
		{"static array then array of tables", "a = [1]\n[[a]]\n", 2, "array table"},
		{"inline table extended", "a = {x = 1}\n[a]\ny = 2\n", 2, "not a value"},
		{"unclosed array", "a = [1,\n2\n", 2, "incomplete"},
		{"bad integer", "a = 1\nb = 0x\n", 2, "radix prefix"},
		{"integer overflow", "a = 1\nn = 9223372036854775808\n", 2, "64-bit"},
		{"impossible date", "a = 1\nx = 1979-13-45\n", 2, "impossible date"},
		{"newline in a literal string", "a = 'x\ny'\n", 1, "new lines"},
		{"two keys on a line", "a = 1 b = 2\n", 1, "expected newline"},
		{"YAML is not TOML", "a: 1\n", 1, ""},
		{"arrays 10,000 deep", "a = " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n", 1, "nested deeper than 200 levels"},
		{"inline tables 300 deep", "a = " + strings.Repeat("{b = ", 300) + "1" + strings.Repeat("}", 300) + "\n", 1, "nested deeper than 200 levels"},
		{"a dotted key 300 deep", "\n" + strings.Repeat("a.", 300) + "a = 1\n", 2, "nested deeper than 200 levels"},
		{"a table header 300 deep", "x = 1\n[" + strings.Repeat("a.", 300) + "a]\n", 2, "nested deeper than 200 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseNode("dir/x.toml", []byte(tt.in))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *finding.InputError", err, err)
			}
			if ie.File != "dir/x.toml" || ie.Line != tt.line || !strings.Contains(ie.Msg, tt.msg) || strings.HasPrefix(ie.Msg, "toml:") {
				t.Errorf("err = %+v, want line %d and %q", ie, tt.line, tt.msg)
			}
		})
	}
}
