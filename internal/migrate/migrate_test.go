package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// readDir hands a fixture directory over the way the caller would: every
// file under it (subdirectories included, so that Load has something to
// ignore), with repository-style slash paths.
func readDir(t *testing.T, dir string) []File {
	t.Helper()
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files = append(files, File{Path: filepath.ToSlash(p), Data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDetect(t *testing.T) {
	tests := []struct {
		dir     string
		want    Format
		errFile string // an *finding.InputError naming this file
		errLine int
		errIs   error
	}{
		{dir: "testdata/golang-migrate/ordered", want: GolangMigrate},
		{dir: "testdata/golang-migrate/timestamps", want: GolangMigrate},
		{dir: "testdata/goose/basic", want: Goose},
		{dir: "testdata/flyway/basic", want: Flyway},
		{dir: "testdata/dbmate/basic", want: Dbmate},
		{dir: "testdata/plain/basic", want: Plain},
		{dir: "testdata/detect/mix-dirs", errFile: "testdata/detect/mix-dirs/2_b.sql", errLine: 2},
		{dir: "testdata/detect/mix-file", errFile: "testdata/detect/mix-file/1_a.up.sql", errLine: 2},
		{dir: "testdata/detect/mix-goose-dbmate", errFile: "testdata/detect/mix-goose-dbmate/20240102120000_b.sql", errLine: 1},
		{dir: "testdata/detect/no-sql", errIs: ErrNoMigrations},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			got, err := Detect(readDir(t, tt.dir))
			switch {
			case tt.errIs != nil:
				if !errors.Is(err, tt.errIs) {
					t.Fatalf("err = %v, want %v", err, tt.errIs)
				}
			case tt.errFile != "":
				checkInputError(t, err, tt.errFile, tt.errLine, "")
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := Detect(nil); !errors.Is(err, ErrNoMigrations) {
		t.Errorf("Detect(nil) err = %v, want ErrNoMigrations", err)
	}
}

// summary is one line per migration: key, version, name, whether there is
// a down, and the transaction flags of up and down.
func summary(s *Set) []string {
	var out []string
	for _, m := range s.Migrations {
		line := fmt.Sprintf("%s %q %q", m.Key(), m.Version, m.Name)
		if m.Repeatable {
			line += " repeatable"
		}
		line += fmt.Sprintf(" up:%s", txFlag(m.Up))
		if m.Down != nil {
			line += fmt.Sprintf(" down:%s", txFlag(m.Down))
		}
		out = append(out, line)
	}
	return out
}

func txFlag(s *Script) string {
	if s.InTransaction {
		return "tx"
	}
	return "notx"
}

func TestLoadOrder(t *testing.T) {
	tests := []struct {
		dir    string
		format Format
		want   []string
	}{
		{"testdata/golang-migrate/ordered", GolangMigrate, []string{
			`1 "1" "init" up:tx down:tx`,
			`9 "9" "nine" up:tx`,
			`10 "10" "ten" up:tx down:tx`,
		}},
		{"testdata/golang-migrate/timestamps", GolangMigrate, []string{
			`20240101120000 "20240101120000" "a" up:tx`,
			`9223372036854775808 "9223372036854775808" "b" up:tx`,
			`100000000000000000000 "100000000000000000000" "c" up:tx`,
		}},
		{"testdata/goose/basic", Goose, []string{
			`1 "00001" "create" up:tx down:tx`,
			`2 "00002" "concurrent" up:notx down:notx`,
			`9 "00009" "nine" up:tx`,
			`10 "00010" "ten" up:tx`,
			`20240101120000 "20240101120000" "stamp" up:tx`,
			`99999999999999999999 "99999999999999999999" "big" up:tx`,
		}},
		{"testdata/flyway/basic", Flyway, []string{
			`1 "1" "init" up:tx down:tx`,
			`1.1 "1.1" "one_one" up:tx`,
			`1.9 "1.9" "nine" up:tx`,
			`1.10 "1.10" "ten" up:tx`,
			`2 "2" "two" up:tx`,
			`2.1 "2.1" "underscored" up:tx`,
			`R__a_functions "" "a_functions" repeatable up:tx`,
			`R__views "" "views" repeatable up:tx`,
		}},
		{"testdata/dbmate/basic", Dbmate, []string{
			`20240101120000 "20240101120000" "create" up:tx down:tx`,
			`20240102000000 "20240102000000" "index" up:notx down:tx`,
			`20240103000000 "20240103000000" "nodown" up:tx`,
		}},
		{"testdata/plain/basic", Plain, []string{
			`1_a.sql "1" "a" up:tx`,
			`2_b.sql "2" "b" up:tx`,
			`9-d.sql "9" "d" up:tx`,
			`10_c.sql "10" "c" up:tx`,
			`seed.sql "" "seed" up:tx`,
			`zz.sql "" "zz" up:tx`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			s, err := Load(tt.dir, tt.format, readDir(t, tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			if s.Dir != tt.dir || s.Format != tt.format {
				t.Errorf("Set = %q %q, want %q %q", s.Dir, s.Format, tt.dir, tt.format)
			}
			got := summary(s)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("migrations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// stmt is a statement as the tests expect it: its line and its SQL.
type stmt struct {
	line int
	sql  string
}

func TestLoadStatements(t *testing.T) {
	tests := []struct {
		name     string
		dir      string
		format   Format
		file     string // base name of the migration's up file
		upLine   int
		up       []stmt
		downFile string
		downLine int
		down     []stmt
	}{
		{
			name: "golang-migrate multi-line", dir: "testdata/golang-migrate/ordered", format: GolangMigrate,
			file: "1_init.up.sql", upLine: 1,
			up: []stmt{
				{2, "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  name text\n)"},
				{7, "CREATE INDEX users_name ON users (name)"},
			},
			downFile: "1_init.down.sql", downLine: 1, down: []stmt{{1, "DROP TABLE users"}},
		},
		{
			name: "goose StatementBegin kept whole", dir: "testdata/goose/basic", format: Goose,
			file: "00001_create.sql", upLine: 2,
			up: []stmt{
				{3, "CREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.updated = now();\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;"},
				{10, "CREATE TABLE t (id int)"},
				{13, "INSERT INTO t VALUES (1)"},
			},
			downFile: "00001_create.sql", downLine: 16,
			down: []stmt{{16, "DROP TABLE t"}, {17, "DROP FUNCTION touch()"}},
		},
		{
			name: "goose NO TRANSACTION", dir: "testdata/goose/basic", format: Goose,
			file: "00002_concurrent.sql", upLine: 3,
			up:       []stmt{{3, "CREATE INDEX CONCURRENTLY i ON t (id)"}},
			downFile: "00002_concurrent.sql", downLine: 6,
			down: []stmt{{6, "DROP INDEX CONCURRENTLY i"}},
		},
		{
			name: "dbmate sections", dir: "testdata/dbmate/basic", format: Dbmate,
			file: "20240101120000_create.sql", upLine: 2,
			up:       []stmt{{2, "CREATE TABLE a (\n  id int\n)"}, {5, "INSERT INTO a VALUES (1)"}},
			downFile: "20240101120000_create.sql", downLine: 8,
			down: []stmt{{8, "DROP TABLE a"}},
		},
		{
			name: "flyway BEGIN ATOMIC", dir: "testdata/flyway/basic", format: Flyway,
			file: "R__a_functions.sql", upLine: 1,
			up: []stmt{{3, "CREATE OR REPLACE FUNCTION f() RETURNS int\nLANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\nEND"}},
		},
		{
			name: "flyway undo", dir: "testdata/flyway/basic", format: Flyway,
			file: "V1__init.sql", upLine: 1, up: []stmt{{1, "CREATE TABLE a (id int)"}},
			downFile: "U1__init.sql", downLine: 1, down: []stmt{{1, "DROP TABLE a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := readDir(t, tt.dir)
			s, err := Load(tt.dir, tt.format, files)
			if err != nil {
				t.Fatal(err)
			}
			var m *Migration
			for i := range s.Migrations {
				if s.Migrations[i].Up.File == tt.dir+"/"+tt.file {
					m = &s.Migrations[i]
				}
			}
			if m == nil {
				t.Fatalf("no migration from %s", tt.file)
			}
			data := map[string]string{}
			for _, f := range files {
				data[f.Path] = string(f.Data)
			}
			checkScript(t, "up", m.Up, tt.dir+"/"+tt.file, tt.upLine, tt.up, data)
			if tt.downFile == "" {
				if m.Down != nil {
					t.Errorf("down = %+v, want none", m.Down)
				}
				return
			}
			if m.Down == nil {
				t.Fatal("no down")
			}
			checkScript(t, "down", m.Down, tt.dir+"/"+tt.downFile, tt.downLine, tt.down, data)
		})
	}
}

func checkScript(t *testing.T, dir string, s *Script, file string, line int, want []stmt, data map[string]string) {
	t.Helper()
	if s.File != file || s.Line != line {
		t.Errorf("%s at %s:%d, want %s:%d", dir, s.File, s.Line, file, line)
	}
	text := data[s.File]
	if text[s.Offset:s.Offset+len(s.SQL)] != s.SQL {
		t.Errorf("%s: Offset %d does not point at SQL", dir, s.Offset)
	}
	var got []stmt
	for _, st := range s.Statements {
		got = append(got, stmt{st.Line, st.SQL})
		if text[st.Offset:st.Offset+len(st.SQL)] != st.SQL {
			t.Errorf("%s: statement at line %d: Offset %d does not point at its SQL", dir, st.Line, st.Offset)
		}
		if l := strings.Count(text[:st.Offset], "\n") + 1; l != st.Line {
			t.Errorf("%s: statement Offset %d is on line %d, Line says %d", dir, st.Offset, l, st.Line)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s statements:\n%+v\nwant:\n%+v", dir, got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		dir    string
		format Format
		file   string // base name
		line   int
		msg    string
	}{
		{"testdata/golang-migrate/err-duplicate", GolangMigrate, "1_b.up.sql", 1, "duplicate version 1"},
		{"testdata/golang-migrate/err-down-only", GolangMigrate, "2_b.down.sql", 1, "no up migration"},
		{"testdata/golang-migrate/err-version", GolangMigrate, "init.up.sql", 1, "version does not parse"},
		{"testdata/golang-migrate/err-split", GolangMigrate, "1_a.up.sql", 3, "unterminated quoted string"},
		{"testdata/goose/err-no-up", Goose, "001_a.sql", 1, `no "-- +goose Up"`},
		{"testdata/goose/err-down-first", Goose, "001_a.sql", 1, "Down before"},
		{"testdata/goose/err-begin-no-end", Goose, "001_a.sql", 5, "line 3 has no StatementEnd"},
		{"testdata/goose/err-begin-eof", Goose, "001_a.sql", 4, "StatementBegin has no StatementEnd"},
		{"testdata/goose/err-end-no-begin", Goose, "001_a.sql", 3, "StatementEnd without StatementBegin"},
		{"testdata/goose/err-duplicate", Goose, "1_b.sql", 1, "duplicate version 1"},
		{"testdata/goose/err-version", Goose, "init.sql", 1, "version does not parse"},
		{"testdata/goose/err-split", Goose, "001_a.sql", 6, "cannot split"},
		{"testdata/flyway/err-undo-orphan", Flyway, "U2__b.sql", 1, "no versioned migration V2"},
		{"testdata/flyway/err-version", Flyway, "V1.a__x.sql", 1, "does not parse"},
		{"testdata/flyway/err-duplicate", Flyway, "V1__a.sql", 1, "duplicate version 1"},
		{"testdata/dbmate/err-no-up", Dbmate, "20240101120000_a.sql", 1, `no "-- migrate:up"`},
		{"testdata/dbmate/err-down-first", Dbmate, "20240101120000_a.sql", 1, "down before"},
		{"testdata/dbmate/err-transaction", Dbmate, "20240101120000_a.sql", 1, "transaction:maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := Load(tt.dir, tt.format, readDir(t, tt.dir))
			checkInputError(t, err, tt.dir+"/"+tt.file, tt.line, tt.msg)
		})
	}
	if _, err := Load("x", "liquibase", nil); err == nil {
		t.Error("Load with an unknown format: no error")
	}
}

func checkInputError(t *testing.T, err error, file string, line int, msg string) {
	t.Helper()
	var ie *finding.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want a *finding.InputError", err)
	}
	if ie.File != file || ie.Line != line || !strings.Contains(ie.Msg, msg) {
		t.Errorf("err = %v, want %s:%d: ...%s...", err, file, line, msg)
	}
}

func TestLoadEmptyDir(t *testing.T) {
	s, err := Load("db/migrations", Goose, []File{{Path: "db/migrations/README.md", Data: []byte("x")}})
	if err != nil || len(s.Migrations) != 0 {
		t.Fatalf("Load = %+v, %v; want an empty set", s, err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b   string
		flyway bool
		want   int
	}{
		{"9", "10", false, -1},
		{"010", "9", false, 1},
		{"001", "1", false, 0},
		{"99999999999999999999", "100000000000000000000", false, -1},
		{"1.9", "1.10", true, -1},
		{"1", "1.0", true, 0},
		{"1.0.1", "1", true, 1},
		{"2", "1.999", true, 1},
	}
	for _, tt := range tests {
		cmp := cmpDigits
		if tt.flyway {
			cmp = cmpDotted
		}
		if got := cmp(tt.a, tt.b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		m    Migration
		want string
	}{
		{Migration{Version: "0001"}, "1"},
		{Migration{Version: "1.10.0"}, "1.10"},
		{Migration{Name: "views", Repeatable: true}, "R__views"},
	}
	for _, tt := range tests {
		if got := tt.m.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.m, got, tt.want)
		}
	}
}
