// Package docs holds the documentation of breakwater's rules: one Markdown
// page per rule, at rules/<rule ID>.md (rules/image/libc-swap.md documents
// image/libc-swap).
//
// The pages are embedded so that one text serves two readers. People read
// them in the repository, where a finding's DocsURL points, and
// `breakwater explain RULE` prints the same page in the terminal. A rule's
// documentation therefore cannot differ between the two.
package docs

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed rules
var pages embed.FS

// Rule returns the page of the rule with the given ID, such as
// "image/libc-swap", and whether there is one.
func Rule(id string) (string, bool) {
	if id == "" || !fs.ValidPath(id) {
		return "", false
	}
	b, err := pages.ReadFile("rules/" + id + ".md")
	if err != nil {
		return "", false
	}
	return string(b), true
}

// RuleIDs lists the IDs of every page, sorted.
func RuleIDs() []string {
	var ids []string
	err := fs.WalkDir(pages, "rules", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(p, "rules/"), ".md"))
		}
		return nil
	})
	if err != nil {
		// The tree is embedded at build time; failing to walk it is a bug.
		panic(fmt.Sprintf("docs: walk embedded rules: %v", err))
	}
	sort.Strings(ids)
	return ids
}
