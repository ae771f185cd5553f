package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

func FuzzSplit(f *testing.F) {
	for _, s := range []string{
		"",
		"SELECT 1;\nSELECT 2",
		"-- c\n/* a /* b */ */\nCREATE TABLE t (a int);;\n",
		"DO $x$ BEGIN PERFORM 1; END $x$;\nSELECT ';'",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
		"SELECT 1);\nSELECT 2;",
		"SELECT E'\\';';\nSELECT $$;$$",
		"SELECT 'é';\r\nSELECT 2;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Split(sql)
		if err != nil {
			se, ok := err.(*SplitError)
			if !ok {
				t.Fatalf("error %T, want *SplitError", err)
			}
			if se.Line < 1 || se.Line > strings.Count(sql, "\n")+1 {
				t.Fatalf("error line %d outside the input", se.Line)
			}
			return
		}
		lines := strings.Count(sql, "\n") + 1
		end := 0
		for i, s := range stmts {
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("statement %d: line %d outside 1..%d", i, s.Line, lines)
			}
			if s.Offset < end {
				t.Fatalf("statement %d at %d overlaps or precedes the one before (ends %d)", i, s.Offset, end)
			}
			if s.SQL == "" || sql[s.Offset:s.Offset+len(s.SQL)] != s.SQL {
				t.Fatalf("statement %d: Offset %d does not point at %q", i, s.Offset, s.SQL)
			}
			if want := strings.Count(sql[:s.Offset], "\n") + 1; s.Line != want {
				t.Fatalf("statement %d: Line %d, its offset is on line %d", i, s.Line, want)
			}
			if firstToken(s.SQL, 0, len(s.SQL)) != 0 {
				t.Fatalf("statement %d starts with a blank or comment: %q", i, s.SQL)
			}
			if l := s.LineAt(len([]rune(s.SQL))); l < s.Line || l > lines {
				t.Fatalf("statement %d: LineAt(end) = %d outside %d..%d", i, l, s.Line, lines)
			}
			end = s.Offset + len(s.SQL)
		}
	})
}

// FuzzMarked feeds arbitrary files to the goose and dbmate section parsers:
// whatever they accept must come back as statements that sit inside the
// file, in order, on the lines they claim.
func FuzzMarked(f *testing.F) {
	f.Add("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\nSELECT 2;\n-- +goose Down\nSELECT 3;\n")
	f.Add("-- +goose NO TRANSACTION\n-- +goose Up\nSELECT 1;")
	f.Add("-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\nSELECT 2;")
	f.Fuzz(func(t *testing.T, data string) {
		file := File{Path: "db/1_x.sql", Data: []byte(data)}
		for _, parse := range []func(File) (*Script, *Script, error){parseGoose, parseDbmate} {
			up, down, err := parse(file)
			if err != nil {
				continue
			}
			end := 0
			for _, s := range []*Script{up, down} {
				if s == nil {
					continue
				}
				if data[s.Offset:s.Offset+len(s.SQL)] != s.SQL || s.Line < 1 {
					t.Fatalf("script at offset %d line %d does not point at its SQL", s.Offset, s.Line)
				}
				for _, st := range s.Statements {
					if st.Offset < end || data[st.Offset:st.Offset+len(st.SQL)] != st.SQL || st.SQL == "" {
						t.Fatalf("statement %q at %d out of place (previous ended at %d)", st.SQL, st.Offset, end)
					}
					if want := strings.Count(data[:st.Offset], "\n") + 1; st.Line != want {
						t.Fatalf("statement %q: Line %d, want %d", st.SQL, st.Line, want)
					}
					end = st.Offset + len(st.SQL)
				}
			}
		}
	})
}

// fuzzFormats are the formats FuzzLoad picks from with a byte; "" has
// Detect choose.
var fuzzFormats = []Format{"", GolangMigrate, Goose, Flyway, Dbmate, Plain}

// FuzzLoad feeds arbitrary directories to Detect and Load. spec holds the
// files as "-- name --" lines each followed by its contents; name is
// under db/. Neither may panic, and both fail only with an
// *finding.InputError on a line of one of the files (or, for Detect,
// ErrNoMigrations). Load gives the same set on every call and whatever
// order the files come in, with unique keys, in the order of the format,
// and scripts and statements that point into their files.
func FuzzLoad(f *testing.F) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	for _, dir := range dirs {
		if strings.HasPrefix(dir, filepath.Join("testdata", "fuzz")) {
			continue
		}
		var spec strings.Builder
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil {
				fmt.Fprintf(&spec, "-- %s --\n%s", e.Name(), data)
			}
		}
		// The directory's parent names its format; testdata/detect has Detect choose.
		format := byte(max(0, slices.Index(fuzzFormats, Format(filepath.Base(filepath.Dir(dir))))))
		f.Add(format, spec.String())
		f.Add(byte(0), spec.String())
	}
	f.Add(byte(1), "-- 1_a.up.sql --\nSELECT 1;\n-- 01_b.down.sql --\nSELECT 2;\n-- sub/2_c.up.sql --\n-- README.md --\n")
	f.Add(byte(2), "-- 1_a.sql --\n-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n-- 2.sql --\n-- +goose Up")
	f.Add(byte(3), "-- V1_1__a.sql --\nSELECT 1;\n-- V1.1.0__b.sql --\n-- U1.1__a.sql --\n-- R__v.sql --\n-- R__v.sql --\n")
	f.Add(byte(4), "-- 20240101_a.sql --\n-- migrate:up transaction:false\nSELECT 1;\n-- migrate:down\n-- 020240101_a.sql --\n-- migrate:up\n")
	f.Add(byte(5), "-- 10_a.sql --\n-- 9-b.sql --\n-- c.sql --\nSELECT 'x\n-- 009.sql --\n-- .sql --\n")
	f.Fuzz(func(t *testing.T, format byte, spec string) {
		files := fuzzFiles(spec)
		lines := map[string]int{}
		for _, fl := range files {
			lines[fl.Path] = bytes.Count(fl.Data, []byte("\n")) + 1
		}
		checkErr := func(what string, err error) {
			t.Helper()
			var ie *finding.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%s: error %T, want an *finding.InputError: %v", what, err, err)
			}
			if n, ok := lines[ie.File]; !ok || ie.Line < 1 || ie.Line > n || ie.Msg == "" {
				t.Fatalf("%s: %+v does not name a line of one of the files", what, ie)
			}
		}
		fm := fuzzFormats[int(format)%len(fuzzFormats)]
		if fm == "" {
			var err error
			if fm, err = Detect(files); errors.Is(err, ErrNoMigrations) {
				return
			} else if err != nil {
				checkErr("Detect", err)
				return
			}
		}
		set, err := Load("db", fm, files)
		again, err2 := Load("db", fm, files)
		backward := slices.Clone(files)
		slices.Reverse(backward)
		reversed, err3 := Load("db", fm, backward)
		if !reflect.DeepEqual(set, again) || !reflect.DeepEqual(err, err2) {
			t.Fatalf("Load differs between calls:\n%+v, %v\n%+v, %v", set, err, again, err2)
		}
		if !reflect.DeepEqual(set, reversed) || !reflect.DeepEqual(err, err3) {
			t.Fatalf("Load depends on the order of the files:\n%+v, %v\n%+v, %v", set, err, reversed, err3)
		}
		if err != nil {
			checkErr("Load", err)
			return
		}
		if set.Dir != "db" || set.Format != fm {
			t.Fatalf("Set %q %q, want db %q", set.Dir, set.Format, fm)
		}
		data := map[string][]byte{}
		for _, fl := range files {
			data[fl.Path] = fl.Data
		}
		keys := map[string]bool{}
		for i, m := range set.Migrations {
			if keys[m.Key()] {
				t.Fatalf("migration %d: key %q twice", i, m.Key())
			}
			keys[m.Key()] = true
			if i > 0 && !inOrder(fm, set.Migrations[i-1], m) {
				t.Fatalf("%s migrations %d and %d out of order: %q %q, then %q %q",
					fm, i-1, i, set.Migrations[i-1].Version, set.Migrations[i-1].Name, m.Version, m.Name)
			}
			if m.Up == nil {
				t.Fatalf("migration %d (%q) has no up script", i, m.Key())
			}
			for _, s := range []*Script{m.Up, m.Down} {
				if s == nil {
					continue
				}
				d, ok := data[s.File]
				switch {
				case !ok || path.Dir(s.File) != "db":
					t.Fatalf("migration %d: script of %q, not a file of db", i, s.File)
				case string(d[s.Offset:s.Offset+len(s.SQL)]) != s.SQL:
					t.Fatalf("migration %d: script at %d does not point at its SQL", i, s.Offset)
				case s.Line < 1 || s.Line > lines[s.File]:
					t.Fatalf("migration %d: script on line %d of %d", i, s.Line, lines[s.File])
				}
				for _, st := range s.Statements {
					if st.Offset < s.Offset || st.Offset+len(st.SQL) > s.Offset+len(s.SQL) ||
						string(d[st.Offset:st.Offset+len(st.SQL)]) != st.SQL ||
						st.Line != bytes.Count(d[:st.Offset], []byte("\n"))+1 {
						t.Fatalf("migration %d: statement %q at %d (line %d) out of place", i, st.SQL, st.Offset, st.Line)
					}
				}
			}
		}
	})
}

// fuzzFiles reads a FuzzLoad spec into files, the first of each path only:
// a repository holds one file at a path.
func fuzzFiles(spec string) []File {
	var files []File
	seen := map[string]bool{}
	keep := false
	for _, line := range strings.SplitAfter(spec, "\n") {
		header := strings.TrimSuffix(line, "\n")
		if name, ok := strings.CutPrefix(header, "-- "); ok && strings.HasSuffix(name, " --") && len(name) > 3 {
			p := path.Clean("db/" + strings.TrimSuffix(name, " --"))
			if keep = !seen[p]; keep {
				seen[p] = true
				files = append(files, File{Path: p})
			}
			continue
		}
		if keep {
			files[len(files)-1].Data = append(files[len(files)-1].Data, line...)
		}
	}
	return files
}

// inOrder reports whether a may come right before b in a set of format fm.
func inOrder(fm Format, a, b Migration) bool {
	switch fm {
	case Flyway:
		switch {
		case a.Repeatable != b.Repeatable:
			return !a.Repeatable
		case a.Repeatable:
			return a.Name <= b.Name
		}
		return cmpDotted(a.Version, b.Version) <= 0
	case Plain:
		if (a.Version == "") != (b.Version == "") {
			return a.Version != ""
		}
		if c := cmpDigits(a.Version, b.Version); c != 0 {
			return c < 0
		}
		return a.Key() < b.Key()
	}
	c := cmpDigits(a.Version, b.Version)
	return c < 0 || c == 0 && a.Version <= b.Version
}

// TestMarkerEndsFile pins the fix for what FuzzLoad found: a marker on the
// last line, without a newline, gave its empty section the line after the
// end of the file, where a finding could not be shown.
func TestMarkerEndsFile(t *testing.T) {
	for _, tt := range []struct {
		format   Format
		src      string
		up, down int
	}{
		{Goose, "-- +goose Up", 1, 0},
		{Goose, "-- +goose Up\nSELECT 1;\n-- +goose Down", 2, 3},
		{Goose, "-- +goose Up\nSELECT 1;\n-- +goose Down\n", 2, 4},
		{Dbmate, "-- migrate:up\nSELECT 1;\n-- migrate:down", 2, 3},
	} {
		s, err := Load("db", tt.format, []File{{Path: "db/1_a.sql", Data: []byte(tt.src)}})
		if err != nil {
			t.Fatalf("%s %q: %v", tt.format, tt.src, err)
		}
		m := s.Migrations[0]
		down := 0
		if m.Down != nil {
			down = m.Down.Line
		}
		if m.Up.Line != tt.up || down != tt.down {
			t.Errorf("%s %q: up on line %d, down on %d; want %d, %d", tt.format, tt.src, m.Up.Line, down, tt.up, tt.down)
		}
	}
}
