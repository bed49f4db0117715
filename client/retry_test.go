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
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/gen"
)

// The tests that wait run in a synctest bubble with the in-process server:
// their waits take no real time, and they measure them exactly.

// failThenSucceed answers status (with header) to the first `failures`
// requests and a conforming identity afterwards.
func failThenSucceed(t *testing.T, failures, status int, header http.Header) *counted {
	return &counted{serve: func(n int, w http.ResponseWriter, r *http.Request) {
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

// hangFirst gives the first request no answer until the client gives it up,
// and answers the others with an empty page.
func hangFirst(t *testing.T) *counted {
	return &counted{serve: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done()
			return
		}
		writeJSON(t, w, http.StatusOK, infraPage())
	}}
}

// TestRetryAfterIsHonoured: a 429 with Retry-After: 1 makes the client wait
// exactly a second, then the retry succeeds.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mux := setupInProcess(t, WithRetry(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}))
		f := failThenSucceed(t, 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}})
		mux.Handle("/", f)
		start := time.Now()
		_, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start), "wait before the retry")
		assert.Equal(t, 2, resp.Attempts)
		assert.Equal(t, 2, f.requests())
		assert.Equal(t, time.Second, resp.Duration, "Response.Duration counts the wait")
	})
}

// TestRetryStatuses: 502, 503, 504 and a 429 without Retry-After, failing
// twice, are sent again, with the PUT body unchanged, until the 200; other
// errors are returned at once.
func TestRetryStatuses(t *testing.T) {
	t.Parallel()
	for status, retried := range map[int]bool{
		http.StatusBadGateway: true, http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true, http.StatusTooManyRequests: true,
		http.StatusBadRequest: false, http.StatusNotFound: false, http.StatusInternalServerError: false, http.StatusNotImplemented: false,
	} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			f := failThenSucceed(t, 2, status, nil)
			mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				testJSONBody(t, r, `{"userId":2}`)
				f.ServeHTTP(w, r)
			}))
			got, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
			if !retried {
				assert.ErrorAs(t, err, new(*APIError))
				assert.Equal(t, 1, f.requests())
				return
			}
			require.NoError(t, err)
			assert.EqualValues(t, 1, got.Id)
			assert.Equal(t, 3, resp.Attempts)
			assert.Equal(t, 3, f.requests())
		})
	}
}

// TestRetriesGiveUp: after MaxRetries the last error is returned.
func TestRetriesGiveUp(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond}))
	f := failThenSucceed(t, 100, http.StatusServiceUnavailable, nil)
	mux.Handle("/", f)
	_, resp, err := c.Infrastructure.Connect(context.Background(), 1, 2)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	assert.Equal(t, "failure 3", apiErr.Message, "the error of the third attempt")
	assert.Equal(t, 3, f.requests())
	assert.Equal(t, 3, resp.Attempts)
}

// TestRetryPolicyZeroDisablesRetries: WithRetry(RetryPolicy{}) sends each
// request once.
func TestRetryPolicyZeroDisablesRetries(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{}))
	f := failThenSucceed(t, 1, http.StatusServiceUnavailable, nil)
	mux.Handle("/", f)
	_, _, err := c.Infrastructure.Connect(context.Background(), 1, 2)
	assert.ErrorAs(t, err, new(*APIError))
	assert.Equal(t, 1, f.requests())
}

// TestRetryNetworkError: a connection closed without a response is retried.
func TestRetryNetworkError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	f := &counted{serve: func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if assert.NoError(t, err, "hijack") {
				_ = conn.Close()
			}
			return
		}
		writeJSON(t, w, http.StatusOK, infraPage(infraIdentity(1)))
	}}
	mux.Handle("/", f)
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, 2, f.requests())
}

// TestAttemptTimeout: an attempt that outlives WithTimeout is abandoned when
// the timeout ends, and retried.
func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mux := setupInProcess(t, WithTimeout(100*time.Millisecond))
		mux.Handle("/", hangFirst(t))
		start := time.Now()
		_, resp, err := c.Infrastructure.List(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, 2, resp.Attempts)
		waited := time.Since(start)
		assert.GreaterOrEqual(t, waited, 100*time.Millisecond)
		assert.Less(t, waited, 100*time.Millisecond+fastRetry.BaseDelay, "the timeout, then at most the first backoff")
	})
}

// TestCancelStopsWaiting: cancelling the context during a long Retry-After
// wait returns at once with the context's error.
func TestCancelStopsWaiting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mux := setupInProcess(t, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: time.Minute}))
		f := failThenSucceed(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {"30"}})
		mux.Handle("/", f)
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _, err = c.Infrastructure.Connect(ctx, 1, 2)
		}()
		synctest.Wait() // the client is waiting out the Retry-After
		require.Equal(t, 1, f.requests())
		cancel()
		<-done
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorAs(t, err, new(*APIError), "the cancelled context must win over the 429")
		assert.Zero(t, time.Since(start), "returned at once")
		assert.Equal(t, 1, f.requests())
	})
}

// TestCancelInFlight: a context that ends while a request is in flight ends
// the call then, with the context's error rather than the transport's, and
// no retry.
func TestCancelInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mux := setupInProcess(t)
		f := hangFirst(t)
		mux.Handle("/", f)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := c.VersionControl.List(ctx, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, f.requests())
	})
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
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrNotFound)
}

// TestCancelledBeforeCall: nothing is sent with a context already cancelled.
func TestCancelledBeforeCall(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	f := failThenSucceed(t, 0, 0, nil)
	mux.Handle("/", f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Infrastructure.Disconnect(ctx, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, drain(c.Infrastructure.All(ctx, nil)), context.Canceled)
	assert.Equal(t, 0, f.requests())
}

// TestRetryAfterTooLong: a 429 whose Retry-After outlasts the context's
// deadline, or asks for longer than the policy's MaxDelay, is not retried
// early: the caller gets it at once, with its RetryAfter.
func TestRetryAfterTooLong(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		retryAfter string
		maxDelay   time.Duration
		deadline   time.Duration
	}{
		"beyond the deadline":  {retryAfter: "30", maxDelay: time.Minute, deadline: 10 * time.Second},
		"beyond the max delay": {retryAfter: "120", maxDelay: 2 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c, mux := setupInProcess(t, WithRetry(RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: tc.maxDelay}))
				f := failThenSucceed(t, 100, http.StatusTooManyRequests, http.Header{"Retry-After": {tc.retryAfter}})
				mux.Handle("/", f)
				ctx := context.Background()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				start := time.Now()
				_, _, err := c.Infrastructure.Connect(ctx, 1, 2)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.ErrorIs(t, err, ErrRateLimited)
				assert.Equal(t, tc.retryAfter, fmt.Sprint(apiErr.RetryAfter.Seconds()), "RetryAfter in seconds")
				assert.Zero(t, time.Since(start), "returned at once")
				assert.Equal(t, 1, f.requests())
			})
		})
	}
}

// TestClientRateLimit: the client-side limiter holds back a request that
// would break the rate, and gives up at once when the context would end
// first.
func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, mux := setupInProcess(t, WithRateLimit(1)) // one a minute, burst of one
		f := reply(t, http.StatusOK, vcPage())
		mux.Handle("/", f)
		_, _, err := c.VersionControl.List(context.Background(), nil)
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		_, _, err = c.VersionControl.List(ctx, nil)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, time.Since(start), "gave up at once")
		assert.Equal(t, 1, f.requests())

		// With time to wait, the request waits for its turn: a minute after
		// the first.
		_, _, err = c.VersionControl.List(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, time.Minute, time.Since(start))
		assert.Equal(t, 2, f.requests())
	})
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
		assert.Equal(t, tc.want, transient(tc.err), "transient(%v)", tc.err)
	}
}
