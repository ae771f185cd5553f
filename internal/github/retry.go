package github

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry policy.
const (
	// maxAttempts bounds the requests made for one call, the first included.
	maxAttempts = 4
	// firstBackoff doubles after every attempt: 1s, 2s, 4s.
	firstBackoff = time.Second
	// maxWait caps one wait. When GitHub asks for longer (Retry-After, or a
	// primary rate limit that resets later), the answer is returned as it
	// is: retrying early would fail again and can get the token blocked.
	maxWait = 60 * time.Second
	// secondaryWait is the wait after a secondary rate limit that names no
	// time; GitHub asks for at least a minute.
	secondaryWait = 60 * time.Second
	// sniffLimit is how much of a 403 body is read to find "secondary rate
	// limit" in it.
	sniffLimit = 64 << 10
)

// retryTransport retries 5xx answers and rate limits with backoff:
//
//   - 500–599 (but 501): after 1s, 2s, 4s;
//   - 429, or 403 with Retry-After: after Retry-After (seconds or a date),
//     or the backoff when there is none;
//   - 403 with x-ratelimit-remaining: 0: until x-ratelimit-reset;
//   - 403 whose body mentions "secondary rate limit": after a minute;
//
// each wait at most maxWait, and at most maxAttempts requests. Other 4xx
// answers and transport errors are returned at once. A request body is
// sent again through req.GetBody; without it there is no retry.
type retryTransport struct {
	base        http.RoundTripper // nil: http.DefaultTransport
	maxAttempts int
	sleep       func(context.Context, time.Duration) error
	logf        func(format string, args ...any)
	now         func() time.Time // nil: time.Now
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	attempt := req
	for n := 1; ; n++ {
		resp, err := base.RoundTrip(attempt)
		if err != nil || n >= t.maxAttempts || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, err
		}
		wait, retry := t.retryAfter(resp, n)
		if !retry {
			return resp, nil
		}
		if t.logf != nil {
			t.logf("github: %s %s: %s; attempt %d of %d in %s", req.Method, req.URL.Path, resp.Status, n+1, t.maxAttempts, wait)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, sniffLimit))
		resp.Body.Close()
		if err := t.sleep(req.Context(), wait); err != nil {
			return nil, err
		}
		attempt = req.Clone(req.Context())
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("rewinding the request body: %w", err)
			}
			attempt.Body = body
		}
	}
}

// retryAfter decides whether resp, the answer to attempt n, is retried and
// after how long.
func (t *retryTransport) retryAfter(resp *http.Response, n int) (time.Duration, bool) {
	backoff := firstBackoff << (n - 1)
	code := resp.StatusCode
	switch {
	case code >= 500 && code != http.StatusNotImplemented:
		return backoff, true
	case code != http.StatusForbidden && code != http.StatusTooManyRequests:
		return 0, false
	}
	if d, ok := t.parseRetryAfter(resp.Header.Get("Retry-After")); ok {
		return d, d <= maxWait
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			d := max(time.Unix(reset, 0).Sub(t.clock()), 0) + time.Second
			return d, d <= maxWait
		}
		return 0, false
	}
	if code == http.StatusTooManyRequests {
		return backoff, true
	}
	if sniffSecondary(resp) {
		return secondaryWait, true
	}
	return 0, false
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func (t *retryTransport) parseRetryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(maxWait/time.Second) {
			return maxWait + time.Second, true
		}
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(t.clock()), 0), true
	}
	return 0, false
}

// sniffSecondary reads the start of a 403 body for GitHub's "secondary
// rate limit" wording and puts back what it read.
func sniffSecondary(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, sniffLimit))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return err == nil && bytes.Contains(bytes.ToLower(head), []byte("secondary rate limit"))
}

func (t *retryTransport) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
