package configdiff

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Loader reads a repository file on one side of the change. path is
// slash-separated, cleaned, relative to the repository root. A missing file
// returns an error that wraps fs.ErrNotExist.
type Loader func(path string) ([]byte, error)

// SchemaSource is a schema's root file on one side and the side's loader.
type SchemaSource struct {
	Path string
	Load Loader
}

// Schema change kinds, the suffixes of the rule IDs config/<kind>.
const (
	SchemaPropertyRemoved     = "schema-property-removed"
	SchemaRequiredAdded       = "schema-required-added"
	SchemaTypeNarrowed        = "schema-type-narrowed"
	SchemaEnumValueRemoved    = "schema-enum-value-removed"
	SchemaConstraintTightened = "schema-constraint-tightened"
	SchemaClosed              = "schema-closed"
	SchemaDefaultChanged      = "schema-default-changed"
)

// SchemaChange is one way the head schema rejects a config that the base
// schema accepted.
type SchemaChange struct {
	Kind string
	// Location is the instance location as a JSON pointer, "*" standing for
	// any array item or any additional property; "" is the root. For
	// property-removed and required-added it is the property's location.
	Location string
	Keyword  string // the keyword that changed
	Property string // property-removed and required-added: the property name
	// From and To render the old and new value ("" when absent). An enum
	// value removed has the value in From; a const has the old enum or const
	// in From and the new const in To.
	From, To string
	// File and Line are the head node holding the change; for a removal,
	// the object schema that lost the property.
	File string
	Line int
	// Closed (property-removed): the head object rejects unknown properties.
	Closed bool
	// HasDefault (required-added): the head property schema has a default.
	HasDefault bool
}

// Caps on the work one diff may do. A 2 MB schema expands about 150,000
// views and pairs; the cap stops allOf and anyOf combinations that
// multiply them.
const (
	schemaMaxDepth = 500
	schemaMaxWork  = 2_000_000
)

// DiffSchemas compares two versions of a schema (drafts 7 and 2020-12,
// chosen by "$schema", default 2020-12) and reports what makes the head
// reject a config the base accepted. Changes are sorted by File, Line,
// Kind, Location and Property, without duplicates.
//
// Decisions:
//   - A $ref is followed only inside the repository: relative to the
//     referring file, never above the root, never a URL. "$id" does not
//     change the base URI. "$schema" is never loaded.
//   - $defs/definitions are compared only where a $ref reaches them, and a
//     node pair is compared once, so a $ref cycle ends and a definition
//     used in ten places is reported once, at the first location.
//   - allOf (and, from 2019-09, $ref with siblings) is one conjunction:
//     properties and required merge, types intersect, the strictest bound
//     wins.
//   - anyOf/oneOf: the union of the branches' types and enum values is
//     folded into the location's types and enum, so a shrinking union is a
//     type-narrowed or enum-value-removed. When both sides have as many
//     groups with as many branches, branches are paired by index and their
//     insides (properties, bounds, ...) compared too; otherwise the
//     branches' insides are not compared, since there is no sound pairing
//     and a reordered or added branch would be noise.
//   - A property added in head is an extension, even where base allowed
//     any additional property. A property removed is reported once; the
//     object newly closing is its own schema-closed.
//   - Keywords of a type that neither side allows are not compared.
//   - Not walked: not, if/then/else, dependentSchemas, dependentRequired,
//     propertyNames, contains, $dynamicRef, format, content*. A removed
//     patternProperties pattern is not reported.
func DiffSchemas(base, head SchemaSource) ([]SchemaChange, error) {
	d := &schDiffer{ids: map[*yaml.Node]int{}}
	d.base = d.newSide(base.Load)
	d.head = d.newSide(head.Load)
	b, err := d.base.root(base.Path)
	if err != nil {
		return nil, err
	}
	h, err := d.head.root(head.Path)
	if err != nil {
		return nil, err
	}
	bv, err := d.base.view([]schMember{b}, 0)
	if err != nil {
		return nil, err
	}
	hv, err := d.head.view([]schMember{h}, 0)
	if err != nil {
		return nil, err
	}
	if err := d.compare(bv, hv, "", 0, false); err != nil {
		return nil, err
	}
	slices.SortFunc(d.out, func(x, y SchemaChange) int {
		return cmp.Or(cmp.Compare(x.File, y.File), cmp.Compare(x.Line, y.Line), cmp.Compare(x.Kind, y.Kind),
			cmp.Compare(x.Location, y.Location), cmp.Compare(x.Property, y.Property),
			cmp.Compare(x.Keyword, y.Keyword), cmp.Compare(x.From, y.From), cmp.Compare(x.To, y.To),
			schBoolCmp(x.Closed, y.Closed), schBoolCmp(x.HasDefault, y.HasDefault))
	})
	return slices.Compact(d.out), nil
}

func schBoolCmp(a, b bool) int {
	if a == b {
		return 0
	}
	if a {
		return 1
	}
	return -1
}

type schDoc struct {
	file    string
	root    *yaml.Node // nil for an empty file
	modern  bool       // 2019-09 and later: $ref keeps its siblings, prefixItems
	anchors map[string]*yaml.Node
}

// schMember is one schema node of a conjunction: a mapping or a boolean.
type schMember struct {
	n *yaml.Node
	d *schDoc
}

func (m schMember) line() int {
	if m.n == nil {
		return 1
	}
	return max(m.n.Line, 1)
}

// schView is the conjunction that applies at one instance location: its
// seeds with $ref and allOf expanded.
type schView struct {
	at    schMember   // the first seed, for a line when no keyword has one
	ms    []schMember // mappings only
	never *schMember  // a false member: nothing is accepted
	facts *schFacts
}

type schOne struct {
	n     *yaml.Node
	never bool
}

type schPair struct {
	b, h   *schView
	branch bool
}

type schHit struct {
	k, v *yaml.Node
	d    *schDoc
}

func (h schHit) line() int { return max(h.k.Line, 1) }

type schSide struct {
	d      *schDiffer
	load   Loader
	docs   map[string]*schDoc
	views  map[string]*schView     // by seeds
	views1 map[*yaml.Node]*schView // by the one seed
	canon  map[string]*schView     // by members
	canon1 map[schOne]*schView     // by the one member
}

type schDiffer struct {
	base, head *schSide
	ids        map[*yaml.Node]int
	seen       map[schPair]bool
	valKeys    map[*yaml.Node]string
	regexps    map[string]*regexp.Regexp
	work       int
	out        []SchemaChange
}

func (d *schDiffer) newSide(load Loader) *schSide {
	return &schSide{d: d, load: load, docs: map[string]*schDoc{}, views: map[string]*schView{},
		views1: map[*yaml.Node]*schView{}, canon: map[string]*schView{}, canon1: map[schOne]*schView{}}
}

func (d *schDiffer) id(n *yaml.Node) string {
	i, ok := d.ids[n]
	if !ok {
		i = len(d.ids) + 1
		d.ids[n] = i
	}
	return strconv.Itoa(i)
}

func (d *schDiffer) spend(m schMember) error {
	d.work++
	if d.work > schemaMaxWork {
		return &finding.InputError{File: m.d.file, Line: m.line(), Msg: "schema too complex to compare (more than 2,000,000 subschema pairs)"}
	}
	return nil
}

func (s *schSide) root(p string) (schMember, error) {
	p = path.Clean(p)
	doc, err := s.doc(p, true, func(msg string) error { return &finding.InputError{File: p, Msg: msg} })
	if err != nil {
		return schMember{}, err
	}
	return schMember{doc.root, doc}, nil
}

func (s *schSide) doc(p string, modern bool, fail func(string) error) (*schDoc, error) {
	if doc, ok := s.docs[p]; ok {
		return doc, nil
	}
	data, err := s.load(p)
	if err != nil {
		var ie *finding.InputError
		switch {
		case errors.As(err, &ie):
			return nil, err
		case errors.Is(err, fs.ErrNotExist):
			return nil, fail(p + " not found")
		}
		return nil, fail(err.Error())
	}
	root, err := ParseNode(p, data)
	if err != nil {
		var ie *finding.InputError
		if !errors.As(err, &ie) {
			err = &finding.InputError{File: p, Msg: err.Error()}
		}
		return nil, err
	}
	doc := &schDoc{file: p, root: schDeref(root), modern: modern}
	if sv := schGet(doc.root, "$schema"); sv != nil && sv.Kind == yaml.ScalarNode {
		doc.modern = !strings.Contains(sv.Value, "draft-0")
	}
	s.docs[p] = doc
	return doc, nil
}

// schDeref follows YAML aliases.
func schDeref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return schDeref(n.Content[0])
	}
	return n
}

// schGetKV is the key and value of a mapping entry.
func schGetKV(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i].Kind == yaml.ScalarNode {
			return n.Content[i], schDeref(n.Content[i+1])
		}
	}
	return nil, nil
}

func schGet(n *yaml.Node, key string) *yaml.Node {
	_, v := schGetKV(n, key)
	return v
}

// resolve follows a $ref from the document it is written in.
func (s *schSide) resolve(from *schDoc, ref *yaml.Node) (schMember, error) {
	fail := func(msg string) error { return &finding.InputError{File: from.file, Line: max(ref.Line, 1), Msg: msg} }
	if ref.Kind != yaml.ScalarNode {
		return schMember{}, fail("$ref is not a string")
	}
	raw := ref.Value
	u, err := url.Parse(raw)
	if err != nil {
		return schMember{}, fail(fmt.Sprintf("$ref %q is not a valid URI reference", raw))
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return schMember{}, fail(fmt.Sprintf("remote $ref %q is not followed: breakwater reads schemas only from the repository", raw))
	}
	doc := from
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			return schMember{}, fail(fmt.Sprintf("$ref %q is an absolute path: breakwater reads schemas only from the repository", raw))
		}
		p := path.Join(path.Dir(from.file), u.Path)
		if p == ".." || strings.HasPrefix(p, "../") {
			return schMember{}, fail(fmt.Sprintf("$ref %q leaves the repository", raw))
		}
		doc, err = s.doc(p, from.modern, func(msg string) error {
			return fail(fmt.Sprintf("$ref %q does not resolve: %s", raw, msg))
		})
		if err != nil {
			return schMember{}, err
		}
	}
	frag := u.Fragment
	n := doc.root
	switch {
	case frag == "":
	case strings.HasPrefix(frag, "/"):
		for _, tok := range strings.Split(frag[1:], "/") {
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			switch n = schDeref(n); {
			case n == nil:
			case n.Kind == yaml.MappingNode:
				n = schGet(n, tok)
			case n.Kind == yaml.SequenceNode:
				i, err := strconv.Atoi(tok)
				if err != nil || i < 0 || i >= len(n.Content) {
					n = nil
				} else {
					n = n.Content[i]
				}
			default:
				n = nil
			}
			if n == nil {
				return schMember{}, fail(fmt.Sprintf("$ref %q does not resolve: no %q in %s", raw, tok, doc.file))
			}
		}
	default:
		if n = doc.anchor(frag); n == nil {
			return schMember{}, fail(fmt.Sprintf("$ref %q does not resolve: no anchor %q in %s", raw, frag, doc.file))
		}
	}
	return schMember{schDeref(n), doc}, nil
}

// anchor finds a plain-name fragment: "$anchor" (2019-09 on) or a "$id" of
// "#name" (draft 7).
func (doc *schDoc) anchor(name string) *yaml.Node {
	if doc.anchors == nil {
		doc.anchors = map[string]*yaml.Node{}
		seen := map[*yaml.Node]bool{}
		stack := []*yaml.Node{doc.root}
		for len(stack) > 0 {
			n := schDeref(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			if n == nil || seen[n] {
				continue
			}
			seen[n] = true
			if n.Kind == yaml.MappingNode {
				if a := schGet(n, "$anchor"); a != nil && a.Kind == yaml.ScalarNode {
					doc.anchors[a.Value] = n
				}
				if a := schGet(n, "$id"); a != nil && a.Kind == yaml.ScalarNode && strings.HasPrefix(a.Value, "#") {
					doc.anchors[a.Value[1:]] = n
				}
			}
			stack = append(stack, n.Content...)
		}
	}
	return doc.anchors[name]
}

// view expands seeds into the conjunction that applies with them.
func (s *schSide) view(seeds []schMember, depth int) (*schView, error) {
	var sk string
	if len(seeds) == 1 {
		if v, ok := s.views1[seeds[0].n]; ok {
			return v, nil
		}
	} else {
		var b strings.Builder
		for _, m := range seeds {
			b.WriteString(s.d.id(m.n))
			b.WriteByte(',')
		}
		sk = b.String()
		if v, ok := s.views[sk]; ok {
			return v, nil
		}
	}
	v := &schView{}
	if len(seeds) > 0 {
		v.at = seeds[0]
	}
	// Views are mostly a member or two: a map only for big allOfs.
	var visited []*yaml.Node
	var visitedSet map[*yaml.Node]bool
	var add func(m schMember, depth int) error
	add = func(m schMember, depth int) error {
		m.n = schDeref(m.n)
		if m.n == nil || slices.Contains(visited, m.n) || visitedSet[m.n] {
			return nil
		}
		if len(visited) < 16 {
			visited = append(visited, m.n)
		} else {
			if visitedSet == nil {
				visitedSet = map[*yaml.Node]bool{}
			}
			visitedSet[m.n] = true
		}
		if depth > schemaMaxDepth {
			return &finding.InputError{File: m.d.file, Line: m.line(), Msg: "$ref or allOf chain deeper than 500"}
		}
		if err := s.d.spend(m); err != nil {
			return err
		}
		switch m.n.Kind {
		case yaml.ScalarNode:
			if m.n.ShortTag() == "!!bool" && strings.EqualFold(m.n.Value, "false") && v.never == nil {
				v.never = &m
			}
			return nil
		case yaml.MappingNode:
		default:
			return nil // not a schema; a validator reports it
		}
		if ref := schGet(m.n, "$ref"); ref != nil {
			t, err := s.resolve(m.d, ref)
			if err != nil {
				return err
			}
			if !m.d.modern {
				return add(t, depth+1) // draft 7 ignores $ref's siblings
			}
			if !schOnlyRef(m.n) {
				// A bare $ref adds nothing, and leaving it out lets
				// every use of a definition share one view, so a
				// change to it is reported once.
				v.ms = append(v.ms, m)
			}
			if err := add(t, depth+1); err != nil {
				return err
			}
		} else {
			v.ms = append(v.ms, m)
		}
		if all := schGet(m.n, "allOf"); all != nil && all.Kind == yaml.SequenceNode {
			for _, c := range all.Content {
				if err := add(schMember{c, m.d}, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, m := range seeds {
		if err := add(m, depth); err != nil {
			return nil, err
		}
	}
	// Seeds that expand to the same members share a view, so a pair is
	// compared once however it is reached. A view of no members keeps its
	// own seed for the line.
	if len(v.ms) > 0 {
		if len(v.ms) == 1 {
			k := schOne{v.ms[0].n, v.never != nil}
			if c, ok := s.canon1[k]; ok {
				v = c
			} else {
				s.canon1[k] = v
			}
		} else {
			var k strings.Builder
			if v.never != nil {
				k.WriteString("F")
			}
			ids := make([]int, len(v.ms))
			for i, m := range v.ms {
				s.d.id(m.n)
				ids[i] = s.d.ids[m.n]
			}
			slices.Sort(ids)
			for _, i := range ids {
				k.WriteString(strconv.Itoa(i))
				k.WriteByte(',')
			}
			if c, ok := s.canon[k.String()]; ok {
				v = c
			} else {
				s.canon[k.String()] = v
			}
		}
	}
	if len(seeds) == 1 {
		s.views1[seeds[0].n] = v
	} else {
		s.views[sk] = v
	}
	return v, nil
}

// schOnlyRef says whether a $ref's siblings are all annotations.
func schOnlyRef(n *yaml.Node) bool {
	for i := 0; i < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "$ref", "$comment", "title", "description", "examples", "$id", "$schema", "$anchor", "$defs", "definitions":
		default:
			return false
		}
	}
	return true
}

// all is every member's value of a keyword, in member order.
func (v *schView) all(kw string) []schHit {
	var out []schHit
	for _, m := range v.ms {
		if k, val := schGetKV(m.n, kw); k != nil {
			out = append(out, schHit{k, val, m.d})
		}
	}
	return out
}

func (v *schView) first(kw string) (schHit, bool) {
	for _, m := range v.ms {
		if k, val := schGetKV(m.n, kw); k != nil {
			return schHit{k, val, m.d}, true
		}
	}
	return schHit{}, false
}

// Type bits; "number" is both number bits, so number → integer narrows.
const (
	schNull = 1 << iota
	schBoolean
	schObject
	schArray
	schFraction // a number that is not an integer
	schInteger
	schString
	schAllTypes = 1<<iota - 1
)

var schTypeNames = []struct {
	name string
	bits int
}{
	{"string", schString}, {"number", schFraction | schInteger}, {"integer", schInteger},
	{"boolean", schBoolean}, {"object", schObject}, {"array", schArray}, {"null", schNull},
}

func schTypeBits(name string) int {
	for _, t := range schTypeNames {
		if t.name == name {
			return t.bits
		}
	}
	return 0
}

func schTypeMask(n *yaml.Node) int {
	switch n.Kind {
	case yaml.ScalarNode:
		return schTypeBits(n.Value)
	case yaml.SequenceNode:
		m := 0
		for _, c := range n.Content {
			if c = schDeref(c); c != nil && c.Kind == yaml.ScalarNode {
				m |= schTypeBits(c.Value)
			}
		}
		return m
	}
	return schAllTypes
}

func schRenderMask(m int) string {
	switch m {
	case schAllTypes:
		return ""
	case 0:
		return "[]"
	}
	var parts []string
	for _, t := range schTypeNames {
		if m&t.bits == t.bits {
			parts = append(parts, strconv.Quote(t.name))
			m &^= t.bits
		}
	}
	return strings.Join(parts, ", ")
}

// schValueType is the type bit of an instance value.
func schValueType(n *yaml.Node) int {
	n = schDeref(n)
	if n == nil {
		return schNull
	}
	switch n.Kind {
	case yaml.MappingNode:
		return schObject
	case yaml.SequenceNode:
		return schArray
	}
	switch n.ShortTag() {
	case "!!null":
		return schNull
	case "!!bool":
		return schBoolean
	case "!!int":
		return schInteger
	case "!!float":
		if f, ok := schNum(n); ok && f == math.Trunc(f) {
			return schInteger
		}
		return schFraction
	}
	return schString
}

// schEnum is a set of allowed values; nil means any value.
type schEnum struct {
	keys  []string
	vals  []*yaml.Node
	at    schHit
	kw    string // "enum" or "const"
	index map[string]bool
}

func (e *schEnum) has(k string) bool {
	if len(e.keys) < 16 {
		return slices.Contains(e.keys, k)
	}
	if e.index == nil {
		e.index = make(map[string]bool, len(e.keys))
		for _, k := range e.keys {
			e.index[k] = true
		}
	}
	return e.index[k]
}

func (e *schEnum) add(k string, v *yaml.Node) {
	e.keys = append(e.keys, k)
	e.vals = append(e.vals, v)
	if e.index != nil {
		e.index[k] = true
	}
}

func (d *schDiffer) enumOf(h schHit, kw string) *schEnum {
	e := &schEnum{at: h, kw: kw}
	vals := []*yaml.Node{h.v}
	if kw == "enum" {
		if h.v.Kind != yaml.SequenceNode {
			return nil
		}
		vals = h.v.Content
	}
	for _, v := range vals {
		if k := d.valKey(v); !e.has(k) {
			e.add(k, v)
		}
	}
	return e
}

func schIntersect(a, b *schEnum) *schEnum {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := &schEnum{at: a.at, kw: a.kw}
	if b.kw == "const" {
		out.at, out.kw = b.at, b.kw
	}
	for i, k := range a.keys {
		if b.has(k) {
			out.add(k, a.vals[i])
		}
	}
	return out
}

// schFacts are a view's allowed types and values, anyOf/oneOf included.
type schFacts struct {
	mask   int
	typeAt *schHit // where the types were narrowed, for the line
	enum   *schEnum
}

func (s *schSide) factsOf(v *schView, depth int) (*schFacts, error) {
	if v.facts != nil {
		return v.facts, nil // facts still being computed are a cycle: say "anything"
	}
	v.facts = &schFacts{mask: schAllTypes}
	if depth > schemaMaxDepth {
		return nil, &finding.InputError{File: v.at.d.file, Line: v.at.line(), Msg: "anyOf/oneOf nested deeper than 500"}
	}
	out := &schFacts{mask: schAllTypes}
	if v.never != nil {
		out.mask, out.enum = 0, &schEnum{}
		v.facts = out
		return out, nil
	}
	narrow := func(m int, h schHit) {
		if out.mask&^m != 0 && out.typeAt == nil {
			out.typeAt = &h
		}
		out.mask &= m
	}
	for _, h := range v.all("type") {
		narrow(schTypeMask(h.v), h)
	}
	for _, h := range v.all("enum") {
		out.enum = schIntersect(out.enum, s.d.enumOf(h, "enum"))
	}
	for _, h := range v.all("const") {
		out.enum = schIntersect(out.enum, s.d.enumOf(h, "const"))
	}
	for _, g := range v.groups() {
		mask, anyValue := 0, false
		var union *schEnum
		for _, br := range g.v.Content {
			bv, err := s.view([]schMember{{br, g.d}}, depth+1)
			if err != nil {
				return nil, err
			}
			bf, err := s.factsOf(bv, depth+1)
			if err != nil {
				return nil, err
			}
			mask |= bf.mask
			if bf.enum == nil {
				anyValue = true
				continue
			}
			if union == nil {
				union = &schEnum{at: g, kw: "enum"} // values, whatever keyword listed them
			}
			for i, k := range bf.enum.keys {
				if !union.has(k) {
					union.add(k, bf.enum.vals[i])
				}
			}
		}
		narrow(mask, g)
		if !anyValue {
			if union == nil {
				union = &schEnum{at: g, kw: "enum"}
			}
			out.enum = schIntersect(out.enum, union)
		}
	}
	v.facts = out
	return out, nil
}

// groups are the anyOf and oneOf arrays of a view.
func (v *schView) groups() []schHit {
	var out []schHit
	for _, m := range v.ms {
		for i := 0; i+1 < len(m.n.Content); i += 2 {
			k := m.n.Content[i]
			if k.Value != "anyOf" && k.Value != "oneOf" {
				continue
			}
			if val := schDeref(m.n.Content[i+1]); val != nil && val.Kind == yaml.SequenceNode {
				out = append(out, schHit{k, val, m.d})
			}
		}
	}
	return out
}

func (d *schDiffer) report(c SchemaChange, file string, line int) {
	c.File, c.Line = file, max(line, 1)
	d.out = append(d.out, c)
}

func schEscape(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// compare reports what head rejects that base accepted at loc. A branch
// compare (an anyOf/oneOf pair) leaves types and values to the union.
func (d *schDiffer) compare(b, h *schView, loc string, depth int, branch bool) error {
	key := schPair{b, h, branch}
	if d.seen == nil {
		d.seen = map[schPair]bool{}
	}
	if d.seen[key] {
		return nil
	}
	d.seen[key] = true
	if err := d.spend(h.at); err != nil {
		return err
	}
	if depth > schemaMaxDepth {
		return &finding.InputError{File: h.at.d.file, Line: h.at.line(), Msg: "schema nested deeper than 500 levels"}
	}
	if b.never != nil {
		return nil
	}
	bf, err := d.base.factsOf(b, depth)
	if err != nil {
		return err
	}
	hf, err := d.head.factsOf(h, depth)
	if err != nil {
		return err
	}
	bm := bf.mask
	if bf.enum != nil {
		m := 0
		for _, v := range bf.enum.vals {
			m |= schValueType(v)
		}
		bm &= m
	}
	if bm == 0 {
		return nil // base accepted nothing here
	}
	if h.never != nil {
		if !branch {
			d.report(SchemaChange{Kind: SchemaTypeNarrowed, Location: loc, Keyword: "type", From: schRenderMask(bf.mask), To: "false"}, h.never.d.file, h.never.line())
		}
		return nil
	}
	if !branch {
		if bm&^hf.mask != 0 {
			file, line := h.at.d.file, h.at.line()
			kw := "type"
			if hf.typeAt != nil {
				file, line, kw = hf.typeAt.d.file, hf.typeAt.line(), hf.typeAt.k.Value
			}
			d.report(SchemaChange{Kind: SchemaTypeNarrowed, Location: loc, Keyword: kw, From: schRenderMask(bf.mask), To: schRenderMask(hf.mask)}, file, line)
		}
		d.compareEnum(bf.enum, hf.enum, loc)
	}
	d.compareDefault(b, h, loc)
	both := bm & hf.mask
	if both&schObject != 0 {
		if err := d.compareObject(b, h, loc, depth); err != nil {
			return err
		}
	}
	if both&schArray != 0 {
		if err := d.compareArray(b, h, loc, depth); err != nil {
			return err
		}
	}
	if both&schString != 0 {
		d.lowerBound(b, h, loc, "minLength")
		d.upperBound(b, h, loc, "maxLength")
		d.comparePattern(b, h, loc)
	}
	if both&(schInteger|schFraction) != 0 {
		d.lowerBound(b, h, loc, "minimum")
		d.lowerBound(b, h, loc, "exclusiveMinimum")
		d.upperBound(b, h, loc, "maximum")
		d.upperBound(b, h, loc, "exclusiveMaximum")
		d.compareMultipleOf(b, h, loc)
	}
	bg, hg := b.groups(), h.groups()
	if len(bg) != len(hg) {
		return nil
	}
	for i := range bg {
		if len(bg[i].v.Content) != len(hg[i].v.Content) {
			return nil
		}
	}
	for i := range bg {
		for j := range bg[i].v.Content {
			bv, err := d.base.view([]schMember{{bg[i].v.Content[j], bg[i].d}}, depth+1)
			if err != nil {
				return err
			}
			hv, err := d.head.view([]schMember{{hg[i].v.Content[j], hg[i].d}}, depth+1)
			if err != nil {
				return err
			}
			if err := d.compare(bv, hv, loc, depth+1, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *schDiffer) compareEnum(b, h *schEnum, loc string) {
	if h == nil {
		return
	}
	at := func(c SchemaChange) { d.report(c, h.at.d.file, h.at.line()) }
	if h.kw == "const" && len(h.vals) == 1 {
		if b == nil || len(b.keys) != 1 || b.keys[0] != h.keys[0] {
			from := ""
			if b != nil {
				from = d.renderEnum(b)
			}
			at(SchemaChange{Kind: SchemaEnumValueRemoved, Location: loc, Keyword: "const", From: from, To: schRender(h.vals[0])})
		}
		return
	}
	if b == nil {
		at(SchemaChange{Kind: SchemaEnumValueRemoved, Location: loc, Keyword: h.kw, To: d.renderEnum(h)})
		return
	}
	for i, k := range b.keys {
		if !h.has(k) {
			at(SchemaChange{Kind: SchemaEnumValueRemoved, Location: loc, Keyword: h.kw, From: schRender(b.vals[i])})
		}
	}
}

func (d *schDiffer) renderEnum(e *schEnum) string {
	if e.kw == "const" && len(e.vals) == 1 {
		return schRender(e.vals[0])
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Content: e.vals}
	return schRender(seq)
}

func (d *schDiffer) compareDefault(b, h *schView, loc string) {
	bd, ok := b.first("default")
	if !ok {
		return
	}
	hd, ok := h.first("default")
	switch {
	case !ok:
		file, line := h.at.d.file, h.at.line()
		if len(h.ms) > 0 {
			file, line = h.ms[0].d.file, h.ms[0].line()
		}
		d.report(SchemaChange{Kind: SchemaDefaultChanged, Location: loc, Keyword: "default", From: schRender(bd.v)}, file, line)
	case d.valKey(bd.v) != d.valKey(hd.v):
		d.report(SchemaChange{Kind: SchemaDefaultChanged, Location: loc, Keyword: "default", From: schRender(bd.v), To: schRender(hd.v)}, hd.d.file, hd.line())
	}
}

// bound is the strictest numeric value of kw in a view.
func schBound(v *schView, kw string, lower bool) (float64, schHit, bool) {
	var best float64
	var at schHit
	found := false
	for _, h := range v.all(kw) {
		f, ok := schNum(h.v)
		if !ok {
			continue // draft 4's boolean exclusiveMinimum and typos
		}
		if !found || (lower && f > best) || (!lower && f < best) {
			best, at, found = f, h, true
		}
	}
	return best, at, found
}

func (d *schDiffer) lowerBound(b, h *schView, loc, kw string) { d.bound(b, h, loc, kw, true) }
func (d *schDiffer) upperBound(b, h *schView, loc, kw string) { d.bound(b, h, loc, kw, false) }

func (d *schDiffer) bound(b, h *schView, loc, kw string, lower bool) {
	hv, hat, ok := schBound(h, kw, lower)
	if !ok {
		return
	}
	bv, bat, bok := schBound(b, kw, lower)
	if bok && ((lower && hv <= bv) || (!lower && hv >= bv)) {
		return
	}
	from := ""
	if bok {
		from = schRender(bat.v)
	}
	d.report(SchemaChange{Kind: SchemaConstraintTightened, Location: loc, Keyword: kw, From: from, To: schRender(hat.v)}, hat.d.file, hat.line())
}

func (d *schDiffer) comparePattern(b, h *schView, loc string) {
	bp := b.all("pattern")
	for _, hp := range h.all("pattern") {
		if slices.ContainsFunc(bp, func(x schHit) bool { return x.v.Value == hp.v.Value }) {
			continue
		}
		from := ""
		if len(bp) > 0 {
			from = schRender(bp[0].v)
		}
		d.report(SchemaChange{Kind: SchemaConstraintTightened, Location: loc, Keyword: "pattern", From: from, To: schRender(hp.v)}, hp.d.file, hp.line())
	}
}

func (d *schDiffer) compareMultipleOf(b, h *schView, loc string) {
	bm := b.all("multipleOf")
	for _, hm := range h.all("multipleOf") {
		m, ok := schNum(hm.v)
		if !ok || m <= 0 {
			continue
		}
		// Every multiple of base's step is a multiple of m when the step is.
		if slices.ContainsFunc(bm, func(x schHit) bool {
			s, ok := schNum(x.v)
			if !ok {
				return false
			}
			q := s / m
			return q >= 1 && math.Abs(q-math.Round(q)) < 1e-9
		}) {
			continue
		}
		from := ""
		if len(bm) > 0 {
			from = schRender(bm[0].v)
		}
		d.report(SchemaChange{Kind: SchemaConstraintTightened, Location: loc, Keyword: "multipleOf", From: from, To: schRender(hm.v)}, hm.d.file, hm.line())
	}
}

func schTrue(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && strings.EqualFold(n.Value, "true")
}

func schFalse(n *yaml.Node) bool {
	return n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && strings.EqualFold(n.Value, "false")
}

// closer is the keyword that makes the object reject unknown properties.
func (v *schView) closer() (schHit, bool) {
	for _, kw := range []string{"additionalProperties", "unevaluatedProperties"} {
		for _, h := range v.all(kw) {
			if schFalse(h.v) {
				return h, true
			}
		}
	}
	return schHit{}, false
}

type schProps struct {
	names []string
	subs  [][]schMember // per name
	index map[string]int
	line  schMember // the first member's properties key, for its line
}

// find is a name's index; small objects are scanned, big ones indexed.
func (p *schProps) find(name string) int {
	if len(p.names) <= 8 {
		return slices.Index(p.names, name)
	}
	if p.index == nil {
		p.index = make(map[string]int, len(p.names))
		for i, n := range p.names {
			p.index[n] = i
		}
	}
	if i, ok := p.index[name]; ok {
		return i
	}
	return -1
}

func (p *schProps) get(name string) []schMember {
	if i := p.find(name); i >= 0 {
		return p.subs[i]
	}
	return nil
}

func (v *schView) props(kw string) *schProps {
	p := &schProps{}
	for _, m := range v.ms {
		pk, pm := schGetKV(m.n, kw)
		if pm == nil || pm.Kind != yaml.MappingNode {
			continue
		}
		if p.line.n == nil {
			// A removed property is shown at the keyword that listed it.
			p.line = schMember{pk, m.d}
		}
		for i := 0; i+1 < len(pm.Content); i += 2 {
			name, sub := pm.Content[i].Value, schMember{pm.Content[i+1], m.d}
			if j := p.find(name); j >= 0 {
				p.subs[j] = append(p.subs[j], sub)
				continue
			}
			p.names = append(p.names, name)
			p.subs = append(p.subs, []schMember{sub})
			if p.index != nil {
				p.index[name] = len(p.names) - 1
			}
		}
	}
	return p
}

// sub is the conjunction of a keyword's schema over the members.
func (v *schView) sub(kw string) []schMember {
	var out []schMember
	for _, h := range v.all(kw) {
		out = append(out, schMember{h.v, h.d})
	}
	return out
}

func (d *schDiffer) regexp(p string) *regexp.Regexp {
	if d.regexps == nil {
		d.regexps = map[string]*regexp.Regexp{}
	}
	re, ok := d.regexps[p]
	if !ok {
		re, _ = regexp.Compile(p) // ECMA-only syntax matches nothing here
		d.regexps[p] = re
	}
	return re
}

func (d *schDiffer) compareObject(b, h *schView, loc string, depth int) error {
	_, bClosed := b.closer()
	hc, hClosed := h.closer()
	if hClosed && !bClosed {
		from := ""
		if k, ok := b.first(hc.k.Value); ok {
			from = schRender(k.v)
		}
		d.report(SchemaChange{Kind: SchemaClosed, Location: loc, Keyword: hc.k.Value, From: from, To: "false"}, hc.d.file, hc.line())
	}
	bp, hp := b.props("properties"), h.props("properties")
	bpat, hpat := b.props("patternProperties"), h.props("patternProperties")
	for _, name := range bp.names {
		bv, err := d.base.view(bp.get(name), depth+1)
		if err != nil {
			return err
		}
		if bv.never != nil {
			continue // base forbade it already
		}
		sub := loc + "/" + schEscape(name)
		hs := hp.get(name)
		if len(hs) == 0 {
			for _, pat := range hpat.names {
				if re := d.regexp(pat); re != nil && re.MatchString(name) {
					hs = append(hs, hpat.get(pat)...)
				}
			}
		}
		if len(hs) == 0 {
			at := hp.line
			if at.n == nil {
				at = h.at
				if len(h.ms) > 0 {
					at = h.ms[0]
				}
			}
			d.report(SchemaChange{Kind: SchemaPropertyRemoved, Location: sub, Keyword: "properties", Property: name, Closed: hClosed}, at.d.file, at.line())
			continue
		}
		hv, err := d.head.view(hs, depth+1)
		if err != nil {
			return err
		}
		if err := d.compare(bv, hv, sub, depth+1, false); err != nil {
			return err
		}
	}
	for _, pat := range bpat.names {
		if hs := hpat.get(pat); len(hs) > 0 {
			if err := d.compareSubs(bpat.get(pat), hs, loc+"/*", depth); err != nil {
				return err
			}
		}
	}
	if !hClosed {
		for _, kw := range []string{"additionalProperties", "unevaluatedProperties"} {
			if hs := h.sub(kw); len(hs) > 0 {
				if err := d.compareSubs(b.sub(kw), hs, loc+"/*", depth); err != nil {
					return err
				}
			}
		}
	}
	breq := map[string]bool{}
	for _, r := range b.all("required") {
		if r.v.Kind == yaml.SequenceNode {
			for _, n := range r.v.Content {
				if n = schDeref(n); n != nil {
					breq[n.Value] = true
				}
			}
		}
	}
	for _, r := range h.all("required") {
		if r.v.Kind != yaml.SequenceNode {
			continue
		}
		for _, n := range r.v.Content {
			n = schDeref(n)
			if n == nil || breq[n.Value] {
				continue
			}
			breq[n.Value] = true // once per name
			hasDefault := false
			if hs := hp.get(n.Value); len(hs) > 0 {
				hv, err := d.head.view(hs, depth+1)
				if err != nil {
					return err
				}
				_, hasDefault = hv.first("default")
			}
			d.report(SchemaChange{Kind: SchemaRequiredAdded, Location: loc + "/" + schEscape(n.Value), Keyword: "required", Property: n.Value, HasDefault: hasDefault}, r.d.file, n.Line)
		}
	}
	d.lowerBound(b, h, loc, "minProperties")
	d.upperBound(b, h, loc, "maxProperties")
	return nil
}

func (d *schDiffer) compareSubs(bs, hs []schMember, loc string, depth int) error {
	bv, err := d.base.view(bs, depth+1)
	if err != nil {
		return err
	}
	hv, err := d.head.view(hs, depth+1)
	if err != nil {
		return err
	}
	return d.compare(bv, hv, loc, depth+1, false)
}

// schItems is one member's array items: a tuple prefix and the schema for
// the rest (nil: anything).
type schItems struct {
	prefix []*yaml.Node
	rest   *yaml.Node
	d      *schDoc
}

func (v *schView) items() []schItems {
	var out []schItems
	for _, m := range v.ms {
		it := schItems{d: m.d}
		items := schGet(m.n, "items")
		if items != nil && items.Kind == yaml.SequenceNode {
			it.prefix, it.rest = items.Content, schGet(m.n, "additionalItems")
		} else {
			it.rest = items
			if pi := schGet(m.n, "prefixItems"); m.d.modern && pi != nil && pi.Kind == yaml.SequenceNode {
				it.prefix = pi.Content
			}
		}
		if len(it.prefix) > 0 || it.rest != nil {
			out = append(out, it)
		}
	}
	return out
}

// at is the conjunction for item i (-1: any item past every tuple).
func schItemAt(its []schItems, i int) []schMember {
	var out []schMember
	for _, it := range its {
		switch {
		case i >= 0 && i < len(it.prefix):
			out = append(out, schMember{it.prefix[i], it.d})
		case it.rest != nil:
			out = append(out, schMember{it.rest, it.d})
		}
	}
	return out
}

func (d *schDiffer) compareArray(b, h *schView, loc string, depth int) error {
	bi, hi := b.items(), h.items()
	n := 0
	for _, it := range append(slices.Clip(bi), hi...) {
		n = max(n, len(it.prefix))
	}
	for i := range n {
		if hs := schItemAt(hi, i); len(hs) > 0 {
			if err := d.compareSubs(schItemAt(bi, i), hs, loc+"/"+strconv.Itoa(i), depth); err != nil {
				return err
			}
		}
	}
	if hs := schItemAt(hi, -1); len(hs) > 0 {
		if err := d.compareSubs(schItemAt(bi, -1), hs, loc+"/*", depth); err != nil {
			return err
		}
	}
	d.lowerBound(b, h, loc, "minItems")
	d.upperBound(b, h, loc, "maxItems")
	if u, ok := h.first("uniqueItems"); ok && schTrue(u.v) {
		if !slices.ContainsFunc(b.all("uniqueItems"), func(x schHit) bool { return schTrue(x.v) }) {
			from := ""
			if x, ok := b.first("uniqueItems"); ok {
				from = schRender(x.v)
			}
			d.report(SchemaChange{Kind: SchemaConstraintTightened, Location: loc, Keyword: "uniqueItems", From: from, To: "true"}, u.d.file, u.line())
		}
	}
	return nil
}

func schNum(n *yaml.Node) (float64, bool) {
	n = schDeref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return 0, false
	}
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return float64(i), true
		}
		fallthrough
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		return f, err == nil && !math.IsNaN(f)
	}
	return 0, false
}

// valKey is a value's identity up to JSON equality: 1 and 1.0 are one
// value, key order does not matter. Containers hash their children, so an
// alias bomb costs its node count, not its expansion.
func (d *schDiffer) valKey(n *yaml.Node) string {
	n = schDeref(n)
	if n == nil {
		return "n"
	}
	if d.valKeys == nil {
		d.valKeys = map[*yaml.Node]string{}
	}
	if k, ok := d.valKeys[n]; ok {
		return k
	}
	d.valKeys[n] = "cycle"
	var k string
	switch n.Kind {
	case yaml.SequenceNode, yaml.MappingNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, d.valKey(c))
		}
		if n.Kind == yaml.MappingNode {
			var pairs []string
			for i := 0; i+1 < len(parts); i += 2 {
				pairs = append(pairs, strconv.Quote(parts[i])+":"+parts[i+1])
			}
			slices.Sort(pairs)
			parts = pairs
		}
		sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
		k = "[" + hex.EncodeToString(sum[:16])
		if n.Kind == yaml.MappingNode {
			k = "{" + k[1:]
		}
	default:
		switch t := n.ShortTag(); t {
		case "!!null":
			k = "n"
		case "!!bool":
			k = "b" + strings.ToLower(n.Value)
		case "!!int", "!!float":
			if f, ok := schNum(n); ok {
				k = "#" + strconv.FormatFloat(f, 'g', -1, 64)
			} else {
				k = "s" + n.Value
			}
		default:
			k = "s" + n.Value
		}
	}
	d.valKeys[n] = k
	return k
}

// schRender renders a value as short JSON.
func schRender(n *yaml.Node) string {
	var b strings.Builder
	schWrite(&b, n)
	if r := []rune(b.String()); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return b.String()
}

func schWrite(b *strings.Builder, n *yaml.Node) {
	if b.Len() > 80 {
		return
	}
	n = schDeref(n)
	if n == nil {
		b.WriteString("null")
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			schWrite(b, c)
			if b.Len() > 80 {
				return
			}
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(n.Content[i].Value))
			b.WriteString(": ")
			schWrite(b, n.Content[i+1])
			if b.Len() > 80 {
				return
			}
		}
		b.WriteByte('}')
	default:
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
		case "!!bool", "!!int", "!!float":
			b.WriteString(n.Value)
		default:
			b.WriteString(strconv.Quote(n.Value))
		}
	}
}
