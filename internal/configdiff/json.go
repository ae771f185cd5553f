package configdiff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// parseJSON reads JSON with encoding/json, keeping the line of every key
// and value. Duplicate keys are all kept in Content, as yaml.v3 would keep
// them; readers take the last.
func parseJSON(file string, data []byte) (*yaml.Node, error) {
	lines := newLineIndex(data)
	if len(bytes.TrimLeft(data, " \t\r\n")) == 0 {
		return nil, nil
	}
	// The scanner behind Unmarshal reports every syntax error (trailing
	// data included) at the offset just past the offending byte; the
	// Decoder's token errors sometimes point at it and sometimes before
	// it, across whitespace, so their lines could be one off. Checking
	// first leaves the Decoder only valid input.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, jsonError(file, data, lines, err)
	}
	b := &jsonBuilder{file: file, data: data, lines: lines, dec: json.NewDecoder(bytes.NewReader(data))}
	b.dec.UseNumber()
	tok, line, err := b.next()
	if err != nil {
		return nil, err
	}
	root, err := b.value(tok, line, 0)
	if err != nil {
		return nil, err
	}
	if _, _, err := b.next(); !errors.Is(err, io.EOF) {
		return nil, &finding.InputError{File: file, Line: b.lines.line(b.skip(int(b.dec.InputOffset()))),
			Msg: "invalid character after top-level value"}
	}
	return root, nil
}

type jsonBuilder struct {
	file  string
	data  []byte
	lines lineIndex
	dec   *json.Decoder
}

// next reads a token and the line it starts on. InputOffset is the end of
// the previous token, and the Decoder reads the ',' or ':' that follows a
// token only when asked for the next one, so the start is found by
// skipping those and whitespace.
func (b *jsonBuilder) next() (json.Token, int, error) {
	start := b.skip(int(b.dec.InputOffset()))
	line := b.lines.line(start)
	tok, err := b.dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, line, jsonError(b.file, b.data, b.lines, err)
	}
	return tok, line, err
}

func (b *jsonBuilder) skip(off int) int {
	for off < len(b.data) && strings.IndexByte(" \t\r\n,:", b.data[off]) >= 0 {
		off++
	}
	return off
}

// value builds the node of tok, which starts on line and is depth levels
// below the root.
func (b *jsonBuilder) value(tok json.Token, line, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: line}
		if t == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for b.dec.More() {
			if n.Kind == yaml.MappingNode {
				k, kl, err := b.next()
				if err != nil {
					return nil, err
				}
				ks, _ := k.(string) // the input is valid, so a key is a string
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ks, Line: kl})
			}
			c, cl, err := b.next()
			if err != nil {
				return nil, err
			}
			v, err := b.value(c, cl, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, _, err := b.next(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Line: line}, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v, Line: line}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
	}
	return nil, &finding.InputError{File: b.file, Line: line, Msg: fmt.Sprintf("unexpected JSON token %v", tok)}
}

// jsonError names the line of an encoding/json error. A SyntaxError's
// offset is just past the offending byte, so the line is that byte's; at
// the end of the input it is the last line with content, not the empty
// line after the final newline.
func jsonError(file string, data []byte, lines lineIndex, err error) error {
	e := &finding.InputError{File: file, Line: 1, Msg: err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := min(int(se.Offset), len(data)) - 1
		if off >= len(data)-1 {
			off = len(bytes.TrimRight(data, " \t\r\n")) - 1
		}
		e.Line = lines.line(max(off, 0))
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		e.Line = lines.line(max(len(bytes.TrimRight(data, " \t\r\n"))-1, 0))
	}
	return e
}
