package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// manyFindings makes n findings spread over files files, each with a
// message and remediation long enough that detail cannot fit a comment.
func manyFindings(n, files int) *Report {
	rules := []*finding.Rule{testLibcSwap, testFloatingTag, testUnknownImage}
	var fs []finding.Finding
	for i := range n {
		file := fmt.Sprintf("services/svc-%04d/Dockerfile", i%files)
		f := finding.New(rules[i%len(rules)], file, i+1, fmt.Sprintf("stage-%d", i),
			strings.Repeat("postgres:11 moves from glibc to musl. ", 4))
		f.Remediation = "REINDEX DATABASE app;"
		fs = append(fs, f)
	}
	return New("base", "head", fs, []Suppression{{Rule: testUnknownImage.ID, Path: "services/svc-0001/**", Reason: "checked"}})
}

func TestMarkdownLimit(t *testing.T) {
	tests := []struct {
		name         string
		report       *Report
		md           Markdown
		wantShort    bool
		wantMoreRow  bool
		wantContains []string
	}{
		{
			name:   "sample fits",
			report: sampleReport(),
			wantContains: []string{
				"<details open>", "<summary>1 suppressed finding</summary>",
			},
		},
		{
			name:      "many findings, few files",
			report:    manyFindings(3000, 40),
			wantShort: true,
			wantContains: []string{
				"**1000 errors, 1000 warnings, 975 notices (25 suppressed)**",
				"| services/svc-0001/Dockerfile | 25 | 25 | 0 | 25 |",
				"job summary of this workflow run",
				"| services/svc-0039/Dockerfile | 25 | 25 | 25 | 0 |",
			},
		},
		{
			name:        "many files",
			report:      manyFindings(5000, 5000),
			wantShort:   true,
			wantMoreRow: true,
			wantContains: []string{
				"**1667 errors, 1667 warnings, 1666 notices**",
				"| services/svc-0000/Dockerfile | 1 | 0 | 0 | 0 |",
			},
		},
		{
			name:      "summary link",
			report:    manyFindings(3000, 40),
			md:        Markdown{SummaryURL: "https://github.com/o/r/actions/runs/42"},
			wantShort: true,
			wantContains: []string{
				"[job summary](https://github.com/o/r/actions/runs/42)",
			},
		},
		{
			name:   "no limit",
			report: manyFindings(3000, 40),
			md:     Markdown{Limit: -1},
			wantContains: []string{
				"<details open>",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.md.Render(&buf, tt.report); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if tt.md.Limit == 0 && len(out) > CommentLimit {
				t.Errorf("body is %d bytes, over %d", len(out), CommentLimit)
			}
			short := strings.Contains(out, "too long for a comment")
			if short != tt.wantShort {
				t.Errorf("shortened = %v, want %v", short, tt.wantShort)
			}
			if short && strings.Contains(out, "<details") {
				t.Error("shortened body still has per-file detail")
			}
			if more := strings.Contains(out, "more files*"); more != tt.wantMoreRow {
				t.Errorf("has a more-files row = %v, want %v", more, tt.wantMoreRow)
			}
			for _, s := range tt.wantContains {
				if !strings.Contains(out, s) {
					t.Errorf("body lacks %q", s)
				}
			}
		})
	}
}

// TestMarkdownLimitExact checks the cut holds at limits near the edge of
// each row.
func TestMarkdownLimitExact(t *testing.T) {
	r := manyFindings(120, 120)
	for limit := 1000; limit < 3000; limit += 7 {
		var buf bytes.Buffer
		if err := (&Markdown{Limit: limit}).Render(&buf, r); err != nil {
			t.Fatal(err)
		}
		if buf.Len() > limit {
			t.Fatalf("limit %d: body is %d bytes", limit, buf.Len())
		}
	}
}

func TestMarkdownHostile(t *testing.T) {
	var buf bytes.Buffer
	if err := (&Markdown{}).Render(&buf, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script", "<img", "<!--", "<b>", "@here", "@org", "@ops-team", "\u202e", "\x1b", "[link](", "#12", "https://evil"} {
		if strings.Contains(out, bad) {
			t.Errorf("body contains %q", bad)
		}
	}
	// Every table row must have exactly its columns: an unescaped pipe or
	// newline from the change would add cells or rows.
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := 0
		for i := 0; i < len(line); i++ {
			switch line[i] {
			case '\\':
				i++
			case '|':
				cells++
			}
		}
		if cells != 5 && cells != 6 {
			t.Errorf("row with %d pipes: %q", cells, line)
		}
	}
	// Five </details> close five <details>: the change cannot close one.
	if o, c := strings.Count(out, "<details"), strings.Count(out, "</details>"); o != c || o != 5 {
		t.Errorf("%d <details> and %d </details>, want 5 each", o, c)
	}
}
