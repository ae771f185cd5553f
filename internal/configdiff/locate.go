package configdiff

import (
	"strconv"

	"gopkg.in/yaml.v3"
)

// Locate finds the line of a location (JSON pointer tokens) in a node
// tree: the line of the deepest key or item that exists, and how many
// tokens it matched, so a value that is gone is placed at its nearest
// surviving parent. It is 1 when nothing matched or root is nil. Aliases
// are followed; a key brought in by a merge (<<) is found at the `<<`.
func Locate(root *yaml.Node, loc []string) (line, matched int) {
	_, line, matched = find(root, loc)
	return line, matched
}

// Find is the node at a location, or nil when it is not there.
func Find(root *yaml.Node, loc []string) *yaml.Node {
	n, _, matched := find(root, loc)
	if matched < len(loc) {
		return nil
	}
	return deref(n)
}

// find walks loc from root: the deepest node reached, its line, and how
// many tokens it matched.
func find(root *yaml.Node, loc []string) (n *yaml.Node, line, matched int) {
	line = 1
	if root != nil {
		line = max(root.Line, 1)
	}
	n = root
	for _, tok := range loc {
		n = deref(n)
		if n == nil {
			break
		}
		var next *yaml.Node
		at := 0
		switch n.Kind {
		case yaml.MappingNode:
			next, at = lookup(n, tok, 0)
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
				next, at = n.Content[i], n.Content[i].Line
			}
		}
		if next == nil {
			break
		}
		n, line = next, max(at, 1)
		matched++
	}
	return n, line, matched
}

// lookup finds key tok in mapping n: the last explicit key wins, then the
// merges in order. at is the line to report: the key's, or the `<<`'s.
func lookup(n *yaml.Node, tok string, depth int) (val *yaml.Node, at int) {
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if k := n.Content[i]; !isMerge(k) && keyName(k) == tok {
			return n.Content[i+1], k.Line
		}
	}
	if depth > maxDepth {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if !isMerge(n.Content[i]) {
			continue
		}
		srcs := []*yaml.Node{deref(n.Content[i+1])}
		if srcs[0] != nil && srcs[0].Kind == yaml.SequenceNode {
			srcs = srcs[0].Content
		}
		for _, s := range srcs {
			if s = deref(s); s != nil && s.Kind == yaml.MappingNode {
				if v, _ := lookup(s, tok, depth+1); v != nil {
					return v, n.Content[i].Line
				}
			}
		}
	}
	return nil, 0
}

func deref(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode && hops < maxDepth; hops++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}
