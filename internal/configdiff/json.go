package configdiff

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// parseJSON reads JSON, keeping the line of every key and value. Duplicate
// keys are all kept in Content, as yaml.v3 would keep them; readers take
// the last.
//
// It is a scanner of its own rather than encoding/json's Decoder: tokens
// come boxed in interfaces and do not say where they start, so finding
// lines took a validating pass, a line index and a skip per token, which
// on a 2 MB schema was most of the time and memory of a diff. It accepts
// exactly what encoding/json accepts, decodes strings as it does (invalid
// UTF-8 and lone surrogates become U+FFFD) and words its syntax errors as
// encoding/json does, so that messages did not change with it.
func parseJSON(file string, data []byte) (*yaml.Node, error) {
	p := &jsonParser{file: file, data: data, line: 1}
	p.skipSpace()
	if p.pos == len(data) {
		return nil, nil
	}
	// One copy of the input, so that strings without escapes, and
	// numbers, are substrings of it rather than an allocation each.
	p.src = string(data)
	root := p.value(0)
	if p.err == nil {
		p.skipSpace()
		if p.pos < len(data) {
			p.fail(p.pos, "after top-level value")
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	if p.tooDeep != nil {
		return nil, p.tooDeep
	}
	return root, nil
}

// maxNestingDepth is encoding/json's limit, past which even input too deep
// for us gets its error rather than ours, as it did when encoding/json
// checked the input first.
const maxNestingDepth = 10000

// Node and Content slabs: batches start small so a tiny file stays cheap,
// and stop growing where the unused tail of the last batch stops mattering.
const (
	minSlab     = 16
	maxNodeSlab = 4096
	maxKidSlab  = 8192
)

type jsonParser struct {
	file string
	data []byte
	src  string // data as a string
	pos  int    // offset of the next byte to read
	line int    // line of data[pos]

	// err is the first syntax error; reading stops there.
	err error
	// tooDeep is the first value nested deeper than maxDepth. Reading
	// goes on, building nothing, so that a syntax error later in the
	// file wins over it, as when the input was validated first.
	tooDeep error

	nodes []yaml.Node  // slab the nodes are cut from
	kids  []*yaml.Node // slab the Content slices are cut from
	open  []*yaml.Node // children of the containers being read
	buf   []byte       // a string being unescaped
}

// safe marks the bytes a string can hold as they are: printable ASCII but
// '"' and '\\'.
var safe = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (p *jsonParser) skipSpace() {
	d, i := p.data, p.pos
	for ; i < len(d); i++ {
		switch d[i] {
		case '\n':
			p.line++
		case ' ', '\t', '\r':
		default:
			p.pos = i
			return
		}
	}
	p.pos = i
}

// fail records a syntax error at the byte at off, in encoding/json's words.
func (p *jsonParser) fail(off int, context string) {
	p.setErr(off, "invalid character "+quoteChar(p.data[off])+" "+context)
}

// failEOF records the input ending early. encoding/json finishes the input
// by feeding its scanner a space, so where a space is not allowed (inside
// a number, an escape or a literal) the error is about that space.
func (p *jsonParser) failEOF(context string) {
	msg := "unexpected end of JSON input"
	if context != "" {
		msg = "invalid character ' ' " + context
	}
	p.setErr(len(p.data), msg)
}

// setErr names the line of the byte at off. An error at the last byte, or
// at the end, is on the last line with content rather than the empty line
// after the final newline.
func (p *jsonParser) setErr(off int, msg string) {
	if off >= len(p.data)-1 {
		off = len(bytes.TrimRight(p.data, " \t\r\n")) - 1
	}
	off = max(off, 0)
	p.err = &finding.InputError{File: p.file, Line: bytes.Count(p.data[:off], []byte{'\n'}) + 1, Msg: msg}
}

// quoteChar is encoding/json's rendering of an offending byte.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

func (p *jsonParser) node(kind yaml.Kind, tag, value string, line int) *yaml.Node {
	if p.tooDeep != nil {
		return nil
	}
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]yaml.Node, 0, min(max(2*cap(p.nodes), minSlab), maxNodeSlab))
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.Kind, n.Tag, n.Value, n.Line = kind, tag, value, line
	return n
}

// value reads the value at p.pos, which is depth levels below the root
// and not whitespace.
func (p *jsonParser) value(depth int) *yaml.Node {
	if depth > maxDepth && p.tooDeep == nil {
		p.tooDeep = &finding.InputError{File: p.file, Line: p.line, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	if p.pos >= len(p.data) {
		p.failEOF("")
		return nil
	}
	line := p.line
	switch c := p.data[p.pos]; c {
	case '{', '[':
		return p.container(c, depth)
	case '"':
		s, ok := p.str()
		if !ok {
			return nil
		}
		return p.node(yaml.ScalarNode, "!!str", s, line)
	case 't':
		return p.literal("true", "!!bool")
	case 'f':
		return p.literal("false", "!!bool")
	case 'n':
		return p.literal("null", "!!null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return p.number()
	}
	p.fail(p.pos, "looking for beginning of value")
	return nil
}

// container reads the object or array opened by open at p.pos.
func (p *jsonParser) container(open byte, depth int) *yaml.Node {
	if depth >= maxNestingDepth {
		p.fail(p.pos, "exceeded max depth")
		return nil
	}
	line := p.line
	kind, tag, end, after := yaml.SequenceNode, "!!seq", byte(']'), "after array element"
	if open == '{' {
		kind, tag, end, after = yaml.MappingNode, "!!map", '}', "after object key:value pair"
	}
	base := len(p.open)
	p.pos++
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == end {
		p.pos++
		return p.node(kind, tag, "", line)
	}
	for {
		if kind == yaml.MappingNode {
			if !p.key() {
				return nil
			}
		}
		v := p.value(depth + 1)
		if p.err != nil {
			return nil
		}
		p.open = append(p.open, v)
		p.skipSpace()
		if p.pos >= len(p.data) {
			p.failEOF("")
			return nil
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
			continue
		case end:
			p.pos++
		default:
			p.fail(p.pos, after)
			return nil
		}
		break
	}
	kids := p.open[base:]
	p.open = p.open[:base]
	n := p.node(kind, tag, "", line)
	if n != nil {
		n.Content = p.content(kids)
	}
	return n
}

// key reads an object key and its ':', leaving p.pos at the value.
func (p *jsonParser) key() bool {
	if p.pos >= len(p.data) {
		p.failEOF("")
		return false
	}
	if p.data[p.pos] != '"' {
		p.fail(p.pos, "looking for beginning of object key string")
		return false
	}
	line := p.line
	k, ok := p.str()
	if !ok {
		return false
	}
	p.open = append(p.open, p.node(yaml.ScalarNode, "!!str", k, line))
	p.skipSpace()
	if p.pos >= len(p.data) {
		p.failEOF("")
		return false
	}
	if p.data[p.pos] != ':' {
		p.fail(p.pos, "after object key")
		return false
	}
	p.pos++
	p.skipSpace()
	return true
}

// content copies kids into the Content slab. Its capacity is its length,
// so that appending to one node's Content cannot overwrite the next's.
func (p *jsonParser) content(kids []*yaml.Node) []*yaml.Node {
	k := len(kids)
	if k > maxKidSlab/4 {
		return append([]*yaml.Node(nil), kids...)
	}
	if cap(p.kids)-len(p.kids) < k {
		p.kids = make([]*yaml.Node, 0, min(max(2*cap(p.kids), minSlab, k), maxKidSlab))
	}
	i := len(p.kids)
	p.kids = append(p.kids, kids...)
	return p.kids[i : i+k : i+k]
}

// literal reads true, false or null at p.pos.
func (p *jsonParser) literal(word, tag string) *yaml.Node {
	for k := 1; k < len(word); k++ {
		if p.pos+k < len(p.data) && p.data[p.pos+k] == word[k] {
			continue
		}
		context := "in literal " + word + " (expecting '" + word[k:k+1] + "')"
		if p.pos+k >= len(p.data) {
			p.failEOF(context)
		} else {
			p.fail(p.pos+k, context)
		}
		return nil
	}
	n := p.node(yaml.ScalarNode, tag, word, p.line)
	p.pos += len(word)
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a number at p.pos, keeping its text.
func (p *jsonParser) number() *yaml.Node {
	d, start := p.data, p.pos
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i >= len(d):
		p.failEOF("in numeric literal")
		return nil
	case d[i] == '0':
		i++
	case isDigit(d[i]):
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		p.fail(i, "in numeric literal")
		return nil
	}
	tag := "!!int"
	if i < len(d) && d[i] == '.' {
		tag = "!!float"
		i++
		if i >= len(d) {
			p.failEOF("after decimal point in numeric literal")
			return nil
		}
		if !isDigit(d[i]) {
			p.fail(i, "after decimal point in numeric literal")
			return nil
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		tag = "!!float"
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) {
			p.failEOF("in exponent of numeric literal")
			return nil
		}
		if !isDigit(d[i]) {
			p.fail(i, "in exponent of numeric literal")
			return nil
		}
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	p.pos = i
	return p.node(yaml.ScalarNode, tag, p.src[start:i], p.line)
}

// str reads the string at p.pos. Most strings need no unescaping and are
// a substring of the input.
func (p *jsonParser) str() (string, bool) {
	d, start := p.data, p.pos+1
	i := start
	for i < len(d) {
		if safe[d[i]] {
			i++
			continue
		}
		if d[i] == '"' {
			p.pos = i + 1
			return p.src[start:i], true
		}
		if d[i] < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRune(d[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return p.unescape(start, i)
}

// unescape finishes the string that starts at start and is plain up to i,
// as encoding/json's unquote does.
func (p *jsonParser) unescape(start, i int) (string, bool) {
	d := p.data
	b := append(p.buf[:0], d[start:i]...)
	defer func() { p.buf = b }()
	for i < len(d) {
		switch c := d[i]; {
		case c == '"':
			p.pos = i + 1
			return string(b), true
		case c == '\\':
			i++
			if i >= len(d) {
				p.failEOF("in string escape code")
				return "", false
			}
			switch d[i] {
			case '"', '\\', '/':
				b = append(b, d[i])
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := p.hex4(i + 1)
				if !ok {
					return "", false
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A pair only if the next escape is the other half;
					// otherwise that escape is read on its own.
					if dec := utf16.DecodeRune(r, getu4(d[i+1:])); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				p.fail(i, "in string escape code")
				return "", false
			}
			i++
		case c < ' ':
			p.fail(i, "in string literal")
			return "", false
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			b = utf8.AppendRune(b, r)
			i += size
		}
	}
	p.failEOF("")
	return "", false
}

// hex4 reads the four hex digits of a \u escape at off.
func (p *jsonParser) hex4(off int) (rune, bool) {
	var r rune
	for k := off; k < off+4; k++ {
		if k >= len(p.data) {
			p.failEOF(`in \u hexadecimal character escape`)
			return 0, false
		}
		v := unhex(p.data[k])
		if v < 0 {
			p.fail(k, `in \u hexadecimal character escape`)
			return 0, false
		}
		r = r<<4 | v
	}
	return r, true
}

// getu4 is the \uXXXX escape at the start of s, or -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		v := unhex(c)
		if v < 0 {
			return -1
		}
		r = r<<4 | v
	}
	return r
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}
