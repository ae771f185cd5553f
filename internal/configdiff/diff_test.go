package configdiff

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// optionsBase and optionsHead are the per-environment regrouping of
// config/options.yml that stopped an application booting after deploy.
const optionsBase = `# config/options.yml
host: db.internal
port: 5432
pool:
  size: 10
log_level: info
`

const optionsHead = `# config/options.yml
production:
  host: db.internal
  port: 6432
  pool:
    size: 10
  log_level: info
development:
  host: localhost
  port: 5432
  pool:
    size: 10
  log_level: info
test:
  host: localhost
  port: 5432
  pool:
    size: 10
  log_level: info
`

// c renders a change compactly for comparison.
func c(ch Change) string {
	s := fmt.Sprintf("%s %s→%s %q→%q @%d", ch.Kind, strings.Join(ch.Path, "."), strings.Join(ch.NewPath, "."), ch.From, ch.To, ch.Line)
	if ch.Group != nil {
		s += fmt.Sprintf(" [%d keys under %s]", ch.Group.Keys, strings.Join(ch.Group.Prefixes, ", "))
	}
	return s
}

var diffTests = []struct {
	name       string
	file       string
	base, head string
	want       []string
}{
	{
		name: "options.yml regrouped per environment",
		file: "config/options.yml",
		base: optionsBase, head: optionsHead,
		want: []string{
			`restructured host→production.host "db.internal"→"db.internal" @3 [4 keys under production, development, test]`,
			`restructured port→production.port "5432"→"6432" @4 [4 keys under production, development, test]`,
			`restructured pool.size→production.pool.size "10"→"10" @6 [4 keys under production, development, test]`,
			`restructured log_level→production.log_level "info"→"info" @7 [4 keys under production, development, test]`,
			`restructured host→development.host "db.internal"→"localhost" @9 [4 keys under production, development, test]`,
			`restructured port→development.port "5432"→"5432" @10 [4 keys under production, development, test]`,
			`restructured pool.size→development.pool.size "10"→"10" @12 [4 keys under production, development, test]`,
			`restructured log_level→development.log_level "info"→"info" @13 [4 keys under production, development, test]`,
			`restructured host→test.host "db.internal"→"localhost" @15 [4 keys under production, development, test]`,
			`restructured port→test.port "5432"→"5432" @16 [4 keys under production, development, test]`,
			`restructured pool.size→test.pool.size "10"→"10" @18 [4 keys under production, development, test]`,
			`restructured log_level→test.log_level "info"→"info" @19 [4 keys under production, development, test]`,
		},
	},
	{
		name: "key removed, reported at the nearest surviving parent",
		base: "db:\n  host: x\n  pool:\n    size: 5\n    timeout: 3\nlog: info\n",
		head: "db:\n  host: x\n  pool:\n    size: 5\nlog: info\n",
		want: []string{`key-removed db.pool.timeout→db.pool "3"→"" @3`},
	},
	{
		name: "whole section removed: every key at the surviving parent",
		base: "app:\n  name: x\n  cache:\n    ttl: 5\n    size: 9\n",
		head: "\n\napp:\n  name: x\n",
		want: []string{`key-removed app.cache.size→app "9"→"" @3`, `key-removed app.cache.ttl→app "5"→"" @3`},
	},
	{
		name: "top-level key removed: line 1",
		base: "a: 1\nb: 2\n",
		head: "a: 1\n",
		want: []string{`key-removed b→ "2"→"" @1`},
	},
	{
		name: "type changed",
		base: "port: 5432\ndebug: false\nworkers: 2.5\nratio: 1\nname: x\ndb: postgres://x\nopts: {}\n",
		head: "port: \"5432\"\ndebug: false\nworkers: 2\nratio: 1.0\nname:\ndb:\n  url: postgres://x\nopts: []\n",
		want: []string{
			`type-changed port→port "int"→"string" @1`,
			`type-changed workers→workers "float"→"int" @3`,
			`type-changed db→db "string"→"map" @6`,
			`type-changed opts→opts "map"→"list" @8`,
		},
	},
	{
		name: "map became a scalar: one type change, no removals",
		base: "db:\n  host: x\n  port: 1\n",
		head: "db: postgres://x:1\n",
		want: []string{`type-changed db→db "map"→"string" @1`},
	},
	{
		name: "renamed: same parent, same value, similar name",
		base: "pool:\n  max_conns: 20\n  maxIdle: 5\n  colour: red\n",
		head: "pool:\n  max_connections: 20\n  max_idle: 5\n  color: red\n",
		want: []string{
			`key-renamed pool.max_conns→pool.max_connections "20"→"20" @2`,
			`key-renamed pool.maxIdle→pool.max_idle "5"→"5" @3`,
			`key-renamed pool.colour→pool.color "red"→"red" @4`,
		},
	},
	{
		name: "not renamed: different value or dissimilar name",
		base: "max_conns: 20\nhost: a\n",
		head: "max_connections: 30\nport: a\n",
		want: []string{`key-removed host→ "a"→"" @1`, `key-removed max_conns→ "20"→"" @1`},
	},
	{
		name: "pure additions",
		base: "a: 1\nb:\n  c: 2\nempty: {}\nlist: [1]\n",
		head: "a: 1\nb:\n  c: 2\n  d: 3\nempty:\n  x: 1\nlist: [1, 2]\nnew: {k: v}\n",
	},
	{
		name: "value moved into an anchor and merged back",
		base: "production:\n  adapter: postgresql\n  pool: 5\n  database: prod\ndevelopment:\n  adapter: postgresql\n  pool: 5\n  database: dev\n",
		head: "defaults: &defaults\n  adapter: postgresql\n  pool: 5\nproduction:\n  <<: *defaults\n  database: prod\ndevelopment:\n  <<: *defaults\n  database: dev\n",
	},
	{
		name: "merge keys: explicit keys win, earlier merges win",
		base: "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {x: 1, y: 1, z: 2, w: 3}\n",
		head: "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n  w: 3\n",
	},
	{
		name: "JSON variant",
		file: "settings.json",
		base: "{\n\t\"host\": \"a\",\n\t\"port\": 1,\n\t\"maxConns\": 4,\n\t\"gone\": true\n}\n",
		head: "{\n  \"prod\": {\"host\": \"a\", \"port\": \"1\"},\n  \"max_conns\": 4\n}\n",
		want: []string{
			`key-removed gone→ "true"→"" @1`,
			`restructured host→prod.host "a"→"a" @2 [2 keys under prod]`,
			`restructured port→prod.port "1"→"1" @2 [2 keys under prod]`,
			`type-changed port→prod.port "int"→"string" @2`,
			`key-renamed maxConns→max_conns "4"→"4" @3`,
		},
	},
	{
		name: "lists: shorter list is data, a key inside an element is a key",
		base: "servers:\n  - host: a\n    port: 1\n  - host: b\n    port: 2\ntags: [x, y, z]\nports: [80, 443]\n",
		head: "servers:\n  - host: a\n    port: 1\n  - host: b\ntags: [x]\nports: [\"80\", \"443\"]\n",
		want: []string{
			`key-removed servers.[1].port→servers.[1] "2"→"" @4`,
			`type-changed ports.[0]→ports.[0] "int"→"string" @6`,
			`type-changed ports.[1]→ports.[1] "int"→"string" @6`,
		},
	},
	{
		name: "two unrelated moves are two groups",
		base: "a: 1\nb: 2\n",
		head: "x:\n  a: 1\ny:\n  z:\n    b: 2\n",
		want: []string{
			`restructured a→x.a "1"→"1" @2 [1 keys under x]`,
			`restructured b→y.z.b "2"→"2" @5 [1 keys under y.z]`,
		},
	},
}

func TestDiff(t *testing.T) {
	for _, tt := range diffTests {
		t.Run(tt.name, func(t *testing.T) {
			file := cmpOr(tt.file, "config.yml")
			base, err := Flatten(file, []byte(tt.base))
			if err != nil {
				t.Fatalf("base: %v", err)
			}
			head, err := Flatten(file, []byte(tt.head))
			if err != nil {
				t.Fatalf("head: %v", err)
			}
			var got []string
			for _, ch := range Diff(base, head) {
				got = append(got, c(ch))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, x := range [][]Leaf{base, head} {
				if d := Diff(x, x); len(d) != 0 {
					t.Errorf("Diff(x, x) = %v", d)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestOptionsGroupIsShared(t *testing.T) {
	base, _ := Flatten("options.yml", []byte(optionsBase))
	head, _ := Flatten("options.yml", []byte(optionsHead))
	var g *Move
	for _, ch := range Diff(base, head) {
		if g == nil {
			g = ch.Group
		}
		if ch.Group != g {
			t.Fatalf("change %s has another group", c(ch))
		}
	}
	if g == nil || g.Keys != 4 || strings.Join(g.Prefixes, ",") != "production,development,test" {
		t.Fatalf("group = %+v", g)
	}
}

func TestFlatten(t *testing.T) {
	got, err := Flatten("x.yml", []byte("a: &x\n  b: 1\nc:\n  <<: *x\n  d: [~, 1.5, true, \"s\"]\nempty: []\n---\nignored: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, l := range got {
		s = append(s, fmt.Sprintf("%s=%s:%s@%d%v", strings.Join(l.Path, "."), l.Kind, l.Value, l.Line, l.KeyLines))
	}
	want := "a.b=int:1@2[1 2] c.b=int:1@4[3 4] c.d.[0]=null:null@5[3 5 5] c.d.[1]=float:1.5@5[3 5 5] c.d.[2]=bool:true@5[3 5 5] c.d.[3]=string:s@5[3 5 5] empty=list:[]@6[6]"
	if g := strings.Join(s, " "); g != want {
		t.Errorf("Flatten:\n got %s\nwant %s", g, want)
	}
	for _, in := range []string{"", "# only a comment\n", "---\n"} {
		if l, err := Flatten("x.yml", []byte(in)); err != nil || len(l) != 0 {
			t.Errorf("Flatten(%q) = %v, %v", in, l, err)
		}
	}
}

func TestFlattenErrors(t *testing.T) {
	bomb, mergeBomb := aliasBomb(), mergeBomb()
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"malformed YAML", "a: 1\nb: [1, 2\nc: 3\n", 2, "did not find expected ',' or ']'"},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", 3, "did not find expected key"},
		{"malformed JSON", "{\n  \"a\": 1,\n  \"b\": 2\n", 4, "did not find expected ',' or '}'"},
		{"unknown anchor", "a: 1\nb: *nope\n", 2, "unknown anchor"},
		{"alias bomb", bomb, 5, "more than 100000 nodes"},
		{"merge bomb", mergeBomb, 0, "more than 100000 nodes"},
		{"alias cycle", "a: &a\n  b: *a\n", 2, "contains it"},
		{"bad merge", "a:\n  <<: 1\n", 2, "merge key"},
		{"too deep", "a: &a " + strings.Repeat("[", 5000) + "1" + strings.Repeat("]", 5000) + "\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n", 1, "deeper than 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Flatten("config.yml", []byte(tt.in))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want *finding.InputError", err, err)
			}
			if ie.File != "config.yml" || (tt.line != 0 && ie.Line != tt.line) || ie.Line < 1 || !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("err = %+v, want line %d and %q", ie, tt.line, tt.msg)
			}
		})
	}
}

func TestSimilarity(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		ok   bool
	}{
		{"max_conns", "max_connections", true},
		{"maxConns", "max_conns", true},
		{"HTTPServer", "http_server", true},
		{"colour", "color", true},
		{"cfg_path", "config_path", true},
		{"host", "port", false},
		{"a", "b", false},
		{"timeout", "retries", false},
		{"retries", "retry", false},
	} {
		if got := similarity(tt.a, tt.b) >= renameThreshold; got != tt.ok {
			t.Errorf("similar(%q, %q) = %v (%.2f)", tt.a, tt.b, got, similarity(tt.a, tt.b))
		}
	}
}

// aliasBomb is a billion laughs: eleven lines that expand to 10^11 nodes.
func aliasBomb() string {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'k'; i++ {
		p := "*" + string(i-1)
		bomb += fmt.Sprintf("%c: &%c [%s, %s, %s, %s, %s, %s, %s, %s, %s, %s]\n", i, i, p, p, p, p, p, p, p, p, p, p)
	}
	return bomb
}

// mergeBomb does the same through merge keys.
func mergeBomb() string {
	bomb := "a: &a {x: 1}\n"
	for i := 'b'; i <= 'z'; i++ {
		p := "*" + string(i-1)
		bomb += fmt.Sprintf("%c: &%c {<<: [%s, %s, %s, %s]}\n", i, i, p, p, p, p)
	}
	return bomb
}
