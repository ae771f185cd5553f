// Package configdiff compares two versions of a config file without a
// schema: both sides are flattened to leaf paths and the paths are
// compared, so a change that would stop new code from reading an old
// config (a key removed, its type changed, keys regrouped under a new
// parent, a key renamed) can be named with a line on the head side.
package configdiff

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/yamlerr"
)

// maxAliasNodes is the most nodes that alias and merge-key expansion may
// add to one document. Flattening expands every alias, so without a cap a
// few lines of nested aliases (the "billion laughs") would take minutes
// and gigabytes.
const maxAliasNodes = 100_000

// maxDepth is the deepest path Flatten accepts. Every leaf carries its
// whole path, so depth costs quadratically (yaml.v3 allows 10,000 levels:
// seconds per file); real configs stay under a dozen.
const maxDepth = 200

// Leaf is one scalar (or empty map or list) at a path, with the line it is
// on. Empty containers are leaves so that `x: {}` becoming `x: 1` is seen.
type Leaf struct {
	// Path is one part per key; list elements are "[0]", "[1]", … A map
	// key spelled "[0]" cannot be told apart from a list index.
	Path []string
	// Value is the scalar as written ("null" for every spelling of null,
	// "{}" and "[]" for empty containers). It is compared as text, so
	// 0x10 and 16 differ.
	Value string
	// Kind is "string", "int", "float", "bool", "null", "map" or "list".
	// Timestamps, binary and custom tags count as "string": readers see
	// them as text unless they ask for more.
	Kind string
	// Line is where the value is used: for content reached through an
	// alias or a merge key, the line of the outermost alias or `<<`, not
	// of the anchor, so annotations land in the mapping the reader sees.
	Line int
	// KeyLines[i] is the line of the key (or list item) Path[i], so a
	// removal can be reported at the nearest parent that survives.
	KeyLines []int
}

// Flatten reads a YAML, JSON or TOML file (see ParseNode) and returns its
// leaves in document order. Only the first document of a multi-document
// YAML stream is read: config files hold one, and a second one is more
// often a template than a config. Anchors, aliases and merge keys are
// resolved; explicit keys override merged ones, earlier merges override
// later ones, and a duplicate key keeps its last value (as JSON and most
// YAML loaders do). Malformed input, an alias cycle or an expansion
// beyond maxAliasNodes is a *finding.InputError.
func Flatten(file string, data []byte) ([]Leaf, error) {
	root, err := ParseNode(file, data)
	if err != nil {
		return nil, err
	}
	return FlattenNode(file, root)
}

// FlattenNode is Flatten for a tree already parsed (by ParseNode, or a
// yaml.v3 document node); file names the file in errors.
func FlattenNode(file string, root *yaml.Node) ([]Leaf, error) {
	if root != nil && root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil
		}
		root = root.Content[0]
	}
	if root == nil || (root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null") {
		return nil, nil // a null document, like an empty file, sets nothing
	}
	f := &flattener{file: file, budget: maxAliasNodes, active: map[*yaml.Node]bool{}}
	if err := f.walk(root, nil, nil, 0); err != nil {
		return nil, err
	}
	return f.leaves, nil
}

type flattener struct {
	file   string
	leaves []Leaf
	budget int                 // nodes alias expansion may still visit
	active map[*yaml.Node]bool // alias targets being expanded, to find cycles
}

// entry is one key of a mapping after merge keys are applied. at is the
// line to report for it when it came in through an alias or merge.
type entry struct {
	key, val *yaml.Node
	name     string
	at       int
}

// spend charges one node of alias expansion; at is nonzero inside one.
func (f *flattener) spend(at int) error {
	if at == 0 {
		return nil
	}
	if f.budget--; f.budget < 0 {
		return &finding.InputError{File: f.file, Line: at,
			Msg: fmt.Sprintf("YAML aliases expand to more than %d nodes", maxAliasNodes)}
	}
	return nil
}

// enter follows alias n, failing on a cycle; leave must be called after.
func (f *flattener) enter(n *yaml.Node, at int) (*yaml.Node, int, error) {
	if n.Alias == nil {
		return nil, 0, &finding.InputError{File: f.file, Line: n.Line, Msg: "unknown anchor '" + n.Value + "' referenced"}
	}
	if f.active[n.Alias] {
		return nil, 0, &finding.InputError{File: f.file, Line: n.Line,
			Msg: fmt.Sprintf("alias *%s refers to a node that contains it", n.Value)}
	}
	f.active[n.Alias] = true
	if at == 0 {
		at = n.Line
	}
	return n.Alias, at, nil
}

// walk emits the leaves under n. at is 0 outside alias expansion, else
// the line of the outermost alias or merge key.
func (f *flattener) walk(n *yaml.Node, p []string, lines []int, at int) error {
	if err := f.spend(at); err != nil {
		return err
	}
	if len(p) > maxDepth {
		return &finding.InputError{File: f.file, Line: max(at, n.Line, 1),
			Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)}
	}
	line := n.Line
	if at != 0 {
		line = at
	}
	switch n.Kind {
	case yaml.AliasNode:
		t, at, err := f.enter(n, at)
		if err != nil {
			return err
		}
		defer delete(f.active, t)
		return f.walk(t, p, lines, at)
	case yaml.MappingNode:
		es, err := f.entries(n, at)
		if err != nil {
			return err
		}
		if len(es) == 0 {
			f.leaf(p, lines, "{}", "map", line)
		}
		for _, e := range es {
			kl := e.key.Line
			if e.at != 0 {
				kl = e.at
			}
			if err := f.walk(e.val, append(slices.Clip(p), e.name), append(slices.Clip(lines), kl), e.at); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			f.leaf(p, lines, "[]", "list", line)
		}
		for i, c := range n.Content {
			il := c.Line
			if at != 0 {
				il = at
			}
			if err := f.walk(c, append(slices.Clip(p), "["+strconv.Itoa(i)+"]"), append(slices.Clip(lines), il), at); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		kind, val := scalarKind(n), n.Value
		if kind == "null" {
			val = "null"
		}
		f.leaf(p, lines, val, kind, line)
	default:
		return &finding.InputError{File: f.file, Line: n.Line, Msg: "unexpected YAML node"}
	}
	return nil
}

func (f *flattener) leaf(p []string, lines []int, val, kind string, line int) {
	f.leaves = append(f.leaves, Leaf{Path: slices.Clone(p), Value: val, Kind: kind, Line: max(line, 1), KeyLines: slices.Clone(lines)})
}

func scalarKind(n *yaml.Node) string {
	switch n.ShortTag() {
	case "!!int":
		return "int"
	case "!!float":
		return "float"
	case "!!bool":
		return "bool"
	case "!!null":
		return "null"
	}
	return "string"
}

// entries is the mapping n with merge keys applied, in document order (a
// merge's keys sit where its `<<` is).
func (f *flattener) entries(n *yaml.Node, at int) ([]entry, error) {
	explicit := map[string]int{} // key → index in n.Content of its last occurrence
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMerge(n.Content[i]) {
			explicit[keyName(n.Content[i])] = i
		}
	}
	var out []entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isMerge(k) {
			name := keyName(k)
			if explicit[name] == i {
				out = append(out, entry{key: k, val: v, name: name, at: at})
				seen[name] = true
			}
			continue
		}
		mat := at
		if mat == 0 {
			mat = k.Line
		}
		merged, err := f.merge(v, mat)
		if err != nil {
			return nil, err
		}
		for _, e := range merged {
			if _, ok := explicit[e.name]; ok || seen[e.name] {
				continue
			}
			seen[e.name] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// merge is the entries a `<<` value brings in: a mapping, an alias to
// one, or a list of those, earlier ones winning.
func (f *flattener) merge(v *yaml.Node, at int) ([]entry, error) {
	if err := f.spend(at); err != nil {
		return nil, err
	}
	switch v.Kind {
	case yaml.AliasNode:
		t, _, err := f.enter(v, at)
		if err != nil {
			return nil, err
		}
		defer delete(f.active, t)
		return f.merge(t, at)
	case yaml.MappingNode:
		es, err := f.entries(v, at)
		for range es {
			if err := f.spend(at); err != nil {
				return nil, err
			}
		}
		return es, err
	case yaml.SequenceNode:
		var out []entry
		seen := map[string]bool{}
		for _, c := range v.Content {
			if c.Kind == yaml.SequenceNode {
				return nil, &finding.InputError{File: f.file, Line: c.Line, Msg: "merge key << takes a mapping or a list of mappings"}
			}
			es, err := f.merge(c, at)
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				if !seen[e.name] {
					seen[e.name] = true
					out = append(out, e)
				}
			}
		}
		return out, nil
	}
	return nil, &finding.InputError{File: f.file, Line: v.Line, Msg: "merge key << takes a mapping or a list of mappings"}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// keyName is a key as a path part. Complex keys (maps, lists) are rendered
// without following aliases, so a key cannot be made to expand.
func keyName(k *yaml.Node) string {
	switch k.Kind {
	case yaml.ScalarNode:
		return k.Value
	case yaml.AliasNode:
		if k.Alias != nil && k.Alias.Kind == yaml.ScalarNode {
			return k.Alias.Value
		}
		return "*" + k.Value
	}
	var b strings.Builder
	var render func(n *yaml.Node)
	render = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.ScalarNode:
			b.WriteString(strconv.Quote(n.Value))
		case yaml.AliasNode:
			b.WriteString("*" + n.Value)
		default:
			open, sep, close := "[", ", ", "]"
			if n.Kind == yaml.MappingNode {
				open, close = "{", "}"
			}
			b.WriteString(open)
			for i, c := range n.Content {
				if i > 0 {
					if n.Kind == yaml.MappingNode && i%2 == 1 {
						b.WriteString(": ")
					} else {
						b.WriteString(sep)
					}
				}
				render(c)
			}
			b.WriteString(close)
		}
	}
	render(k)
	return b.String()
}

// yamlError names the file and line of a yaml.v3 error.
func yamlError(file string, data []byte, err error) error {
	return yamlerr.InputError(file, data, err)
}
