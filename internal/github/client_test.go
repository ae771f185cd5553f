package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	gh "github.com/google/go-github/v62/github"
)

func TestNewClient(t *testing.T) {
	tests := []struct {
		name, token, apiURL, repo string
		wantBase                  string // "" when NewClient fails
	}{
		{"default", token, "", "o/r", "https://api.github.com/"},
		{"github.com", token, "https://api.github.com", "o/r", "https://api.github.com/"},
		{"enterprise server", token, "https://ghe.example.com/api/v3", "o/r", "https://ghe.example.com/api/v3/"},
		{"trailing slash kept", token, "https://ghe.example.com/api/v3/", "o/r", "https://ghe.example.com/api/v3/"},
		{"test server", token, "http://127.0.0.1:4321", "o/r", "http://127.0.0.1:4321/"},
		{"no token", "", "", "o/r", ""},
		{"not a URL", token, "::", "o/r", ""},
		{"not http", token, "ftp://example.com", "o/r", ""},
		{"no host", token, "https:///api", "o/r", ""},
		{"unparsable with credentials", token, "https://u:" + token + "@ghe.example.com:port/api/v3", "o/r", ""},
		{"credentials in the URL", token, "https://user:" + token + "@ghe.example.com/api/v3", "o/r", ""},
		{"repository without owner", token, "", "r", ""},
		{"empty owner", token, "", "/r", ""},
		{"empty name", token, "", "o/", ""},
		{"too many parts", token, "", "o/r/x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.token, tt.apiURL, tt.repo)
			if tt.wantBase == "" {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.gh.BaseURL.String(); got != tt.wantBase {
				t.Errorf("BaseURL = %s, want %s", got, tt.wantBase)
			}
			if c.owner != "o" || c.repo != "r" {
				t.Errorf("owner/repo = %s/%s", c.owner, c.repo)
			}
		})
	}
}

// TestTokenNeverShown runs every call against a server that fails in each
// way it can and echoes the Authorization header in its message, and
// checks that no error or log line holds the token.
func TestTokenNeverShown(t *testing.T) {
	tests := []struct {
		status int
		header map[string]string
	}{
		{500, nil},
		{502, nil},
		{401, nil},
		{403, nil},
		{403, map[string]string{"Retry-After": "1"}},
		{403, map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "99999999999"}},
		{404, nil},
		{422, nil},
		{429, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.header), func(t *testing.T) {
			f := newFake(t)
			f.addComment(MarkerLine("")+"\nold", "github-actions[bot]", "Bot")
			failing := ""
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Method == failing {
					msg := "echo: " + r.Header.Get("Authorization") + " " + r.URL.String()
					if tt.header["Retry-After"] != "" {
						msg += " secondary rate limit"
					}
					respond(w, tt.status, tt.header, msg)
					return true
				}
				return false
			}
			l := &logs{}
			c := f.client(&sleeper{}, l)
			calls := map[string]func() error{
				"list comments": func() error {
					failing = http.MethodGet
					_, err := c.UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
					return err
				},
				"edit comment": func() error {
					failing = http.MethodPatch
					_, err := c.UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
					return err
				},
				"create comment": func() error {
					failing = http.MethodPost
					_, err := c.UpsertComment(context.Background(), 1, "other", sampleReport(), CommentOptions{})
					return err
				},
				"check run": func() error {
					failing = http.MethodPost
					_, err := c.PublishCheckRun(context.Background(), sampleReport(), CheckRunOptions{Name: "b", HeadSHA: "abc", Conclusion: "success"})
					return err
				},
			}
			for name, call := range calls {
				err := call()
				if name == "edit comment" && tt.status == http.StatusNotFound {
					// A comment gone between listing and update is posted
					// anew (TestCommentDeletedBeforeUpdate).
					continue
				}
				if err == nil {
					t.Errorf("%s: no error", name)
					continue
				}
				for _, text := range []string{err.Error(), fmt.Sprintf("%v %+v %q", err, err, err)} {
					if strings.Contains(text, token) {
						t.Errorf("%s: error shows the token: %s", name, text)
					}
				}
				var pe *PermissionError
				if errors.As(err, &pe) && strings.Contains(pe.Err.Error(), token) {
					t.Errorf("%s: PermissionError.Err shows the token", name)
				}
			}
			for _, line := range l.get() {
				if strings.Contains(line, token) {
					t.Errorf("log shows the token: %s", line)
				}
			}
			var echoed bool
			for _, r := range f.log() {
				echoed = echoed || r.Auth == "Bearer "+token
			}
			if !echoed {
				t.Error("the server never saw the token; the test proves nothing")
			}
		})
	}
}

// TestRateLimitIsNotPermission keeps a 403 rate limit, once retries are
// spent, from being reported as a missing permission.
func TestRateLimitIsNotPermission(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		msg    string
	}{
		{"primary", map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "99999999999"}, "API rate limit exceeded"},
		{"secondary", map[string]string{"Retry-After": "1"}, "You have exceeded a secondary rate limit."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Method == http.MethodPost {
					respond(w, http.StatusForbidden, tt.header, tt.msg)
					return true
				}
				return false
			}
			_, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
			var pe *PermissionError
			if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "rate limited") {
				t.Errorf("err = %v", err)
			}
			var rl *gh.RateLimitError
			var abuse *gh.AbuseRateLimitError
			if !errors.As(err, &rl) && !errors.As(err, &abuse) {
				t.Errorf("err does not wrap go-github's rate limit error: %T", errors.Unwrap(err))
			}
		})
	}
}

func TestPermissionErrorUnwraps(t *testing.T) {
	f := newFake(t)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method == http.MethodPost {
			respond(w, http.StatusForbidden, nil, "Resource not accessible by integration")
			return true
		}
		return false
	}
	_, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
	var resp *gh.ErrorResponse
	if !errors.As(err, &resp) || resp.Message != "Resource not accessible by integration" {
		t.Errorf("err = %v does not wrap the ErrorResponse", err)
	}
}
