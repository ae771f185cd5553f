package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwj is inserted after "@" (and after "#" before a digit) so that GitHub
// neither mentions a user or team nor links an issue. GitHub finds
// mentions and references in the rendered text, after Markdown escapes are
// gone, so a backslash alone would not stop them.
const zwj = "\u200d"

// EscapeMarkdown makes s, which comes from the change under review (a path,
// a message, evidence, a remediation, a suppression reason), safe to place
// anywhere inline in GitHub-flavoured Markdown, table cells included. The
// result renders as the literal text of s, on one line:
//
//   - Markdown punctuation \ ` * _ [ ] # ! | ~ $ is escaped with a backslash,
//     so s cannot open emphasis, code, links, images, tables, strikethrough
//     or maths; a leading -, +, = or "1. " cannot start a list or heading;
//   - & < > become &amp; &lt; &gt;, so s cannot carry HTML or autolinks;
//   - "@" is followed by a zero-width joiner, so "@here" or "@org/team"
//     notifies nobody; likewise "#" before a digit links no issue, and
//     "https://…" or "www.…" becomes no link;
//   - newlines (\n, \r\n, \r, U+2028, U+2029) become <br>;
//   - bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
//     U+061C), other control characters and U+FEFF are removed, so the text
//     reads in the order it is stored; a tab becomes a space.
//
// It is not for HTML blocks (a <summary> line): Markdown is not parsed there.
func EscapeMarkdown(s string) string {
	s = stripInvisible(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	leading := true // still at the start of the output
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		next := s[i+size:]
		i += size
		switch {
		case r == '\r':
			if strings.HasPrefix(next, "\n") {
				i++
			}
			b.WriteString("<br>")
		case r == '\n' || r == '\u2028' || r == '\u2029':
			b.WriteString("<br>")
		case r == '\t':
			b.WriteByte(' ')
		case dropped(r):
			continue
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '@':
			b.WriteString("@" + zwj)
		case autolinkAt(r, next):
			b.WriteRune(r)
			b.WriteString(next[:autolinkSkip(r)] + zwj)
			i += autolinkSkip(r)
		case r == '#':
			b.WriteString(`\#`)
			if next != "" && next[0] >= '0' && next[0] <= '9' {
				b.WriteString(zwj)
			}
		case strings.ContainsRune("\\`*_[]!|~$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case leading && (r == '-' || r == '+' || r == '='):
			b.WriteByte('\\')
			b.WriteRune(r)
		case leading && r >= '0' && r <= '9':
			// "1." or "1)" at the start would begin an ordered list.
			j := 0
			for j < len(next) && next[j] >= '0' && next[j] <= '9' {
				j++
			}
			b.WriteRune(r)
			b.WriteString(next[:j])
			i += j
			if j < len(next) && (next[j] == '.' || next[j] == ')') &&
				(j+1 == len(next) || next[j+1] == ' ' || next[j+1] == '\t') {
				b.WriteByte('\\')
				b.WriteByte(next[j])
				i++
			}
		case r == utf8.RuneError && size == 1:
			b.WriteRune(unicode.ReplacementChar)
		default:
			b.WriteRune(r)
		}
		leading = false
	}
	return b.String()
}

// escapeHTMLText makes s safe as text inside raw HTML, such as a <summary>
// line, where Markdown is not parsed: HTML-escaped, on one line, with the
// same treatment of mentions, references and invisible characters as
// EscapeMarkdown.
func escapeHTMLText(s string) string {
	s = stripInvisible(s)
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		next := s[i+size:]
		i += size
		switch {
		case r == '\r' || r == '\n' || r == '\t' || r == '\u2028' || r == '\u2029':
			if r == '\r' && strings.HasPrefix(next, "\n") {
				i++
			}
			b.WriteByte(' ')
		case dropped(r):
			continue
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&#39;")
		case r == '@':
			b.WriteString("@" + zwj)
		case autolinkAt(r, next):
			b.WriteRune(r)
			b.WriteString(next[:autolinkSkip(r)] + zwj)
			i += autolinkSkip(r)
		case r == '#':
			b.WriteByte('#')
			if next != "" && next[0] >= '0' && next[0] <= '9' {
				b.WriteString(zwj)
			}
		case r == utf8.RuneError && size == 1:
			b.WriteRune(unicode.ReplacementChar)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// autolinkAt reports whether r, followed by next, starts what GitHub would
// turn into a link by itself: "://" of a URL, or "www.". A joiner goes
// after "www" or ":" so the change cannot plant a clickable link.
func autolinkAt(r rune, next string) bool {
	switch r {
	case ':':
		return strings.HasPrefix(next, "//")
	case 'w', 'W':
		return len(next) >= 3 && strings.EqualFold(next[:3], "ww.")
	}
	return false
}

// autolinkSkip is how much of next autolinkAt's match writes before the
// joiner: nothing after ":", "ww" after "w".
func autolinkSkip(r rune) int {
	if r == ':' {
		return 0
	}
	return 2
}

// stripInvisible removes the dropped characters up front, so that they
// cannot split a sequence ("www.", "://", "1. ") and hide it from the
// escaping that follows.
func stripInvisible(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\r' && r != '\t' && dropped(r) {
			return -1
		}
		return r
	}, s)
}

// dropped reports the characters Markdown output leaves out: controls
// (other than the line breaks and tabs handled by the callers), bidi
// controls and the byte order mark.
func dropped(r rune) bool {
	return unicode.IsControl(r) || isBidi(r) || r == '\ufeff'
}

// isBidi reports the characters that reorder text on display: embeddings,
// overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the implicit
// marks (U+200E, U+200F, U+061C).
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// termSafe makes s safe to print on a terminal: newlines and tabs stay,
// every other control character (ESC first of all) and every bidi or
// invisible format character is shown as a Go-style escape, so a message
// can neither drive the terminal nor hide what it says.
func termSafe(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r) || isBidi(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// sarifText prepares text for a SARIF plain-text message: square brackets
// are escaped so "[text](url)" in the change is not read as an embedded
// link (SARIF 2.1.0 §3.11.6); line breaks become \n; bidi controls and
// other control characters but tabs are removed.
func sarifText(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case isBidi(r) || unicode.IsControl(r) || r == '\ufeff':
			continue
		case r == '[' || r == ']':
			b.WriteByte('\\')
		case r == '\\' && i+1 < len(s) && (s[i+1] == '[' || s[i+1] == ']' || s[i+1] == '\\'):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
