package configdiff

// TOML is read with github.com/pelletier/go-toml/v2 because it is the one
// TOML library whose parser exposes where things are: its unstable
// package gives an AST with the byte range of every key and scalar, so
// the leaves of a TOML file carry exact lines like YAML and JSON ones.
// BurntSushi/toml, the other maintained TOML 1.0 parser, keeps key
// positions private (its MetaData has keys but no lines). go-toml is also
// used to validate the document (toml.Unmarshal): table redefinition,
// duplicate keys and out-of-range numbers or dates are its rules, not a
// second implementation of them here. It has no dependencies of its own.

import (
	"errors"
	"fmt"
	"github.com/breakwater-ci/breakwater/internal/textpos"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// parseTOML reads TOML into a tree of mappings: `[a.b]` and dotted keys
// become nested mappings, `[[a]]` a sequence of mappings. Strings of every
// kind are !!str; integers are !!int in decimal; inf and nan are spelled
// as YAML spells them (.inf, -.inf, .nan) so every format reads them
// alike; dates and times are !!str with the text as written, as YAML
// timestamps count as strings for the flattener.
func parseTOML(file string, data []byte) (*yaml.Node, error) {
	var v map[string]any
	if err := toml.Unmarshal(data, &v); err != nil {
		e := &finding.InputError{File: file, Line: 1, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			if row, _ := de.Position(); row > 0 {
				e.Line = row
			}
		}
		return nil, e
	}
	b := &tomlBuilder{file: file, data: data, lines: textpos.New(data), tables: map[*yaml.Node]*tomlTable{}}
	root := b.mapping(1, 0)
	cur := root
	var p unstable.Parser
	p.Reset(data)
	seen := false
	for p.NextExpression() {
		e := p.Expression()
		var err error
		switch e.Kind {
		case unstable.KeyValue:
			err = b.keyValue(cur, e)
		case unstable.Table:
			cur, err = b.header(root, e, false)
		case unstable.ArrayTable:
			cur, err = b.header(root, e, true)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		seen = true
	}
	if err := p.Error(); err != nil {
		return nil, b.parserError(err)
	}
	if !seen {
		return nil, nil // only comments and blank lines, like an empty file
	}
	return root, nil
}

type tomlBuilder struct {
	file   string
	data   []byte
	lines  textpos.Lines
	tables map[*yaml.Node]*tomlTable
}

// tomlTable indexes a mapping's keys, so that a table with many keys
// filled in from many places is not searched linearly each time.
type tomlTable struct {
	keys  map[string]*yaml.Node
	depth int
}

func (b *tomlBuilder) mapping(line, depth int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: line}
	b.tables[n] = &tomlTable{keys: map[string]*yaml.Node{}, depth: depth}
	return n
}

func (b *tomlBuilder) line(r unstable.Range) int { return b.lines.Line(int(r.Offset)) }

func (b *tomlBuilder) deep(line, depth int) error {
	if depth > maxDepth {
		return &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	return nil
}

func (b *tomlBuilder) errorf(line int, format string, args ...any) error {
	return &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// add sets key k (its node, at line) of mapping m to v.
func (b *tomlBuilder) add(m *yaml.Node, k *unstable.Node, line int, v *yaml.Node) {
	name := string(k.Data)
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: name, Line: line}, v)
	b.tables[m].keys[name] = v
}

// descend is the table under key k of m, made if missing. Under a table
// header, an array of tables means its last element, as TOML says.
func (b *tomlBuilder) descend(m *yaml.Node, k *unstable.Node, header bool) (*yaml.Node, error) {
	line := b.line(k.Raw)
	t := b.tables[m]
	if err := b.deep(line, t.depth+1); err != nil {
		return nil, err
	}
	v := t.keys[string(k.Data)]
	if v == nil {
		v = b.mapping(line, t.depth+1)
		b.add(m, k, line, v)
		return v, nil
	}
	if header && v.Kind == yaml.SequenceNode && len(v.Content) > 0 {
		v = v.Content[len(v.Content)-1]
	}
	if b.tables[v] == nil {
		// toml.Unmarshal has accepted the document, so this is a case
		// the two disagree on; refuse rather than guess.
		return nil, b.errorf(line, "key %q is already defined as a value", string(k.Data))
	}
	return v, nil
}

// header handles `[a.b]` and `[[a.b]]`: the mapping later keys go into.
func (b *tomlBuilder) header(root *yaml.Node, e *unstable.Node, array bool) (*yaml.Node, error) {
	var keys []*unstable.Node
	for it := e.Key(); it.Next(); {
		keys = append(keys, it.Node())
	}
	if len(keys) == 0 {
		return nil, b.errorf(1, "table without a name")
	}
	m := root
	last := len(keys) - 1
	if !array {
		last++
	}
	for _, k := range keys[:last] {
		var err error
		if m, err = b.descend(m, k, true); err != nil {
			return nil, err
		}
	}
	if !array {
		return m, nil
	}
	k := keys[last]
	line := b.line(k.Raw)
	t := b.tables[m]
	if err := b.deep(line, t.depth+2); err != nil {
		return nil, err
	}
	seq := t.keys[string(k.Data)]
	if seq == nil {
		seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		b.add(m, k, line, seq)
	} else if seq.Kind != yaml.SequenceNode {
		return nil, b.errorf(line, "key %q is already defined and is not an array of tables", string(k.Data))
	}
	el := b.mapping(line, t.depth+2)
	seq.Content = append(seq.Content, el)
	return el, nil
}

// keyValue handles `a.b.c = v` in mapping m.
func (b *tomlBuilder) keyValue(m *yaml.Node, e *unstable.Node) error {
	var keys []*unstable.Node
	for it := e.Key(); it.Next(); {
		keys = append(keys, it.Node())
	}
	if len(keys) == 0 {
		return b.errorf(b.line(e.Raw), "key-value without a key")
	}
	for _, k := range keys[:len(keys)-1] {
		var err error
		if m, err = b.descend(m, k, false); err != nil {
			return err
		}
	}
	k := keys[len(keys)-1]
	line := b.line(k.Raw)
	if b.tables[m].keys[string(k.Data)] != nil {
		return b.errorf(line, "key %q is already defined", string(k.Data))
	}
	// The value starts after the key (TOML keeps `key = value` on one
	// line); only scalars and inline tables know their own offset.
	v, _, err := b.value(e.Value(), int(k.Raw.Offset+k.Raw.Length), b.tables[m].depth+1)
	if err != nil {
		return err
	}
	b.add(m, k, line, v)
	return nil
}

// skip passes what may stand between two values: whitespace, newlines,
// comments, separators.
func (b *tomlBuilder) skip(off int) int {
	for off < len(b.data) {
		switch b.data[off] {
		case ' ', '\t', '\r', '\n', ',', '=':
			off++
		case '#':
			for off < len(b.data) && b.data[off] != '\n' {
				off++
			}
		default:
			return off
		}
	}
	return off
}

// value builds the node of v, which starts at or after byte from, and
// returns the offset just past it. Arrays have no range in the AST, so
// where one starts and ends is found by walking its elements; that is why
// the end is returned.
func (b *tomlBuilder) value(v *unstable.Node, from, depth int) (*yaml.Node, int, error) {
	start := int(v.Raw.Offset)
	if v.Kind == unstable.Array {
		start = b.skip(from)
	}
	line := b.lines.Line(start)
	if err := b.deep(line, depth); err != nil {
		return nil, 0, err
	}
	end := start + int(v.Raw.Length)
	scalar := func(tag, val string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val, Line: line}
	}
	switch v.Kind {
	case unstable.String:
		return scalar("!!str", string(v.Data)), end, nil
	case unstable.Bool:
		return scalar("!!bool", string(v.Data)), end, nil
	case unstable.Integer:
		s, err := tomlInt(string(v.Data))
		if err != nil {
			return nil, 0, b.errorf(line, "%v", err)
		}
		return scalar("!!int", s), end, nil
	case unstable.Float:
		return scalar("!!float", tomlFloat(string(v.Data))), end, nil
	case unstable.LocalDate, unstable.LocalTime, unstable.LocalDateTime, unstable.DateTime:
		return scalar("!!str", string(v.Data)), end, nil
	case unstable.Array:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		cur := start + 1
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind == unstable.Comment {
				continue
			}
			cn, ce, err := b.value(c, cur, depth+1)
			if err != nil {
				return nil, 0, err
			}
			n.Content = append(n.Content, cn)
			cur = ce
		}
		return n, b.skip(cur) + 1, nil // past the ']'
	case unstable.InlineTable:
		n := b.mapping(line, depth)
		cur := start + 1
		for it := v.Children(); it.Next(); {
			c := it.Node()
			if c.Kind != unstable.KeyValue {
				continue
			}
			if err := b.keyValue(n, c); err != nil {
				return nil, 0, err
			}
			cur = int(c.Raw.Offset + c.Raw.Length)
		}
		return n, b.skip(cur) + 1, nil // past the '}'
	}
	return nil, 0, b.errorf(line, "unexpected TOML %s", v.Kind)
}

// tomlInt is a TOML integer (decimal, 0x, 0o or 0b, with underscores) in
// decimal, so that 0x10 and 16 read the same in every format.
func tomlInt(raw string) (string, error) {
	s := strings.ReplaceAll(raw, "_", "")
	base := 10
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x':
			base = 16
		case 'o':
			base = 8
		case 'b':
			base = 2
		}
		if base != 10 {
			s = s[2:]
		}
	}
	i, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return "", fmt.Errorf("integer %s: %w", raw, errors.Unwrap(err))
	}
	return strconv.FormatInt(i, 10), nil
}

// tomlFloat is a TOML float without underscores, inf and nan spelled the
// YAML way.
func tomlFloat(raw string) string {
	s := strings.ReplaceAll(raw, "_", "")
	switch strings.TrimLeft(s, "+-") {
	case "inf":
		if s[0] == '-' {
			return "-.inf"
		}
		return ".inf"
	case "nan":
		return ".nan"
	}
	return s
}

// parserError places an error of the unstable parser. toml.Unmarshal has
// already accepted the document, so this should not happen; the line is
// found from the highlighted bytes, which are part of the input.
func (b *tomlBuilder) parserError(err error) error {
	e := &finding.InputError{File: b.file, Line: 1, Msg: err.Error()}
	var pe *unstable.ParserError
	if errors.As(err, &pe) && cap(pe.Highlight) > 0 && cap(pe.Highlight) <= cap(b.data) {
		if off := cap(b.data) - cap(pe.Highlight); off <= len(b.data) {
			e.Line = b.lines.Line(off)
		}
	}
	return e
}
