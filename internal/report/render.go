package report

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Helpers shared by the renderers.

// String is the summary as people read it: "2 errors, 1 warning, 0
// notices (1 suppressed)", or "no findings".
func (s Summary) String() string { return summaryLine(s) }

// summaryLine is the one-line count every human format ends or starts with:
// "2 errors, 1 warning, 0 notices (1 suppressed)", or "no findings".
func summaryLine(s Summary) string {
	if s.Errors+s.Warnings+s.Notices+s.Suppressed == 0 {
		return "no findings"
	}
	line := plural(s.Errors, "error") + ", " + plural(s.Warnings, "warning") + ", " + plural(s.Notices, "notice")
	if s.Suppressed > 0 {
		line += fmt.Sprintf(" (%d suppressed)", s.Suppressed)
	}
	return line
}

// countsPhrase names only the severities that occur: "2 errors, 1 notice".
func countsPhrase(c counts) string {
	var parts []string
	if c.errors > 0 {
		parts = append(parts, plural(c.errors, "error"))
	}
	if c.warnings > 0 {
		parts = append(parts, plural(c.warnings, "warning"))
	}
	if c.notices > 0 {
		parts = append(parts, plural(c.notices, "notice"))
	}
	if c.suppressed > 0 {
		parts = append(parts, fmt.Sprintf("%d suppressed", c.suppressed))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// counts tallies findings the way Summary does.
type counts struct{ errors, warnings, notices, suppressed int }

func (c *counts) add(f *finding.Finding) {
	switch {
	case f.Suppressed:
		c.suppressed++
	case f.Severity == finding.Error:
		c.errors++
	case f.Severity == finding.Warning:
		c.warnings++
	case f.Severity == finding.Notice:
		c.notices++
	}
}

// fileGroup is the findings of one file, in report order. File is "" for
// findings that are not tied to a file.
type fileGroup struct {
	File     string
	Findings []finding.Finding
	counts   counts
}

// groupByFile groups the findings keep accepts (all when keep is nil) by
// file, in order of first appearance, with the group of findings without a
// file last.
func groupByFile(fs []finding.Finding, keep func(*finding.Finding) bool) []fileGroup {
	var groups []fileGroup
	index := map[string]int{}
	var noFile *fileGroup
	for i := range fs {
		f := &fs[i]
		if keep != nil && !keep(f) {
			continue
		}
		if f.File == "" {
			if noFile == nil {
				noFile = &fileGroup{}
			}
			noFile.Findings = append(noFile.Findings, *f)
			noFile.counts.add(f)
			continue
		}
		j, ok := index[f.File]
		if !ok {
			j = len(groups)
			index[f.File] = j
			groups = append(groups, fileGroup{File: f.File})
		}
		groups[j].Findings = append(groups[j].Findings, *f)
		groups[j].counts.add(f)
	}
	if noFile != nil {
		groups = append(groups, *noFile)
	}
	return groups
}

// checkSeverities rejects a finding whose severity is not one of the three,
// so machine formats never carry a value outside their documented enum.
func checkSeverities(r *Report) error {
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Severity < finding.Notice || f.Severity > finding.Error {
			return fmt.Errorf("report: finding %s in %q has invalid severity %d", f.Rule, f.File, int(f.Severity))
		}
	}
	return nil
}

// safeURL returns u in a form that can sit in a Markdown link target, or
// false when u is not an absolute http(s) URL that needs no escaping to do
// so. Documentation URLs come from the rule registry, but a finding is plain
// data and this is cheap.
func safeURL(u string) (string, bool) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
		return "", false
	}
	s := strings.NewReplacer("(", "%28", ")", "%29").Replace(p.String())
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("<>\"'`|\\[]{}", r) {
			return "", false
		}
	}
	return s, true
}
