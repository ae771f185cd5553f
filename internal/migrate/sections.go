package migrate

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/breakwater-ci/breakwater/internal/textpos"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// forLines calls fn for each line of data with its 1-based number, the
// offset of its first byte, the offset of the next line, and its text
// without the newline. fn returns false to stop.
func forLines(data []byte, fn func(n, start, next int, line string) bool) {
	for n, off := 1, 0; off < len(data); n++ {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end < 0 {
			end = len(data)
		} else {
			end += off
			next = end + 1
		}
		if !fn(n, off, next, string(data[off:end])) {
			return
		}
		off = next
	}
}

// gooseAnnotation reads a "-- +goose ..." line into its lower-cased,
// space-normalised command ("up", "statementbegin", "no transaction").
// goose itself is strict about case; accepting any case costs nothing and
// spares a confusing "no Up annotation" for "-- +goose UP".
func gooseAnnotation(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "--") {
		return "", false
	}
	t = strings.TrimSpace(t[2:])
	if len(t) < len("+goose") || !strings.EqualFold(t[:len("+goose")], "+goose") {
		return "", false
	}
	return strings.ToLower(strings.Join(strings.Fields(t[len("+goose"):]), " ")), true
}

// lineAfter is the first line of a section whose marker is line n, the
// next line starting at offset next: n+1, but n when the marker ends the
// file without a newline, as no line follows it for a finding to point at.
func lineAfter(data []byte, n, next int) int {
	if next == len(data) && !bytes.HasSuffix(data, []byte("\n")) {
		return n
	}
	return n + 1
}

// span is a byte range of a file that becomes one piece of a script:
// either text to split, or a goose StatementBegin/End block kept whole.
type span struct {
	start, end int
	whole      bool
}

// section is one direction of a marked file before it becomes a Script.
type section struct {
	line  int // first line after the marker
	start int // offset after the marker line
	end   int
	spans []span
}

func parseGoose(f File) (up, down *Script, err error) {
	var cur, upSec, downSec *section
	noTx := false
	blockLine, blockStart := 0, 0
	spanStart := 0
	closeSection := func(at int) {
		if cur != nil {
			cur.spans = append(cur.spans, span{start: spanStart, end: at})
			cur.end = at
		}
	}
	forLines(f.Data, func(n, start, next int, line string) bool {
		cmd, ok := gooseAnnotation(line)
		if !ok {
			return true
		}
		fail := func(format string, a ...any) bool {
			err = &finding.InputError{File: f.Path, Line: n, Msg: fmt.Sprintf(format, a...)}
			return false
		}
		switch cmd {
		case "up", "down":
			if blockLine > 0 {
				return fail("-- +goose StatementBegin on line %d has no StatementEnd before -- +goose %s", blockLine, cmd)
			}
			if cmd == "up" && upSec != nil {
				return fail("second -- +goose Up (the first is on line %d)", upSec.line-1)
			}
			if cmd == "down" && downSec != nil {
				return fail("second -- +goose Down (the first is on line %d)", downSec.line-1)
			}
			if cmd == "down" && upSec == nil {
				return fail("-- +goose Down before -- +goose Up")
			}
			closeSection(start)
			cur = &section{line: lineAfter(f.Data, n, next), start: next}
			spanStart = next
			if cmd == "up" {
				upSec = cur
			} else {
				downSec = cur
			}
		case "statementbegin":
			if cur == nil {
				return fail("-- +goose StatementBegin before -- +goose Up")
			}
			if blockLine > 0 {
				return fail("-- +goose StatementBegin inside the block begun on line %d", blockLine)
			}
			cur.spans = append(cur.spans, span{start: spanStart, end: start})
			blockLine, blockStart = n, next
		case "statementend":
			if blockLine == 0 {
				return fail("-- +goose StatementEnd without StatementBegin")
			}
			cur.spans = append(cur.spans, span{start: blockStart, end: start, whole: true})
			blockLine, spanStart = 0, next
		case "no transaction":
			noTx = true
		}
		// ENVSUB ON/OFF and annotations newer than this parser change
		// nothing about statements or lines.
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	if blockLine > 0 {
		return nil, nil, &finding.InputError{File: f.Path, Line: blockLine, Msg: "-- +goose StatementBegin has no StatementEnd"}
	}
	if upSec == nil {
		return nil, nil, &finding.InputError{File: f.Path, Line: 1, Msg: `goose migration has no "-- +goose Up" annotation`}
	}
	closeSection(len(f.Data))
	if up, err = sectionScript(f, upSec, !noTx); err != nil {
		return nil, nil, err
	}
	if downSec != nil {
		if down, err = sectionScript(f, downSec, !noTx); err != nil {
			return nil, nil, err
		}
	}
	return up, down, nil
}

func parseDbmate(f File) (up, down *Script, err error) {
	var upSec, downSec *section
	upTx, downTx := true, true
	forLines(f.Data, func(n, start, next int, line string) bool {
		sm := reDbmate.FindStringSubmatch(strings.TrimRight(line, " \t\r"))
		if sm == nil {
			return true
		}
		fail := func(format string, a ...any) bool {
			err = &finding.InputError{File: f.Path, Line: n, Msg: fmt.Sprintf(format, a...)}
			return false
		}
		tx := true
		for _, opt := range strings.Fields(sm[2]) {
			if k, v, ok := strings.Cut(opt, ":"); ok && k == "transaction" {
				switch v {
				case "false":
					tx = false
				case "true":
				default:
					return fail("transaction:%s: want transaction:true or transaction:false", v)
				}
			}
		}
		sec := &section{line: lineAfter(f.Data, n, next), start: next}
		switch {
		case sm[1] == "up" && upSec != nil:
			return fail("second -- migrate:up (the first is on line %d)", upSec.line-1)
		case sm[1] == "down" && downSec != nil:
			return fail("second -- migrate:down (the first is on line %d)", downSec.line-1)
		case sm[1] == "down" && upSec == nil:
			return fail("-- migrate:down before -- migrate:up")
		case sm[1] == "up":
			upSec, upTx = sec, tx
		default:
			upSec.end = start
			downSec, downTx = sec, tx
		}
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	if upSec == nil {
		return nil, nil, &finding.InputError{File: f.Path, Line: 1, Msg: `dbmate migration has no "-- migrate:up" marker`}
	}
	if downSec == nil {
		upSec.end = len(f.Data)
	} else {
		downSec.end = len(f.Data)
	}
	for _, s := range []*section{upSec, downSec} {
		if s != nil {
			s.spans = []span{{start: s.start, end: s.end}}
		}
	}
	if up, err = sectionScript(f, upSec, upTx); err != nil {
		return nil, nil, err
	}
	if downSec != nil {
		if down, err = sectionScript(f, downSec, downTx); err != nil {
			return nil, nil, err
		}
	}
	return up, down, nil
}

func wholeFile(f File, inTx bool) (*Script, error) {
	return sectionScript(f, &section{line: 1, start: 0, end: len(f.Data), spans: []span{{start: 0, end: len(f.Data)}}}, inTx)
}

func sectionScript(f File, sec *section, inTx bool) (*Script, error) {
	text := string(f.Data)
	lines := textpos.New(text)
	s := &Script{File: f.Path, Line: sec.line, Offset: sec.start, SQL: text[sec.start:sec.end], InTransaction: inTx}
	for _, sp := range sec.spans {
		if sp.whole {
			start := firstToken(text, sp.start, sp.end)
			if start == sp.end {
				continue
			}
			stop := start + len(strings.TrimRight(text[start:sp.end], " \t\r\n\f\v"))
			s.Statements = append(s.Statements, Statement{SQL: text[start:stop], Line: lines.Line(start), Offset: start})
			continue
		}
		stmts, err := Split(text[sp.start:sp.end])
		if err != nil {
			var se *SplitError
			if errors.As(err, &se) {
				return nil, &finding.InputError{File: f.Path, Line: lines.Line(sp.start) + se.Line - 1, Msg: se.Msg}
			}
			return nil, &finding.InputError{File: f.Path, Line: lines.Line(sp.start), Msg: err.Error()}
		}
		for _, st := range stmts {
			st.Offset += sp.start
			st.Line = lines.Line(st.Offset)
			s.Statements = append(s.Statements, st)
		}
	}
	return s, nil
}
