package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// JSON renders the report in the stable schema documented in the package
// doc:
//
//	{"base", "head",
//	 "findings": [{"rule", "severity", "title", "message", "file", "line",
//	               "evidence", "remediation", "docs_url", "fingerprint",
//	               "suppressed", "suppression_reason"}],
//	 "summary": {"errors", "warnings", "notices", "suppressed"}}
//
// Every key is always present; "findings" is [] when empty. The output is
// indented by two spaces and ends with a newline. It is built from its own
// structs, not from finding.Finding, so internal fields never leak into it
// and a change to the model cannot change the schema by accident.
type JSON struct{}

var _ Renderer = (*JSON)(nil)

type jsonReport struct {
	Base     string        `json:"base"`
	Head     string        `json:"head"`
	Findings []jsonFinding `json:"findings"`
	Summary  jsonSummary   `json:"summary"`
}

type jsonFinding struct {
	Rule              string `json:"rule"`
	Severity          string `json:"severity"`
	Title             string `json:"title"`
	Message           string `json:"message"`
	File              string `json:"file"`
	Line              int    `json:"line"`
	Evidence          string `json:"evidence"`
	Remediation       string `json:"remediation"`
	DocsURL           string `json:"docs_url"`
	Fingerprint       string `json:"fingerprint"`
	Suppressed        bool   `json:"suppressed"`
	SuppressionReason string `json:"suppression_reason"`
}

type jsonSummary struct {
	Errors     int `json:"errors"`
	Warnings   int `json:"warnings"`
	Notices    int `json:"notices"`
	Suppressed int `json:"suppressed"`
}

// Render writes the report. A finding with a severity outside the schema's
// three values is an error, and nothing is written.
func (*JSON) Render(w io.Writer, r *Report) error {
	if err := checkSeverities(r); err != nil {
		return err
	}
	out := jsonReport{
		Base:     r.Base,
		Head:     r.Head,
		Findings: make([]jsonFinding, 0, len(r.Findings)),
		Summary: jsonSummary{
			Errors:     r.Summary.Errors,
			Warnings:   r.Summary.Warnings,
			Notices:    r.Summary.Notices,
			Suppressed: r.Summary.Suppressed,
		},
	}
	for _, f := range r.Findings {
		out.Findings = append(out.Findings, jsonFinding{
			Rule:              f.Rule,
			Severity:          f.Severity.String(),
			Title:             f.Title,
			Message:           f.Message,
			File:              f.File,
			Line:              f.Line,
			Evidence:          f.Evidence,
			Remediation:       f.Remediation,
			DocsURL:           f.DocsURL,
			Fingerprint:       f.Fingerprint,
			Suppressed:        f.Suppressed,
			SuppressionReason: f.SuppressionReason,
		})
	}
	return writeJSON(w, out)
}

// writeJSON encodes v indented, into a buffer first so that a failure
// leaves w untouched.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ReadJSON reads a report that JSON rendered, as the fork-safe publish
// step does with the analysis run's artifact. The report comes from a
// run on untrusted code, so it is checked: severities must be known and
// the summary is recounted rather than trusted.
func ReadJSON(rd io.Reader) (*Report, error) {
	dec := json.NewDecoder(io.LimitReader(rd, 64<<20))
	dec.DisallowUnknownFields()
	var in jsonReport
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("read JSON report: %w", err)
	}
	findings := make([]finding.Finding, 0, len(in.Findings))
	var sups []Suppression
	for i, f := range in.Findings {
		sev, err := finding.ParseSeverity(f.Severity)
		if err != nil {
			return nil, fmt.Errorf("read JSON report: finding %d: %w", i, err)
		}
		findings = append(findings, finding.Finding{
			Rule: f.Rule, Severity: sev, Title: f.Title, Message: f.Message,
			File: f.File, Line: f.Line, Evidence: f.Evidence, Remediation: f.Remediation,
			DocsURL: f.DocsURL, Fingerprint: f.Fingerprint,
		})
		if f.Suppressed {
			sups = append(sups, Suppression{Rule: f.Rule, Path: globEscape(f.File), Line: f.Line, Reason: f.SuppressionReason})
		}
	}
	return New(in.Base, in.Head, findings, sups), nil
}

// globEscape quotes glob characters so a path matches only itself.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
