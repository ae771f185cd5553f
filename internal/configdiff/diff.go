package configdiff

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Change kinds.
const (
	KeyRemoved   = "key-removed"
	TypeChanged  = "type-changed"
	Restructured = "restructured"
	KeyRenamed   = "key-renamed"
)

// Change is one difference between base and head that could stop new code
// from reading an old config.
type Change struct {
	Kind string
	// Path is the base path. NewPath is the head path it applies to: the
	// new place for a move or rename, the same path for a type change, and
	// the nearest surviving parent for a removal.
	Path, NewPath []string
	// From and To are kinds for type-changed and values otherwise (To is
	// empty for a removal). A move whose value changed has From != To.
	From, To string
	// Line is on the head side: the leaf's line, or for a removal the line
	// of the nearest surviving parent's key (1 when none survives).
	Line int
	// Group is the move this change belongs to, shared by every change of
	// the group, so a caller can say "4 keys moved under production,
	// development, test" once.
	Group *Move
}

// Move is a set of keys that moved under new parents together: the moved
// keys and the prefixes are connected (a key moved under a prefix), so
// one regrouping reads as one move however many copies it made.
type Move struct {
	Prefixes []string // dotted, in head document order
	Keys     int      // distinct base keys moved
}

// Diff compares the leaves of two versions of a config file. Changes come
// sorted by head line, then kind, then path.
//
// Decisions, read as "can new code read the old config":
//   - null on either side is not a type change: null says nothing about
//     the type a reader expects.
//   - int → float is widening (a float reader takes 16), float → int is a
//     type change.
//   - An empty map becoming a populated one is not a change.
//   - A whole list element disappearing (the list got shorter) is data,
//     not a removed key; a key inside a surviving element is reported.
//   - A moved key whose kind also changed gets a type-changed beside its
//     restructured change.
func Diff(base, head []Leaf) []Change {
	b, h := index(base), index(head)
	var out []Change

	var removed []int // indices into base
	for i, l := range base {
		k := b.keys[i]
		if j, ok := h.leaf[k]; ok {
			if breaking(l.Kind, head[j].Kind) {
				out = append(out, Change{Kind: TypeChanged, Path: l.Path, NewPath: head[j].Path, From: l.Kind, To: head[j].Kind, Line: head[j].Line})
			}
			continue
		}
		if in, ok := h.inner[k]; ok {
			if breaking(l.Kind, in.kind) {
				out = append(out, Change{Kind: TypeChanged, Path: l.Path, NewPath: l.Path, From: l.Kind, To: in.kind, Line: in.line})
			}
			continue
		}
		removed = append(removed, i)
	}

	retyped := map[string]bool{} // base inner paths that became leaves
	var added []int              // indices into head
	for j, l := range head {
		k := h.keys[j]
		if _, ok := b.leaf[k]; ok {
			continue
		}
		if in, ok := b.inner[k]; ok {
			if l.Kind != "null" && l.Kind != in.kind {
				out = append(out, Change{Kind: TypeChanged, Path: l.Path, NewPath: l.Path, From: in.kind, To: l.Kind, Line: l.Line})
				retyped[k] = true
			}
			continue
		}
		added = append(added, j)
	}

	explained := make(map[int]bool) // base indices
	used := make(map[int]bool)      // head indices
	out = append(out, moves(base, head, b, h, removed, added, explained, used)...)
	out = append(out, renames(base, head, b, h, removed, added, explained, used)...)

	for _, i := range removed {
		if explained[i] {
			continue
		}
		l, k := base[i], b.keys[i]
		off := b.offs[i]
		if len(l.Path) == 0 {
			continue // a scalar document replaced by nothing: no key to name
		}
		if slices.ContainsFunc(off[:len(off)-1], func(o int) bool { return retyped[k[:o]] }) {
			continue // reported as the ancestor's type change
		}
		// The shortest prefix missing from head; its parent survives.
		n := 1
		for n < len(l.Path) && h.has(k[:off[n]]) {
			n++
		}
		if isIndex(l.Path[n-1]) {
			continue
		}
		line := 1
		if n > 1 {
			line = h.line(k[:off[n-1]])
		}
		out = append(out, Change{Kind: KeyRemoved, Path: l.Path, NewPath: l.Path[:n-1], From: l.Value, Line: line})
	}

	slices.SortStableFunc(out, func(x, y Change) int {
		return cmp.Or(cmp.Compare(x.Line, y.Line), cmp.Compare(x.Kind, y.Kind),
			slices.Compare(x.NewPath, y.NewPath), slices.Compare(x.Path, y.Path))
	})
	return out
}

// breaking says whether a value of kind from, read by code that expects
// kind to, is a type change.
func breaking(from, to string) bool {
	switch {
	case from == to, from == "null", to == "null":
		return false
	case from == "int" && to == "float":
		return false
	}
	return true
}

func isIndex(part string) bool {
	return len(part) >= 3 && part[0] == '[' && part[len(part)-1] == ']'
}

type inner struct {
	kind string // "map" or "list"
	line int    // of its key
}

// sideIndex finds leaves and inner nodes by path key. A path key is each
// part as "len:part", concatenated, so it is unambiguous and the key of a
// prefix or suffix is a substring of the key of the whole.
type sideIndex struct {
	keys  []string
	offs  [][]int // offs[i][n] is where part n of leaf i starts in keys[i]; last is len
	leaf  map[string]int
	inner map[string]inner // "" is the root when it is a container
	lines []int
}

func index(ls []Leaf) *sideIndex {
	x := &sideIndex{keys: make([]string, len(ls)), offs: make([][]int, len(ls)),
		leaf: make(map[string]int, len(ls)), inner: map[string]inner{}, lines: make([]int, len(ls))}
	var sb strings.Builder
	for i, l := range ls {
		sb.Reset()
		off := make([]int, len(l.Path)+1)
		for n, p := range l.Path {
			off[n] = sb.Len()
			sb.WriteString(strconv.Itoa(len(p)))
			sb.WriteByte(':')
			sb.WriteString(p)
		}
		off[len(l.Path)] = sb.Len()
		k := sb.String()
		x.keys[i], x.offs[i] = k, off
		x.leaf[k] = i
		x.lines[i] = l.Line
		// Deepest first: once a prefix is known, so are the shorter ones.
		for n := len(l.Path) - 1; n >= 0; n-- {
			pk := k[:off[n]]
			if _, ok := x.inner[pk]; ok {
				break
			}
			kind := "map"
			if isIndex(l.Path[n]) {
				kind = "list"
			}
			line := 1
			if n > 0 && n-1 < len(l.KeyLines) {
				line = l.KeyLines[n-1]
			}
			x.inner[pk] = inner{kind, line}
		}
	}
	return x
}

func (x *sideIndex) has(k string) bool {
	if _, ok := x.leaf[k]; ok {
		return true
	}
	_, ok := x.inner[k]
	return ok
}

// line is where the key of path k is: an inner node's key or a leaf.
func (x *sideIndex) line(k string) int {
	if in, ok := x.inner[k]; ok {
		return in.line
	}
	if i, ok := x.leaf[k]; ok {
		return x.lines[i]
	}
	return 1
}

// moves matches removed leaves a.b to added leaves P.a.b. Each added leaf
// looks its suffixes up among the removed paths, longest suffix first, so
// the work is the sum of head path depths rather than removed × added.
// Matches are grouped into connected sets of keys and prefixes.
func moves(base, head []Leaf, b, h *sideIndex, removed, added []int, explained, used map[int]bool) []Change {
	rm := make(map[string]int, len(removed))
	for _, i := range removed {
		rm[b.keys[i]] = i
	}
	type match struct{ i, j, n int } // base i moved to head j under Path[:n]
	var ms []match
	for _, j := range added {
		k, off := h.keys[j], h.offs[j]
		for n := 1; n < len(off)-1; n++ {
			if i, ok := rm[k[off[n]:]]; ok {
				ms = append(ms, match{i, j, n})
				break
			}
		}
	}
	if len(ms) == 0 {
		return nil
	}
	// Union-find over base keys and prefixes.
	parent := map[string]string{}
	var find func(s string) string
	find = func(s string) string {
		p, ok := parent[s]
		if !ok || p == s {
			parent[s] = s
			return s
		}
		r := find(p)
		parent[s] = r
		return r
	}
	prefixKey := func(m match) string { return "p" + h.keys[m.j][:h.offs[m.j][m.n]] }
	for _, m := range ms {
		a, c := find("k"+b.keys[m.i]), find(prefixKey(m))
		if a != c {
			parent[a] = c
		}
	}
	groups := map[string]*Move{}
	seenPrefix := map[string]bool{}
	seenKey := map[string]bool{}
	var out []Change
	for _, m := range ms { // head order, so prefixes come in document order
		g := groups[find(prefixKey(m))]
		if g == nil {
			g = &Move{}
			groups[find(prefixKey(m))] = g
		}
		if pk := prefixKey(m); !seenPrefix[pk] {
			seenPrefix[pk] = true
			g.Prefixes = append(g.Prefixes, strings.Join(head[m.j].Path[:m.n], "."))
		}
		if !seenKey[b.keys[m.i]] {
			seenKey[b.keys[m.i]] = true
			g.Keys++
		}
		explained[m.i], used[m.j] = true, true
		bl, hl := base[m.i], head[m.j]
		out = append(out, Change{Kind: Restructured, Path: bl.Path, NewPath: hl.Path, From: bl.Value, To: hl.Value, Line: hl.Line, Group: g})
		if breaking(bl.Kind, hl.Kind) {
			out = append(out, Change{Kind: TypeChanged, Path: bl.Path, NewPath: hl.Path, From: bl.Kind, To: hl.Kind, Line: hl.Line})
		}
	}
	return out
}

// maxFuzzyPairs bounds the name comparisons in one bucket (same parent,
// kind and value); beyond it only names equal up to case and separators
// are paired, so a thousand `enabled: true` keys stay linear.
const maxFuzzyPairs = 4096

// maxFuzzyName is the longest key name (in bytes) compared by similarity;
// Levenshtein is quadratic in it, and key names are short.
const maxFuzzyName = 128

// renames pairs a removed and an added leaf with the same parent, kind and
// value and a similar name, most similar first.
func renames(base, head []Leaf, b, h *sideIndex, removed, added []int, explained, used map[int]bool) []Change {
	bucket := func(l Leaf, key string, off []int) string {
		return key[:off[len(off)-2]] + "\x00" + l.Kind + "\x00" + l.Value
	}
	type side struct{ rm, add []int }
	buckets := map[string]*side{}
	var order []string
	for _, i := range removed {
		if explained[i] || len(base[i].Path) == 0 || isIndex(base[i].Path[len(base[i].Path)-1]) {
			continue
		}
		k := bucket(base[i], b.keys[i], b.offs[i])
		s := buckets[k]
		if s == nil {
			s = &side{}
			buckets[k] = s
			order = append(order, k)
		}
		s.rm = append(s.rm, i)
	}
	for _, j := range added {
		if used[j] || len(head[j].Path) == 0 || isIndex(head[j].Path[len(head[j].Path)-1]) {
			continue
		}
		if s := buckets[bucket(head[j], h.keys[j], h.offs[j])]; s != nil {
			s.add = append(s.add, j)
		}
	}
	var out []Change
	pair := func(i, j int) {
		explained[i], used[j] = true, true
		out = append(out, Change{Kind: KeyRenamed, Path: base[i].Path, NewPath: head[j].Path, From: base[i].Value, To: head[j].Value, Line: head[j].Line})
	}
	last := func(p []string) string { return p[len(p)-1] }
	for _, k := range order {
		s := buckets[k]
		if len(s.add) == 0 {
			continue
		}
		// Same words, other spelling: maxConns, max_conns, MAX-CONNS.
		norm := map[string][]int{}
		for _, j := range s.add {
			n := strings.Join(tokens(last(head[j].Path)), "")
			norm[n] = append(norm[n], j)
		}
		for _, i := range s.rm {
			n := strings.Join(tokens(last(base[i].Path)), "")
			js := norm[n]
			for len(js) > 0 && used[js[0]] {
				js = js[1:]
			}
			norm[n] = js
			if len(js) > 0 {
				pair(i, js[0])
			}
		}
		if len(s.rm)*len(s.add) > maxFuzzyPairs || len(s.rm) == 0 {
			continue
		}
		type cand struct {
			i, j int
			sim  float64
		}
		var cs []cand
		for _, i := range s.rm {
			for _, j := range s.add {
				if explained[i] || used[j] {
					continue
				}
				a, b := last(base[i].Path), last(head[j].Path)
				if len(a) > maxFuzzyName || len(b) > maxFuzzyName {
					continue
				}
				if sim := similarity(a, b); sim >= renameThreshold {
					cs = append(cs, cand{i, j, sim})
				}
			}
		}
		slices.SortStableFunc(cs, func(x, y cand) int { return cmp.Compare(y.sim, x.sim) })
		for _, c := range cs {
			if !explained[c.i] && !used[c.j] {
				pair(c.i, c.j)
			}
		}
	}
	return out
}

// renameThreshold is the least similarity for a rename. 0.7 takes
// colour→color (0.83) and leaves retries→retry (0.57) and host→port (0.25):
// a false rename hides a removal, so it errs towards "removed".
const renameThreshold = 0.7

// similarity of two key names, 0 to 1: 1 for the same words; 0.9 when the
// words pair up as abbreviations (max_conns → max_connections, cfg →
// config); else 1 − Levenshtein distance / longer length, over the words
// joined.
func similarity(a, b string) float64 {
	ta, tb := tokens(a), tokens(b)
	na, nb := strings.Join(ta, ""), strings.Join(tb, "")
	if na == nb {
		return 1
	}
	if len(ta) == len(tb) {
		all := true
		for i := range ta {
			if !abbrev(ta[i], tb[i]) {
				all = false
				break
			}
		}
		if all {
			return 0.9
		}
	}
	ra, rb := []rune(na), []rune(nb)
	n := max(len(ra), len(rb))
	if n == 0 {
		return 1
	}
	return 1 - float64(levenshtein(ra, rb))/float64(n)
}

// abbrev: equal, or the shorter (two letters or more) is a subsequence of
// the longer with the same first letter (conns/connections, cfg/config).
func abbrev(a, b string) bool {
	if a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) < 2 || a[0] != b[0] {
		return false
	}
	i := 0
	for j := 0; j < len(b) && i < len(a); j++ {
		if a[i] == b[j] {
			i++
		}
	}
	return i == len(a)
}

// tokens splits a key into lower-case words at separators and camelCase
// boundaries: "maxConns", "max_conns" and "MAX-CONNS" give [max conns].
func tokens(s string) []string {
	var out []string
	rs := []rune(s)
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, strings.ToLower(string(rs[start:end])))
			start = -1
		}
	}
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush(i)
			continue
		}
		if start >= 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(rs))
	return out
}

func levenshtein(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a
	}
	row := make([]int, len(b)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(a); i++ {
		prev := row[0]
		row[0] = i
		for j := 1; j <= len(b); j++ {
			cur := row[j]
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, prev+cost)
			prev = cur
		}
	}
	return row[len(b)]
}
