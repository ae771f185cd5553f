package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// Text renders a report for a terminal:
//
//	docker/db/Dockerfile
//	  error   image/libc-swap line 3: Base image changes libc
//	    postgres:11 moves from Debian (glibc) to Alpine (musl).
//	    evidence: postgres:11 (Debian stretch, glibc 2.24) → postgres:11-alpine (musl)
//	    remediation:
//	      Stay on a Debian tag, or rebuild every text index:
//	      REINDEX DATABASE app;
//	    docs: https://…/image/libc-swap.md
//	  suppressed notice image/unknown line 9: …
//	    reason: …
//
//	2 errors, 1 warning, 0 notices (1 suppressed)
//
// Findings are grouped by file, in report order; findings without a file
// come last under "(no file)". Color turns on ANSI colours; the caller
// decides whether the output is a terminal (and honours NO_COLOR).
type Text struct {
	Color bool
}

var _ Renderer = (*Text)(nil)

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
)

// Render writes the report.
func (t *Text) Render(w io.Writer, r *Report) error {
	var b strings.Builder
	groups := groupByFile(r.Findings, nil)
	for i, g := range groups {
		if i > 0 {
			b.WriteByte('\n')
		}
		name := "(no file)"
		if g.File != "" {
			name = termSafe(g.File)
		}
		b.WriteString(t.paint(ansiBold, name))
		b.WriteByte('\n')
		for j := range g.Findings {
			t.finding(&b, &g.Findings[j])
		}
	}
	if len(groups) > 0 {
		b.WriteByte('\n')
	}
	b.WriteString(summaryLine(r.Summary))
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Text) finding(b *strings.Builder, f *finding.Finding) {
	sev := f.Severity.String()
	head := termSafe(f.Rule)
	if f.Line > 0 {
		head += fmt.Sprintf(" line %d", f.Line)
	}
	if f.Title != "" {
		head += ": " + termSafe(f.Title)
	}
	b.WriteString("  ")
	if f.Suppressed {
		b.WriteString(t.paint(ansiDim, "suppressed "+sev+" "+head))
	} else {
		b.WriteString(t.paint(severityColor(f.Severity), sev))
		b.WriteString(strings.Repeat(" ", max(1, len("warning")+1-len(sev))))
		b.WriteString(head)
	}
	b.WriteByte('\n')
	if f.Suppressed {
		reason := f.SuppressionReason
		if reason == "" {
			reason = "(none given)"
		}
		writeField(b, "reason", termSafe(reason))
	}
	writeField(b, "", termSafe(f.Message))
	writeField(b, "evidence", termSafe(f.Evidence))
	writeField(b, "remediation", termSafe(f.Remediation))
	writeField(b, "docs", termSafe(f.DocsURL))
}

// writeField writes "    label: value", or the label on its own line and
// the value indented under it when the value has several lines. With no
// label the value is written as indented lines.
func writeField(b *strings.Builder, label, value string) {
	value = strings.TrimRight(value, "\n")
	if strings.TrimSpace(value) == "" {
		return
	}
	const indent = "    "
	lines := strings.Split(value, "\n")
	var prefix string
	switch {
	case label == "":
		prefix = indent
	case len(lines) == 1:
		b.WriteString(indent + label + ": " + value + "\n")
		return
	default:
		b.WriteString(indent + label + ":\n")
		prefix = indent + "  "
	}
	for _, l := range lines {
		if l = strings.TrimRight(l, " \t"); l != "" {
			b.WriteString(prefix + l)
		}
		b.WriteByte('\n')
	}
}

func severityColor(s finding.Severity) string {
	switch s {
	case finding.Error:
		return ansiRed
	case finding.Warning:
		return ansiYellow
	case finding.Notice:
		return ansiCyan
	}
	return ansiBold
}

func (t *Text) paint(color, s string) string {
	if !t.Color {
		return s
	}
	return color + s + ansiReset
}
