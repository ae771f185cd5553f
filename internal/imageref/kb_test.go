package imageref

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"
)

// minimalKB is a small valid knowledge base for tests that need their own.
const minimalKB = `
sources:
  - {id: s, title: A source, url: "https://example.com/s"}
collation:
  glibc:
    - {version: "2.31", label: glibc 2.31, sources: [s]}
    - {version: "2.35", label: glibc 2.35, sources: [s]}
  icu: {every_major: false, sources: [s]}
distros:
  - os: debian
    title: Debian
    libc: glibc
    sources: [s]
    releases:
      - {name: bullseye, aliases: ["11"], glibc: "2.31", icu: "67"}
      - {name: bookworm, aliases: ["12"], glibc: "2.36", icu: "72"}
postgres:
  sources: [s]
  majors: [{major: "16"}, {major: "17"}]
images:
  - id: db
    names: ['^docker\.io/acme/db$']
    database: true
    sources: [s]
    latest: [{major: "17"}]
    defaults:
      os: debian
      what: acme's default
      sources: [s]
      majors:
        "17": {history: [{release: bullseye, until: "2024-01"}, {release: bookworm, from: "17.3"}]}
    tags:
      - match: '^(?P<pg>\d+(?:\.\d+)?)-(?P<release>[a-z]+)$'
        os: debian
        pg: tag
      - match: '^(?P<pg>\d+(?:\.\d+)?)$'
        os: debian
        pg: tag
        floating: default
`

func TestDefaultLoads(t *testing.T) {
	kb := Default()
	if kb == nil || len(kb.images) == 0 || len(kb.distros) == 0 || len(kb.majors) == 0 {
		t.Fatal("Default() is empty")
	}
	if kb != Default() {
		t.Error("Default() parsed twice")
	}
	if _, err := Load(embeddedKB); err != nil {
		t.Fatalf("embedded kb.yaml: %v", err)
	}
	if len(kb.glibcBoundaries) != 1 || kb.glibcBoundaries[0].label != "glibc 2.28" || !kb.icuEveryMajor {
		t.Errorf("collation facts: %+v, every ICU major: %v", kb.glibcBoundaries, kb.icuEveryMajor)
	}
}

func TestSources(t *testing.T) {
	src := Default().Sources()
	if len(src) < 10 {
		t.Fatalf("only %d sources", len(src))
	}
	for _, s := range src {
		if !regexp.MustCompile(`^\S.* <https://\S+>$`).MatchString(s) {
			t.Errorf("source %q is not `title <https://…>`", s)
		}
	}
	// The sources the task names must be cited.
	all := strings.Join(src, "\n")
	for _, must := range []string{
		"wiki.postgresql.org/wiki/Locale_data_changes",
		"packages.debian.org",
		"docker-library/official-images",
		"docker-library/postgres",
		"wiki.ubuntu.com/Releases",
		"redhat.com",
		"aws.amazon.com",
		"alpinelinux.org",
	} {
		if !strings.Contains(all, must) {
			t.Errorf("no source cites %s", must)
		}
	}
}

// Every source listed is cited by some fact, so the list cannot go stale.
func TestEverySourceIsCited(t *testing.T) {
	text := string(embeddedKB)
	for _, s := range Default().sources {
		cited := regexp.MustCompile(`(?m)^\s*(?:sources:.*[\[, ]` + regexp.QuoteMeta(s.ID) + `[\],]|- ` + regexp.QuoteMeta(s.ID) + `$)`)
		if !cited.MatchString(text) {
			t.Errorf("source %q is never cited", s.ID)
		}
	}
}

// Releases a tag rule spells out inside its release group (alpine3.22,
// bookworm|trixie) must exist; Load already checks literal and history
// releases, this covers the ones written into the patterns.
func TestPatternReleasesExist(t *testing.T) {
	kb := Default()
	for _, img := range kb.images {
		for _, ru := range img.rules {
			re, err := syntax.Parse(ru.re.String(), syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			for _, lit := range releaseLiterals(re) {
				if kb.distros[ru.os].byName[lit] == nil {
					t.Errorf("image %s rule %q names %s release %q, which the knowledge base does not have", img.id, ru.re, ru.os, lit)
				}
			}
		}
	}
}

// releaseLiterals returns every string the (?P<release>…) groups of re can
// match, when that set is finite (bookworm|trixie, 3\.2[23]); a group such
// as [a-z]+ is looked up at match time and yields nothing here.
func releaseLiterals(re *syntax.Regexp) []string {
	if re.Op == syntax.OpCapture && re.Name == "release" {
		lits, _ := finite(re.Sub[0])
		return lits
	}
	var out []string
	for _, s := range re.Sub {
		out = append(out, releaseLiterals(s)...)
	}
	return out
}

// finite enumerates the strings a regexp matches if there are few of them.
func finite(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 4 { // \d, [a-z]: looked up at match time
				return nil, false
			}
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				out = append(out, string(c))
			}
		}
		return out, true
	case syntax.OpCapture:
		return finite(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := finite(re.Sub[0])
		return append(sub, ""), ok
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := finite(s)
			if !ok {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, true
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			sub, ok := finite(s)
			if !ok {
				return nil, false
			}
			var next []string
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

func TestPatternReleasesCoverage(t *testing.T) {
	// The walker must see the literal groups the embedded file uses, or the
	// test above checks nothing.
	seen := map[string]bool{}
	for _, img := range Default().images {
		for _, ru := range img.rules {
			re, _ := syntax.Parse(ru.re.String(), syntax.Perl)
			for _, l := range releaseLiterals(re) {
				seen[l] = true
			}
		}
	}
	for _, l := range []string{"3.22", "3.23", "bookworm", "trixie", "2", "2023"} {
		if !seen[l] {
			t.Errorf("release literal %q not found in any pattern", l)
		}
	}
}

func TestLoad(t *testing.T) {
	kb, err := Load([]byte(minimalKB))
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"17": "bookworm", "17.2": "bullseye", "17.3": "bookworm", "16-bullseye": "bullseye"} {
		got := kb.Identify(Ref{Name: "docker.io/acme/db", Path: "acme/db", Tag: tag})
		if !got.Known || got.Release != want || !got.Database {
			t.Errorf("acme/db:%s = %+v, want %s", tag, got, want)
		}
	}
	if got := kb.Identify(Ref{Name: "docker.io/acme/db", Path: "acme/db", Tag: "16"}); got.Known || !got.Database {
		t.Errorf("acme/db:16 has no default history, got %+v", got)
	}
	if got := kb.Sources(); len(got) != 1 || got[0] != "A source <https://example.com/s>" {
		t.Errorf("Sources() = %q", got)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, old, new, err string
	}{
		{"not yaml", "sources:", "sources: [", "knowledge base"},
		{"unknown key", "    database: true", "    databse: true", "field databse not found"},
		{"release without source", "    sources: [s]\n    releases:", "    sources: []\n    releases:", "distro debian release bullseye: no source"},
		{"unknown source", "    sources: [s]\n    latest:", "    sources: [nope]\n    latest:", `image db: unknown source "nope"`},
		{"image without source", "    sources: [s]\n    latest:", "    sources: []\n    latest:", "image db: no source"},
		{"source without url", `url: "https://example.com/s"`, `url: ""`, "https url are required"},
		{"history release missing", "{release: bookworm, from", "{release: buster, from", `release "buster" does not exist`},
		{"history alias", "{release: bookworm, from", `{release: "12", from`, "use its canonical name"},
		{"history from goes back", `from: "17.3"`, `from: "16.3"`, "not a version of 17"},
		{"history step without from", `{release: bookworm, from: "17.3"}`, `{release: bookworm}`, "needs `from`"},
		{"history step without until", `until: "2024-01"`, `until: ""`, "needs `until`"},
		{"bad month", `until: "2024-01"`, `until: "2024-13"`, "not YYYY-MM"},
		{"unknown major", `majors:
        "17"`, `majors:
        "19"`, "not a major listed under postgres"},
		{"unanchored", `'^(?P<pg>\d+(?:\.\d+)?)$'`, `'(?P<pg>\d+(?:\.\d+)?)'`, "anchored regexp"},
		{"unknown os", "        os: debian\n        pg: tag\n        floating", "        os: plan9\n        pg: tag\n        floating", `unknown os "plan9"`},
		{"floating and pinned", "(?P<release>[a-z]+)$'\n        os: debian\n        pg: tag\n", "(?P<release>[a-z]+)$'\n        os: debian\n        pg: tag\n        floating: release\n", "both pins a release and floats"},
		{"no release, no float", "        floating: default\n", "", "names no release"},
		{"pg group without pg", "        os: debian\n        pg: tag\n        floating", "        os: debian\n        floating", "without `pg: tag`"},
		{"glibc on release", `glibc: "2.31"`, `glibc: "two"`, "not major.minor"},
		{"duplicate alias", `aliases: ["12"]`, `aliases: ["11"]`, "duplicate name"},
		{"duplicate source", "sources:\n  - {id: s,", "sources:\n  - {id: s, title: B, url: \"https://b.example\"}\n  - {id: s,", "duplicate"},
		{"boundary without source", "{version: \"2.31\", label: glibc 2.31, sources: [s]}", "{version: \"2.31\", label: glibc 2.31}", "glibc boundary 2.31: no source"},
	}
	for _, tt := range tests {
		if !strings.Contains(minimalKB, tt.old) {
			t.Fatalf("%s: fixture lacks %q", tt.name, tt.old)
		}
		src := strings.Replace(minimalKB, tt.old, tt.new, 1)
		_, err := Load([]byte(src))
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: Load error %v, want one containing %q", tt.name, err, tt.err)
		}
	}
}
