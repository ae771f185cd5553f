package migrate

import (
	"errors"
	"fmt"
	"github.com/breakwater-ci/breakwater/internal/textpos"
	"strings"
	"sync"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
)

// SplitError is SQL that could not be cut into statements. Line is
// 1-based within the SQL that was split.
type SplitError struct {
	Line int
	Msg  string
}

func (e *SplitError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Split cuts sql into statements. Each statement's SQL runs from its first
// token (leading blank lines and comments are left out, so Line, Offset and
// LineAt all agree on where it starts) to its last non-space character,
// without the terminating semicolon. Line and Offset are relative to sql:
// Line 1 is its first line, Offset 0 its first byte. Statements that are
// only comments or semicolons are dropped.
//
// The grammar-based splitter of libpg_query runs first because it is the
// only one that keeps a `BEGIN ATOMIC ... END` body whole. SQL the grammar
// rejects (a newer server's syntax, a typo the rehearsal will report
// anyway) falls back to the lexer-based splitter, which still honours
// quotes, dollar quotes and comments.
func Split(sql string) ([]Statement, error) {
	if i := strings.IndexByte(sql, 0); i >= 0 {
		// libpg_query takes a C string and would silently stop at the NUL;
		// Postgres rejects NUL in a query anyway.
		return nil, &SplitError{Line: lineOf(sql, i), Msg: "NUL byte in SQL"}
	}
	if strings.HasPrefix(sql, "\ufeff") {
		// Editors on Windows write a byte order mark that the lexer would
		// glue to the first keyword. Blanking it keeps every offset.
		sql = "   " + sql[len("\ufeff"):]
	}
	pgMu.Lock()
	pieces, err := pg_query.SplitWithParser(sql, false)
	fallback := err != nil
	if fallback {
		pieces, err = pg_query.SplitWithScanner(sql, false)
	}
	var protected map[int]bool
	if fallback && err == nil {
		protected = atomicSemicolons(sql)
	}
	pgMu.Unlock()
	if err != nil {
		return nil, scanError(sql, err)
	}
	type piece struct{ at, end int }
	var located []piece
	pos := 0
	for _, p := range pieces {
		// libpg_query returns substrings of sql in order but not their
		// offsets. Only semicolons, blanks and comments lie between two of
		// them, so the next occurrence from the end of the previous one is
		// the right one.
		at := strings.Index(sql[pos:], p)
		if at < 0 {
			return nil, &SplitError{Line: lineOf(sql, pos), Msg: "statement splitter lost its place"}
		}
		at += pos
		if bad := firstToken(sql, pos, at); bad < at {
			return nil, &SplitError{Line: lineOf(sql, bad), Msg: notSplittable}
		}
		pos = at + len(p)
		if n := len(located); n > 0 && protected[located[n-1].end] {
			located[n-1].end = pos
		} else {
			located = append(located, piece{at, pos})
		}
	}
	// The lexer-based splitter drops what it cannot place (text after an
	// unbalanced ')' for one); refusing it beats a migration that silently
	// loses statements.
	if bad := firstToken(sql, pos, len(sql)); bad < len(sql) {
		return nil, &SplitError{Line: lineOf(sql, bad), Msg: notSplittable}
	}
	lines := textpos.New(sql)
	var out []Statement
	for _, p := range located {
		start := firstToken(sql, p.at, p.end)
		if start == p.end {
			continue
		}
		stop := start + len(strings.TrimRight(sql[start:p.end], " \t\r\n\f\v"))
		out = append(out, Statement{SQL: sql[start:stop], Line: lines.Line(start), Offset: start})
	}
	return out, nil
}

const notSplittable = "cannot split SQL here (unbalanced parenthesis or text that is not a statement)"

// pgMu serialises calls into libpg_query: each call redirects the
// process's stderr with dup2 and puts it back, and two calls interleaving
// can leave stderr pointing at a closed pipe.
var pgMu sync.Mutex

// atomicSemicolons finds the semicolons inside `BEGIN ATOMIC ... END`
// bodies, which the lexer-based splitter would cut at. Only the fallback
// path needs it: the grammar-based splitter knows these bodies. CASE ...
// END may nest inside a body, so ENDs are counted against CASEs.
func atomicSemicolons(sql string) map[int]bool {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil
	}
	var toks []*pg_query.ScanToken
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT {
			toks = append(toks, t)
		}
	}
	protected := map[int]bool{}
	inAtomic, cases := false, 0
	for i, t := range toks {
		switch {
		case !inAtomic:
			if t.Token == pg_query.Token_BEGIN_P && i+1 < len(toks) && toks[i+1].Token == pg_query.Token_ATOMIC {
				inAtomic, cases = true, 0
			}
		case t.Token == pg_query.Token_CASE:
			cases++
		case t.Token == pg_query.Token_END_P:
			if cases > 0 {
				cases--
			} else {
				inAtomic = false
			}
		case t.Token == pg_query.Token_ASCII_59:
			protected[int(t.Start)] = true
		}
	}
	return protected
}

func scanError(sql string, err error) error {
	var pe *parser.Error
	line := 1
	msg := err.Error()
	if errors.As(err, &pe) && pe.Cursorpos > 0 {
		line = lineOf(sql, byteAt(sql, pe.Cursorpos))
	}
	return &SplitError{Line: line, Msg: "cannot split SQL: " + msg}
}

// firstToken returns the offset of the first byte in s[from:to] that is not
// blank, a semicolon or inside a comment, or to when there is none.
// Comments nest like Postgres's: /* /* */ */ is one comment.
func firstToken(s string, from, to int) int {
	i := from
	for i < to {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';':
			i++
		case c == '-' && i+1 < to && s[i+1] == '-':
			nl := strings.IndexByte(s[i:to], '\n')
			if nl < 0 {
				return to
			}
			i += nl + 1
		case c == '/' && i+1 < to && s[i+1] == '*':
			depth := 0
			for i < to {
				if s[i] == '/' && i+1 < to && s[i+1] == '*' {
					depth++
					i += 2
				} else if s[i] == '*' && i+1 < to && s[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			if depth > 0 {
				return to
			}
		default:
			return i
		}
	}
	return to
}

// lineOf is the 1-based line of byte offset off in s, for one-off lookups.
func lineOf(s string, off int) int {
	if off > len(s) {
		off = len(s)
	}
	return strings.Count(s[:off], "\n") + 1
}

// byteAt turns a 1-based character position, as Postgres reports error
// positions, into a byte offset in s (clamped to s).
func byteAt(s string, pos int) int {
	if pos <= 1 {
		return 0
	}
	n := 1
	for i := range s {
		if n == pos {
			return i
		}
		n++
	}
	return len(s)
}

// LineAt maps a 1-based character position within s.SQL (a Postgres error
// position for this statement) to a line in the file.
func (s Statement) LineAt(pos int) int {
	return s.Line + strings.Count(s.SQL[:byteAt(s.SQL, pos)], "\n")
}

// LineAt maps a 1-based character position within s.SQL (a Postgres error
// position when the whole direction was sent at once) to a line in the file.
func (s *Script) LineAt(pos int) int {
	return s.Line + strings.Count(s.SQL[:byteAt(s.SQL, pos)], "\n")
}
