package client

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsRejectBadInput(t *testing.T) {
	t.Parallel()
	for name, opt := range map[string]Option{
		"nil option":            nil,
		"empty token":           WithToken(""),
		"token with space":      WithToken("abc def"),
		"token with newline":    WithToken("abc\r\nX-Evil: 1"),
		"unparsable base URL":   WithBaseURL("http://[::1"),
		"relative base URL":     WithBaseURL("/public"),
		"ftp base URL":          WithBaseURL("ftp://example.com/public"),
		"base URL without host": WithBaseURL("http:///public"),
		"base URL with query":   WithBaseURL("https://example.com/public?x=1"),
		"base URL with empty ?": WithBaseURL("https://example.com/public?"),
		"base URL fragment":     WithBaseURL("https://example.com/public#top"),
		"base URL credentials":  WithBaseURL("https://user:pass@example.com/public"),
		"nil HTTP client":       WithHTTPClient(nil),
		"zero timeout":          WithTimeout(0),
		"negative timeout":      WithTimeout(-time.Second),
		"empty user agent":      WithUserAgent(" "),
		"user agent newline":    WithUserAgent("me\nX-Evil: 1"),
		"negative retries":      WithRetry(RetryPolicy{MaxRetries: -1}),
		"negative base delay":   WithRetry(RetryPolicy{MaxRetries: 1, BaseDelay: -1}),
		"negative max delay":    WithRetry(RetryPolicy{MaxRetries: 1, MaxDelay: -1}),
		"max below base":        WithRetry(RetryPolicy{MaxRetries: 1, BaseDelay: time.Second, MaxDelay: time.Millisecond}),
		"negative rate limit":   WithRateLimit(-1),
		"nil logger":            WithLogger(nil),
	} {
		_, err := New(opt)
		assert.ErrorIs(t, err, errOption, name)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := New()
	require.NoError(t, err)
	assert.Equal(t, DefaultBaseURL, c.BaseURL())
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, DefaultRetryPolicy(), c.retry)
	assert.Equal(t, DefaultUserAgent, c.userAgent)
	assert.Nil(t, c.checker, "response checking is off by default")
	assert.Empty(t, c.token)
	require.NotNil(t, c.limiter)
	assert.InDelta(t, DefaultRateLimit, float64(c.limiter.Limit())*60, 0.001, "requests a minute")

	c, err = New(WithRateLimit(0))
	require.NoError(t, err)
	assert.Nil(t, c.limiter, "WithRateLimit(0) left a limiter")
}

// TestRetryPolicyDefaults: zero delays take the defaults, so a policy that
// only sets MaxRetries keeps the default backoff.
func TestRetryPolicyDefaults(t *testing.T) {
	t.Parallel()
	def := DefaultRetryPolicy()
	for _, tc := range []struct{ in, want RetryPolicy }{
		{RetryPolicy{MaxRetries: 5}, RetryPolicy{MaxRetries: 5, BaseDelay: def.BaseDelay, MaxDelay: def.MaxDelay}},
		{RetryPolicy{}, RetryPolicy{BaseDelay: def.BaseDelay, MaxDelay: def.MaxDelay}},
		{RetryPolicy{MaxRetries: 1, MaxDelay: 100 * time.Millisecond}, RetryPolicy{MaxRetries: 1, BaseDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond}},
		{RetryPolicy{MaxRetries: 1, BaseDelay: time.Minute}, RetryPolicy{MaxRetries: 1, BaseDelay: time.Minute, MaxDelay: time.Minute}},
	} {
		c, err := New(WithRetry(tc.in))
		require.NoError(t, err)
		assert.Equal(t, tc.want, c.retry, "WithRetry(%+v)", tc.in)
	}
}

// TestResponseCheckerOption: New builds the checker once, from the base URL
// (a copy it may not change), fails when the checker cannot be built, and
// the last WithResponseChecker wins.
func TestResponseCheckerOption(t *testing.T) {
	t.Parallel()
	var got []string
	newChecker := func(u *url.URL) (ResponseChecker, error) {
		got = append(got, u.String())
		u.Path = "/changed"
		return contractChecker{}, nil
	}
	c, err := New(WithBaseURL("https://example.com"+basePath+"/"), WithResponseChecker(newChecker))
	require.NoError(t, err)
	assert.Equal(t, []string{"https://example.com" + basePath}, got)
	assert.NotNil(t, c.checker)
	assert.Equal(t, "https://example.com"+basePath, c.BaseURL(), "the checker cannot change the client's URL")

	_, err = New(WithResponseChecker(func(*url.URL) (ResponseChecker, error) { return nil, errors.New("no document") }))
	require.ErrorContains(t, err, "response checking: no document")

	c, err = New(WithResponseChecker(newChecker), WithResponseChecker(nil))
	require.NoError(t, err)
	assert.Nil(t, c.checker, "the last option wins")
}

// TestOptionsApply: the HTTP client, user agent and base URL (with a trailing
// slash) are used; no Authorization header is sent without a token.
func TestOptionsApply(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/v1/public/user-identities/version-control", r.URL.Path)
		testHeader(t, r, "User-Agent", "my-tool/2.0")
		testHeader(t, r, "Authorization", "")
		writeJSON(t, w, http.StatusOK, vcPage())
	}))
	t.Cleanup(srv.Close)
	var sent atomic.Int32
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := New(WithBaseURL(srv.URL+"/v1/public/"), WithHTTPClient(hc), WithUserAgent("my-tool/2.0"),
		WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/v1/public", c.BaseURL())
	_, _, err = c.VersionControl.List(context.Background(), nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, sent.Load(), "requests through the custom HTTP client")
}
