package action

import (
	"strconv"

	"github.com/sethvargo/go-githubactions"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// annotationsPerLevel is how many workflow-command annotations of one
// level GitHub shows for a step; more are dropped silently, so breakwater
// says how many it left out instead.
const annotationsPerLevel = 10

// annotate writes findings as workflow-command annotations, the fallback
// when no check run carries them (a fork's read-only token, or check-run
// off). go-githubactions escapes the data and properties, so nothing in a
// finding can start a command of its own.
func annotate(a *githubactions.Action, rep *report.Report) {
	shown := map[finding.Severity]int{}
	left := 0
	for _, f := range rep.Findings {
		if f.Suppressed {
			continue
		}
		if shown[f.Severity] == annotationsPerLevel {
			left++
			continue
		}
		shown[f.Severity]++
		fields := map[string]string{"title": f.Rule + ": " + f.Title}
		if f.File != "" {
			fields["file"] = f.File
			if f.Line > 0 {
				fields["line"] = strconv.Itoa(f.Line)
			}
		}
		msg := f.Message
		if f.Remediation != "" {
			msg += "\n\n" + f.Remediation
		}
		aa := a.WithFieldsMap(fields)
		switch f.Severity {
		case finding.Error:
			aa.Errorf("%s", msg)
		case finding.Warning:
			aa.Warningf("%s", msg)
		default:
			aa.Noticef("%s", msg)
		}
	}
	if left > 0 {
		a.Noticef("breakwater: %d more findings are not annotated here (GitHub shows %d per level); see the job summary", left, annotationsPerLevel)
	}
}
