package imageref

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed kb.yaml
var embeddedKB []byte

var defaultKB = sync.OnceValue(func() *KB {
	kb, err := Load(embeddedKB)
	if err != nil {
		// The file ships inside the binary and a test loads it, so this is a
		// build defect, not a user error.
		panic("imageref: embedded kb.yaml: " + err.Error())
	}
	return kb
})

// Default is the knowledge base embedded in the binary, parsed once.
func Default() *KB { return defaultKB() }

// KB is a loaded knowledge base. It is read-only and safe for concurrent use.
type KB struct {
	sources         []fileSource
	distros         map[string]*distro
	majors          map[PGMajor]*pgMajor
	images          []*image
	glibcBoundaries []boundary
	icuEveryMajor   bool
}

type distro struct {
	os       string
	title    string // "Debian", for notes
	libc     string
	releases []*release
	byName   map[string]*release // canonical names and aliases
}

type release struct {
	name             string
	glibc, musl, icu string
}

type pgMajor struct {
	eol string // month of the last minor, "" while supported
}

type boundary struct {
	label string
	parts []int
}

type image struct {
	id         string
	names      []*regexp.Regexp
	database   bool
	namePinsOS bool
	aliases    map[string]string
	latest     []latestStep
	defaults   *defaults
	rules      []*rule
}

type latestStep struct {
	major PGMajor
	until string
}

type defaults struct {
	os     string
	what   string
	majors map[PGMajor]*majorDefault
}

type majorDefault struct {
	history  []step
	bareLast []int
	note     string
}

type step struct {
	release string
	from    []int // nil: from the first build
	until   string
}

type rule struct {
	re       *regexp.Regexp
	os       string
	release  string
	libc     string
	pg       string
	pgMin    PGMajor
	floating string
	history  []step
	what     string
	note     string
}

// The file schema; see the header of kb.yaml.
type fileKB struct {
	Sources   []fileSource  `yaml:"sources"`
	Collation fileCollation `yaml:"collation"`
	Distros   []fileDistro  `yaml:"distros"`
	Postgres  filePostgres  `yaml:"postgres"`
	Images    []fileImage   `yaml:"images"`
}

type fileSource struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	URL   string `yaml:"url"`
}

type fileCollation struct {
	Glibc []struct {
		Version string   `yaml:"version"`
		Label   string   `yaml:"label"`
		Why     string   `yaml:"why"`
		Sources []string `yaml:"sources"`
	} `yaml:"glibc"`
	ICU struct {
		EveryMajor bool     `yaml:"every_major"`
		Why        string   `yaml:"why"`
		Sources    []string `yaml:"sources"`
	} `yaml:"icu"`
}

type fileDistro struct {
	OS       string        `yaml:"os"`
	Title    string        `yaml:"title"`
	Libc     string        `yaml:"libc"`
	Sources  []string      `yaml:"sources"`
	Releases []fileRelease `yaml:"releases"`
}

type fileRelease struct {
	Name     string   `yaml:"name"`
	Aliases  []string `yaml:"aliases"`
	Released string   `yaml:"released"`
	Glibc    string   `yaml:"glibc"`
	Musl     string   `yaml:"musl"`
	ICU      string   `yaml:"icu"`
	Sources  []string `yaml:"sources"`
}

type filePostgres struct {
	Sources []string `yaml:"sources"`
	Majors  []struct {
		Major string `yaml:"major"`
		EOL   string `yaml:"eol"`
	} `yaml:"majors"`
}

type fileImage struct {
	ID           string            `yaml:"id"`
	Names        []string          `yaml:"names"`
	Database     bool              `yaml:"database"`
	NamePinsOS   bool              `yaml:"name_pins_os"`
	Sources      []string          `yaml:"sources"`
	MajorAliases map[string]string `yaml:"major_aliases"`
	Latest       []struct {
		Major string `yaml:"major"`
		Until string `yaml:"until"`
	} `yaml:"latest"`
	Defaults *struct {
		OS      string   `yaml:"os"`
		What    string   `yaml:"what"`
		Sources []string `yaml:"sources"`
		Majors  map[string]struct {
			History  []fileStep `yaml:"history"`
			BareLast string     `yaml:"bare_last"`
			Note     string     `yaml:"note"`
		} `yaml:"majors"`
	} `yaml:"defaults"`
	Tags []fileRule `yaml:"tags"`
}

type fileStep struct {
	Release string `yaml:"release"`
	From    string `yaml:"from"`
	Until   string `yaml:"until"`
}

type fileRule struct {
	Match    string     `yaml:"match"`
	OS       string     `yaml:"os"`
	Release  string     `yaml:"release"`
	Libc     string     `yaml:"libc"`
	PG       string     `yaml:"pg"`
	PGMin    string     `yaml:"pg_min"`
	Floating string     `yaml:"floating"`
	History  []fileStep `yaml:"history"`
	What     string     `yaml:"what"`
	Note     string     `yaml:"note"`
}

var monthRe = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// Load parses and checks a knowledge base in the kb.yaml format. Every
// fact must cite a source, every release an image refers to must exist,
// and unknown keys are errors so a typo cannot silently drop a fact.
func Load(data []byte) (*KB, error) {
	var f fileKB
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("knowledge base: %w", err)
	}
	l := loader{f: &f, kb: &KB{distros: map[string]*distro{}, majors: map[PGMajor]*pgMajor{}}}
	l.load()
	if len(l.errs) > 0 {
		return nil, fmt.Errorf("knowledge base: %w", errors.Join(l.errs...))
	}
	return l.kb, nil
}

type loader struct {
	f       *fileKB
	kb      *KB
	errs    []error
	sources map[string]bool
}

func (l *loader) errorf(format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf(format, args...))
}

// cite checks that a fact names at least one source and only known ones.
func (l *loader) cite(what string, ids ...[]string) {
	n := 0
	for _, list := range ids {
		for _, id := range list {
			n++
			if !l.sources[id] {
				l.errorf("%s: unknown source %q", what, id)
			}
		}
	}
	if n == 0 {
		l.errorf("%s: no source", what)
	}
}

func (l *loader) month(what, s string) {
	if s != "" && !monthRe.MatchString(s) {
		l.errorf("%s: %q is not YYYY-MM", what, s)
	}
}

func (l *loader) load() {
	f, kb := l.f, l.kb
	l.sources = map[string]bool{}
	for _, s := range f.Sources {
		switch {
		case s.ID == "" || s.Title == "" || !strings.HasPrefix(s.URL, "https://"):
			l.errorf("source %q: id, title and an https url are required", s.ID)
		case l.sources[s.ID]:
			l.errorf("source %q: duplicate", s.ID)
		}
		l.sources[s.ID] = true
	}
	kb.sources = f.Sources
	if len(f.Sources) == 0 {
		l.errorf("no sources")
	}

	for _, g := range f.Collation.Glibc {
		parts, err := parseDotted(g.Version)
		if err != nil || g.Label == "" {
			l.errorf("glibc boundary %q: a version and a label are required", g.Version)
		}
		l.cite("glibc boundary "+g.Version, g.Sources)
		kb.glibcBoundaries = append(kb.glibcBoundaries, boundary{label: g.Label, parts: parts})
	}
	kb.icuEveryMajor = f.Collation.ICU.EveryMajor
	l.cite("icu collation", f.Collation.ICU.Sources)

	l.loadDistros()

	l.cite("postgres majors", f.Postgres.Sources)
	for _, m := range f.Postgres.Majors {
		major, parts, pre, err := parsePGVersion(m.Major)
		if err != nil || pre || (major >= 1000) != (len(parts) == 1) {
			l.errorf("postgres major %q: not a major", m.Major)
			continue
		}
		l.month("postgres major "+m.Major, m.EOL)
		kb.majors[major] = &pgMajor{eol: m.EOL}
	}

	ids := map[string]bool{}
	for _, fi := range f.Images {
		if fi.ID == "" || ids[fi.ID] {
			l.errorf("image %q: missing or duplicate id", fi.ID)
		}
		ids[fi.ID] = true
		if img := l.loadImage(fi); img != nil {
			kb.images = append(kb.images, img)
		}
	}
}

func (l *loader) loadDistros() {
	for _, fd := range l.f.Distros {
		what := "distro " + fd.OS
		if fd.OS == "" || l.kb.distros[fd.OS] != nil {
			l.errorf("%s: missing or duplicate os", what)
			continue
		}
		if fd.Libc != "glibc" && fd.Libc != "musl" {
			l.errorf("%s: libc must be glibc or musl, not %q", what, fd.Libc)
		}
		if fd.Title == "" {
			l.errorf("%s: no title", what)
		}
		d := &distro{os: fd.OS, title: fd.Title, libc: fd.Libc, byName: map[string]*release{}}
		for _, fr := range fd.Releases {
			rw := what + " release " + fr.Name
			l.cite(rw, fd.Sources, fr.Sources)
			l.month(rw, fr.Released)
			r := &release{name: fr.Name, glibc: fr.Glibc, musl: fr.Musl, icu: fr.ICU}
			switch fd.Libc {
			case "glibc":
				if parts, err := parseDotted(fr.Glibc); err != nil || len(parts) != 2 {
					l.errorf("%s: glibc version %q is not major.minor", rw, fr.Glibc)
				}
				if fr.Musl != "" {
					l.errorf("%s: musl version on a glibc distro", rw)
				}
			case "musl":
				if fr.Glibc != "" {
					l.errorf("%s: glibc version on a musl distro", rw)
				}
				if _, err := parseDotted(fr.Musl); fr.Musl != "" && err != nil {
					l.errorf("%s: musl version %q", rw, fr.Musl)
				}
			}
			if fr.ICU != "" && !isDigits(fr.ICU) {
				l.errorf("%s: ICU %q is not a major number", rw, fr.ICU)
			}
			for _, n := range append([]string{fr.Name}, fr.Aliases...) {
				if n == "" || d.byName[n] != nil {
					l.errorf("%s: empty or duplicate name %q", rw, n)
				}
				d.byName[n] = r
			}
			d.releases = append(d.releases, r)
		}
		l.kb.distros[fd.OS] = d
	}
}

func (l *loader) loadImage(fi fileImage) *image {
	what := "image " + fi.ID
	img := &image{id: fi.ID, database: fi.Database, namePinsOS: fi.NamePinsOS, aliases: fi.MajorAliases}
	l.cite(what, fi.Sources)
	if len(fi.Names) == 0 {
		l.errorf("%s: no names", what)
	}
	for _, n := range fi.Names {
		re, err := regexp.Compile(n)
		if err != nil || !strings.HasPrefix(n, "^") || !strings.HasSuffix(n, "$") {
			l.errorf("%s: name %q must be an anchored regexp (%v)", what, n, err)
			continue
		}
		img.names = append(img.names, re)
	}
	for alias, target := range fi.MajorAliases {
		if m, err := ParsePGMajor(target); err != nil || l.kb.majors[m] == nil {
			l.errorf("%s: major alias %q points to unknown major %q", what, alias, target)
		}
	}
	for _, fl := range fi.Latest {
		m := l.major(what+" latest", fl.Major)
		l.month(what+" latest", fl.Until)
		img.latest = append(img.latest, latestStep{major: m, until: fl.Until})
	}
	if d := fi.Defaults; d != nil {
		l.cite(what+" defaults", d.Sources)
		img.defaults = &defaults{os: d.OS, what: d.What, majors: map[PGMajor]*majorDefault{}}
		if l.kb.distros[d.OS] == nil || d.What == "" {
			l.errorf("%s defaults: unknown os %q or no `what`", what, d.OS)
		}
		for key, fm := range d.Majors {
			mw := fmt.Sprintf("%s defaults %s", what, key)
			m := l.major(mw, key)
			md := &majorDefault{history: l.steps(mw, d.OS, fm.History, true), note: fm.Note}
			if fm.BareLast != "" {
				bm, parts, _, err := parsePGVersion(fm.BareLast)
				if err != nil || bm != m {
					l.errorf("%s: bare_last %q is not a version of %s", mw, fm.BareLast, key)
				}
				md.bareLast = parts
			}
			for _, s := range md.history {
				if s.from != nil {
					if fm, _, _, _ := parsePGVersion(joinInts(s.from)); fm != m {
						l.errorf("%s: step %s starts at %s, not a version of %s", mw, s.release, joinInts(s.from), key)
					}
				}
			}
			img.defaults.majors[m] = md
		}
	}
	for i, fr := range fi.Tags {
		if r := l.rule(fmt.Sprintf("%s tag rule %d", what, i+1), img, fr); r != nil {
			img.rules = append(img.rules, r)
		}
	}
	return img
}

func (l *loader) major(what, s string) PGMajor {
	m, err := ParsePGMajor(s)
	if err != nil || l.kb.majors[m] == nil {
		l.errorf("%s: %q is not a major listed under postgres", what, s)
	}
	return m
}

// steps checks a history: every release exists and every step but the last
// ends. Postgres default histories (byMinor) also say from which minor on
// each step holds, moving forward, so frozen minor tags resolve exactly.
func (l *loader) steps(what, os string, fs []fileStep, byMinor bool) []step {
	if len(fs) == 0 {
		l.errorf("%s: empty history", what)
	}
	var out []step
	for i, fsp := range fs {
		s := step{release: fsp.Release, until: fsp.Until}
		if d := l.kb.distros[os]; d == nil || d.byName[fsp.Release] == nil || d.byName[fsp.Release].name != fsp.Release {
			l.errorf("%s: %s release %q does not exist (use its canonical name)", what, os, fsp.Release)
		}
		l.month(what, fsp.Until)
		if i < len(fs)-1 && fsp.Until == "" {
			l.errorf("%s: step %q needs `until`", what, fsp.Release)
		}
		if fsp.From != "" && !byMinor {
			l.errorf("%s: `from` only applies to Postgres defaults", what)
		}
		if fsp.From != "" {
			_, parts, pre, err := parsePGVersion(fsp.From)
			if err != nil || pre {
				l.errorf("%s: from %q is not a Postgres version", what, fsp.From)
			}
			if i > 0 && out[i-1].from != nil && compareVersions(out[i-1].from, parts) >= 0 {
				l.errorf("%s: from %q does not move forward", what, fsp.From)
			}
			s.from = parts
		} else if i > 0 && byMinor {
			l.errorf("%s: step %q needs `from` (the first minor built on it)", what, fsp.Release)
		}
		out = append(out, s)
	}
	return out
}

func (l *loader) rule(what string, img *image, fr fileRule) *rule {
	re, err := regexp.Compile(fr.Match)
	if err != nil || !strings.HasPrefix(fr.Match, "^") || !strings.HasSuffix(fr.Match, "$") {
		l.errorf("%s: match %q must be an anchored regexp (%v)", what, fr.Match, err)
		return nil
	}
	r := &rule{re: re, os: fr.OS, release: fr.Release, libc: fr.Libc, pg: fr.PG, floating: fr.Floating, what: fr.What, note: fr.Note}
	d := l.kb.distros[fr.OS]
	if d == nil {
		l.errorf("%s: unknown os %q", what, fr.OS)
		return nil
	}
	groups := map[string]bool{}
	for _, n := range re.SubexpNames() {
		groups[n] = true
	}
	for _, nre := range img.names {
		for _, n := range nre.SubexpNames() {
			groups[n] = true
		}
	}
	if fr.Release != "" && (d.byName[fr.Release] == nil || d.byName[fr.Release].name != fr.Release) {
		l.errorf("%s: %s release %q does not exist (use its canonical name)", what, fr.OS, fr.Release)
	}
	if fr.Libc != "" && fr.Libc != "none" {
		l.errorf("%s: libc override may only be \"none\"", what)
	}
	switch fr.PG {
	case "":
		if groups["pg"] || fr.PGMin != "" {
			l.errorf("%s: a pg group or pg_min without `pg: tag`", what)
		}
	case "tag":
		if !groups["pg"] {
			l.errorf("%s: `pg: tag` needs a (?P<pg>…) group", what)
		}
	case "latest":
		if len(img.latest) == 0 {
			l.errorf("%s: `pg: latest` on an image without `latest`", what)
		}
	default:
		l.errorf("%s: pg must be tag or latest, not %q", what, fr.PG)
	}
	if fr.PGMin != "" {
		r.pgMin = l.major(what+" pg_min", fr.PGMin)
	}
	pinned := fr.Release != "" || groups["release"]
	switch fr.Floating {
	case "":
		if !pinned {
			l.errorf("%s: names no release; say how it floats", what)
		}
	case "release":
	case "default":
		if img.defaults == nil || img.defaults.os != fr.OS || fr.PG == "" {
			l.errorf("%s: `floating: default` needs the image's defaults for %s and a Postgres major", what, fr.OS)
		}
	case "history":
		if fr.What == "" {
			l.errorf("%s: `floating: history` needs `what`", what)
		}
		r.history = l.steps(what, fr.OS, fr.History, false)
	default:
		l.errorf("%s: floating must be release, default or history, not %q", what, fr.Floating)
	}
	if fr.Floating != "" && pinned {
		l.errorf("%s: both pins a release and floats", what)
	}
	if fr.Floating != "history" && (len(fr.History) > 0 || fr.What != "") {
		l.errorf("%s: history and what belong to `floating: history`", what)
	}
	return r
}

func joinInts(parts []int) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ".")
}

// Sources lists where the knowledge base's facts come from, one
// "title <url>" line per source, in file order.
func (kb *KB) Sources() []string {
	out := make([]string, len(kb.sources))
	for i, s := range kb.sources {
		out[i] = s.Title + " <" + s.URL + ">"
	}
	return out
}
