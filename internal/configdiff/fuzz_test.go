package configdiff

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// fuzzExts are the formats the fuzz targets read; a byte of the input
// picks one, so one corpus covers all three.
var fuzzExts = []string{".yml", ".json", ".toml"}

// FuzzDiff checks that Flatten and Diff never panic, that Flatten fails
// only with an InputError, and that a file diffed with itself has no
// changes.
func FuzzDiff(f *testing.F) {
	for _, tt := range diffTests {
		format := byte(0)
		if strings.HasSuffix(tt.file, ".json") {
			format = 1
		}
		f.Add(format, []byte(tt.base), []byte(tt.head))
	}
	f.Add(byte(0), []byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"), []byte("a:\n  <<: 1\n"))
	f.Add(byte(0), []byte("a: &a\n  b: *a\n"), []byte("? [a, b]\n: 1\n? {c: *x}\n: 2\n"))
	f.Add(byte(0), []byte("x\n"), []byte("- 1\n- [2]\n"))
	f.Add(byte(1), []byte("{\"host\": \"a\\/b\", \"port\": 1, \"e\": \"\\ud83d\\ude00\"}"),
		[]byte("{\n  \"prod\": {\"host\": \"a\", \"port\": \"1\"},\n  \"e\": [1.5e3, null, true]\n}\n"))
	f.Add(byte(2), []byte("host = 'a'\nport = 1\n[pool]\nsize = 0x10\n"),
		[]byte("[prod]\nhost = \"a\"\nport = \"1\"\n[prod.pool]\nsize = 16\n[[servers]]\nx = 1979-05-27\n"))
	f.Fuzz(func(t *testing.T, format byte, a, b []byte) {
		ext := fuzzExts[int(format)%len(fuzzExts)]
		base, errA := Flatten("a"+ext, a)
		head, errB := Flatten("b"+ext, b)
		for _, err := range []error{errA, errB} {
			var ie *finding.InputError
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("Flatten error %T: %v", err, err)
			}
		}
		for _, x := range [][]Leaf{base, head} {
			for _, l := range x {
				if l.Line < 1 || len(l.KeyLines) != len(l.Path) {
					t.Fatalf("bad leaf %+v", l)
				}
			}
			if d := Diff(x, x); len(d) != 0 {
				t.Fatalf("Diff(x, x) = %+v", d)
			}
		}
		for _, ch := range Diff(base, head) {
			if ch.Line < 1 || ch.Kind == "" || (ch.Kind == Restructured) != (ch.Group != nil) {
				t.Fatalf("bad change %+v", ch)
			}
		}
	})
}

// FuzzParseNode checks, for each format, that ParseNode never panics,
// fails only with an InputError, and gives every node a line; and that
// Value and FlattenNode of what it returns fail only with InputErrors.
func FuzzParseNode(f *testing.F) {
	for _, tt := range diffTests {
		f.Add([]byte(tt.base))
	}
	for _, s := range []string{
		tomlAll,
		"{\n\t\"a\": [1, {\"b\": \"\\/\\ud83d\\ude00\"}],\n\t\"a\": 1e400\n}\n",
		"[[a.b]]\nc = {d = [1, [2]]}\n[a.b.e]\n",
		"a = \"\"\"\nx\"\"\"\nb = [ # c\n  [],\n]\n",
		"a: &a {x: 1}\nb: {<<: *a, y: !!int 0x10}\n",
		"[\n1,\n2\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ext := range fuzzExts {
			file := "f" + ext
			root, err := ParseNode(file, data)
			assertInputError(t, "ParseNode("+file+")", err)
			if err != nil || root == nil {
				continue
			}
			var check func(n *yaml.Node)
			check = func(n *yaml.Node) {
				if n.Line < 1 {
					t.Fatalf("%s: node %q (kind %d) on line %d", file, n.Value, n.Kind, n.Line)
				}
				for _, c := range n.Content {
					check(c)
				}
			}
			check(root)
			_, err = Value(root)
			assertInputError(t, "Value("+file+")", err)
			_, err = FlattenNode(file, root)
			assertInputError(t, "FlattenNode("+file+")", err)
		}
	})
}

func assertInputError(t *testing.T, what string, err error) {
	t.Helper()
	var ie *finding.InputError
	if err != nil && !errors.As(err, &ie) {
		t.Fatalf("%s error %T: %v", what, err, err)
	}
}

// genConfig writes a YAML file of about n leaves: sections of 20 keys,
// some nested. With regroup, the flat keys of every fourth section move
// under production/development/test, and a few keys are renamed, removed
// or retyped, so every rule does work.
func genConfig(n int, regroup bool) []byte {
	var b strings.Builder
	for s := 0; s*20 < n; s++ {
		fmt.Fprintf(&b, "section_%d:\n", s)
		moved := regroup && s%4 == 0
		envs := []string{""}
		if moved {
			envs = []string{"production", "development", "test"}
		}
		for _, env := range envs {
			ind := "  "
			if env != "" {
				fmt.Fprintf(&b, "  %s:\n", env)
				ind = "    "
			}
			for k := 0; k < 20; k++ {
				name := fmt.Sprintf("max_conns_%d", k)
				if regroup && s%4 == 1 && k == 3 {
					name = fmt.Sprintf("max_connections_%d", k)
				}
				switch {
				case regroup && s%4 == 2 && k == 5:
					continue // removed
				case regroup && s%4 == 3 && k == 7:
					fmt.Fprintf(&b, "%s%s: \"%d\"\n", ind, name, k)
				case k%5 == 0:
					fmt.Fprintf(&b, "%s%s:\n%s  value: %d\n%s  enabled: true\n", ind, name, ind, k, ind)
				default:
					fmt.Fprintf(&b, "%s%s: %d\n", ind, name, k)
				}
			}
		}
	}
	return []byte(b.String())
}

func BenchmarkDiff20k(b *testing.B) {
	baseData, headData := genConfig(20_000, false), genConfig(20_000, true)
	b.Run("flatten+diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			base, err := Flatten("base.yml", baseData)
			if err != nil {
				b.Fatal(err)
			}
			head, err := Flatten("head.yml", headData)
			if err != nil {
				b.Fatal(err)
			}
			if len(Diff(base, head)) == 0 {
				b.Fatal("no changes")
			}
		}
	})
	base, _ := Flatten("base.yml", baseData)
	head, _ := Flatten("head.yml", headData)
	b.Logf("base %d leaves, head %d leaves, %d changes", len(base), len(head), len(Diff(base, head)))
	b.Run("diff", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Diff(base, head)
		}
	})
}
