// Package report turns findings into one ordered, deduplicated, suppressed
// report, gates it on a fail level, and renders it.
//
// # Renderers
//
// Four types satisfy [Renderer]:
//
//   - [Text]: the terminal. Findings grouped by file, findings without a
//     file last, then a one-line summary such as
//     "2 errors, 1 warning, 0 notices (1 suppressed)" or "no findings".
//     ANSI colour only when Text.Color is set; the caller decides whether
//     the output is a terminal. Control and bidi characters from the
//     change are shown as escapes, never sent to the terminal.
//   - [JSON]: the stable schema below.
//   - [Markdown]: the body of the sticky pull request comment and of the
//     job summary. Everything that comes from the change goes through
//     [EscapeMarkdown], and the body stays under [CommentLimit] bytes.
//   - [SARIF]: SARIF 2.1.0 for GitHub code scanning.
//
// # JSON schema
//
// The JSON renderer writes one object, indented by two spaces and ended by a
// newline. Every key below is always present; a missing value is "" or 0,
// never null, and "findings" is [] when there are none. Keys may be added
// in later versions; none is renamed or removed without a major version.
//
//	{
//	  "base": string,          commit the change starts from, or ""
//	  "head": string,          commit (or "WORKTREE") it ends at, or ""
//	  "findings": [            by file (those without one first), line, severity (highest first), rule
//	    {
//	      "rule": string,               stable rule ID, e.g. "image/libc-swap"
//	      "severity": string,           "error", "warning" or "notice"
//	      "title": string,              one line, from the rule
//	      "message": string,            what changed, from what to what
//	      "file": string,               slash-separated path relative to the repository root; "" when not tied to a file
//	      "line": number,               1-based line; 0 when not tied to a line
//	      "evidence": string,           may hold newlines
//	      "remediation": string,        may hold newlines
//	      "docs_url": string,           the rule's documentation page
//	      "fingerprint": string,        stable across commits and line moves
//	      "suppressed": bool,           a suppression matched; never fails a run
//	      "suppression_reason": string  why, "" when not suppressed
//	    }
//	  ],
//	  "summary": {             counts of findings that are not suppressed, by severity
//	    "errors": number,
//	    "warnings": number,
//	    "notices": number,
//	    "suppressed": number   suppressed findings, whatever their severity
//	  }
//	}
//
// Strings are as found in the change: a consumer that shows them in HTML,
// Markdown or a terminal must escape them for that context.
package report
