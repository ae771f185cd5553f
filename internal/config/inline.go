package config

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/breakwater-ci/breakwater/internal/report"
)

// inlineRe finds `# breakwater:ignore RULE reason` (and `--` or `//`
// comments for SQL and other languages).
var inlineRe = regexp.MustCompile(`(?:#|--|//)\s*breakwater:ignore(?:\s+(\S+))?(?:\s+(.*))?$`)

// InlineError is a malformed inline suppression at a line.
type InlineError struct {
	Line int
	Msg  string
}

// Inline finds inline suppressions in a file. A comment on a line of its
// own covers the next line that is neither blank nor a comment; a comment
// at the end of a line covers that line.
func Inline(file string, content []byte) ([]report.Suppression, []InlineError) {
	if !bytes.Contains(content, []byte("breakwater:ignore")) {
		return nil, nil
	}
	lines := strings.Split(string(content), "\n")
	var (
		sups    []report.Suppression
		errs    []InlineError
		pending []report.Suppression
	)
	for i, line := range lines {
		n := i + 1
		trimmed := strings.TrimSpace(line)
		own := strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "--") || strings.HasPrefix(trimmed, "//")
		if m := inlineRe.FindStringSubmatch(line); m != nil {
			if err := checkSuppression(m[1], m[2]); err != nil {
				errs = append(errs, InlineError{Line: n, Msg: "breakwater:ignore: " + err.Error()})
			} else {
				s := report.Suppression{Rule: m[1], Path: file, Reason: strings.TrimSpace(m[2])}
				if own {
					pending = append(pending, s)
				} else {
					s.Line = n
					sups = append(sups, s)
				}
			}
			if own {
				continue
			}
		}
		if trimmed == "" || own {
			continue
		}
		for _, s := range pending {
			s.Line = n
			sups = append(sups, s)
		}
		pending = nil
	}
	return sups, errs
}
