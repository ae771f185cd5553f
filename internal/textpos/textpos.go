// Package textpos turns byte offsets into line numbers.
package textpos

import "sort"

// Lines holds the offsets of the newlines of a text, so that the line of
// an offset is a binary search rather than a count from the start (which
// would make reporting lines quadratic in the text's size).
type Lines []int

// New indexes the newlines of s.
func New[T string | []byte](s T) Lines {
	var nl Lines
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			nl = append(nl, i)
		}
	}
	return nl
}

// Line is the 1-based line of byte offset off; a newline belongs to the
// line it ends.
func (l Lines) Line(off int) int {
	return sort.SearchInts(l, off) + 1
}
