package docs_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/docs"
)

// sections every rule page has, in this order.
var sections = []string{
	"## Default severity",
	"## What it catches",
	"## Why: the incident",
	"## Example",
	"## How to fix",
	"## How to suppress",
}

func TestPages(t *testing.T) {
	ids := docs.RuleIDs()
	if len(ids) == 0 {
		t.Fatal("no pages under docs/rules")
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	named := regexp.MustCompile(`(?:breakwater:ignore|rule:)\s+([a-z0-9-]+/[a-z0-9-]+)`)
	for _, id := range ids {
		page, ok := docs.Rule(id)
		if !ok {
			t.Errorf("%s: listed by RuleIDs but Rule finds no page", id)
			continue
		}
		first, _, _ := strings.Cut(page, "\n")
		if title, ok := strings.CutPrefix(first, "# "+id+": "); !ok || strings.TrimSpace(title) == "" {
			t.Errorf("%s: first line is %q, want \"# %s: <title>\"", id, first, id)
		}
		lines := strings.Split(page, "\n")
		at := 0
		for _, h := range sections {
			i := indexLine(lines, h, at)
			if i < 0 {
				t.Errorf("%s: no %q heading after line %d", id, h, at+1)
				continue
			}
			at = i
		}
		if strings.Count(page, "\n```")%2 != 0 {
			t.Errorf("%s: unbalanced code fence", id)
		}
		_, suppress, _ := strings.Cut(page, "## How to suppress")
		if !strings.Contains(suppress, "rule: "+id+"\n") {
			t.Errorf("%s: How to suppress has no .breakwater.yml example for this rule", id)
		}
		// Every rule an example names must exist: a copied example with a
		// stale ID would teach a suppression that stops the run.
		for _, m := range named.FindAllStringSubmatch(page, -1) {
			if !known[m[1]] {
				t.Errorf("%s: names rule %s, which has no page", id, m[1])
			}
		}
	}
}

func indexLine(lines []string, want string, from int) int {
	for i := from; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " ") == want {
			return i
		}
	}
	return -1
}

func TestRuleRejects(t *testing.T) {
	for _, id := range []string{"", "image", "image/", "/image/libc-swap", "image/../image/libc-swap", "image/libc-swap.md", "no/such-rule"} {
		if _, ok := docs.Rule(id); ok {
			t.Errorf("Rule(%q) found a page", id)
		}
	}
}

func ExampleRule() {
	page, ok := docs.Rule("image/libc-swap")
	first, _, _ := strings.Cut(page, "\n")
	fmt.Println(ok, first)
	// Output: true # image/libc-swap: Base image changes C library (glibc ↔ musl)
}
