package github

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/breakwater-ci/breakwater/internal/finding"
	"github.com/breakwater-ci/breakwater/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestUpsertCommentCreates(t *testing.T) {
	f := newFake(t)
	f.addComment("LGTM", "octocat", "User")
	url, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writes := f.writes()
	if len(writes) != 1 || writes[0].String() != "POST /repos/o/r/issues/1/comments" {
		t.Fatalf("writes = %v, want one POST /repos/o/r/issues/1/comments", writes)
	}
	body := f.commentBodies()[0]
	if !strings.HasPrefix(body, MarkerLine("")+"\n<!-- breakwater:fingerprints ") {
		t.Errorf("body does not start with the marker:\n%s", body)
	}
	for _, want := range []string{"1 error, 1 warning, 1 notice", "docker/db/Dockerfile", "ghtest/libc-swap"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	if url != "https://github.com/o/r/pull/1#issuecomment-1002" {
		t.Errorf("url = %q", url)
	}
	if got := f.log()[0].Auth; got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
}

// TestUpsertCommentUpdatesAcrossPages finds the comment on the last of
// three pages and edits it; a second run with the same report writes
// nothing.
func TestUpsertCommentUpdatesAcrossPages(t *testing.T) {
	f := newFake(t)
	for i := range 250 {
		switch i % 3 {
		case 0:
			f.addComment(fmt.Sprintf("comment %d", i), "octocat", "User")
		case 1:
			f.addComment(MarkerLine("services/other")+"\nanother working directory", "github-actions[bot]", "Bot")
		case 2:
			f.addComment("> "+MarkerLine("")+"\nquoting the marker is not the marker", "octocat", "User")
		}
	}
	ours := f.addComment(MarkerLine("")+"\n\n## :x: old findings", "github-actions[bot]", "Bot")
	c := f.client(&sleeper{}, nil)
	url, err := c.UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.log() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query)
	}
	want := []string{
		"GET /repos/o/r/issues/1/comments?per_page=100",
		"GET /repos/o/r/issues/1/comments?page=2&per_page=100",
		"GET /repos/o/r/issues/1/comments?page=3&per_page=100",
		fmt.Sprintf("PATCH /repos/o/r/issues/comments/%d?", ours.GetID()),
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if url != ours.GetHTMLURL() {
		t.Errorf("url = %q, want %q", url, ours.GetHTMLURL())
	}
	if body := f.comment(ours.GetID()).GetBody(); !strings.Contains(body, "1 error, 1 warning, 1 notice") {
		t.Errorf("comment not updated:\n%s", body)
	}
	for _, cm := range f.comments[:250] {
		if strings.Contains(cm.GetBody(), "breakwater:fingerprints") {
			t.Errorf("comment %d was overwritten", cm.GetID())
		}
	}

	before := len(f.log())
	if _, err := c.UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.log()[before:] {
		if r.Method != http.MethodGet {
			t.Errorf("unchanged body written again: %s", r)
		}
	}
}

func TestUpsertCommentKeys(t *testing.T) {
	tests := []struct {
		name     string
		existing []string // bodies, oldest first
		key      string
		want     string // "POST", or "PATCH n" for the nth existing comment
	}{
		{"other key left alone", []string{MarkerLine("services/api") + "\nx"}, "", "POST"},
		{"root left alone by a subdirectory", []string{MarkerLine("") + "\nx"}, "services/api", "POST"},
		{"same key", []string{"hello", MarkerLine("services/api") + "\nx"}, "services/api", "PATCH 1"},
		{"key spelled differently", []string{MarkerLine("services/api") + "\nx"}, "./services/api/", "PATCH 0"},
		{"dot is the root", []string{MarkerLine("") + "\nx"}, ".", "PATCH 0"},
		{"marker alone", []string{MarkerLine("")}, "", "PATCH 0"},
		{"edited in the web UI", []string{MarkerLine("") + "\r\nx"}, "", "PATCH 0"},
		{"marker not first", []string{"see\n" + MarkerLine("") + "\nx"}, "", "POST"},
		{"prefix of another key", []string{strings.TrimSuffix(MarkerLine("a"), `" -->`) + `b" -->` + "\nx"}, "a", "POST"},
		{"oldest of two", []string{MarkerLine("") + "\nold", MarkerLine("") + "\nnew"}, "", "PATCH 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			for _, b := range tt.existing {
				f.addComment(b, "github-actions[bot]", "Bot")
			}
			existing := slices.Clone(f.comments)
			if _, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, tt.key, sampleReport(), CommentOptions{}); err != nil {
				t.Fatal(err)
			}
			writes := f.writes()
			if len(writes) != 1 {
				t.Fatalf("writes = %v, want one", writes)
			}
			got := "POST"
			if writes[0].Method == http.MethodPatch {
				got = "PATCH ?"
				for i, c := range existing {
					if writes[0].Path == fmt.Sprintf("/repos/o/r/issues/comments/%d", c.GetID()) {
						got = fmt.Sprintf("PATCH %d", i)
					}
				}
			}
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if !strings.HasPrefix(f.commentBodies()[0], MarkerLine(tt.key)+"\n") {
				t.Errorf("written body does not start with the marker of %q", tt.key)
			}
		})
	}
}

func TestUpsertCommentModes(t *testing.T) {
	red := MarkerLine("") + "\n\n## :x: Breakwater found upgrade-breaking changes"
	allSuppressed := report.New("b", "h", []finding.Finding{
		finding.New(ruleError, "Dockerfile", 1, "", "x"),
	}, []report.Suppression{{Rule: ruleError.ID, Reason: "accepted"}})
	tests := []struct {
		name       string
		mode       CommentMode
		report     *report.Report
		existing   string
		wantWrites []string
		wantReads  bool
		wantInBody []string
	}{
		{"on-findings: none, no comment", CommentOnFindings, report.New("b", "h", nil, nil), "", nil, true, nil},
		{"on-findings: only suppressed, no comment", CommentOnFindings, allSuppressed, "", nil, true, nil},
		{"on-findings: gone, comment updated", CommentOnFindings, report.New("b", "h", nil, nil), red,
			[]string{"PATCH"}, true, []string{"no upgrade-breaking changes", "**no findings**"}},
		{"on-findings: suppressed, comment updated", CommentOnFindings, allSuppressed, red,
			[]string{"PATCH"}, true, []string{"Every finding is suppressed"}},
		{"on-findings: findings", CommentOnFindings, sampleReport(), "", []string{"POST"}, true, []string{"1 error"}},
		{"always: none", CommentAlways, report.New("b", "h", nil, nil), "", []string{"POST"}, true, []string{"**no findings**"}},
		{"default is always", "", report.New("b", "h", nil, nil), "", []string{"POST"}, true, nil},
		{"never: no request at all", CommentNever, sampleReport(), red, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.existing != "" {
				f.addComment(tt.existing, "github-actions[bot]", "Bot")
			}
			url, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", tt.report, CommentOptions{Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			var methods []string
			for _, r := range f.writes() {
				methods = append(methods, r.Method)
			}
			if !slices.Equal(methods, tt.wantWrites) {
				t.Errorf("writes = %v, want %v", f.writes(), tt.wantWrites)
			}
			if reads := len(f.log()) > len(methods); reads != tt.wantReads {
				t.Errorf("requests = %v", f.log())
			}
			if (url != "") != (len(tt.wantWrites) > 0) {
				t.Errorf("url = %q", url)
			}
			for _, want := range tt.wantInBody {
				if body := f.commentBodies()[0]; !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
			if len(tt.wantWrites) > 0 && strings.Contains(f.commentBodies()[0], "## :x:") && tt.report.Summary.Errors == 0 {
				t.Error("a red heading stayed after the findings went")
			}
		})
	}
}

func TestUpsertCommentLimit(t *testing.T) {
	f := newFake(t)
	r := manyReport(2000, 2000)
	_, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "services/api", r,
		CommentOptions{SummaryURL: "https://github.com/o/r/actions/runs/42"})
	if err != nil {
		t.Fatal(err)
	}
	body := f.commentBodies()[0]
	if len(body) > report.CommentLimit || utf8.RuneCountInString(body) > 65536 {
		t.Errorf("body is %d bytes, over %d", len(body), report.CommentLimit)
	}
	lines := strings.SplitN(body, "\n", 3)
	if lines[0] != MarkerLine("services/api") {
		t.Errorf("first line %q", lines[0])
	}
	if !regexp.MustCompile(`^<!-- breakwater:fingerprints [0-9a-f,]+ \+\d+ -->$`).MatchString(lines[1]) || len(lines[1]) > maxFingerprintBytes {
		t.Errorf("fingerprint line (%d bytes) %.200q", len(lines[1]), lines[1])
	}
	for _, want := range []string{
		"**667 errors, 667 warnings, 666 notices**",
		"[job summary](https://github.com/o/r/actions/runs/42)",
		"| services/svc-0000/Dockerfile | 1 | 0 | 0 | 0 |",
		"more files",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
}

func TestUpsertCommentPermission(t *testing.T) {
	tests := []struct {
		name           string
		existing       bool
		method         string
		status         int
		wantPermission string
		wantInMessage  []string
	}{
		{"403 on create", false, http.MethodPost, 403, PermPullRequestsWrite,
			[]string{"create the pull request comment", "403", "`permissions: pull-requests: write`", "forks get a read-only token"}},
		{"404 on create", false, http.MethodPost, 404, PermPullRequestsWrite,
			[]string{"404", "pull-requests: write", "fork", "does not exist"}},
		{"403 on update", true, http.MethodPatch, 403, PermPullRequestsWrite,
			[]string{"update the pull request comment", "pull-requests: write"}},
		{"404 on list", false, http.MethodGet, 404, PermPullRequestsRead,
			[]string{"list the pull request comments", "pull-requests: read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.existing {
				f.addComment(MarkerLine("")+"\nold", "github-actions[bot]", "Bot")
			}
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Method != tt.method {
					return false
				}
				respond(w, tt.status, nil, "Resource not accessible by integration")
				return true
			}
			s := &sleeper{}
			_, err := f.client(s, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
			var pe *PermissionError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *PermissionError", err)
			}
			if pe.Permission != tt.wantPermission || pe.Status != tt.status {
				t.Errorf("PermissionError = %+v", pe)
			}
			for _, want := range tt.wantInMessage {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q: %v", want, err)
				}
			}
			if len(s.get()) != 0 {
				t.Errorf("%d was retried: waits %v", tt.status, s.get())
			}
		})
	}
}

// TestUpsertCommentRetries shows retries through the client: the write is
// made twice, the wait is recorded rather than slept, and one comment
// results.
func TestUpsertCommentRetries(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		message  string
		wantWait time.Duration
	}{
		{"502 then success", http.StatusBadGateway, nil, "Bad Gateway", time.Second},
		{"secondary rate limit then success", http.StatusForbidden, map[string]string{"Retry-After": "7"},
			"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Method == http.MethodPost && n == 1 {
					respond(w, tt.status, tt.header, tt.message)
					return true
				}
				return false
			}
			s, l := &sleeper{}, &logs{}
			start := time.Now()
			url, err := f.client(s, l).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if time.Since(start) > 5*time.Second {
				t.Error("the client slept for real")
			}
			bodies := f.commentBodies()
			if len(bodies) != 2 || bodies[0] != bodies[1] {
				t.Errorf("%d attempts (want 2 with the same body)", len(bodies))
			}
			if len(f.comments) != 1 || url == "" {
				t.Errorf("%d comments stored, url %q", len(f.comments), url)
			}
			if got := s.get(); !slices.Equal(got, []time.Duration{tt.wantWait}) {
				t.Errorf("waits = %v, want [%v]", got, tt.wantWait)
			}
			if got := l.get(); len(got) != 1 || !strings.Contains(got[0], "POST /repos/o/r/issues/1/comments") || !strings.Contains(got[0], "attempt 2 of 4") {
				t.Errorf("logs = %q", got)
			}
		})
	}
}

func TestUpsertComment422(t *testing.T) {
	tooLong := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnprocessableEntity)
		fmt.Fprint(w, `{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","field":"body","message":"body is too long (maximum is 65536 characters)"}],"documentation_url":"https://docs.github.com/rest/issues/comments#create-an-issue-comment"}`)
	}
	t.Run("retried once, shorter", func(t *testing.T) {
		f := newFake(t)
		f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
			if r.Method == http.MethodPost && n == 1 {
				tooLong(w)
				return true
			}
			return false
		}
		s := &sleeper{}
		_, err := f.client(s, nil).UpsertComment(context.Background(), 1, "", manyReport(2000, 2000), CommentOptions{})
		if err != nil {
			t.Fatal(err)
		}
		bodies := f.commentBodies()
		if len(bodies) != 2 {
			t.Fatalf("%d POSTs, want 2", len(bodies))
		}
		if len(bodies[1]) >= len(bodies[0]) || len(bodies[1]) > retryCommentLimit {
			t.Errorf("second body %d bytes after %d", len(bodies[1]), len(bodies[0]))
		}
		if !strings.HasPrefix(bodies[1], MarkerLine("")+"\n") || !strings.Contains(bodies[1], "**667 errors, 667 warnings, 666 notices**") {
			t.Errorf("second body lost the marker or the counts:\n%.300s", bodies[1])
		}
		if f.comment(f.comments[0].GetID()).GetBody() != bodies[1] {
			t.Error("the stored comment is not the second body")
		}
		if len(s.get()) != 0 {
			t.Errorf("422 went through the retrying transport: waits %v", s.get())
		}
	})
	t.Run("not retried twice", func(t *testing.T) {
		f := newFake(t)
		f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
			if r.Method == http.MethodPost {
				tooLong(w)
				return true
			}
			return false
		}
		_, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
		if err == nil || !strings.Contains(err.Error(), "body is too long") {
			t.Errorf("err = %v", err)
		}
		if n := len(f.writes()); n != 2 {
			t.Errorf("%d POSTs, want 2", n)
		}
	})
}

// hostileReport holds what a pull request might put in paths and values to
// break out of the comment.
func hostileReport() *report.Report {
	script := "<script>alert(1)</script>"
	spoof := `<!-- breakwater:comment key="x" -->`
	fs := []finding.Finding{
		finding.New(ruleError, "deploy/"+script+"/`x` a|b @here.yaml", 3, "db",
			"see [docs](javascript:alert(1)) and `rm -rf /` | pipe\n## new heading @here"),
		finding.New(ruleWarning, spoof, 0, "spoof", spoof+"\n"+MarkerLine("")),
		finding.New(ruleNotice, "x](javascript:alert(1))", 1, "link", "](javascript:alert(1)) <img src=x onerror=alert(1)>"),
		finding.New(ruleError, "", 0, "nofile", "no file: </details></summary> ```\ncode\n``` |a|b|"),
		finding.New(ruleNotice, "ok/Dockerfile", 2, "sup", "@org/team please look"),
	}
	fs[0].Evidence = "postgres:11 → postgres:11-alpine\r\n<b>bold</b> #123"
	fs[0].Remediation = "```sql\nREINDEX DATABASE app;\n```\n- [ ] task @here"
	return report.New("<base>", "head`@here`", fs, []report.Suppression{
		{Rule: ruleNotice.ID, Path: "ok/**", Reason: "<script>alert(1)</script> @here ](javascript:alert(1))"},
	})
}

func TestCommentInjectionGolden(t *testing.T) {
	f := newFake(t)
	c := f.client(&sleeper{}, nil)
	if _, err := c.UpsertComment(context.Background(), 1, "x", hostileReport(), CommentOptions{}); err != nil {
		t.Fatal(err)
	}
	body := f.commentBodies()[0]
	golden := filepath.Join("testdata", "comment-injection.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if body != string(want) {
		t.Errorf("body differs from %s (run go test -update and review the diff):\n%s", golden, body)
	}

	// The properties the golden file shows, checked apart from it.
	lines := strings.Split(body, "\n")
	if lines[0] != MarkerLine("x") || strings.Count(body, "<!--") != 2 || !strings.HasPrefix(lines[1], "<!-- breakwater:fingerprints ") {
		t.Errorf("the body holds a comment marker besides ours")
	}
	for _, bad := range []string{"<script", "<img", "<b>", "@here", "@org", "\n## new", "\n```", "#123"} {
		if strings.Contains(body, bad) {
			t.Errorf("body holds %q unescaped", bad)
		}
	}
	link := regexp.MustCompile(`(?:^|[^\\])\]\(([^)]*)`) // "](" whose "]" has no backslash
	for _, line := range lines {
		if strings.HasPrefix(line, "<summary>") {
			// Raw HTML, where Markdown is not parsed: only our tags.
			rest := strings.NewReplacer("<summary>", "", "</summary>", "", "<code>", "", "</code>", "").Replace(line)
			if strings.ContainsAny(rest, "<>\"") {
				t.Errorf("summary line holds markup: %s", line)
			}
			continue
		}
		for _, m := range link.FindAllStringSubmatch(line, -1) {
			if !strings.HasPrefix(m[1], finding.DocsBase) {
				t.Errorf("link to %q in %s", m[1], line)
			}
		}
	}
	if strings.Count(body, "<details") != strings.Count(body, "</details>") {
		t.Error("unbalanced <details>")
	}

	// The spoofed marker does not capture the next run.
	if _, err := c.UpsertComment(context.Background(), 1, "x", sampleReport(), CommentOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); len(w) != 2 || w[1].Method != http.MethodPatch || len(f.comments) != 1 {
		t.Errorf("second run: writes %v", w)
	}
}

func TestMarkerLine(t *testing.T) {
	tests := []struct{ key, want string }{
		{"", `<!-- breakwater:comment key="" -->`},
		{".", `<!-- breakwater:comment key="" -->`},
		{"./services/api/", `<!-- breakwater:comment key="services/api" -->`},
		{"a--b_c.d~e", `<!-- breakwater:comment key="a--b_c.d~e" -->`},
		{`x" --><script>`, `<!-- breakwater:comment key="x%22%20--%3E%3Cscript%3E" -->`},
		{"dir with space/é", `<!-- breakwater:comment key="dir%20with%20space/%C3%A9" -->`},
		{"a\nb", `<!-- breakwater:comment key="a%0Ab" -->`},
	}
	for _, tt := range tests {
		got := MarkerLine(tt.key)
		if got != tt.want {
			t.Errorf("MarkerLine(%q) = %s, want %s", tt.key, got, tt.want)
		}
		if strings.Count(got, "-->") != 1 || strings.Count(got, `"`) != 2 {
			t.Errorf("MarkerLine(%q) = %s can be broken out of", tt.key, got)
		}
	}
}

func TestMarker(t *testing.T) {
	fs := []finding.Finding{
		finding.New(ruleError, "b", 1, "", "x"),
		finding.New(ruleError, "b", 9, "", "same fingerprint, other line"),
		finding.New(ruleWarning, "a", 1, "", "x"),
		finding.New(ruleNotice, "c", 1, "", "suppressed"),
		{Rule: ruleNotice.ID, Severity: finding.Notice, Message: "hostile", Fingerprint: "a --> b"},
	}
	r := report.New("", "", fs, []report.Suppression{{Rule: ruleNotice.ID, Path: "c"}})
	want := fmt.Sprintf("%s\n<!-- breakwater:fingerprints %s -->\n", MarkerLine("k"),
		strings.Join(slices.Sorted(slices.Values([]string{fs[0].Fingerprint, fs[2].Fingerprint})), ","))
	if got := Marker("k", r); got != want {
		t.Errorf("Marker =\n%s\nwant\n%s", got, want)
	}
	if got := Marker("", report.New("", "", nil, nil)); got != MarkerLine("")+"\n<!-- breakwater:fingerprints -->\n" {
		t.Errorf("Marker of an empty report = %q", got)
	}

	many := manyReport(100, 100)
	re := regexp.MustCompile(`^<!-- breakwater:fingerprints ([0-9a-f,]*) \+(\d+) -->$`)
	for _, budget := range []int{60, 100, 500} {
		line := fingerprintLine(many, budget)
		m := re.FindStringSubmatch(line)
		if len(line) > budget || m == nil {
			t.Errorf("budget %d: %d bytes: %s", budget, len(line), line)
			continue
		}
		listed := len(strings.Split(m[1], ","))
		var rest int
		fmt.Sscan(m[2], &rest)
		if listed+rest != 100 || listed < (budget-60)/17 {
			t.Errorf("budget %d: %d listed + %d left out", budget, listed, rest)
		}
	}
}

func TestParseCommentMode(t *testing.T) {
	for in, want := range map[string]CommentMode{"": CommentAlways, "always": CommentAlways, " On-Findings ": CommentOnFindings, "never": CommentNever} {
		if got, err := ParseCommentMode(in); err != nil || got != want {
			t.Errorf("ParseCommentMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCommentMode("sometimes"); err == nil {
		t.Error("ParseCommentMode(sometimes) did not fail")
	}
	f := newFake(t)
	if _, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{Mode: "sometimes"}); err == nil {
		t.Error("UpsertComment with an unknown mode did not fail")
	}
}

// TestCustomRender shows Render's budget (the limit less the marker) and
// the cut of a body that ignores it, in the comment and the check run.
func TestCustomRender(t *testing.T) {
	f := newFake(t)
	c := f.client(&sleeper{}, nil)
	var budget int
	render := func(limit int) string {
		budget = limit
		return strings.Repeat("é", limit) // twice the limit in bytes
	}
	if _, err := c.UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{Render: render}); err != nil {
		t.Fatal(err)
	}
	body := f.commentBodies()[0]
	marker := Marker("", sampleReport()) + "\n"
	if budget != report.CommentLimit-len(marker) || len(body) > report.CommentLimit ||
		!strings.HasPrefix(body, marker+"éé") || !strings.HasSuffix(body, "*(cut short: see the job summary)*\n") {
		t.Errorf("budget %d, body %d bytes ending %q", budget, len(body), body[len(body)-50:])
	}
	if _, err := c.PublishCheckRun(context.Background(), sampleReport(), CheckRunOptions{
		Name: "b", HeadSHA: "abc", Conclusion: "failure", Render: render,
	}); err != nil {
		t.Fatal(err)
	}
	create, _ := checkRequests(t, &fakeGitHub{t: t, requests: f.writes()[1:]})
	if s := create.Output.GetSummary(); budget != SummaryLimit || len(s) > SummaryLimit || !strings.HasSuffix(s, "*(cut short: see the job summary)*\n") {
		t.Errorf("budget %d, summary %d bytes", budget, len(s))
	}
}

func TestCut(t *testing.T) {
	s := strings.Repeat("é", 100)
	for n := 0; n < 250; n++ {
		got := cut(s, n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Fatalf("cut(%d) = %d bytes, valid %v", n, len(got), utf8.ValidString(got))
		}
	}
	if got := cut("short", 10); got != "short" {
		t.Errorf("cut kept %q", got)
	}
}
