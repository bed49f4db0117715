package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/ratelimit"
)

func TestClientKeyGroupsAddresses(t *testing.T) {
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}, // one /64
		{"fe80::1%eth0", "fe80::1%eth1"},            // zones do not count
		{"::ffff:192.0.2.1", "192.0.2.1"},           // 4-in-6 is IPv4
	}
	for _, p := range same {
		if clientKey(netip.MustParseAddr(p[0])) != clientKey(netip.MustParseAddr(p[1])) {
			t.Errorf("%s and %s got different buckets", p[0], p[1])
		}
	}
	differ := [][2]string{{"2001:db8:1:2::1", "2001:db8:1:3::1"}, {"192.0.2.1", "192.0.2.2"}}
	for _, p := range differ {
		if clientKey(netip.MustParseAddr(p[0])) == clientKey(netip.MustParseAddr(p[1])) {
			t.Errorf("%s and %s share a bucket", p[0], p[1])
		}
	}
}

func TestClientAddrReadsForwardedForOnlyFromTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		remote, xff, want string
	}{
		{"192.0.2.9:1234", "203.0.113.1", "192.0.2.9"},            // untrusted peer: header ignored
		{"10.0.0.1:1234", "203.0.113.1", "203.0.113.1"},           // trusted peer
		{"10.0.0.1:1234", "203.0.113.1, 10.0.0.2", "203.0.113.1"}, // right-most untrusted hop
		{"10.0.0.1:1234", "198.51.100.7, 203.0.113.1", "203.0.113.1"},
		{"10.0.0.1:1234", "203.0.113.1:5678", "203.0.113.1"}, // with a port
		{"10.0.0.1:1234", "[2001:db8::1]:80", "2001:db8::1"},
		{"10.0.0.1:1234", "garbage", "10.0.0.1"},
		{"[fe80::1%eth0]:1234", "", "fe80::1"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientAddr(r, trusted); got != netip.MustParseAddr(c.want) {
			t.Errorf("remote %s, X-Forwarded-For %q: got %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// TestRateLimitFollowsConfigNow: the buckets drain and refill by the
// server's clock, not the wall clock, so a test (or a replay) that sets
// Config.Now sees the limits move with it.
func TestRateLimitFollowsConfigNow(t *testing.T) {
	t.Parallel()
	clock := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := New(Config{Store: &spyStore{}, RateLimit: 2, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }})
	require.NoError(t, err)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/public/user-identities/infrastructure", nil))
		return rec
	}
	for range 2 {
		assert.Equal(t, http.StatusUnauthorized, get().Code, "within the limit")
	}
	rec := get()
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "30", rec.Header().Get("Retry-After"), "one request comes back every 30 s at 2 a minute")

	clock = clock.Add(29 * time.Second)
	assert.Equal(t, http.StatusTooManyRequests, get().Code, "29 s later by Config.Now")
	clock = clock.Add(time.Second)
	rec = get()
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "30 s later by Config.Now, though no time passed")
	assert.Equal(t, "0", rec.Header().Get("X-RateLimit-Remaining"))
	assert.Equal(t, "60", rec.Header().Get("X-RateLimit-Reset"))
}

// pingLimiter admits everything and answers Ping with err.
type pingLimiter struct{ err error }

func (pingLimiter) Take(context.Context, string, time.Time) ratelimit.Verdict {
	return ratelimit.Verdict{Allowed: true, Limit: 1, Remaining: 1}
}

func (p pingLimiter) Ping(context.Context) error { return p.err }

// TestReadyzReportsTheSharedLimiter: a shared limiter that does not answer
// is reported, and leaves the server ready (it limits in process then).
func TestReadyzReportsTheSharedLimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want string
	}{{nil, "ok"}, {errors.New("down"), "unavailable: limiting in this process"}} {
		s, err := New(Config{Store: &spyStore{}, RateLimiter: pingLimiter{tc.err}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		var body map[string]string
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.Equal(t, map[string]string{"status": "ready", "database": "ok", "rateLimiter": tc.want}, body)
	}
}
