package client

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
		"negative max retries":  WithMaxRetries(-1),
		"negative rate limit":   WithRateLimit(-1),
		"nil validator":         WithValidator(nil),
		"nil logger":            WithLogger(nil),
	} {
		if _, err := New(opt); !errors.Is(err, errOption) {
			t.Errorf("%s: err = %v, want an option error", name, err)
		}
	}
}

func TestValidatorMustMatchBasePath(t *testing.T) {
	t.Parallel()
	v := validator(t) // serves basePath
	if _, err := New(WithBaseURL("https://example.com/public"), WithValidator(v)); !errors.Is(err, errOption) {
		t.Errorf("mismatched base path: err = %v, want an option error", err)
	}
	if _, err := New(WithBaseURL("https://example.com"+basePath+"/"), WithValidator(v)); err != nil {
		t.Errorf("matching base path: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != DefaultBaseURL || c.timeout != DefaultTimeout || c.retry != DefaultRetryPolicy() ||
		c.userAgent != DefaultUserAgent || c.validator != nil || c.limiter == nil || c.token != "" {
		t.Errorf("defaults = %+v", c)
	}
	if got := c.limiter.Limit() * 60; got < DefaultRateLimit-0.001 || got > DefaultRateLimit+0.001 {
		t.Errorf("rate = %v a minute, want %d", got, DefaultRateLimit)
	}
	c, err = New(WithRateLimit(0), WithRetry(RetryPolicy{MaxRetries: 2}), WithMaxRetries(5))
	if err != nil {
		t.Fatal(err)
	}
	if c.limiter != nil {
		t.Error("WithRateLimit(0) left a limiter")
	}
	if want := (RetryPolicy{MaxRetries: 5, BaseDelay: DefaultRetryPolicy().BaseDelay, MaxDelay: DefaultRetryPolicy().MaxDelay}); c.retry != want {
		t.Errorf("retry = %+v, want %+v", c.retry, want)
	}
	p, err := RetryPolicy{MaxRetries: 1, MaxDelay: 100 * time.Millisecond}.normalize()
	if err != nil || p.BaseDelay != 100*time.Millisecond {
		t.Errorf("normalize with a small MaxDelay = %+v, %v; want BaseDelay 100ms", p, err)
	}
}

// TestOptionsApply: the HTTP client, user agent and base URL (with a trailing
// slash) are used; no Authorization header is sent without a token.
func TestOptionsApply(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/public/user-identities/version-control" {
			t.Errorf("path = %s", r.URL.Path)
		}
		testHeader(t, r, "User-Agent", "my-tool/2.0")
		testHeader(t, r, "Authorization", "")
		writeJSON(t, w, http.StatusOK, vcPage())
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := New(WithBaseURL(srv.URL+"/v1/public/"), WithHTTPClient(hc), WithUserAgent("my-tool/2.0"),
		WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(c.BaseURL(), "/v1/public") {
		t.Errorf("BaseURL = %s", c.BaseURL())
	}
	if _, _, err := c.VersionControl.List(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != 1 {
		t.Errorf("custom HTTP client used %d times, want 1", seen.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
