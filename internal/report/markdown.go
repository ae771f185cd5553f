package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// CommentLimit is the default size cap of a Markdown body, in bytes (never
// fewer than characters). GitHub refuses comments over 65,536 characters;
// the margin leaves room for the publisher's marker.
const CommentLimit = 60000

// Markdown renders the body of the sticky pull request comment (and of the
// job summary): a heading, a summary line with counts, then one collapsed
// <details> section per file (open when the file has errors) holding a
// table of its findings, and the suppressed findings in a last collapsed
// section.
//
// Everything that comes from the change (paths, messages, evidence,
// remediations, reasons) is escaped with EscapeMarkdown, or for the
// <summary> lines with HTML escaping, so it cannot inject Markdown, HTML or
// mentions.
//
// When the body would be longer than the limit, per-finding detail is
// dropped: the body keeps the counts, a table of counts per file (cut short
// if need be) and a sentence pointing to the job summary.
type Markdown struct {
	// Limit caps the body in bytes: 0 means CommentLimit, a negative value
	// means no cap (for the job summary). A publisher that adds a marker
	// should subtract its size. Below about 1,000 the cap cannot always be
	// met, since the heading and counts are always written.
	Limit int
	// SummaryURL, when an http(s) URL, is linked from the sentence that
	// points to the job summary in a shortened body.
	SummaryURL string
}

var _ Renderer = (*Markdown)(nil)

// Render writes the body.
func (m *Markdown) Render(w io.Writer, r *Report) error {
	limit := m.Limit
	if limit == 0 {
		limit = CommentLimit
	}
	body := m.full(r)
	if limit > 0 && len(body) > limit {
		body = m.compact(r, limit)
	}
	_, err := io.WriteString(w, body)
	return err
}

func (m *Markdown) header(b *strings.Builder, r *Report) {
	switch r.Highest() {
	case finding.Error:
		b.WriteString("## :x: Breakwater found upgrade-breaking changes\n\n")
	case finding.Warning:
		b.WriteString("## :warning: Breakwater found possible upgrade problems\n\n")
	case finding.Notice:
		b.WriteString("## :information_source: Breakwater has notices for this change\n\n")
	default:
		b.WriteString("## :white_check_mark: Breakwater found no upgrade-breaking changes\n\n")
	}
	b.WriteString("**" + summaryLine(r.Summary) + "**")
	if r.Base != "" || r.Head != "" {
		b.WriteString(" · base " + EscapeMarkdown(shorten(r.Base, 40)) + " → head " + EscapeMarkdown(shorten(r.Head, 40)))
	}
	b.WriteString("\n\n")
}

func (m *Markdown) full(r *Report) string {
	var b strings.Builder
	m.header(&b, r)
	active := groupByFile(r.Findings, func(f *finding.Finding) bool { return !f.Suppressed })
	if len(active) == 0 && r.Summary.Suppressed > 0 {
		b.WriteString("Every finding is suppressed.\n\n")
	}
	for _, g := range active {
		open := ""
		if g.counts.errors > 0 {
			open = " open"
		}
		name := "Not tied to a file"
		if g.File != "" {
			name = "<code>" + escapeHTMLText(g.File) + "</code>"
		}
		fmt.Fprintf(&b, "<details%s>\n<summary>%s: %s</summary>\n\n", open, name, countsPhrase(g.counts))
		b.WriteString("| Severity | Rule | Line | Finding |\n| --- | --- | ---: | --- |\n")
		for i := range g.Findings {
			f := &g.Findings[i]
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", severityCell(f.Severity), ruleCell(f), lineCell(f.Line), findingCell(f))
		}
		b.WriteString("\n</details>\n\n")
	}
	suppressed := groupByFile(r.Findings, func(f *finding.Finding) bool { return f.Suppressed })
	if len(suppressed) > 0 {
		fmt.Fprintf(&b, "<details>\n<summary>%s</summary>\n\n", plural(r.Summary.Suppressed, "suppressed finding"))
		b.WriteString("| Severity | Rule | Location | Finding | Reason |\n| --- | --- | --- | --- | --- |\n")
		for _, g := range suppressed {
			for i := range g.Findings {
				f := &g.Findings[i]
				reason := EscapeMarkdown(f.SuppressionReason)
				if reason == "" {
					reason = "*none given*"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", severityCell(f.Severity), ruleCell(f), locationCell(f), findingCell(f), reason)
			}
		}
		b.WriteString("\n</details>\n\n")
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// compact is the body without per-finding detail, for reports too long for
// a comment. Rows of the per-file table are added while they fit.
func (m *Markdown) compact(r *Report, limit int) string {
	var b strings.Builder
	m.header(&b, r)
	summary := "the job summary of this workflow run"
	if u, ok := safeURL(m.SummaryURL); ok {
		summary = "the [job summary](" + u + ") of this workflow run"
	}
	fmt.Fprintf(&b, "This report is too long for a comment, so it shows counts only. Every finding, with its remediation, is in %s.\n\n", summary)
	groups := groupByFile(r.Findings, nil)
	if len(groups) == 0 {
		return b.String()
	}
	b.WriteString("| File | Errors | Warnings | Notices | Suppressed |\n| --- | ---: | ---: | ---: | ---: |\n")
	for i, g := range groups {
		name := "*no file*"
		if g.File != "" {
			name = EscapeMarkdown(g.File)
		}
		c := g.counts
		row := fmt.Sprintf("| %s | %d | %d | %d | %d |\n", name, c.errors, c.warnings, c.notices, c.suppressed)
		more := ""
		if rest := len(groups) - i - 1; rest > 0 {
			more = moreFilesRow(rest)
		}
		if b.Len()+len(row)+len(more) > limit {
			b.WriteString(moreFilesRow(len(groups) - i))
			break
		}
		b.WriteString(row)
	}
	return b.String()
}

func moreFilesRow(n int) string {
	return "| *… and " + plural(n, "more file") + "* | | | | |\n"
}

func severityCell(s finding.Severity) string {
	switch s {
	case finding.Error:
		return ":x: error"
	case finding.Warning:
		return ":warning: warning"
	case finding.Notice:
		return ":information_source: notice"
	}
	return ":grey_question: " + EscapeMarkdown(s.String())
}

func ruleCell(f *finding.Finding) string {
	if u, ok := safeURL(f.DocsURL); ok {
		return "[" + EscapeMarkdown(f.Rule) + "](" + u + ")"
	}
	return EscapeMarkdown(f.Rule)
}

func lineCell(line int) string {
	if line <= 0 {
		return ""
	}
	return strconv.Itoa(line)
}

func locationCell(f *finding.Finding) string {
	if f.File == "" {
		return "*no file*"
	}
	if f.Line > 0 {
		return EscapeMarkdown(f.File) + ":" + strconv.Itoa(f.Line)
	}
	return EscapeMarkdown(f.File)
}

func findingCell(f *finding.Finding) string {
	var parts []string
	if f.Title != "" {
		parts = append(parts, "**"+EscapeMarkdown(f.Title)+"**")
	}
	if f.Message != "" {
		parts = append(parts, EscapeMarkdown(f.Message))
	}
	if f.Evidence != "" {
		parts = append(parts, "**Evidence:** "+EscapeMarkdown(f.Evidence))
	}
	if f.Remediation != "" {
		parts = append(parts, "**Remediation:** "+EscapeMarkdown(f.Remediation))
	}
	return strings.Join(parts, "<br>")
}

// shorten keeps at most n runes of s, marking a cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
