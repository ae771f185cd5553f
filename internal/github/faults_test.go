package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Faults on the GitHub side while a comment is published: each ends in
// a clear error or a correct comment, never a hang or a panic.

// The comment was deleted between the listing and the update: a new one
// is posted.
func TestCommentDeletedBeforeUpdate(t *testing.T) {
	f := newFake(t)
	old := f.addComment(MarkerLine("")+"\nold", "github-actions[bot]", "Bot")
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		f.mu.Lock()
		f.comments = nil
		f.mu.Unlock()
		respond(w, http.StatusNotFound, nil, "Not Found")
		return true
	}
	url, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.comments) != 1 || f.comments[0].GetID() == old.GetID() || !strings.HasPrefix(f.comments[0].GetBody(), MarkerLine("")) {
		t.Fatalf("comments after the upsert: %+v", f.comments)
	}
	if url != f.comments[0].GetHTMLURL() {
		t.Errorf("url %q, want the new comment's", url)
	}
}

// The token is revoked after the listing: the writes fail with GitHub's
// words and without the token, and are not retried.
func TestTokenRevokedMidRun(t *testing.T) {
	for _, existing := range []bool{false, true} {
		t.Run(fmt.Sprintf("existing=%v", existing), func(t *testing.T) {
			f := newFake(t)
			if existing {
				f.addComment(MarkerLine("")+"\nold", "github-actions[bot]", "Bot")
			}
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.Method == http.MethodGet {
					return false
				}
				respond(w, http.StatusUnauthorized, nil, "Bad credentials")
				return true
			}
			s := &sleeper{}
			_, err := f.client(s, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
			if err == nil || !strings.Contains(err.Error(), "Bad credentials") {
				t.Fatalf("err = %v, want GitHub's Bad credentials", err)
			}
			var pe *PermissionError
			if errors.As(err, &pe) {
				t.Errorf("a revoked token is not a missing permission: %v", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the token is in the error: %v", err)
			}
			if len(s.get()) != 0 {
				t.Errorf("401 was retried: waits %v", s.get())
			}
			if _, err := f.client(s, nil).PublishCheckRun(context.Background(), sampleReport(), CheckRunOptions{Name: "breakwater", HeadSHA: "abc", Conclusion: "failure"}); err == nil || !strings.Contains(err.Error(), "Bad credentials") {
				t.Errorf("check run: err = %v, want Bad credentials", err)
			}
		})
	}
}

// Pagination that contradicts itself: a next link that never ends is cut
// off with an error after maxPages, and a page that comes back empty
// ends the listing (the comment is posted anew, and the next run updates
// the older one).
func TestInconsistentPages(t *testing.T) {
	t.Run("endless next links", func(t *testing.T) {
		f := newFake(t)
		f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
			if r.Method != http.MethodGet {
				return false
			}
			w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=1&per_page=100>; rel="next"`, f.srv.URL, r.URL.Path))
			f.json(w, http.StatusOK, []any{})
			return true
		}
		_, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{})
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Fatalf("err = %v, want the listing cut off", err)
		}
		gets := 0
		for _, q := range f.requests {
			if q.Method == http.MethodGet {
				gets++
			}
		}
		if gets != maxPages {
			t.Errorf("%d listing requests, want %d", gets, maxPages)
		}
	})
	t.Run("marker moved off the pages", func(t *testing.T) {
		f := newFake(t)
		f.addComment(MarkerLine("")+"\nold", "github-actions[bot]", "Bot")
		f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
			if r.Method != http.MethodGet {
				return false
			}
			// Page 1 says there is a page 2; page 2 is empty: the comment
			// moved between the requests.
			if r.URL.Query().Get("page") == "" {
				w.Header().Set("Link", fmt.Sprintf(`<%s%s?page=2&per_page=100>; rel="next"`, f.srv.URL, r.URL.Path))
			}
			f.json(w, http.StatusOK, []any{})
			return true
		}
		if _, err := f.client(&sleeper{}, nil).UpsertComment(context.Background(), 1, "", sampleReport(), CommentOptions{}); err != nil {
			t.Fatal(err)
		}
		if len(f.comments) != 2 {
			t.Errorf("%d comments, want the old one and a new one", len(f.comments))
		}
	})
}
