package check

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/docs"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

// fixtureWaivers lists rules that may lack a case under testdata/cases,
// each with the reason. A waiver for a rule that has a case fails, so
// waivers cannot go stale.
var fixtureWaivers = map[string]string{
	"rehearsal/index-corruption": rehearsalWaiver,
	"rehearsal/duplicate-key":    rehearsalWaiver,
	"rehearsal/start-failed":     rehearsalWaiver,
}

// rehearsalWaiver is why the rehearsal's findings that need another
// runtime have no case.
const rehearsalWaiver = "needs compiled locale directories or a second Postgres major at machine-specific paths, which a case cannot name; covered by internal/rehearse TestLocaleRehearsal/TestMajorRehearsal/TestStartFailure and check TestRehearsal"

// Every registered rule is complete, documented and exercised.
func TestRegistry(t *testing.T) {
	rules := finding.Rules()
	if len(rules) == 0 {
		t.Fatal("no rules registered")
	}
	if err := finding.Validate(rules); err != nil {
		t.Error(err)
	}
	wanted := fixtureRules(t)
	for _, r := range rules {
		if _, ok := docs.Rule(r.ID); !ok {
			t.Errorf("rule %s has no page docs/rules/%s.md", r.ID, r.ID)
		}
		_, waived := fixtureWaivers[r.ID]
		switch {
		case !wanted[r.ID] && !waived:
			t.Errorf("rule %s has no case under testdata/cases (no `want %s`)", r.ID, r.ID)
		case wanted[r.ID] && waived:
			t.Errorf("waiver for %s is stale: it has a case now", r.ID)
		}
	}
	for _, id := range docs.RuleIDs() {
		if _, ok := finding.Lookup(id); !ok {
			t.Errorf("docs/rules/%s.md documents a rule that is not registered", id)
		}
	}
}

// fixtureRules collects every rule named by a want in the cases.
func fixtureRules(t *testing.T) map[string]bool {
	seen := map[string]bool{}
	err := filepath.WalkDir("../../testdata/cases", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(strings.TrimLeft(strings.TrimSpace(line), "#"))
			if len(f) > 1 && f[0] == "want" {
				for _, tok := range f[1:] {
					rule, _, _ := strings.Cut(tok, "(")
					seen[rule] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}
