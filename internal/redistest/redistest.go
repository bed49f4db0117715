// Package redistest gives tests a Redis connection pool and a key prefix
// of their own, removed when the test ends. The server is
// IDENTITIES_TEST_REDIS (default redis://127.0.0.1:6379/0). When it does
// not answer, the test is skipped with one line, unless
// IDENTITIES_REQUIRE_REDIS=1 (as in CI), which fails it instead.
package redistest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"

	"github.com/identities-go/identities/ratelimit"
)

// DefaultURL is the Redis tests use unless IDENTITIES_TEST_REDIS says
// otherwise.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the Redis server of the tests.
func URL() string {
	if u := os.Getenv("IDENTITIES_TEST_REDIS"); u != "" {
		return u
	}
	return DefaultURL
}

// Addr is the host:port of URL, or the test stops.
func Addr(tb testing.TB) string {
	tb.Helper()
	u, err := url.Parse(URL())
	if err != nil || u.Host == "" {
		tb.Fatalf("redistest: IDENTITIES_TEST_REDIS %q is not a redis:// URL", URL())
	}
	if u.Port() == "" {
		return u.Host + ":6379"
	}
	return u.Host
}

// Pool returns a pool of connections to URL, dialed with opts, closed when
// the test ends; it does not connect.
func Pool(tb testing.TB, opts ...redis.DialOption) *redis.Pool {
	tb.Helper()
	pool, err := ratelimit.NewRedisPool(URL(), opts...)
	if err != nil {
		tb.Fatalf("redistest: IDENTITIES_TEST_REDIS: %v", err)
	}
	tb.Cleanup(func() { _ = pool.Close() })
	return pool
}

// Client returns a pool of connections to the tests' Redis and a key
// prefix no other test uses; the keys under it are deleted when the test
// ends.
func Client(tb testing.TB) (*redis.Pool, string) {
	tb.Helper()
	pool := Pool(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := ping(ctx, pool); err != nil {
		if os.Getenv("IDENTITIES_REQUIRE_REDIS") == "1" {
			tb.Fatalf("redistest: Redis at %s does not answer (IDENTITIES_REQUIRE_REDIS=1): %v", URL(), err)
		}
		tb.Skipf("redistest: no Redis at %s (%v); set IDENTITIES_TEST_REDIS to run this test", URL(), err)
	}
	prefix := "identities-test:" + rand.Text()[:12] + ":"
	tb.Cleanup(func() { Clean(tb, pool, prefix) })
	return pool, prefix
}

// Clean deletes every key that starts with prefix.
func Clean(tb testing.TB, pool *redis.Pool, prefix string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pool.GetContext(ctx)
	if err != nil {
		tb.Errorf("redistest: clean %s: %v", prefix, err)
		return
	}
	defer conn.Close()
	cursor := 0
	for {
		var keys []string
		v, err := redis.Values(redis.DoContext(conn, ctx, "SCAN", cursor, "MATCH", prefix+"*", "COUNT", 1000))
		if err == nil {
			_, err = redis.Scan(v, &cursor, &keys)
		}
		if err == nil && len(keys) > 0 {
			_, err = redis.DoContext(conn, ctx, "DEL", redis.Args{}.AddFlat(keys)...)
		}
		if err != nil {
			tb.Errorf("redistest: clean %s: %v", prefix, err)
			return
		}
		if cursor == 0 {
			return
		}
	}
}

func ping(ctx context.Context, pool *redis.Pool) error {
	conn, err := pool.GetContext(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = redis.DoContext(conn, ctx, "PING")
	return err
}
