package github

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// GitHub's limits on check run output.
const (
	// AnnotationBatch is how many annotations one request may carry.
	AnnotationBatch = 50
	// MaxAnnotations caps the annotations of one check run (20 requests),
	// so a huge report does not run into the secondary rate limits. The
	// output text says when findings were left unannotated.
	MaxAnnotations = 1000
	// SummaryLimit is the most the output summary may hold.
	SummaryLimit  = 65535
	maxFieldBytes = 64 << 10 // annotation message and raw_details
	maxTitleRunes = 255      // annotation title
)

// CheckRunOptions describe the check run PublishCheckRun creates.
type CheckRunOptions struct {
	Name    string // the check's name, e.g. "breakwater" or "breakwater (services/api)"
	HeadSHA string // the commit the check is on: the pull request's head
	// Conclusion is one of success, failure, neutral, cancelled, skipped,
	// timed_out or action_required; Conclusion(r, failOn) gives the one
	// that agrees with the exit code.
	Conclusion string
	DetailsURL string // optional: the workflow run
	// SummaryURL is linked from a summary shortened to counts.
	SummaryURL string
	// Render, when set, replaces report.Markdown for the output summary: it
	// returns the summary in at most limit bytes. A longer one is cut.
	Render func(limit int) string
}

// Conclusion is "failure" when r has an unsuppressed finding at or above
// failOn, otherwise "success"; failOn 0 never fails.
func Conclusion(r *report.Report, failOn finding.Severity) string {
	if r.Failed(failOn) {
		return "failure"
	}
	return "success"
}

var conclusions = map[string]bool{
	"success": true, "failure": true, "neutral": true, "cancelled": true,
	"skipped": true, "timed_out": true, "action_required": true,
}

// PublishCheckRun creates a completed check run on opt.HeadSHA and returns
// its URL. The output title is the counts, the summary the Markdown
// rendering of r in at most SummaryLimit bytes.
//
// Each unsuppressed finding with a file becomes an annotation on that file
// (line 1 when it has no line) at level failure, warning or notice. The
// first AnnotationBatch go with the creation, the rest in updates of
// AnnotationBatch each, which repeat title and summary as the API
// requires; at most MaxAnnotations are sent. Findings without a file are
// in the summary only. Annotation text is plain, not Markdown: it is sent
// as found, cut to GitHub's limits.
//
// The run is created completed, so that its conclusion is right even when
// a later batch fails. A 403 or 404 is a *PermissionError naming
// checks: write.
func (c *Client) PublishCheckRun(ctx context.Context, r *report.Report, opt CheckRunOptions) (string, error) {
	switch {
	case r == nil:
		return "", errors.New("github: no report for the check run")
	case opt.Name == "" || opt.HeadSHA == "":
		return "", errors.New("github: a check run needs a name and a head commit")
	case !conclusions[opt.Conclusion]:
		return "", fmt.Errorf("github: check run conclusion %q is not one GitHub accepts", opt.Conclusion)
	}
	anns, skipped := annotations(r)
	output := func(batch []*gh.CheckRunAnnotation) *gh.CheckRunOutput {
		return &gh.CheckRunOutput{
			Title:       gh.String(checkTitle(r.Summary)),
			Summary:     gh.String(checkSummary(r, opt)),
			Text:        checkText(len(anns), skipped),
			Annotations: batch,
		}
	}
	first := anns[:min(len(anns), AnnotationBatch)]
	create := gh.CreateCheckRunOptions{
		Name:        opt.Name,
		HeadSHA:     opt.HeadSHA,
		Status:      gh.String("completed"),
		Conclusion:  gh.String(opt.Conclusion),
		CompletedAt: &gh.Timestamp{Time: time.Now()},
		Output:      output(first),
	}
	if opt.DetailsURL != "" {
		create.DetailsURL = gh.String(opt.DetailsURL)
	}
	run, _, err := c.gh.Checks.CreateCheckRun(ctx, c.owner, c.repo, create)
	if err != nil {
		return "", c.fail("create the check run", PermChecksWrite, err)
	}
	for i := len(first); i < len(anns); i += AnnotationBatch {
		batch := anns[i:min(len(anns), i+AnnotationBatch)]
		_, _, err := c.gh.Checks.UpdateCheckRun(ctx, c.owner, c.repo, run.GetID(), gh.UpdateCheckRunOptions{
			Name:   opt.Name,
			Output: output(batch),
		})
		if err != nil {
			return run.GetHTMLURL(), c.fail("add annotations to the check run", PermChecksWrite, err)
		}
	}
	return run.GetHTMLURL(), nil
}

// annotations maps the unsuppressed findings with a file, at most
// MaxAnnotations of them, and counts those left out.
func annotations(r *report.Report) (anns []*gh.CheckRunAnnotation, skipped int) {
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Suppressed {
			continue
		}
		if f.File == "" || len(anns) == MaxAnnotations {
			skipped++
			continue
		}
		line := max(f.Line, 1)
		a := &gh.CheckRunAnnotation{
			Path:            gh.String(f.File),
			StartLine:       gh.Int(line),
			EndLine:         gh.Int(line),
			AnnotationLevel: gh.String(annotationLevel(f.Severity)),
			Title:           gh.String(truncRunes(annotationTitle(f), maxTitleRunes)),
			Message:         gh.String(truncBytes(annotationMessage(f), maxFieldBytes)),
		}
		if d := rawDetails(f); d != "" {
			a.RawDetails = gh.String(truncBytes(d, maxFieldBytes))
		}
		anns = append(anns, a)
	}
	return anns, skipped
}

func annotationLevel(s finding.Severity) string {
	switch s {
	case finding.Error:
		return "failure"
	case finding.Warning:
		return "warning"
	}
	return "notice"
}

func annotationTitle(f *finding.Finding) string {
	if f.Title == "" {
		return f.Rule
	}
	return f.Rule + ": " + f.Title
}

func annotationMessage(f *finding.Finding) string {
	msg := f.Message
	if msg == "" {
		msg = annotationTitle(f)
	}
	if f.Evidence != "" {
		msg += "\n\nEvidence: " + f.Evidence
	}
	return msg
}

func rawDetails(f *finding.Finding) string {
	var parts []string
	if f.Remediation != "" {
		parts = append(parts, "Remediation:\n"+f.Remediation)
	}
	if f.DocsURL != "" {
		parts = append(parts, "Docs: "+f.DocsURL)
	}
	return strings.Join(parts, "\n\n")
}

// checkTitle is the counts, as in the Markdown heading.
func checkTitle(s report.Summary) string {
	if s.Errors+s.Warnings+s.Notices+s.Suppressed == 0 {
		return "No findings"
	}
	t := fmt.Sprintf("%s, %s, %s", plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Notices, "notice"))
	if s.Suppressed > 0 {
		t += fmt.Sprintf(" (%d suppressed)", s.Suppressed)
	}
	return t
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func checkSummary(r *report.Report, opt CheckRunOptions) string {
	if opt.Render != nil {
		return cut(opt.Render(SummaryLimit), SummaryLimit)
	}
	var b strings.Builder
	_ = (&report.Markdown{Limit: SummaryLimit, SummaryURL: opt.SummaryURL}).Render(&b, r)
	return cut(b.String(), SummaryLimit)
}

// checkText says which findings have no annotation, or is nil.
func checkText(annotated, skipped int) *string {
	if skipped == 0 {
		return nil
	}
	return gh.String(fmt.Sprintf("%d of %d findings are annotated: findings without a file, and any beyond the first %d, are in the summary only.",
		annotated, annotated+skipped, MaxAnnotations))
}

// truncRunes keeps at most n runes of s.
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
