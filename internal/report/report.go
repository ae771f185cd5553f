package report

import (
	"io"
	"path"
	"sort"
	"strconv"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Report is the outcome of one run.
type Report struct {
	Base     string            `json:"base,omitempty"` // commit the change starts from
	Head     string            `json:"head,omitempty"` // commit (or "WORKTREE") it ends at
	Findings []finding.Finding `json:"findings"`
	Summary  Summary           `json:"summary"`
}

// Summary counts unsuppressed findings by severity; suppressed ones are
// counted apart so they never fail a run.
type Summary struct {
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Notices    int `json:"notices"`
	Suppressed int `json:"suppressed"`
}

// Renderer writes a report in one format.
type Renderer interface {
	Render(w io.Writer, r *Report) error
}

// Suppression silences a rule on files matching a glob, for a reason.
type Suppression struct {
	Rule   string
	Path   string // path.Match glob with ** for any number of directories; "" matches every file
	Line   int    // inline suppressions cover one line; 0 covers the file
	Reason string
}

// Matches reports whether s covers f.
func (s Suppression) Matches(f *finding.Finding) bool {
	if s.Rule != f.Rule {
		return false
	}
	if s.Line != 0 && s.Line != f.Line {
		return false
	}
	return s.Path == "" || MatchGlob(s.Path, f.File)
}

// New sorts and deduplicates findings, marks suppressed ones and counts.
func New(base, head string, findings []finding.Finding, sups []Suppression) *Report {
	seen := map[string]bool{}
	out := make([]finding.Finding, 0, len(findings))
	for _, f := range findings {
		// Same fingerprint and same line is the same finding reported twice
		// (for example by two matched stages of one file).
		k := f.Fingerprint + "\x00" + f.File + "\x00" + strconv.Itoa(f.Line)
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, s := range sups {
			if s.Matches(&f) {
				f.Suppressed, f.SuppressionReason = true, s.Reason
				break
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Fingerprint < b.Fingerprint
	})
	r := &Report{Base: base, Head: head, Findings: out}
	for _, f := range out {
		switch {
		case f.Suppressed:
			r.Summary.Suppressed++
		case f.Severity == finding.Error:
			r.Summary.Errors++
		case f.Severity == finding.Warning:
			r.Summary.Warnings++
		case f.Severity == finding.Notice:
			r.Summary.Notices++
		}
	}
	return r
}

// Failed reports whether any unsuppressed finding is at or above failOn.
// A failOn of 0 ("none") never fails.
func (r *Report) Failed(failOn finding.Severity) bool {
	if failOn == 0 {
		return false
	}
	for _, f := range r.Findings {
		if !f.Suppressed && f.Severity >= failOn {
			return true
		}
	}
	return false
}

// Highest is the highest unsuppressed severity, or 0 when there is none.
func (r *Report) Highest() finding.Severity {
	var h finding.Severity
	for _, f := range r.Findings {
		if !f.Suppressed && f.Severity > h {
			h = f.Severity
		}
	}
	return h
}

// MatchGlob matches a slash-separated path against a glob in which "**"
// stands for any number of directories, as in .gitignore.
func MatchGlob(pattern, name string) bool {
	return matchSegs(splitSlash(pattern), splitSlash(name))
}

func matchSegs(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegs(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], name[0]); err != nil || !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

func splitSlash(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
