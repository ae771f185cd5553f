package migrate

import (
	"errors"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	type want struct {
		sql  string
		line int
	}
	tests := []struct {
		name string
		sql  string
		want []want
	}{
		{
			name: "lines of first tokens, not of comments",
			sql:  "-- header\n\nCREATE TABLE a (id int);\n/* one */ /* two */\n  INSERT INTO a\n  VALUES (1);\n",
			want: []want{{"CREATE TABLE a (id int)", 3}, {"INSERT INTO a\n  VALUES (1)", 5}},
		},
		{
			name: "dollar quoting",
			sql:  "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;\nDO $body$ BEGIN PERFORM 1; END $body$;",
			want: []want{{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql", 1}, {"DO $body$ BEGIN PERFORM 1; END $body$", 2}},
		},
		{
			name: "nested block comment with semicolon",
			sql:  "/* outer /* inner; */ still; */ SELECT 1;\nSELECT 2",
			want: []want{{"SELECT 1", 1}, {"SELECT 2", 2}},
		},
		{
			name: "line comment with semicolon",
			sql:  "SELECT 1 -- not the end;\n + 1;\nSELECT 2;",
			want: []want{{"SELECT 1 -- not the end;\n + 1", 1}, {"SELECT 2", 3}},
		},
		{
			name: "string literals with semicolons",
			sql:  "INSERT INTO t VALUES ('a;b', E'c\\';d');\nSELECT ';';",
			want: []want{{"INSERT INTO t VALUES ('a;b', E'c\\';d')", 1}, {"SELECT ';'", 2}},
		},
		{
			name: "BEGIN ATOMIC body",
			sql:  "CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND;\nSELECT 3;",
			want: []want{{"CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 2 END;\nEND", 1}, {"SELECT 3", 6}},
		},
		{
			name: "empty statements dropped",
			sql:  ";;\n-- only a comment\n;\nSELECT 1;;\n/* trailing */\n",
			want: []want{{"SELECT 1", 4}},
		},
		{
			name: "grammar-unknown SQL falls back to the lexer",
			sql:  "CREATE TABLE a (id int);\nFROBNICATE THE TABLE a;\nSELECT 'x;y';",
			want: []want{{"CREATE TABLE a (id int)", 1}, {"FROBNICATE THE TABLE a", 2}, {"SELECT 'x;y'", 3}},
		},
		{
			name: "multibyte text",
			sql:  "SELECT 'é;ü';\nSELECT '日本';",
			want: []want{{"SELECT 'é;ü'", 1}, {"SELECT '日本'", 2}},
		},
		{
			name: "BEGIN ATOMIC body on the lexer fallback",
			sql:  "FROBNICATE TABLE a;\nCREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN /* c */ ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND;\nSELECT 3;",
			want: []want{{"FROBNICATE TABLE a", 1}, {"CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN /* c */ ATOMIC\n  SELECT CASE WHEN true THEN 1 END;\n  SELECT 2;\nEND", 2}, {"SELECT 3", 7}},
		},
		{
			name: "byte order mark",
			sql:  "\ufeffCREATE TABLE a (id int);\nSELECT 1;",
			want: []want{{"CREATE TABLE a (id int)", 1}, {"SELECT 1", 2}},
		},
		{name: "empty", sql: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.sql)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d statements %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].SQL != w.sql || got[i].Line != w.line {
					t.Errorf("statement %d = %q line %d, want %q line %d", i, got[i].SQL, got[i].Line, w.sql, w.line)
				}
				if tt.sql[got[i].Offset:got[i].Offset+len(got[i].SQL)] != got[i].SQL {
					t.Errorf("statement %d: offset %d does not point at its SQL", i, got[i].Offset)
				}
			}
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		line int
	}{
		{"unterminated string", "SELECT 1;\nSELECT 'oops;\nSELECT 2;", 2},
		{"unterminated dollar quote", "SELECT 1;\n\nDO $$ BEGIN", 3},
		{"unterminated comment", "SELECT 1;\n/* never closed", 2},
		{"unbalanced parenthesis", "SELECT 1;\nSELECT 2);\nSELECT 3;", 2},
		{"not a statement", "SELECT 1;\n42;", 2},
		{"NUL byte", "SELECT 1;\nSELECT '\x00';", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Split(tt.sql)
			var se *SplitError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SplitError", err)
			}
			if se.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", se.Line, tt.line, err)
			}
		})
	}
}

func TestLineAt(t *testing.T) {
	sql := "-- lead\nCREATE TABLE t (\n  a int,\n  é text,\n  b nosuchtype\n);"
	stmts, err := Split(sql)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("Split = %v, %v", stmts, err)
	}
	s := stmts[0]
	s.Line += 10 // as if the statement sat in a file from line 12
	tests := []struct {
		pos, line int
	}{
		{0, 12},
		{1, 12},
		{len([]rune("CREATE TABLE t (\n")), 12},
		{len([]rune("CREATE TABLE t (\n")) + 1, 13},
		// After the é, characters and bytes differ; Postgres counts characters.
		{len([]rune("CREATE TABLE t (\n  a int,\n  é text,\n  b ")) + 1, 15},
		{10000, 16},
	}
	for _, tt := range tests {
		if got := s.LineAt(tt.pos); got != tt.line {
			t.Errorf("LineAt(%d) = %d, want %d", tt.pos, got, tt.line)
		}
	}
	if p := strings.Index(s.SQL, "nosuchtype"); s.LineAt(len([]rune(s.SQL[:p]))+1) != 15 {
		t.Errorf("LineAt of nosuchtype = %d, want 15", s.LineAt(len([]rune(s.SQL[:p]))+1))
	}
}

func TestScriptLineAt(t *testing.T) {
	dir := "testdata/goose/basic"
	s, err := Load(dir, Goose, readDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	up := s.Migrations[0].Up // 00001_create.sql, SQL from line 2
	pos := len([]rune(up.SQL[:strings.Index(up.SQL, "RETURN NEW")])) + 1
	if got := up.LineAt(pos); got != 6 {
		t.Errorf("Script.LineAt(RETURN NEW) = %d, want 6", got)
	}
	st := up.Statements[0]
	pos = len([]rune(st.SQL[:strings.Index(st.SQL, "RETURN NEW")])) + 1
	if got := st.LineAt(pos); got != 6 {
		t.Errorf("Statement.LineAt(RETURN NEW) = %d, want 6", got)
	}
}
