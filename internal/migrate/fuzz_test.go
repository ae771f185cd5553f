package migrate

import (
	"strings"
	"testing"
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
