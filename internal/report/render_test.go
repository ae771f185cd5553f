package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// Test rules: the real ones live in packages report does not import.
var (
	testLibcSwap = &finding.Rule{
		ID:       "test/libc-swap",
		Title:    "Base image changes libc",
		Severity: finding.Error,
		Summary:  "The base image moves between glibc and musl, so text indexes built under one sort differently under the other.",
		Incident: "A Postgres image moved from Debian to Alpine and unique indexes silently stopped matching.",
	}
	testFloatingTag = &finding.Rule{
		ID:       "test/floating-tag",
		Title:    "Image tag floats to a new OS release",
		Severity: finding.Warning,
		Summary:  "A tag without an OS release moves to the next distribution release on some future pull.",
		Incident: "postgres:13 moved from Debian buster to bullseye, changing glibc under a running database.",
	}
	testUnknownImage = &finding.Rule{
		ID:       "test/unknown-image",
		Title:    "Cannot tell the libc of an image",
		Severity: finding.Notice,
		Summary:  "The knowledge base does not know this image, so no libc check ran on it.",
		Incident: "An unchecked image must never look like a checked one.",
	}
)

func init() { finding.Register(testLibcSwap, testFloatingTag, testUnknownImage) }

const hostilePath = "deploy/<script>alert(1)</script>/`x` a|b @here.yaml"

// sampleReport is the fixed set every renderer is tested on: all three
// severities, a suppressed finding, one without a file, and one whose
// path, message, evidence and remediation are hostile.
func sampleReport() *Report {
	libc := finding.New(testLibcSwap, "docker/db/Dockerfile", 3, "stage:db",
		"postgres:11 moves from Debian stretch (glibc 2.24) to Alpine (musl): text indexes built under glibc sort differently under musl.")
	libc.Evidence = "postgres:11 (Debian stretch, glibc 2.24) → postgres:11-alpine (musl)"
	libc.Remediation = "Stay on a Debian-based tag, or rebuild every text index after the switch:\nREINDEX DATABASE app;"

	floating := finding.New(testFloatingTag, "docker/db/Dockerfile", 1, "stage:base",
		"debian:latest floats to the next Debian release on a future pull.")
	floating.Remediation = "Pin a release: FROM debian:bookworm-20240513"

	compose := finding.New(testLibcSwap, "compose.yaml", 12, "service:db",
		"Service db moves from postgres:15 (glibc) to postgres:15-alpine (musl).")
	compose.Evidence = "postgres:15 → postgres:15-alpine"

	unknown := finding.New(testUnknownImage, "compose.yaml", 20, "service:cache",
		"Cannot tell the libc of registry.example.com/cache:2.")

	noFile := finding.New(testUnknownImage, "", 0, "postgres-bin",
		"No Postgres binaries found: the upgrade rehearsal did not run.")
	noFile.Remediation = "Install postgresql-16 or pass --postgres-bin."

	hostile := finding.New(testFloatingTag, hostilePath, 7, "service:x",
		"<img src=x onerror=alert(1)> @here @org/team ping #12 `rm -rf /` a|b *bold* _it_ [link](https://evil.example) ![img](https://evil.example/x.png) ~~gone~~ $x$\nsecond line \u202eevil\u202c \x1b[31mred\x1b[0m")
	hostile.Evidence = "a|b\r\nc & d"
	hostile.Remediation = "| forged | table |\n<!-- hidden --></details>\n# Heading\n- list"

	sups := []Suppression{{
		Rule:   testUnknownImage.ID,
		Path:   "compose.yaml",
		Reason: "internal image, libc checked by hand @ops-team <b>see OPS-42</b>",
	}}
	return New("4b825dc642cb6eb9a060e54bf8d69288fbee4904", "WORKTREE",
		[]finding.Finding{hostile, noFile, unknown, compose, floating, libc}, sups)
}

func emptyReport() *Report { return New("", "", nil, nil) }

func TestSampleReport(t *testing.T) {
	// The goldens below rely on this shape; fail here, not in a diff.
	r := sampleReport()
	want := Summary{Errors: 2, Warnings: 2, Notices: 1, Suppressed: 1}
	if r.Summary != want {
		t.Fatalf("summary = %+v, want %+v", r.Summary, want)
	}
	files := map[string]bool{}
	for _, f := range r.Findings {
		files[f.File] = true
	}
	if !files[""] || !files[hostilePath] || len(files) != 4 {
		t.Fatalf("files = %v", files)
	}
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden   string
		renderer Renderer
		report   *Report
	}{
		{"sample.txt", &Text{}, sampleReport()},
		{"sample-color.txt", &Text{Color: true}, sampleReport()},
		{"sample.json", &JSON{}, sampleReport()},
		{"sample.md", &Markdown{}, sampleReport()},
		{"sample.sarif", &SARIF{ToolVersion: "1.2.3-test"}, sampleReport()},
		{"truncated.md", &Markdown{Limit: 1500, SummaryURL: "https://github.com/o/r/actions/runs/1"}, sampleReport()},
		{"empty.txt", &Text{Color: true}, emptyReport()},
		{"empty.json", &JSON{}, emptyReport()},
		{"empty.md", &Markdown{}, emptyReport()},
		{"empty.sarif", &SARIF{ToolVersion: "1.2.3-test"}, emptyReport()},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.renderer.Render(&buf, tt.report); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestTextColor(t *testing.T) {
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := (&Text{Color: color}).Render(&buf, sampleReport()); err != nil {
			t.Fatal(err)
		}
		// The hostile message carries ESC itself: it must never reach the
		// terminal raw, coloured output or not.
		hasESC := bytes.Contains(buf.Bytes(), []byte("\x1b"))
		if hasESC != color {
			t.Errorf("Color=%v: output contains ESC = %v", color, hasESC)
		}
		if bytes.Contains(buf.Bytes(), []byte("\x1b[31mred")) {
			t.Errorf("Color=%v: the finding's own escape sequence reached the output", color)
		}
		if bytes.ContainsRune(buf.Bytes(), '\u202e') {
			t.Errorf("Color=%v: a bidi override reached the output", color)
		}
	}
}

func TestTextSummaryLine(t *testing.T) {
	tests := []struct {
		s    Summary
		want string
	}{
		{Summary{}, "no findings"},
		{Summary{Errors: 2, Warnings: 1, Suppressed: 1}, "2 errors, 1 warning, 0 notices (1 suppressed)"},
		{Summary{Notices: 1}, "0 errors, 0 warnings, 1 notice"},
		{Summary{Suppressed: 3}, "0 errors, 0 warnings, 0 notices (3 suppressed)"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := (&Text{}).Render(&buf, &Report{Summary: tt.s}); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSuffix(buf.String(), "\n"); got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.s, got, tt.want)
		}
	}
}

// TestJSONSchemaKeys pins the documented key sets, so the schema cannot
// drift without this test (and the package doc) changing with it.
func TestJSONSchemaKeys(t *testing.T) {
	for _, r := range []*Report{sampleReport(), emptyReport()} {
		var buf bytes.Buffer
		if err := (&JSON{}).Render(&buf, r); err != nil {
			t.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, "top level", doc, "base", "findings", "head", "summary")
		var summary map[string]json.RawMessage
		if err := json.Unmarshal(doc["summary"], &summary); err != nil {
			t.Fatal(err)
		}
		assertKeys(t, "summary", summary, "errors", "notices", "suppressed", "warnings")
		if string(doc["findings"]) == "null" {
			t.Fatal("findings is null, want []")
		}
		var findings []map[string]json.RawMessage
		if err := json.Unmarshal(doc["findings"], &findings); err != nil {
			t.Fatal(err)
		}
		if len(findings) != len(r.Findings) {
			t.Fatalf("%d findings, want %d", len(findings), len(r.Findings))
		}
		for _, f := range findings {
			assertKeys(t, "finding", f, "docs_url", "evidence", "file", "fingerprint", "line", "message",
				"remediation", "rule", "severity", "suppressed", "suppression_reason", "title")
		}
		if !strings.HasSuffix(buf.String(), "}\n") {
			t.Error("output does not end with a newline")
		}
	}
}

func assertKeys(t *testing.T, what string, m map[string]json.RawMessage, want ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s keys = %v, want %v", what, got, want)
	}
}

func TestMachineFormatsRejectInvalidSeverity(t *testing.T) {
	r := sampleReport()
	r.Findings[0].Severity = 0
	for _, rd := range []Renderer{&JSON{}, &SARIF{}} {
		var buf bytes.Buffer
		if err := rd.Render(&buf, r); err == nil {
			t.Errorf("%T: no error for severity 0", rd)
		}
		if buf.Len() != 0 {
			t.Errorf("%T: wrote %d bytes before failing", rd, buf.Len())
		}
	}
}
