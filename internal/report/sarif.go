package report

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// SARIF renders the report as a SARIF 2.1.0 log that GitHub code scanning
// accepts: one run whose driver is breakwater, with a rule descriptor for
// each rule the report uses (sorted by ID) and one result per finding.
//
//   - level is "error", "warning" or "note" from the finding's severity;
//     defaultConfiguration.level is the rule's default severity.
//   - A finding with a file has one location: its path as a relative URI
//     under uriBaseId %SRCROOT%, with region.startLine when the line is
//     known. A finding without a file has no locations.
//   - partialFingerprints["breakwater/v1"] is the finding's fingerprint, so
//     alerts survive line moves.
//   - A suppressed finding carries suppressions [{kind: external,
//     justification: reason}].
//
// Every rule a finding names must be registered (finding.Lookup), since
// the descriptors come from the registry; an unregistered rule or a finding
// with an invalid severity is an error, and nothing is written.
type SARIF struct {
	ToolVersion string // driver.version; omitted when empty
}

var _ Renderer = (*SARIF)(nil)

const (
	sarifSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion   = "2.1.0"
	// InformationURI is the project's home, named in SARIF output.
	InformationURI = "https://github.com/breakwater-ci/breakwater"
	// FingerprintKey names breakwater's fingerprint in SARIF
	// partialFingerprints. Bump the version if fingerprints ever change
	// meaning.
	FingerprintKey = "breakwater/v1"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string             `json:"id"`
	Name                 string             `json:"name"`
	ShortDescription     sarifMessage       `json:"shortDescription"`
	FullDescription      sarifMessage       `json:"fullDescription"`
	HelpURI              string             `json:"helpUri,omitempty"`
	Help                 *sarifMultiformat  `json:"help,omitempty"`
	DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifMultiformat struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifMessage       `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification,omitempty"`
}

// Render writes the log.
func (s *SARIF) Render(w io.Writer, r *Report) error {
	if err := checkSeverities(r); err != nil {
		return err
	}
	var ids []string
	index := map[string]int{}
	for _, f := range r.Findings {
		if _, ok := index[f.Rule]; !ok {
			index[f.Rule] = 0
			ids = append(ids, f.Rule)
		}
	}
	sort.Strings(ids)
	rules := make([]sarifRule, 0, len(ids))
	for i, id := range ids {
		rule, ok := finding.Lookup(id)
		if !ok {
			return fmt.Errorf("report: sarif: rule %q is not registered", id)
		}
		level, ok := sarifLevel(rule.Severity)
		if !ok {
			return fmt.Errorf("report: sarif: rule %q has invalid default severity %d", id, int(rule.Severity))
		}
		index[id] = i
		rules = append(rules, sarifRule{
			ID:                   rule.ID,
			Name:                 rule.ID,
			ShortDescription:     sarifMessage{Text: sarifText(rule.Title)},
			FullDescription:      sarifMessage{Text: sarifText(rule.Summary)},
			HelpURI:              rule.DocsURL(),
			Help:                 ruleHelp(rule),
			DefaultConfiguration: sarifConfiguration{Level: level},
		})
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		level, _ := sarifLevel(f.Severity) // checked above
		res := sarifResult{
			RuleID:    f.Rule,
			RuleIndex: index[f.Rule],
			Level:     level,
			Message:   sarifMessage{Text: resultText(&f)},
		}
		if f.File != "" {
			loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: fileURI(f.File), URIBaseID: "%SRCROOT%"},
			}}
			if f.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
			}
			res.Locations = []sarifLocation{loc}
		}
		if f.Fingerprint != "" {
			res.PartialFingerprints = map[string]string{FingerprintKey: f.Fingerprint}
		}
		if f.Suppressed {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: f.SuppressionReason}}
		}
		results = append(results, res)
	}
	return writeJSON(w, sarifLog{
		Schema:  sarifSchemaURI,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name:           "breakwater",
				InformationURI: InformationURI,
				Version:        s.ToolVersion,
				Rules:          rules,
			}},
			Results: results,
		}},
	})
}

func sarifLevel(s finding.Severity) (string, bool) {
	switch s {
	case finding.Error:
		return "error", true
	case finding.Warning:
		return "warning", true
	case finding.Notice:
		return "note", true
	}
	return "", false
}

// resultText is the alert message: the finding's message, then evidence
// and remediation on their own lines.
func resultText(f *finding.Finding) string {
	text := f.Message
	if text == "" {
		text = f.Title
	}
	if f.Evidence != "" {
		text += "\nEvidence: " + f.Evidence
	}
	if f.Remediation != "" {
		text += "\nRemediation: " + f.Remediation
	}
	return sarifText(text)
}

// ruleHelp is the rule's help panel in code scanning.
func ruleHelp(r *finding.Rule) *sarifMultiformat {
	text := r.Summary
	md := EscapeMarkdown(r.Summary)
	if r.Incident != "" {
		text += "\n\nWhy: " + r.Incident
		md += "\n\n**Why:** " + EscapeMarkdown(r.Incident)
	}
	text += "\n\nDocumentation: " + r.DocsURL()
	if u, ok := safeURL(r.DocsURL()); ok {
		md += "\n\n[Documentation](" + u + ")"
	}
	return &sarifMultiformat{Text: sarifText(text), Markdown: md}
}

// fileURI turns a repository-relative, slash-separated path into a
// relative URI reference: each segment percent-encoded, and a first
// segment with a colon prefixed by "./" so it cannot read as a scheme.
func fileURI(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := strings.Join(segs, "/")
	if strings.Contains(segs[0], ":") {
		u = "./" + u
	}
	return u
}
