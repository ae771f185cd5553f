package report

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

func mk(rule string, sev finding.Severity, file string, line int, key string) finding.Finding {
	return finding.Finding{Rule: rule, Severity: sev, File: file, Line: line, Fingerprint: finding.Fingerprint(rule, file, key)}
}

func TestNewSortsDedupesAndCounts(t *testing.T) {
	in := []finding.Finding{
		mk("b/rule", finding.Warning, "z/Dockerfile", 3, "x"),
		mk("a/rule", finding.Error, "a/Dockerfile", 9, "x"),
		mk("a/rule", finding.Notice, "a/Dockerfile", 2, "y"),
		mk("a/rule", finding.Error, "a/Dockerfile", 9, "x"), // the same finding twice
		mk("c/rule", finding.Error, "a/Dockerfile", 9, "x"),
	}
	r := New("b", "h", in, nil)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.File+":"+strconv.Itoa(f.Line)+":"+f.Rule)
	}
	want := []string{"a/Dockerfile:2:a/rule", "a/Dockerfile:9:a/rule", "a/Dockerfile:9:c/rule", "z/Dockerfile:3:b/rule"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	if r.Summary != (Summary{Errors: 2, Warnings: 1, Notices: 1}) {
		t.Errorf("summary = %+v", r.Summary)
	}
}

func TestSuppressions(t *testing.T) {
	in := []finding.Finding{
		mk("image/x", finding.Error, "dev/db/Dockerfile", 3, "a"),
		mk("image/x", finding.Error, "prod/db/Dockerfile", 3, "a"),
		mk("image/y", finding.Error, "dev/db/Dockerfile", 3, "b"),
		mk("image/x", finding.Error, "ops/Dockerfile", 5, "c"),
	}
	sups := []Suppression{
		{Rule: "image/x", Path: "dev/**", Reason: "dev only"},
		{Rule: "image/x", Path: "ops/Dockerfile", Line: 5, Reason: "inline"},
		{Rule: "image/x", Path: "prod/db/Dockerfile", Line: 4, Reason: "another line"},
	}
	r := New("", "", in, sups)
	want := map[string]string{"dev/db/Dockerfile image/x": "dev only", "ops/Dockerfile image/x": "inline"}
	for _, f := range r.Findings {
		reason, ok := want[f.File+" "+f.Rule]
		if f.Suppressed != ok || f.SuppressionReason != reason {
			t.Errorf("%s %s: suppressed=%v reason=%q", f.File, f.Rule, f.Suppressed, f.SuppressionReason)
		}
	}
	if r.Summary != (Summary{Errors: 2, Suppressed: 2}) {
		t.Errorf("summary = %+v", r.Summary)
	}
}

func TestFailedAndHighest(t *testing.T) {
	warn := New("", "", []finding.Finding{mk("r/w", finding.Warning, "f", 1, "")}, nil)
	supErr := New("", "", []finding.Finding{mk("r/e", finding.Error, "f", 1, "")}, []Suppression{{Rule: "r/e", Reason: "ok"}})
	empty := New("", "", nil, nil)
	for _, tt := range []struct {
		name   string
		r      *Report
		failOn finding.Severity
		want   bool
	}{
		{"warning under error", warn, finding.Error, false},
		{"warning at warning", warn, finding.Warning, true},
		{"warning at notice", warn, finding.Notice, true},
		{"none never fails", warn, 0, false},
		{"suppressed error", supErr, finding.Notice, false},
		{"empty", empty, finding.Notice, false},
	} {
		if got := tt.r.Failed(tt.failOn); got != tt.want {
			t.Errorf("%s: Failed = %v, want %v", tt.name, got, tt.want)
		}
	}
	if warn.Highest() != finding.Warning || supErr.Highest() != 0 || empty.Highest() != 0 {
		t.Errorf("Highest = %v %v %v", warn.Highest(), supErr.Highest(), empty.Highest())
	}
}

func TestMatchGlob(t *testing.T) {
	for _, tt := range []struct {
		pat, name string
		want      bool
	}{
		{"dev/**", "dev/db/Dockerfile", true},
		{"dev/**", "dev/Dockerfile", true},
		{"dev/**", "prod/dev/Dockerfile", false},
		{"**/Dockerfile", "Dockerfile", true},
		{"**/Dockerfile", "a/b/c/Dockerfile", true},
		{"**/Dockerfile", "a/b/Dockerfile.prod", false},
		{"*/Dockerfile", "a/Dockerfile", true},
		{"*/Dockerfile", "a/b/Dockerfile", false},
		{"deploy/**/db.Dockerfile", "deploy/eu/west/db.Dockerfile", true},
		{"Dockerfile", "Dockerfile", true},
		{"[", "[", false},
	} {
		if got := MatchGlob(tt.pat, tt.name); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

func TestReadJSONRoundTrip(t *testing.T) {
	in := []finding.Finding{
		{Rule: "a/rule", Severity: finding.Error, Title: "T", Message: "m", File: "we[i]rd*/Dockerfile", Line: 3, Evidence: "e", Remediation: "r", DocsURL: "u", Fingerprint: "f1"},
		{Rule: "b/rule", Severity: finding.Notice, File: "x", Line: 1, Fingerprint: "f2"},
	}
	orig := New("b", "h", in, []Suppression{{Rule: "a/rule", Path: "we[i]rd*/Dockerfile", Reason: "why"}})
	// The suppression above uses a glob that does not match the literal
	// path, so mark it by hand as a run would have.
	orig.Findings[0].Suppressed, orig.Findings[0].SuppressionReason = true, "why"
	orig.Summary = Summary{Notices: 1, Suppressed: 1}

	var buf strings.Builder
	if err := (&JSON{}).Render(&buf, orig); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, orig) {
		t.Errorf("round trip changed the report:\n got %+v\nwant %+v", back, orig)
	}
	for _, bad := range []string{`{"findings":[{"severity":"fatal"}]}`, `{"findings":[],"extra":1}`, `not json`} {
		if _, err := ReadJSON(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadJSON(%s) succeeded", bad)
		}
	}
}
