// Package finding holds the model every check reports in: severities, the
// rule registry, findings and their fingerprints, and suppressions.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Severity orders findings. The zero value is not a valid severity, so a
// rule that forgot to set one fails the registry test.
type Severity int

const (
	Notice Severity = iota + 1
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Notice:
		return "notice"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText makes severities read as words in JSON and YAML.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText accepts the words that String prints.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "error", "warning" or "notice".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "notice":
		return Notice, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning or notice)", s)
}

// Finding is one problem found in a change. File and Line are on the head
// side, or on the base side for something the change deleted.
type Finding struct {
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Message     string   `json:"message"`
	File        string   `json:"file,omitempty"`
	Line        int      `json:"line,omitempty"`
	Evidence    string   `json:"evidence,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	DocsURL     string   `json:"docs_url,omitempty"`
	Fingerprint string   `json:"fingerprint"`
	// Suppressed is set by the report when a suppression matched; the
	// reason is kept so a reviewer can judge it.
	Suppressed        bool   `json:"suppressed"`
	SuppressionReason string `json:"suppression_reason,omitempty"`
	// Key tells findings of one rule in one file apart without line
	// numbers (a stage name, a service name), so fingerprints survive
	// edits above the line.
	Key string `json:"-"`
}

// New makes a finding of rule r with the rule's default severity, title
// and docs URL filled in. The fingerprint is computed from rule, file and
// key, never from the line.
func New(r *Rule, file string, line int, key, message string) Finding {
	f := Finding{
		Rule:     r.ID,
		Severity: r.Severity,
		Title:    r.Title,
		Message:  message,
		File:     file,
		Line:     line,
		DocsURL:  r.DocsURL(),
		Key:      key,
	}
	f.Fingerprint = Fingerprint(r.ID, file, key)
	return f
}

// Fingerprint is stable across commits: it hashes what a finding is about,
// not where it sits in the file.
func Fingerprint(rule, file, key string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + file + "\x00" + key))
	return hex.EncodeToString(h[:8])
}

// InputError is a problem in a file breakwater reads, with the line it is
// on (0 when the parser did not say). Extractors return it so the caller
// can report file, line and reason together.
type InputError struct {
	File string
	Line int
	Msg  string
}

func (e *InputError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}
