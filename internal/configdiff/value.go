package configdiff

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Value turns a node tree from ParseNode (any format) into the JSON data
// model a JSON Schema validator reads (github.com/santhosh-tekuri/jsonschema/v6):
// map[string]any, []any, string, bool, nil and json.Number. A nil root is
// nil; a document node is read as its first document.
//
// It reads the tree as Flatten does, so a schema and the differ see the
// same document: aliases and merge keys are resolved (explicit keys beat
// merged ones, earlier merges beat later ones, a duplicate key keeps its
// last value) under the same alias budget and depth limit, and a key that
// is not a string is named as Flatten names it. An alias cycle, a bomb or
// a bad merge is a *finding.InputError whose File is empty: the tree does
// not know its file, so the caller sets it.
//
// Numbers keep their exact text where JSON can spell it (big integers
// too); other spellings are converted (YAML 0x10 is 16, 1_000 is 1000,
// .5 is 0.5). JSON has no infinity or NaN, so .inf and .nan stay the
// strings they are written as: a schema asking for a number then rejects
// them as not a number, which is what a JSON reader would do. A scalar
// tagged !!int or !!float that is not a number (`!!int abc`) is its text.
func Value(root *yaml.Node) (any, error) {
	if root != nil && root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root == nil {
		return nil, nil
	}
	f := &flattener{budget: maxAliasNodes, active: map[*yaml.Node]bool{}}
	return f.value(root, 0, 0)
}

// value mirrors walk: at is 0 outside alias expansion, else the line of
// the outermost alias or merge key.
func (f *flattener) value(n *yaml.Node, depth, at int) (any, error) {
	if err := f.spend(at); err != nil {
		return nil, err
	}
	if depth > maxDepth {
		return nil, &finding.InputError{File: f.file, Line: max(at, n.Line, 1),
			Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		t, at, err := f.enter(n, at)
		if err != nil {
			return nil, err
		}
		defer delete(f.active, t)
		return f.value(t, depth, at)
	case yaml.MappingNode:
		es, err := f.entries(n, at)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(es))
		for _, e := range es {
			v, err := f.value(e.val, depth+1, e.at)
			if err != nil {
				return nil, err
			}
			m[e.name] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := f.value(c, depth+1, at)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return scalarValue(n), nil
	}
	return nil, &finding.InputError{File: f.file, Line: max(n.Line, 1), Msg: "unexpected YAML node"}
}

// jsonInt and jsonNumber are JSON's number syntax, so that text already
// in it is kept as written (a 30-digit integer stays exact).
var (
	jsonInt    = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
)

func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		if jsonInt.MatchString(n.Value) {
			return json.Number(n.Value)
		}
		// yaml.v3 decides what 0x10, 0o17, 0b11, +5 and 1_000 are.
		var i int64
		if err := n.Decode(&i); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		var u uint64
		if err := n.Decode(&u); err == nil {
			return json.Number(strconv.FormatUint(u, 10))
		}
	case "!!float":
		if jsonNumber.MatchString(n.Value) {
			return json.Number(n.Value)
		}
		s := strings.ReplaceAll(strings.TrimPrefix(n.Value, "+"), "_", "")
		if v, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	return n.Value
}
