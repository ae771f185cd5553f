package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/configdiff"
	"github.com/breakwater-ci/breakwater/internal/finding"
)

// configRemediation names the backward-compatible ways through a layout
// change; every config-file finding carries it.
const configRemediation = "Keep old configs loading. Either read both layouts during a transition (accept the old key or layout as a fallback, log a deprecation warning, and remove it a release later), or ship a migration step that runs in the deploy, rewrites every deployed config to the new layout before the new code starts, and is recorded in the changelog."

// maxListed caps the keys one message names; the rest are counted.
const maxListed = 20

// ConfigFile turns the differences between the base and head versions of
// one config file into findings, on the head side's lines. The changes of
// one move become one finding that lists every moved key.
func ConfigFile(file string, changes []configdiff.Change) []finding.Finding {
	var out []finding.Finding
	moves := map[*configdiff.Move][]configdiff.Change{}
	var order []*configdiff.Move
	for _, ch := range changes {
		switch ch.Kind {
		case configdiff.Restructured:
			if moves[ch.Group] == nil {
				order = append(order, ch.Group)
			}
			moves[ch.Group] = append(moves[ch.Group], ch)
		case configdiff.KeyRemoved:
			f := finding.New(KeyRemoved, file, ch.Line, "removed:"+dotted(ch.Path),
				fmt.Sprintf("Key `%s` (was `%s`) is gone. Code that still reads it gets nothing, and deployed configs that set it are ignored.", dotted(ch.Path), ch.From))
			out = append(out, withRemedy(f))
		case configdiff.TypeChanged:
			f := finding.New(TypeChanged, file, ch.Line, "type:"+dotted(ch.NewPath),
				fmt.Sprintf("`%s` changes type: %s → %s. Code written for the new type cannot read the old value.", dotted(ch.NewPath), ch.From, ch.To))
			if !slices.Equal(ch.Path, ch.NewPath) {
				f.Evidence = fmt.Sprintf("`%s` (%s) on the base side", dotted(ch.Path), ch.From)
			}
			out = append(out, withRemedy(f))
		case configdiff.KeyRenamed:
			f := finding.New(KeyRenamed, file, ch.Line, "renamed:"+dotted(ch.Path)+"→"+dotted(ch.NewPath),
				fmt.Sprintf("Key `%s` is renamed to `%s` (same value `%s`). Deployed configs still use the old name.", dotted(ch.Path), last(ch.NewPath), ch.To))
			out = append(out, withRemedy(f))
		}
	}
	for _, g := range order {
		out = append(out, restructured(file, g, moves[g]))
	}
	return out
}

// restructured says one move plainly: how many keys, under which new
// parents, which keys, and which values changed on the way.
func restructured(file string, g *configdiff.Move, chs []configdiff.Change) finding.Finding {
	line := chs[0].Line
	var keys, changed []string
	seen := map[string]bool{}
	for _, ch := range chs {
		line = min(line, ch.Line)
		if k := dotted(ch.Path); !seen[k] {
			seen[k] = true
			keys = append(keys, "`"+k+"`")
		}
		if ch.From != ch.To {
			changed = append(changed, fmt.Sprintf("`%s` %s → %s", dotted(ch.NewPath), ch.From, ch.To))
		}
	}
	prefixes := make([]string, len(g.Prefixes))
	for i, p := range g.Prefixes {
		prefixes[i] = "`" + p + "`"
	}
	noun := "keys"
	if g.Keys == 1 {
		noun = "key"
	}
	msg := fmt.Sprintf("%d %s moved under %s: %s. Code that reads the new layout cannot read a deployed config in the old one.",
		g.Keys, noun, listed(prefixes), listed(keys))
	if len(changed) > 0 {
		msg += " Values also changed: " + listed(changed) + "."
	}
	return withRemedy(finding.New(Restructured, file, line, "moved:"+strings.Join(g.Prefixes, ","), msg))
}

func withRemedy(f finding.Finding) finding.Finding {
	f.Remediation = configRemediation
	return f
}

// listed joins items, naming at most maxListed and counting the rest.
func listed(items []string) string {
	if len(items) > maxListed {
		return strings.Join(items[:maxListed], ", ") + fmt.Sprintf(" and %d more", len(items)-maxListed)
	}
	return strings.Join(items, ", ")
}

// dotted renders a leaf path as people write it: db.pool.size, servers[0].host.
func dotted(p []string) string {
	if len(p) == 0 {
		return "(root)"
	}
	var b strings.Builder
	for i, part := range p {
		if i > 0 && !strings.HasPrefix(part, "[") {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func last(p []string) string {
	if len(p) == 0 {
		return "(root)"
	}
	return p[len(p)-1]
}
