package manifest

import (
	"errors"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// FuzzInterpolate feeds arbitrary values and .env files to interpolate and
// ParseDotEnv. Neither may panic, and both give the same result on every
// call. interpolate fails alone (no value, no names) or lists unresolved
// names alone (no value), sorted and each a variable name; it leaves a
// value without "$" as it is, and a value with every "$" doubled comes
// back as written.
func FuzzInterpolate(f *testing.F) {
	const dotenv = "X=\nTAG=16\nPG=postgres\nREG=ghcr.io\n"
	for _, s := range []string{
		"postgres:16", "$PG:$TAG", "${PG}:${TAG}-alpine", "postgres:${NOPE:-15}", "postgres:${NOPE-15}",
		"postgres:${X:-15}", "postgres:${X-15}", "img$$1:${TAG}", "$$TAG", "a$", "a$1",
		"postgres:${TAG:?need a tag}", "postgres:${NOPE:?need a tag}", "postgres:${X?}",
		"${REG:+${REG}/}postgres", "${X:+x}${X+y}", "postgres:${NOPE:-${ALSO_NOPE}}", "${B}/${A}:${B}",
		"postgres:${TAG", "postgres:${}", "postgres:${1}", "postgres:${TAG:}", "postgres:${TAG/a/b}", "${A:-${B}",
		"${A:-$${B}}", "${A:-}}", "${A:-${B:-${C:-${D}}}}",
	} {
		f.Add(s, dotenv)
	}
	f.Add("${IMAGE}", "# c\nexport PG_TAG=16\nQ=\"a\\\"b\\n\"\nS='${PG_TAG}'\nIMAGE=postgres:${PG_TAG} # tag\nBAD=${HOME}\r\n=x\n")
	f.Fuzz(func(t *testing.T, s, dotenv string) {
		env := ParseDotEnv([]byte(dotenv))
		if again := ParseDotEnv([]byte(dotenv)); !reflect.DeepEqual(env, again) {
			t.Fatalf("ParseDotEnv differs between calls: %q, %q", env, again)
		}
		out, unresolved, err := interpolate(s, env)
		out2, unresolved2, err2 := interpolate(s, env)
		if out != out2 || !reflect.DeepEqual(unresolved, unresolved2) || (err == nil) != (err2 == nil) {
			t.Fatalf("interpolate(%q) differs between calls: %q %q %v, %q %q %v", s, out, unresolved, err, out2, unresolved2, err2)
		}
		switch {
		case !strings.Contains(s, "$") && (out != s || unresolved != nil || err != nil):
			t.Fatalf("interpolate(%q) = %q, %q, %v; want it unchanged", s, out, unresolved, err)
		case err != nil && (out != "" || unresolved != nil):
			t.Fatalf("interpolate(%q) = %q, %q alongside %v", s, out, unresolved, err)
		case len(unresolved) > 0 && out != "":
			t.Fatalf("interpolate(%q) = %q with unresolved %q", s, out, unresolved)
		case !slices.IsSorted(unresolved) || len(slices.Compact(slices.Clone(unresolved))) != len(unresolved):
			t.Fatalf("interpolate(%q): unresolved %q not sorted and unique", s, unresolved)
		}
		for _, n := range unresolved {
			if !isName(n) {
				t.Fatalf("interpolate(%q): unresolved %q is not a variable name", s, n)
			}
		}
		literal := strings.ReplaceAll(s, "$", "$$")
		if got, u, err := interpolate(literal, env); got != s || u != nil || err != nil {
			t.Fatalf("interpolate(%q) = %q, %q, %v; want %q", literal, got, u, err, s)
		}
	})
}

// FuzzCompose feeds arbitrary compose files and .env files to Extract. It
// must not panic; it fails only with an *finding.InputError for the file,
// on a line of the input (an interpolation error on the image's line);
// and what it returns is the same on every call, with each use on a line
// of the input and a Dockerfile path inside the repository.
func FuzzCompose(f *testing.F) {
	for _, s := range []struct{ src, env string }{
		{"services:\n  db:\n    image: postgres:15\n  app:\n    build: .\n  cache:\n    image: \"redis:7\"\n  empty:\n", ""},
		{"services:\n  db:\n    image: postgres:${PG_TAG:-15}\n", "PG_TAG=16-alpine\n"},
		{"services:\n  db:\n    image: ${REGISTRY}/postgres:$PG_TAG\n", "OTHER=x\n"},
		{"version: \"3.9\"\nx-pg: &pg\n  image: postgres:16-bookworm\n  restart: always\nservices:\n  x-not-a-service:\n    image: nope:1\n  primary:\n    <<: *pg\n  standby:\n    <<: *pg\n    command: standby\n", ""},
		{"x-img: &img postgres:14\nservices:\n  db:\n    image: *img\n", ""},
		{"services:\n  a:\n    image: 16\n  b:\n    image: ~\n", ""},
		{"services:\n  db:\n    image: postgres:${TAG\n", ""},
		{"services:\n  db:\n    image: pg:1\n    build:\n      context: ${CTX:-./db}\n      dockerfile: ../Dockerfile.pg\n  up:\n    image: pg:2\n    build: ../..\n", "CTX=db\n"},
		{"a: &a [x, x]\nb: &b [*a, *a]\nservices: *b\n", ""},
		{"a: &a\n  b: *a\n", ""},
		{"services:\n\t- x\n", ""},
		{"--- \nservices: {db: {image: 'postgres:${V:?}'}}\n---\nservices: {x: {image: y}}\n", "V=\n"},
	} {
		f.Add([]byte(s.src), s.env)
	}
	f.Fuzz(func(t *testing.T, data []byte, dotenv string) {
		env := ParseDotEnv([]byte(dotenv))
		lines := maxLine(string(data))
		m, err := Extract(Compose, "compose.yml", data, env)
		m2, err2 := Extract(Compose, "compose.yml", data, env)
		if !reflect.DeepEqual(m, m2) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Extract differs between calls:\n%+v, %v\n%+v, %v", m, err, m2, err2)
		}
		if err != nil {
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %T, want an *finding.InputError: %v", err, err)
			}
			if ie.File != "compose.yml" || ie.Msg == "" || ie.Line < 0 || ie.Line > lines ||
				strings.Contains(ie.Msg, "interpolation") && ie.Line < 1 {
				t.Fatalf("InputError %+v: want file compose.yml, a message and a line in 0..%d", ie, lines)
			}
			if m != nil {
				t.Fatalf("manifest %+v alongside an error", m)
			}
			return
		}
		for i, u := range m.Images {
			switch {
			case u.Line < 1 || u.Line > lines:
				t.Fatalf("use %d: line %d outside 1..%d", i, u.Line, lines)
			case u.File != "compose.yml" || !strings.HasPrefix(u.Key, "service:"):
				t.Fatalf("use %d: File %q, Key %q", i, u.File, u.Key)
			case len(u.Unresolved) > 0 && u.Image != "":
				t.Fatalf("use %d: Image %q with unresolved %q", i, u.Image, u.Unresolved)
			case u.BuiltFrom != "" && (path.IsAbs(u.BuiltFrom) || u.BuiltFrom != path.Clean(u.BuiltFrom) ||
				u.BuiltFrom == ".." || strings.HasPrefix(u.BuiltFrom, "../")):
				t.Fatalf("use %d: BuiltFrom %q is not a path in the repository", i, u.BuiltFrom)
			}
		}
	})
}

func isName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// maxLine bounds the line numbers yaml.v3 can give s: it breaks lines at
// \n, \r, NEL, LS and PS.
func maxLine(s string) int {
	n := 1
	for _, r := range strings.ReplaceAll(s, "\r\n", "\n") {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}
