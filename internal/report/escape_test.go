package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "postgres:11 (Debian) to postgres:11-alpine", "postgres:11 (Debian) to postgres:11-alpine"},
		{"empty", "", ""},
		{"script", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"html comment", "<!-- x -->", "&lt;\\!-- x --&gt;"},
		{"closing details", "</details>", "&lt;/details&gt;"},
		{"entity", "a &amp; b", "a &amp;amp; b"},
		{"here", "@here", "@\u200dhere"},
		{"team mention", "cc @org/team", "cc @\u200dorg/team"},
		{"email", "dba@example.com", "dba@\u200dexample.com"},
		{"backticks", "`rm -rf /`", "\\`rm -rf /\\`"},
		{"pipe", "a|b", "a\\|b"},
		{"backslash before pipe", `a\|b`, `a\\\|b`},
		{"newline", "one\ntwo", "one<br>two"},
		{"crlf", "one\r\ntwo\rthree", "one<br>two<br>three"},
		{"line separator", "one\u2028two", "one<br>two"},
		{"rtl override", "abc\u202edcba\u202c", "abcdcba"},
		{"isolates and marks", "\u2066a\u2069\u200fb\u200e\u061c", "ab"},
		{"control", "red\x1b[31m\x00bell\a", "red\\[31mbell"},
		{"tab", "a\tb", "a b"},
		{"bom", "\ufeffa", "a"},
		{"emphasis", "*bold* _it_ ~~gone~~", "\\*bold\\* \\_it\\_ \\~\\~gone\\~\\~"},
		{"link", "[x](https://evil.example)", "\\[x\\](https:\u200d//evil.example)"},
		{"image", "![i](x.png)", "\\!\\[i\\](x.png)"},
		{"autolink", "<https://evil.example>", "&lt;https:\u200d//evil.example&gt;"},
		{"bare url", "see https://evil.example/x", "see https:\u200d//evil.example/x"},
		{"www", "WWW.evil.example", "WWW\u200d.evil.example"},
		{"not www", "ww.x aww", "ww.x aww"},
		{"image ref", "postgres:11", "postgres:11"},
		{"heading", "# Title", "\\# Title"},
		{"issue reference", "fixes #12", "fixes \\#\u200d12"},
		{"math", "$x^2$", "\\$x^2\\$"},
		{"leading list", "- item", "\\- item"},
		{"leading plus", "+ item", "\\+ item"},
		{"leading setext", "===", "\\==="},
		{"leading ordered", "12. item", "12\\. item"},
		{"leading ordered paren", "1) item", "1\\) item"},
		{"inner dash and number", "a - b 1. c", "a - b 1. c"},
		{"version", "16.2", "16.2"},
		{"leading number alone", "1.", "1\\."},
		{"leading number tab", "1.\tx", "1\\. x"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"unicode", "glibc 2.24 → musl", "glibc 2.24 → musl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeMarkdown(tt.in); got != tt.want {
				t.Errorf("EscapeMarkdown(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// checkEscaped asserts what EscapeMarkdown promises for any input.
func checkEscaped(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("EscapeMarkdown(%q) is not valid UTF-8", in)
	}
	if strings.Contains(out, "://") || strings.Contains(strings.ToLower(out), "www.") {
		t.Errorf("EscapeMarkdown(%q) = %q: autolink", in, out)
	}
	for i, r := range out {
		switch {
		case r == '<' && !strings.HasPrefix(out[i:], "<br>"):
			t.Errorf("EscapeMarkdown(%q) = %q: raw <", in, out)
		case r == '>' && !strings.HasSuffix(out[:i+1], "<br>"):
			t.Errorf("EscapeMarkdown(%q) = %q: raw >", in, out)
		case r == '\n' || r == '\r' || r == '\x1b' || isBidi(r):
			t.Errorf("EscapeMarkdown(%q) = %q: raw %U", in, out, r)
		case r == '@' && !strings.HasPrefix(out[i+1:], zwj):
			t.Errorf("EscapeMarkdown(%q) = %q: @ without joiner", in, out)
		case strings.ContainsRune("|`*_[]", r):
			// Escaped means preceded by an odd number of backslashes.
			n := 0
			for j := i - 1; j >= 0 && out[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				t.Errorf("EscapeMarkdown(%q) = %q: unescaped %q at %d", in, out, r, i)
			}
		}
	}
}

func TestEscapeMarkdownProperties(t *testing.T) {
	for _, in := range []string{
		hostilePath,
		"<img src=x onerror=alert(1)> @here\n`x` a|b \u202eevil",
		`\` + "`" + `\|\\|\\\*`,
		"<br>", "@@", "\r\n\r\n", "#\u202e1", "http:\u202e//x", "ww\u200ew.x",
	} {
		checkEscaped(t, in, EscapeMarkdown(in))
	}
}

func FuzzEscapeMarkdown(f *testing.F) {
	f.Add("<script>alert(1)</script> @here `x` a|b\nc \u202e")
	f.Add(`\\|`)
	f.Fuzz(func(t *testing.T, in string) {
		checkEscaped(t, in, EscapeMarkdown(in))
	})
}

func TestEscapeHTMLText(t *testing.T) {
	tests := []struct{ in, want string }{
		{hostilePath, "deploy/&lt;script&gt;alert(1)&lt;/script&gt;/`x` a|b @\u200dhere.yaml"},
		{"a\nb\r\nc", "a b c"},
		{`"q" 'a' & #1`, "&quot;q&quot; &#39;a&#39; &amp; #\u200d1"},
		{"x\u202ey", "xy"},
		{"http://www.x", "http:\u200d//www\u200d.x"},
	}
	for _, tt := range tests {
		if got := escapeHTMLText(tt.in); got != tt.want {
			t.Errorf("escapeHTMLText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestTermSafe(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain\n\tindented", "plain\n\tindented"},
		{"\x1b[31mred", `\x1b[31mred`},
		{"a\r\nb\rc", `a` + "\n" + `b\x0dc`},
		{"x\u202ey", `x\u202ey`},
		{"\u0085", `\u0085`},
		{"a\xffb", `a\xffb`},
		{"glibc → musl", "glibc → musl"},
	}
	for _, tt := range tests {
		if got := termSafe(tt.in); got != tt.want {
			t.Errorf("termSafe(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSARIFText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[link](https://evil.example)", `\[link\](https://evil.example)`},
		{`\[`, `\\\[`},
		{"C:\\dir", "C:\\dir"},
		{"a\u202eb", "ab"},
		{"a\r\nb\rc\n\td\x1b[0m", "a\nb\nc\n\td\\[0m"},
	}
	for _, tt := range tests {
		if got := sarifText(tt.in); got != tt.want {
			t.Errorf("sarifText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://github.com/breakwater-ci/breakwater/blob/main/docs/rules/image/libc-swap.md", "https://github.com/breakwater-ci/breakwater/blob/main/docs/rules/image/libc-swap.md", true},
		{"https://example.com/a_(b)", "https://example.com/a_%28b%29", true},
		{"javascript:alert(1)", "", false},
		{"https://example.com/a b", "https://example.com/a%20b", true},
		{"https://example.com/\"><script>", "https://example.com/%22%3E%3Cscript%3E", true},
		{"https://user:pw@example.com/", "", false},
		{"/relative", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := safeURL(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("safeURL(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
