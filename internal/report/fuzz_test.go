package report

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breakwater-ci/breakwater/internal/finding"
)

// markdownTags are the only HTML tags the Markdown body writes itself.
// Everything else in it comes from the change and must arrive escaped.
var markdownTags = []string{"<details>", "<details open>", "</details>", "<summary>", "</summary>", "<code>", "</code>", "<br>"}

// markdownLines are how the lines of the body start (besides blank ones):
// text from the change never begins a line, since its newlines become <br>.
var markdownLines = []string{"## :", "**", "Every finding is suppressed.", "This report is too long", "<details", "<summary>", "</details>", "| "}

// commentMarker opens the hidden marker the GitHub publisher puts first in
// the sticky comment (github.MarkerLine): a body that held it could claim
// another key's comment.
const commentMarker = "<!-- breakwater:"

// FuzzMarkdown renders a report whose every string comes from the fuzzer,
// in full and cut short, and checks that nothing in it escapes: the only
// HTML is the renderer's own tags (so no <script, <img, </details> or
// <!-- and no comment marker), every "@" carries the joiner that stops a
// mention, no "#" is followed by a digit (but in "&#39;"), no text
// autolinks, no line starts with text from the change, and every table
// row keeps its columns. Link destinations, which only safeURL fills, are
// exempt from the text checks. The body is also the same on every render
// and within its limit.
func FuzzMarkdown(f *testing.F) {
	f.Add(hostilePath, "image/libc-swap", "<script>alert(1)</script>", "cc @here @org/team fixes #12", "`x` a|b\n- item\r\n1. x",
		"<!-- breakwater:comment key=\"x\" -->", "https://github.com/o/r/blob/main/docs/rules/x.md", "base", "head", 3, int8(3), byte(0))
	f.Add("a|b/Dockerfile", "r]|(x)", "**bold** _it_ ~~s~~ $x$", "<img src=x onerror=alert(1)>", "&lt;script&gt; &#60;b&#62;",
		"\u202eevil\u2028next", "javascript:alert(1)", "@"+strings.Repeat("x", 50), "www.evil.example", 0, int8(9), byte(2))
	f.Add("", "", "", "", "", "", "https://example.com/@here#1", "", "", -1, int8(1), byte(3))
	f.Add("x", "r", "@\u200d@", "#\u200d1", "h\u200ettp://x", "<\u200d!--", "https://x.example/a b", "1.", "-", 1, int8(2), byte(4))
	f.Fuzz(func(t *testing.T, file, rule, title, message, evidence, remediation, docsURL, base, head string, line int, sev int8, flags byte) {
		fs := []finding.Finding{
			{Rule: rule, Severity: finding.Severity(sev), Title: title, Message: message, File: file, Line: line,
				Evidence: evidence, Remediation: remediation, DocsURL: docsURL, Fingerprint: "a"},
			{Rule: rule, Severity: finding.Warning, Title: title, Message: remediation, Line: line,
				Evidence: message, DocsURL: docsURL, Fingerprint: "b", Suppressed: true, SuppressionReason: remediation},
			{Rule: title, Severity: finding.Error, Message: evidence, File: file + "/" + base, Fingerprint: "c"},
		}
		r := New(base, head, fs, nil)
		md := &Markdown{Limit: []int{-1, 0, 1000, 1200, 2000}[flags%5], SummaryURL: docsURL}
		var buf, again bytes.Buffer
		if err := md.Render(&buf, r); err != nil {
			t.Fatal(err)
		}
		if err := md.Render(&again, r); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
			t.Fatalf("two renders differ (%v)", err)
		}
		out := buf.String()
		if md.Limit >= 1000 && len(out) > md.Limit {
			t.Fatalf("body of %d bytes over its limit %d", len(out), md.Limit)
		}
		checkMarkdownBody(t, out)
	})
}

func checkMarkdownBody(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("body is not valid UTF-8:\n%s", out)
	}
	if strings.Contains(out, "<!--") || strings.Contains(out, commentMarker) {
		t.Fatalf("body holds an HTML comment or the comment marker:\n%s", out)
	}
	dest := linkDestinations(out)
	for i := 0; i < len(out); i++ {
		if dest[i] {
			continue
		}
		switch c := out[i]; {
		case c == '<' && !hasTagAt(out, i):
			t.Fatalf("raw < at %d, not one of the renderer's tags: %q\n%s", i, around(out, i), out)
		case c == '>' && !hasTagEndingAt(out, i):
			t.Fatalf("raw > at %d, not ending one of the renderer's tags: %q\n%s", i, around(out, i), out)
		case c == '@' && !strings.HasPrefix(out[i+1:], zwj):
			t.Fatalf("@ without a joiner at %d: %q\n%s", i, around(out, i), out)
		case c == '#' && i+1 < len(out) && out[i+1] >= '0' && out[i+1] <= '9' && (i == 0 || out[i-1] != '&'):
			// "&#39;" is the renderer's own character reference: a "&"
			// from the change arrives as "&amp;".
			t.Fatalf("# before a digit at %d: %q\n%s", i, around(out, i), out)
		case strings.HasPrefix(out[i:], "://") || len(out) >= i+4 && strings.EqualFold(out[i:i+4], "www."):
			t.Fatalf("autolink at %d: %q\n%s", i, around(out, i), out)
		}
	}
	pipes := 0 // of the last table header
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		ok := false
		for _, p := range markdownLines {
			ok = ok || strings.HasPrefix(l, p)
		}
		if !ok {
			t.Fatalf("line %q starts with text from the change\n%s", l, out)
		}
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		n := 0
		for i := 0; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '|':
				n++
			}
		}
		switch {
		case strings.HasPrefix(l, "| Severity |") || strings.HasPrefix(l, "| File |"):
			pipes = n
		case n != pipes:
			t.Fatalf("row with %d pipes under a header with %d: %q\n%s", n, pipes, l, out)
		}
	}
	if o, c := strings.Count(out, "<details"), strings.Count(out, "</details>"); o != c {
		t.Fatalf("%d <details> but %d </details>\n%s", o, c, out)
	}
}

func hasTagAt(s string, i int) bool {
	for _, tag := range markdownTags {
		if strings.HasPrefix(s[i:], tag) {
			return true
		}
	}
	return false
}

func hasTagEndingAt(s string, i int) bool {
	for _, tag := range markdownTags {
		if strings.HasSuffix(s[:i+1], tag) {
			return true
		}
	}
	return false
}

// linkDestinations marks the bytes of s inside the (…) of a Markdown link:
// after a "](" whose "]" is not escaped, up to the next ")".
func linkDestinations(s string) []bool {
	in := make([]bool, len(s))
	for i := 0; i+1 < len(s); i++ {
		if s[i] != ']' || s[i+1] != '(' {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 1 {
			continue
		}
		end := strings.IndexByte(s[i+2:], ')')
		if end < 0 {
			break
		}
		for j := i + 2; j < i+2+end; j++ {
			in[j] = true
		}
		i += 2 + end
	}
	return in
}

func around(s string, i int) string {
	return s[max(0, i-20):min(len(s), i+20)]
}
