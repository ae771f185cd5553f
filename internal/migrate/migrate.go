// Package migrate finds the SQL migrations of one directory, orders them the
// way their tool would apply them and cuts each direction into statements
// with file lines. It reads only the files it is handed: the caller owns git
// and the file system, and internal/pg owns Postgres.
package migrate

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Format is the migration tool whose conventions a directory follows.
type Format string

const (
	GolangMigrate Format = "golang-migrate"
	Goose         Format = "goose"
	Flyway        Format = "flyway"
	Dbmate        Format = "dbmate"
	Plain         Format = "plain"
)

// ErrNoMigrations is returned by Detect for a directory without .sql files.
var ErrNoMigrations = errors.New("no .sql migrations")

// File is a repository file handed in by the caller.
type File struct {
	Path string
	Data []byte
}

// Script is one direction of one migration.
type Script struct {
	File string // repository path
	// Line is the line in File where this direction's SQL starts: 1 for a
	// whole-file direction, the line after the marker for goose and dbmate
	// (the marker's own when it ends the file without a newline).
	Line int
	// Offset is the byte offset of SQL in File.
	Offset int
	SQL    string
	// InTransaction is false for goose NO TRANSACTION and dbmate
	// transaction:false. The other tools run a file as one unit.
	InTransaction bool
	Statements    []Statement
}

// Statement is one SQL statement of a script, from its first token to its
// last non-space character, without the terminating semicolon.
type Statement struct {
	SQL string
	// Line is the line in File of the statement's first token, not of the
	// comments or blank lines before it.
	Line int
	// Offset is the byte offset of SQL in File.
	Offset int
}

// Migration is one version (or one repeatable) with its directions.
type Migration struct {
	// Version is as written, except that Flyway's underscores read as dots:
	// "001", "20240101120000", "1.1". It is "" for a repeatable, and for a
	// plain file without a leading number.
	Version    string
	Name       string
	Up         *Script
	Down       *Script // nil when there is none
	Repeatable bool

	key string
}

// Key identifies a migration across commits, so callers can pair base and
// head: the version as the tool compares it (leading zeros dropped, for
// Flyway also trailing ".0" parts, so "1.0" and "1" are one version), "R__"
// plus the description for a repeatable, and the file name for plain files.
func (m Migration) Key() string {
	if m.key != "" {
		return m.key
	}
	if m.Repeatable {
		return "R__" + m.Name
	}
	return normVersion(m.Version)
}

// Set is one directory's migrations in apply order.
type Set struct {
	Dir        string
	Format     Format
	Migrations []Migration
}

var (
	reGolangMigrate = regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.sql$`)
	reUpDown        = regexp.MustCompile(`\.(up|down)\.sql$`)
	reFlywaySignal  = regexp.MustCompile(`^(?:[VU][0-9][0-9._]*__.+|R__.+)\.sql$`)
	reFlywayVersion = regexp.MustCompile(`^[0-9]+(?:[._][0-9]+)*$`)
	reNumbered      = regexp.MustCompile(`^([0-9]+)_?(.*)\.sql$`)
	rePlain         = regexp.MustCompile(`^([0-9]*)[_-]?(.*)\.sql$`)
	reDbmate        = regexp.MustCompile(`^--\s*migrate:(up|down)(?:\s+(.*))?$`)
)

// Detect picks the format of one directory from its file names and markers.
// Files in subdirectories are ignored; the directory is the shallowest one
// among files. A directory whose files follow two conventions is an
// *finding.InputError naming the file that disagrees.
func Detect(files []File) (Format, error) {
	sqls := sqlFiles(shallowestDir(files), files)
	if len(sqls) == 0 {
		return "", ErrNoMigrations
	}
	var got Format
	var gotFile string
	for _, f := range sqls {
		sig := signals(f)
		if len(sig) > 1 {
			return "", &finding.InputError{File: f.Path, Line: sig[1].line,
				Msg: fmt.Sprintf("mixes %s and %s migration conventions", sig[0].format, sig[1].format)}
		}
		if len(sig) == 0 {
			continue
		}
		if got == "" {
			got, gotFile = sig[0].format, f.Path
			continue
		}
		if sig[0].format != got {
			return "", &finding.InputError{File: f.Path, Line: sig[0].line,
				Msg: fmt.Sprintf("looks like %s, but %s looks like %s: one directory holds one tool's migrations", sig[0].format, gotFile, got)}
		}
	}
	if got == "" {
		return Plain, nil
	}
	return got, nil
}

type signal struct {
	format Format
	line   int
}

// signals lists the conventions one file follows. Names are checked before
// contents, and file-name signals point at line 1.
func signals(f File) []signal {
	var out []signal
	base := path.Base(f.Path)
	if reUpDown.MatchString(base) {
		out = append(out, signal{GolangMigrate, 1})
	}
	if reFlywaySignal.MatchString(base) {
		out = append(out, signal{Flyway, 1})
	}
	var goose, dbmate int
	forLines(f.Data, func(n, _, _ int, line string) bool {
		if goose == 0 {
			if _, ok := gooseAnnotation(line); ok {
				goose = n
			}
		}
		if dbmate == 0 && reDbmate.MatchString(strings.TrimRight(line, " \t\r")) {
			dbmate = n
		}
		return goose == 0 || dbmate == 0
	})
	if goose > 0 {
		out = append(out, signal{Goose, goose})
	}
	if dbmate > 0 {
		out = append(out, signal{Dbmate, dbmate})
	}
	return out
}

// Load parses and orders the migrations of dir: only its own .sql files,
// other files and subdirectories are ignored, as the tools do. Files that
// do not follow the format's naming (a README.sql next to golang-migrate
// files) are ignored too; a file that claims the format but breaks it is a
// *finding.InputError. File-name problems point at line 1.
func Load(dir string, format Format, files []File) (*Set, error) {
	dir = path.Clean(dir)
	sqls := sqlFiles(dir, files)
	var ms []Migration
	var err error
	switch format {
	case GolangMigrate:
		ms, err = loadGolangMigrate(sqls)
	case Goose, Dbmate:
		ms, err = loadNumbered(format, sqls)
	case Flyway:
		ms, err = loadFlyway(sqls)
	case Plain:
		ms, err = loadPlain(sqls)
	default:
		return nil, fmt.Errorf("unknown migration format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return &Set{Dir: dir, Format: format, Migrations: ms}, nil
}

func shallowestDir(files []File) string {
	best, depth := "", 0
	for i, f := range files {
		d := path.Dir(path.Clean(f.Path))
		n := 0
		if d != "." {
			n = strings.Count(d, "/") + 1
		}
		if i == 0 || n < depth || n == depth && d < best {
			best, depth = d, n
		}
	}
	return best
}

// sqlFiles keeps the .sql files directly in dir, sorted by path so that
// errors name the same file on every run. The suffix is matched exactly,
// as goose and Flyway do: "x.SQL" is not a migration to them.
func sqlFiles(dir string, files []File) []File {
	var out []File
	for _, f := range files {
		p := path.Clean(f.Path)
		if path.Dir(p) != dir || !strings.HasSuffix(p, ".sql") {
			continue
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func loadGolangMigrate(files []File) ([]Migration, error) {
	type pair struct {
		m        Migration
		upFile   string
		downFile string
	}
	byKey := map[string]*pair{}
	var order []*pair
	for _, f := range files {
		base := path.Base(f.Path)
		if !reUpDown.MatchString(base) {
			continue
		}
		sm := reGolangMigrate.FindStringSubmatch(base)
		if sm == nil {
			return nil, &finding.InputError{File: f.Path, Line: 1, Msg: "version does not parse: golang-migrate files are named NNN_name.up.sql or NNN_name.down.sql"}
		}
		key := normVersion(sm[1])
		p := byKey[key]
		if p == nil {
			p = &pair{m: Migration{Version: sm[1], Name: sm[2], key: key}}
			byKey[key] = p
			order = append(order, p)
		}
		s, err := wholeFile(f, true)
		if err != nil {
			return nil, err
		}
		if sm[3] == "up" {
			if p.upFile != "" {
				return nil, duplicate(f.Path, sm[1], p.upFile)
			}
			p.upFile, p.m.Up, p.m.Version, p.m.Name = f.Path, s, sm[1], sm[2]
		} else {
			if p.downFile != "" {
				return nil, duplicate(f.Path, sm[1], p.downFile)
			}
			p.downFile, p.m.Down = f.Path, s
		}
	}
	var ms []Migration
	for _, p := range order {
		if p.m.Up == nil {
			return nil, &finding.InputError{File: p.downFile, Line: 1, Msg: fmt.Sprintf("down migration of version %s has no up migration", p.m.Version)}
		}
		ms = append(ms, p.m)
	}
	sortNumeric(ms)
	return ms, nil
}

func loadNumbered(format Format, files []File) ([]Migration, error) {
	seen := map[string]string{}
	var ms []Migration
	for _, f := range files {
		base := path.Base(f.Path)
		sm := reNumbered.FindStringSubmatch(base)
		if sm == nil {
			// Unnumbered files are not migrations to either tool, unless
			// they carry the markers and so plainly meant to be one.
			if len(signals(f)) > 0 {
				return nil, &finding.InputError{File: f.Path, Line: 1, Msg: fmt.Sprintf("version does not parse: %s files are named NNN_name.sql", format)}
			}
			continue
		}
		m := Migration{Version: sm[1], Name: sm[2]}
		// goose reads the version as a number, so 001 and 1 collide;
		// dbmate keeps the digits as written.
		if format == Goose {
			m.key = normVersion(sm[1])
		} else {
			m.key = sm[1]
		}
		if prev, ok := seen[m.key]; ok {
			return nil, duplicate(f.Path, sm[1], prev)
		}
		seen[m.key] = f.Path
		var err error
		if format == Goose {
			m.Up, m.Down, err = parseGoose(f)
		} else {
			m.Up, m.Down, err = parseDbmate(f)
		}
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	sortNumeric(ms)
	return ms, nil
}

func loadFlyway(files []File) ([]Migration, error) {
	seen := map[string]string{}
	byKey := map[string]*Migration{}
	var versioned, repeatable []*Migration
	type undo struct {
		f   File
		ver string
	}
	var undos []undo
	for _, f := range files {
		base := path.Base(f.Path)
		stem := base[:len(base)-len(".sql")]
		if strings.HasPrefix(stem, "R__") {
			m := &Migration{Name: stem[3:], Repeatable: true}
			m.key = "R__" + m.Name
			s, err := wholeFile(f, true)
			if err != nil {
				return nil, err
			}
			m.Up = s
			if prev, ok := seen[m.key]; ok {
				return nil, &finding.InputError{File: f.Path, Line: 1, Msg: fmt.Sprintf("duplicate repeatable migration %q (also %s)", m.Name, prev)}
			}
			seen[m.key] = f.Path
			repeatable = append(repeatable, m)
			continue
		}
		if stem == "" || (stem[0] != 'V' && stem[0] != 'U') || !strings.Contains(stem, "__") {
			continue
		}
		i := strings.Index(stem, "__")
		raw, desc := stem[1:i], stem[i+2:]
		if !reFlywayVersion.MatchString(raw) {
			return nil, &finding.InputError{File: f.Path, Line: 1, Msg: fmt.Sprintf("version %q does not parse: Flyway versions are numbers separated by dots or underscores", raw)}
		}
		ver := strings.ReplaceAll(raw, "_", ".")
		if stem[0] == 'U' {
			undos = append(undos, undo{f, ver})
			continue
		}
		key := normVersion(ver)
		if prev, ok := seen[key]; ok {
			return nil, duplicate(f.Path, ver, prev)
		}
		seen[key] = f.Path
		s, err := wholeFile(f, true)
		if err != nil {
			return nil, err
		}
		m := &Migration{Version: ver, Name: desc, Up: s, key: key}
		byKey[key] = m
		versioned = append(versioned, m)
	}
	undone := map[string]string{}
	for _, u := range undos {
		key := normVersion(u.ver)
		m := byKey[key]
		if m == nil {
			return nil, &finding.InputError{File: u.f.Path, Line: 1, Msg: fmt.Sprintf("undo migration of version %s has no versioned migration V%s", u.ver, u.ver)}
		}
		if prev, ok := undone[key]; ok {
			return nil, duplicate(u.f.Path, u.ver, prev)
		}
		undone[key] = u.f.Path
		s, err := wholeFile(u.f, true)
		if err != nil {
			return nil, err
		}
		m.Down = s
	}
	sort.SliceStable(versioned, func(i, j int) bool { return cmpDotted(versioned[i].Version, versioned[j].Version) < 0 })
	// Flyway applies repeatables after all versioned migrations, in the
	// order of their descriptions.
	sort.SliceStable(repeatable, func(i, j int) bool { return repeatable[i].Name < repeatable[j].Name })
	var ms []Migration
	for _, m := range append(versioned, repeatable...) {
		ms = append(ms, *m)
	}
	return ms, nil
}

func loadPlain(files []File) ([]Migration, error) {
	var ms []Migration
	for _, f := range files {
		base := path.Base(f.Path)
		sm := rePlain.FindStringSubmatch(base)
		s, err := wholeFile(f, true)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: sm[1], Name: sm[2], Up: s, key: base})
	}
	// Natural order: numbered files by number, before unnumbered ones,
	// then by name, so 9_x.sql runs before 10_x.sql.
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if (a.Version == "") != (b.Version == "") {
			return a.Version != ""
		}
		if c := cmpDigits(a.Version, b.Version); c != 0 {
			return c < 0
		}
		return a.key < b.key
	})
	return ms, nil
}

func duplicate(file, version, prev string) error {
	return &finding.InputError{File: file, Line: 1, Msg: fmt.Sprintf("duplicate version %s (also %s)", version, prev)}
}

func sortNumeric(ms []Migration) {
	sort.SliceStable(ms, func(i, j int) bool {
		if c := cmpDigits(ms[i].Version, ms[j].Version); c != 0 {
			return c < 0
		}
		return ms[i].Version < ms[j].Version
	})
}

// cmpDigits compares two digit strings as numbers without converting them,
// so timestamps longer than int64 still order.
func cmpDigits(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// cmpDotted compares Flyway versions part by part, a missing part being 0,
// so 1.10 > 1.9 and 1 == 1.0.
func cmpDotted(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		x, y := "0", "0"
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if c := cmpDigits(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// normVersion is the canonical form of a dotted or plain numeric version:
// no leading zeros in a part, no trailing zero parts.
func normVersion(v string) string {
	parts := strings.Split(v, ".")
	for i, p := range parts {
		p = strings.TrimLeft(p, "0")
		if p == "" {
			p = "0"
		}
		parts[i] = p
	}
	for len(parts) > 1 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, ".")
}
