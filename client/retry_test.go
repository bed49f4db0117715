package client

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/identities-go/identities/gen"
)

// faults serves the n-th request (from 1) with step(n), counting requests.
type faults struct {
	count atomic.Int32
	step  func(n int, w http.ResponseWriter, r *http.Request)
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.step(int(f.count.Add(1)), w, r)
}

func (f *faults) requests() int { return int(f.count.Load()) }

// failThenSucceed answers status (with header) to the first `failures`
// requests and a conforming identity afterwards.
func failThenSucceed(t *testing.T, failures, status int, header http.Header) *faults {
	return &faults{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= failures {
			for k, v := range header {
				w.Header()[k] = v
			}
			writeJSON(t, w, status, gen.Error{StatusCode: status, Code: gen.ErrorCodeSERVICEUNAVAILABLE, Message: fmt.Sprintf("failure %d", n), RequestId: "r"})
			return
		}
		writeJSON(t, w, http.StatusOK, infraIdentity(1))
	}}
}

// TestRetryAfterIsHonoured is the one slow test: a 429 with Retry-After: 1
// makes the client wait at least a second, then the retry succeeds.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
	f := failThenSucceed(t, 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
	mux.Handle("/", f)
	start := time.Now()
	_, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, want at least 1s", waited)
	}
	if resp.Attempts != 2 || f.requests() != 2 {
		t.Errorf("attempts = %d, requests = %d, want 2", resp.Attempts, f.requests())
	}
}

// TestRetryTransientStatuses: 502, 503, 504 and a 429 without Retry-After,
// twice each, then a 200: the call succeeds and the PUT body is sent again
// unchanged every time.
func TestRetryTransientStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			f := failThenSucceed(t, 2, status, nil)
			mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, r, `{"userId":2}`)
				f.ServeHTTP(w, r)
			}))
			got, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if got.Id != 1 || resp.Attempts != 3 || f.requests() != 3 {
				t.Errorf("id = %d, attempts = %d, requests = %d; want 1, 3, 3", got.Id, resp.Attempts, f.requests())
			}
		})
	}
}

// TestNoRetry: other errors are returned at once.
func TestNoRetry(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusBadRequest, http.StatusNotFound, http.StatusInternalServerError, http.StatusNotImplemented} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			f := failThenSucceed(t, 1, status, nil)
			mux.Handle("/", f)
			if _, _, err := c.Infrastructure.Connect(context.Background(), 1, 2); err == nil {
				t.Fatal("want an error")
			}
			if f.requests() != 1 {
				t.Errorf("requests = %d, want 1", f.requests())
			}
		})
	}
}

// TestRetriesGiveUp: after MaxRetries the last error is returned.
func TestRetriesGiveUp(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithMaxRetries(2))
	f := failThenSucceed(t, 100, http.StatusServiceUnavailable, nil)
	mux.Handle("/", f)
	_, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable || apiErr.Message != "failure 3" {
		t.Fatalf("err = %v, want the 503 of the third attempt", err)
	}
	if f.requests() != 3 || resp.Attempts != 3 {
		t.Errorf("requests = %d, attempts = %d, want 3", f.requests(), resp.Attempts)
	}
}

// TestRetryNetworkError: a connection closed without a response is retried.
func TestRetryNetworkError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	f := &faults{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			_ = conn.Close()
			return
		}
		writeJSON(t, w, http.StatusOK, infraPage(infraIdentity(1)))
	}}
	mux.Handle("/", f)
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if resp.Attempts != 2 || f.requests() != 2 {
		t.Errorf("attempts = %d, requests = %d, want 2", resp.Attempts, f.requests())
	}
}

// hang answers nothing until the client gives the request up.
func hang(t *testing.T, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
		t.Error("the client did not give the request up")
	}
}

// TestAttemptTimeout: an attempt that outlives WithTimeout is abandoned and
// retried.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithTimeout(100*time.Millisecond))
	f := &faults{step: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			hang(t, r)
			return
		}
		writeJSON(t, w, http.StatusOK, infraPage())
	}}
	mux.Handle("/", f)
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if resp.Attempts != 2 {
		t.Errorf("attempts = %d, want 2", resp.Attempts)
	}
}

// TestCancelStopsWaiting: cancelling the context during a long Retry-After
// wait returns at once with the context's error.
func TestCancelStopsWaiting(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
	hit := make(chan struct{}, 1)
	f := failThenSucceed(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.ServeHTTP(w, r)
		hit <- struct{}{}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-hit
		time.Sleep(20 * time.Millisecond) // let the client start waiting
		cancel()
	}()
	start := time.Now()
	_, _, err := c.Infrastructure.Connect(ctx, 1, 2)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if errors.As(err, new(*APIError)) {
		t.Errorf("err = %v: the cancelled context must win over the 429", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want at once", d)
	}
	if f.requests() != 1 {
		t.Errorf("requests = %d, want 1", f.requests())
	}
}

// TestCancelInFlight: cancelling while a request is in flight returns the
// context's error, not the transport's.
func TestCancelInFlight(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	f := &faults{step: func(n int, w http.ResponseWriter, r *http.Request) { hang(t, r) }}
	mux.Handle("/", f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err := c.VersionControl.List(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if f.requests() != 1 {
		t.Errorf("requests = %d, want 1 (no retry after the context ended)", f.requests())
	}
}

// TestCancelWinsOverAPIError: a context cancelled while the server answers
// 404 gives the context's error, not the 404.
func TestCancelWinsOverAPIError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		cancel()
		writeJSON(t, w, http.StatusNotFound, gen.Error{StatusCode: 404, Code: gen.ErrorCodeNOTFOUND, Message: "gone", RequestId: "r"})
	})
	_, _, err := c.VersionControl.Connect(ctx, 1, 2)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want context.Canceled only", err)
	}
}

// TestCancelledBeforeCall: nothing is sent with a context already cancelled.
func TestCancelledBeforeCall(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	f := failThenSucceed(t, 0, 0, nil)
	mux.Handle("/", f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := c.Infrastructure.Disconnect(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	for _, err := range c.Infrastructure.All(ctx, nil) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("All: err = %v, want context.Canceled", err)
		}
	}
	if f.requests() != 0 {
		t.Errorf("requests = %d, want 0", f.requests())
	}
}

// TestDeadlineBeforeRetryAfter: when the context ends before Retry-After
// would, the 429 is returned at once rather than waited into a timeout.
func TestDeadlineBeforeRetryAfter(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
	f := failThenSucceed(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}})
	mux.Handle("/", f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := c.Infrastructure.Connect(ctx, 1, 2)
	var apiErr *APIError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != 30*time.Second {
		t.Errorf("err = %v, want the 429 with RetryAfter 30s", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v, want at once", d)
	}
}

// TestClientRateLimit: the client-side limiter holds back a request that
// would break the rate, and gives up when the context would end first.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRateLimit(1)) // one a minute, burst of one
	f := &faults{step: func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(t, w, http.StatusOK, vcPage()) }}
	mux.Handle("/", f)
	if _, _, err := c.VersionControl.List(context.Background(), nil); err != nil {
		t.Fatalf("first List: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := c.VersionControl.List(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second List: err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("gave up after %v, want at once", d)
	}
	if f.requests() != 1 {
		t.Errorf("requests = %d, want 1", f.requests())
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", 0, false},
	} {
		got, ok := parseRetryAfter(http.Header{"Retry-After": {tc.value}}, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
	if got, ok := parseRetryAfter(http.Header{"Retry-After": {"9223372036"}}, now); !ok || got <= 0 {
		t.Errorf("huge Retry-After = %v, %v; want a positive duration", got, ok)
	}
}

func TestBackoffIsCappedFullJitter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxRetries: 100, BaseDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	for n := 1; n <= 80; n++ {
		ceiling := min(p.MaxDelay, p.BaseDelay<<min(n-1, 20))
		for range 50 {
			if d := p.backoff(n); d < 0 || d >= ceiling {
				t.Fatalf("backoff(%d) = %v, want in [0, %v)", n, d, ceiling)
			}
		}
	}
}

func TestTransient(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "http://x", Err: err} }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{wrap(io.EOF), true},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(&net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{wrap(context.DeadlineExceeded), true},
		{wrap(x509.UnknownAuthorityError{}), false},
		{wrap(errors.New("unsupported protocol scheme")), false},
		{errors.New("json: bad"), false},
	} {
		if got := transient(tc.err); got != tc.want {
			t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestRetryAfterBeyondMaxDelayIsNotRetriedEarly: a server asking for a
// longer wait than the policy allows gets no early retry; the caller gets
// the 429 with its Retry-After at once.
func TestRetryAfterBeyondMaxDelayIsNotRetriedEarly(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second}))
	f := failThenSucceed(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"120"}})
	mux.Handle("/", f)
	start := time.Now()
	_, _, err := c.Infrastructure.Connect(context.Background(), 1, 2)
	var apiErr *APIError
	if !errors.Is(err, ErrRateLimited) || !errors.As(err, &apiErr) || apiErr.RetryAfter != 120*time.Second {
		t.Fatalf("err = %v, want the 429 with RetryAfter 2m", err)
	}
	if f.requests() != 1 {
		t.Fatalf("sent %d requests, want 1", f.requests())
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v, want at once", d)
	}
}
