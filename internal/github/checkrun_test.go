package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	gh "github.com/google/go-github/v62/github"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/report"
)

// checkRequests decodes the check run requests the fake received: the
// creation, then the updates.
func checkRequests(t *testing.T, f *fakeGitHub) (gh.CreateCheckRunOptions, []gh.UpdateCheckRunOptions) {
	t.Helper()
	var create gh.CreateCheckRunOptions
	var updates []gh.UpdateCheckRunOptions
	for i, r := range f.writes() {
		switch {
		case i == 0 && r.String() == "POST /repos/o/r/check-runs":
			if err := json.Unmarshal(r.Body, &create); err != nil {
				t.Fatal(err)
			}
		case i > 0 && r.String() == "PATCH /repos/o/r/check-runs/7":
			var u gh.UpdateCheckRunOptions
			if err := json.Unmarshal(r.Body, &u); err != nil {
				t.Fatal(err)
			}
			updates = append(updates, u)
		default:
			t.Fatalf("request %d: %s", i, r)
		}
	}
	return create, updates
}

func TestPublishCheckRunBatches(t *testing.T) {
	var fs []finding.Finding
	for i := range 120 {
		fs = append(fs, finding.New(ruleError, fmt.Sprintf("f%03d/Dockerfile", i), i%5, "", "boom"))
	}
	fs = append(fs,
		finding.New(ruleWarning, "", 0, "a", "not tied to a file"),
		finding.New(ruleNotice, "quiet/Dockerfile", 1, "", "suppressed"),
	)
	r := report.New("b", "h", fs, []report.Suppression{{Rule: ruleNotice.ID, Path: "quiet/**", Reason: "ok"}})
	f := newFake(t)
	url, err := f.client(&sleeper{}, nil).PublishCheckRun(context.Background(), r, CheckRunOptions{
		Name: "breakwater", HeadSHA: "abc123", Conclusion: Conclusion(r, finding.Error),
		DetailsURL: "https://github.com/o/r/actions/runs/42",
	})
	if err != nil {
		t.Fatal(err)
	}
	if url != "https://github.com/o/r/runs/7" {
		t.Errorf("url = %q", url)
	}
	create, updates := checkRequests(t, f)
	if create.Name != "breakwater" || create.HeadSHA != "abc123" || create.GetStatus() != "completed" ||
		create.GetConclusion() != "failure" || create.CompletedAt == nil || create.GetDetailsURL() == "" {
		t.Errorf("create = %+v", create)
	}
	sizes := []int{len(create.Output.Annotations)}
	for _, u := range updates {
		sizes = append(sizes, len(u.Output.Annotations))
		if u.Name != "breakwater" || u.Output.GetTitle() != create.Output.GetTitle() || u.Output.GetSummary() != create.Output.GetSummary() {
			t.Errorf("update without name, title or summary: %q %q", u.Name, u.Output.GetTitle())
		}
		if u.Status != nil || u.Conclusion != nil {
			t.Errorf("update changes the status: %v %v", u.GetStatus(), u.GetConclusion())
		}
	}
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Errorf("batches = %v, want [50 50 20]", sizes)
	}
	if got := create.Output.GetTitle(); got != "120 errors, 1 warning, 0 notices (1 suppressed)" {
		t.Errorf("title = %q", got)
	}
	if s := create.Output.GetSummary(); !strings.Contains(s, "f000/Dockerfile") || !strings.Contains(s, "not tied to a file") {
		t.Errorf("summary lacks the findings:\n%.500s", s)
	}
	if got := create.Output.GetText(); !strings.Contains(got, "120 of 121 findings are annotated") {
		t.Errorf("text = %q", got)
	}
	a := create.Output.Annotations[0]
	if a.GetPath() != "f000/Dockerfile" || a.GetStartLine() != 1 || a.GetEndLine() != 1 ||
		a.GetAnnotationLevel() != "failure" || a.GetTitle() != "ghtest/libc-swap: Base image changes libc" || a.GetMessage() != "boom" {
		t.Errorf("annotation of a finding on line 0 = %+v", a)
	}
	if a := create.Output.Annotations[3]; a.GetStartLine() != 3 {
		t.Errorf("annotation on line %d, want 3", a.GetStartLine())
	}
	for _, u := range updates {
		for _, a := range u.Output.Annotations {
			if a.GetPath() == "" || strings.HasPrefix(a.GetPath(), "quiet/") {
				t.Errorf("annotated %q", a.GetPath())
			}
		}
	}
}

func TestPublishCheckRunOneRequest(t *testing.T) {
	f := newFake(t)
	r := report.New("b", "h", nil, nil)
	if _, err := f.client(&sleeper{}, nil).PublishCheckRun(context.Background(), r, CheckRunOptions{
		Name: "breakwater", HeadSHA: "abc", Conclusion: Conclusion(r, finding.Error),
	}); err != nil {
		t.Fatal(err)
	}
	create, updates := checkRequests(t, f)
	if len(updates) != 0 || create.GetConclusion() != "success" || create.Output.GetTitle() != "No findings" ||
		len(create.Output.Annotations) != 0 || create.Output.Text != nil {
		t.Errorf("create = %+v, %d updates", create.Output, len(updates))
	}
}

func TestPublishCheckRunCapsAnnotations(t *testing.T) {
	f := newFake(t)
	r := manyReport(MaxAnnotations+100, 50)
	if _, err := f.client(&sleeper{}, nil).PublishCheckRun(context.Background(), r, CheckRunOptions{
		Name: "breakwater", HeadSHA: "abc", Conclusion: "failure",
	}); err != nil {
		t.Fatal(err)
	}
	create, updates := checkRequests(t, f)
	n := len(create.Output.Annotations)
	for _, u := range updates {
		n += len(u.Output.Annotations)
	}
	if n != MaxAnnotations || len(updates) != MaxAnnotations/AnnotationBatch-1 {
		t.Errorf("%d annotations in %d updates", n, len(updates))
	}
	if len(create.Output.GetSummary()) > SummaryLimit {
		t.Errorf("summary is %d bytes", len(create.Output.GetSummary()))
	}
	if !strings.Contains(create.Output.GetText(), fmt.Sprintf("%d of %d findings are annotated", MaxAnnotations, MaxAnnotations+100)) {
		t.Errorf("text = %q", create.Output.GetText())
	}
}

func TestAnnotationFields(t *testing.T) {
	long := finding.New(ruleWarning, "a/b.yaml", 4, "", strings.Repeat("m", 70000))
	long.Title = strings.Repeat("é", 300)
	long.Evidence = "<b>kept as plain text</b> `x` @here"
	long.Remediation = strings.Repeat("r", 70000)
	plain := finding.New(ruleNotice, "c.yaml", 2, "", "")
	r := report.New("", "", []finding.Finding{long, plain}, nil)
	anns, skipped := annotations(r)
	if len(anns) != 2 || skipped != 0 {
		t.Fatalf("%d annotations, %d skipped", len(anns), skipped)
	}
	a := anns[0]
	if n := utf8.RuneCountInString(a.GetTitle()); n != maxTitleRunes {
		t.Errorf("title is %d runes", n)
	}
	if len(a.GetMessage()) > maxFieldBytes || len(a.GetRawDetails()) > maxFieldBytes {
		t.Errorf("message %d, raw details %d bytes", len(a.GetMessage()), len(a.GetRawDetails()))
	}
	if !strings.HasPrefix(a.GetRawDetails(), "Remediation:\nrrr") || a.GetAnnotationLevel() != "warning" {
		t.Errorf("annotation = %+v", a)
	}
	b := anns[1]
	if b.GetMessage() != "ghtest/unknown-image: Unknown image" || b.GetAnnotationLevel() != "notice" ||
		b.GetRawDetails() != "Docs: "+ruleNotice.DocsURL() {
		t.Errorf("annotation = %+v", b)
	}
	ev := finding.New(ruleError, "x", 1, "", "msg")
	ev.Evidence = "<b>kept as plain text</b> `x` @here"
	anns, _ = annotations(report.New("", "", []finding.Finding{ev}, nil))
	if got := anns[0].GetMessage(); got != "msg\n\nEvidence: <b>kept as plain text</b> `x` @here" {
		t.Errorf("message = %q", got)
	}
}

func TestPublishCheckRunErrors(t *testing.T) {
	r := sampleReport()
	ok := CheckRunOptions{Name: "breakwater", HeadSHA: "abc", Conclusion: "failure"}
	t.Run("bad options", func(t *testing.T) {
		f := newFake(t)
		c := f.client(&sleeper{}, nil)
		for _, opt := range []CheckRunOptions{
			{HeadSHA: "abc", Conclusion: "failure"},
			{Name: "x", Conclusion: "failure"},
			{Name: "x", HeadSHA: "abc", Conclusion: "red"},
			{Name: "x", HeadSHA: "abc"},
		} {
			if _, err := c.PublishCheckRun(context.Background(), r, opt); err == nil {
				t.Errorf("%+v: no error", opt)
			}
		}
		if len(f.log()) != 0 {
			t.Errorf("requests: %v", f.log())
		}
	})
	for _, tt := range []struct {
		name   string
		method string
		status int
	}{
		{"403 on create", http.MethodPost, 403},
		{"404 on create", http.MethodPost, 404},
		{"403 on update", http.MethodPatch, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.intercept = func(w http.ResponseWriter, req *http.Request, n int) bool {
				if req.Method != tt.method {
					return false
				}
				respond(w, tt.status, nil, "Resource not accessible by integration")
				return true
			}
			_, err := f.client(&sleeper{}, nil).PublishCheckRun(context.Background(), manyReport(60, 5), ok)
			var pe *PermissionError
			if !errors.As(err, &pe) || pe.Permission != PermChecksWrite || pe.Status != tt.status {
				t.Fatalf("err = %v, want a *PermissionError for checks: write", err)
			}
			if !strings.Contains(err.Error(), "`permissions: checks: write`") {
				t.Errorf("message: %v", err)
			}
		})
	}
}

func TestConclusion(t *testing.T) {
	r := sampleReport() // an error, a warning and a notice
	for failOn, want := range map[finding.Severity]string{
		0: "success", finding.Error: "failure", finding.Warning: "failure", finding.Notice: "failure",
	} {
		if got := Conclusion(r, failOn); got != want {
			t.Errorf("Conclusion(%v) = %s, want %s", failOn, got, want)
		}
	}
	if got := Conclusion(report.New("", "", nil, nil), finding.Notice); got != "success" {
		t.Errorf("Conclusion of no findings = %s", got)
	}
}
