package finding

import (
	"fmt"
	"sort"
	"sync"
)

// DocsBase is where rule pages are published; a rule's page is
// DocsBase + ID + ".md".
const DocsBase = "https://github.com/breakwater-ci/breakwater/blob/main/docs/rules/"

// Rule is plain data: what a check reports and how bad it is by default.
// Its long documentation lives in docs/rules/<ID>.md.
type Rule struct {
	ID       string   // stable, kebab-case, "area/name"
	Title    string   // one line
	Severity Severity // default
	Summary  string   // one or two sentences for `breakwater rules`
	Incident string   // the real incident the rule comes from
}

// DocsURL is the rule's page.
func (r *Rule) DocsURL() string { return DocsBase + r.ID + ".md" }

var (
	mu       sync.RWMutex
	registry = map[string]*Rule{}
)

// Register adds rules to the registry. It panics on a duplicate ID, since
// that is a programming error caught by any test that imports the package.
func Register(rules ...*Rule) {
	mu.Lock()
	defer mu.Unlock()
	for _, r := range rules {
		if _, dup := registry[r.ID]; dup {
			panic(fmt.Sprintf("finding: rule %s registered twice", r.ID))
		}
		registry[r.ID] = r
	}
}

// Lookup finds a registered rule.
func Lookup(id string) (*Rule, bool) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := registry[id]
	return r, ok
}

// Rules lists every registered rule sorted by ID.
func Rules() []*Rule {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]*Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Validate reports the first rule with an empty field.
func Validate(rules []*Rule) error {
	for _, r := range rules {
		switch {
		case r.ID == "":
			return fmt.Errorf("rule with title %q has no ID", r.Title)
		case r.Title == "":
			return fmt.Errorf("rule %s has no title", r.ID)
		case r.Severity < Notice || r.Severity > Error:
			return fmt.Errorf("rule %s has no valid default severity", r.ID)
		case r.Summary == "":
			return fmt.Errorf("rule %s has no summary", r.ID)
		case r.Incident == "":
			return fmt.Errorf("rule %s names no incident", r.ID)
		}
	}
	return nil
}
