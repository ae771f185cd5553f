package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/breakwater-ci/breakwater/internal/report"
)

// CommentMode says when UpsertComment writes.
type CommentMode string

const (
	// CommentAlways creates or updates the comment on every run.
	CommentAlways CommentMode = "always"
	// CommentOnFindings creates the comment only when the report has
	// unsuppressed findings, but always updates one that exists, so a
	// comment that listed findings never outlives them.
	CommentOnFindings CommentMode = "on-findings"
	// CommentNever makes no request at all.
	CommentNever CommentMode = "never"
)

// ParseCommentMode reads the comment input; "" is CommentAlways.
func ParseCommentMode(s string) (CommentMode, error) {
	switch m := CommentMode(strings.ToLower(strings.TrimSpace(s))); m {
	case "":
		return CommentAlways, nil
	case CommentAlways, CommentOnFindings, CommentNever:
		return m, nil
	}
	return "", fmt.Errorf("comment %q: want always, on-findings or never", s)
}

// CommentOptions tune UpsertComment. The zero value posts the Markdown
// rendering of the report on every run.
type CommentOptions struct {
	Mode CommentMode // "" is CommentAlways
	// SummaryURL is linked from a body shortened to counts (the job
	// summary, or the workflow run).
	SummaryURL string
	// Render, when set, replaces report.Markdown: it returns the body in at
	// most limit bytes, the marker excluded. A longer body is cut.
	Render func(limit int) string
}

const (
	// maxPages bounds the listing of comments (100 per page).
	maxPages = 100
	// retryCommentLimit caps the body sent again after a 422.
	retryCommentLimit = 20000
	// minCommentLimit is the least the renderer is asked to fit.
	minCommentLimit = 2000
)

// UpsertComment keeps one comment per pull request and per key up to date
// and returns its URL ("" when nothing was written and none exists).
//
// The key is the action's working-directory ("" or "." for the root). The
// comment is found by its first line, the marker line of MarkerLine(key):
// the oldest comment whose body starts with that line is edited in place
// (unless its body is already the same), otherwise a comment is created.
// Comments of other keys, and comments that hold the marker anywhere but
// at the start (a quote, say), are left alone. Every page of comments is
// read until the marker is found.
//
// The body is Marker(key, r), a blank line, then the rendering of r, in at
// most report.CommentLimit bytes. When GitHub rejects it with 422 (body
// too long, or any other validation error) it is rendered once more in
// half its size, at most 20,000 bytes and at least 2,000, and sent again,
// once.
//
// Two runs for one key at the same moment can both create a comment; the
// next run then updates the older one. So can a create retried after a
// 5xx that GitHub had in fact carried out.
//
// Errors: a 403 or 404 is a *PermissionError (pull-requests: write for a
// write, pull-requests: read for the listing); anything else is wrapped.
func (c *Client) UpsertComment(ctx context.Context, pr int, key string, r *report.Report, opt CommentOptions) (string, error) {
	mode := opt.Mode
	if mode == "" {
		mode = CommentAlways
	}
	switch {
	case mode == CommentNever:
		return "", nil
	case mode != CommentAlways && mode != CommentOnFindings:
		return "", fmt.Errorf("github: unknown comment mode %q", mode)
	case r == nil:
		return "", errors.New("github: no report to comment")
	case pr <= 0:
		return "", fmt.Errorf("github: pull request number %d", pr)
	}
	key = NormalizeKey(key)
	existing, err := c.findComment(ctx, pr, MarkerLine(key))
	if err != nil {
		return "", c.fail("list the pull request comments", PermPullRequestsRead, err)
	}
	if existing == nil && mode == CommentOnFindings && !hasFindings(r) {
		return "", nil
	}
	body := commentBody(key, r, opt, report.CommentLimit)
	url, err := c.writeComment(ctx, pr, existing, body)
	if existing != nil && isStatus(err, http.StatusNotFound) {
		// The listing just showed the comment, so a 404 now means someone
		// deleted it in between: post a new one rather than report a
		// missing permission.
		existing = nil
		url, err = c.writeComment(ctx, pr, nil, body)
	}
	if isStatus(err, http.StatusUnprocessableEntity) {
		smaller := max(min(len(body)/2, retryCommentLimit), minCommentLimit)
		url, err = c.writeComment(ctx, pr, existing, commentBody(key, r, opt, smaller))
	}
	if err != nil {
		op := "create the pull request comment"
		if existing != nil {
			op = "update the pull request comment"
		}
		return "", c.fail(op, PermPullRequestsWrite, err)
	}
	return url, nil
}

func isStatus(err error, status int) bool {
	var resp *gh.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == status
}

func (c *Client) writeComment(ctx context.Context, pr int, existing *gh.IssueComment, body string) (string, error) {
	if existing == nil {
		cm, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.repo, pr, &gh.IssueComment{Body: &body})
		return cm.GetHTMLURL(), err
	}
	if existing.GetBody() == body {
		return existing.GetHTMLURL(), nil
	}
	cm, _, err := c.gh.Issues.EditComment(ctx, c.owner, c.repo, existing.GetID(), &gh.IssueComment{Body: &body})
	return cm.GetHTMLURL(), err
}

// findComment returns the oldest comment of the pull request whose body
// starts with line, or nil.
func (c *Client) findComment(ctx context.Context, pr int, line string) (*gh.IssueComment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for range maxPages {
		comments, resp, err := c.gh.Issues.ListComments(ctx, c.owner, c.repo, pr, opts)
		if err != nil {
			return nil, err
		}
		for _, cm := range comments {
			if startsWithLine(cm.GetBody(), line) {
				return cm, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
	return nil, fmt.Errorf("more than %d comments on pull request %d", maxPages*100, pr)
}

// startsWithLine reports whether body's first line is line. A body edited
// in the web UI may end its lines with \r\n.
func startsWithLine(body, line string) bool {
	rest, ok := strings.CutPrefix(body, line)
	return ok && (rest == "" || rest[0] == '\n' || rest[0] == '\r')
}

func hasFindings(r *report.Report) bool {
	return r.Summary.Errors+r.Summary.Warnings+r.Summary.Notices > 0
}

// commentBody is the marker and the body in at most limit bytes.
func commentBody(key string, r *report.Report, opt CommentOptions, limit int) string {
	marker := marker(key, r, limit/6) + "\n"
	budget := limit - len(marker)
	var body string
	if opt.Render != nil {
		body = opt.Render(budget)
	} else {
		var b strings.Builder
		// Writing to a strings.Builder cannot fail.
		_ = (&report.Markdown{Limit: budget, SummaryURL: opt.SummaryURL}).Render(&b, r)
		body = b.String()
	}
	return marker + cut(body, budget)
}

// cut shortens s to at most n bytes on a rune boundary, saying so. It is a
// last resort for a renderer that missed its limit.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const note = "\n\n*(cut short: see the job summary)*\n"
	if n < len(note) {
		return ""
	}
	return truncBytes(s, n-len(note)) + note
}

// truncBytes keeps at most n bytes of s without splitting a rune.
func truncBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// NormalizeKey makes working-directory spellings of one directory one key:
// "", ".", "./" and "/" are the root, and "./services/api/" is
// "services/api".
func NormalizeKey(key string) string {
	key = strings.Trim(path.Clean("/"+strings.TrimSpace(key)), "/")
	return key
}

// MarkerLine is the first line of the comment for key:
//
//	<!-- breakwater:comment key="services/api" -->
//
// The key is normalised by NormalizeKey, and every byte but ASCII letters,
// digits and - . _ ~ / is percent-encoded, so no key can end the HTML
// comment or forge another key's marker.
func MarkerLine(key string) string {
	return `<!-- breakwater:comment key="` + encodeKey(NormalizeKey(key)) + `" -->`
}

// Marker is the hidden head of the comment for key and report r, the
// marker line then the fingerprints of the unsuppressed findings, sorted
// and without duplicates, in at most 10,000 bytes:
//
//	<!-- breakwater:comment key="services/api" -->
//	<!-- breakwater:fingerprints 0a1b2c3d4e5f6071,1f2e3d4c5b6a7980 -->
//
// When they do not all fit, the line ends with how many were left out, as
// in "… ,1f2e3d4c5b6a7980 +120 -->". Fingerprints that are not
// alphanumeric are left out.
func Marker(key string, r *report.Report) string {
	return marker(key, r, maxFingerprintBytes)
}

const maxFingerprintBytes = 10000

func marker(key string, r *report.Report, budget int) string {
	return MarkerLine(key) + "\n" + fingerprintLine(r, budget) + "\n"
}

func fingerprintLine(r *report.Report, budget int) string {
	const head, tail = "<!-- breakwater:fingerprints ", " -->"
	seen := map[string]bool{}
	var fps []string
	for i := range r.Findings {
		f := &r.Findings[i]
		if !f.Suppressed && isAlnum(f.Fingerprint) && !seen[f.Fingerprint] {
			seen[f.Fingerprint] = true
			fps = append(fps, f.Fingerprint)
		}
	}
	if len(fps) == 0 {
		return "<!-- breakwater:fingerprints -->"
	}
	sort.Strings(fps)
	var b strings.Builder
	b.WriteString(head)
	for i, fp := range fps {
		more := ""
		if rest := len(fps) - i - 1; rest > 0 {
			more = " +" + strconv.Itoa(rest) // room for the count should the next one not fit
		}
		if b.Len()+1+len(fp)+len(more)+len(tail) > budget {
			b.WriteString(" +" + strconv.Itoa(len(fps)-i))
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fp)
	}
	b.WriteString(tail)
	return b.String()
}

func isAlnum(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func encodeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
