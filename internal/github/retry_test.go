package github

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is one scripted response.
type answer struct {
	status int
	header map[string]string
	body   string
}

func TestRetryTransport(t *testing.T) {
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	secondary := `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`
	ok := answer{status: 200, body: "{}"}
	tests := []struct {
		name       string
		answers    []answer // the last one repeats
		wantStatus int
		wantWaits  []time.Duration
	}{
		{"200", []answer{ok}, 200, nil},
		{"502 then success", []answer{{status: 502}, ok}, 200, []time.Duration{time.Second}},
		{"5xx until the attempts run out", []answer{{status: 500}}, 500, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"503 twice", []answer{{status: 503}, {status: 503}, ok}, 200, []time.Duration{time.Second, 2 * time.Second}},
		{"501 is not retried", []answer{{status: 501}, ok}, 501, nil},
		{"secondary 403 with Retry-After", []answer{{status: 403, header: map[string]string{"Retry-After": "3"}, body: secondary}, ok},
			200, []time.Duration{3 * time.Second}},
		{"429 with Retry-After", []answer{{status: 429, header: map[string]string{"Retry-After": "5"}}, ok}, 200, []time.Duration{5 * time.Second}},
		{"429 without a time", []answer{{status: 429}, ok}, 200, []time.Duration{time.Second}},
		{"Retry-After as a date", []answer{{status: 429, header: map[string]string{"Retry-After": now.Add(9 * time.Second).Format(http.TimeFormat)}}, ok},
			200, []time.Duration{9 * time.Second}},
		{"Retry-After zero", []answer{{status: 403, header: map[string]string{"Retry-After": "0"}}, ok}, 200, []time.Duration{0}},
		{"Retry-After over the cap", []answer{{status: 403, header: map[string]string{"Retry-After": "3600"}}, ok}, 403, nil},
		{"secondary 403 without a time", []answer{{status: 403, body: secondary}, ok}, 200, []time.Duration{time.Minute}},
		{"primary limit resetting soon", []answer{{status: 403, header: map[string]string{
			"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(10*time.Second).Unix(), 10)}}, ok},
			200, []time.Duration{11 * time.Second}},
		{"primary limit resetting in an hour", []answer{{status: 403, header: map[string]string{
			"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}}, ok},
			403, nil},
		{"primary limit already reset", []answer{{status: 429, header: map[string]string{
			"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)}}, ok},
			200, []time.Duration{time.Second}},
		{"403 forbidden", []answer{{status: 403, body: `{"message":"Resource not accessible by integration"}`}, ok}, 403, nil},
		{"401", []answer{{status: 401}, ok}, 401, nil},
		{"404", []answer{{status: 404}, ok}, 404, nil},
		{"422", []answer{{status: 422}, ok}, 422, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				a := tt.answers[min(len(bodies), len(tt.answers))-1]
				mu.Unlock()
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			}))
			defer srv.Close()
			s := &sleeper{}
			hc := &http.Client{Transport: &retryTransport{
				base: srv.Client().Transport, maxAttempts: maxAttempts, sleep: s.sleep,
				now: func() time.Time { return now },
			}}
			resp, err := hc.Post(srv.URL, "application/json", strings.NewReader(`{"body":"payload"}`))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := s.get(); !slices.Equal(got, tt.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tt.wantWaits)
			}
			if len(bodies) != len(tt.wantWaits)+1 {
				t.Errorf("%d attempts, want %d", len(bodies), len(tt.wantWaits)+1)
			}
			for i, b := range bodies {
				if b != `{"body":"payload"}` {
					t.Errorf("attempt %d sent %q", i+1, b)
				}
			}
			// A body read to look for "secondary rate limit" is given back whole.
			if want := tt.answers[min(len(bodies), len(tt.answers))-1].body; string(body) != want {
				t.Errorf("response body %q, want %q", body, want)
			}
		})
	}
}

func TestRetryTransportNoGetBody(t *testing.T) {
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		w.WriteHeader(502)
	}))
	defer srv.Close()
	s := &sleeper{}
	rt := &retryTransport{base: srv.Client().Transport, maxAttempts: maxAttempts, sleep: s.sleep}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader("x")))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if attempts != 1 || resp.StatusCode != 502 {
		t.Errorf("%d attempts, status %d: a body that cannot be rewound was sent again", attempts, resp.StatusCode)
	}
}

func TestRetryTransportContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	rt := &retryTransport{base: srv.Client().Transport, maxAttempts: maxAttempts, sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, time.Hour)
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := rt.RoundTrip(req)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v", err, time.Since(start))
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
