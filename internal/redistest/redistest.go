// Package redistest gives tests a Redis client and a key prefix of their
// own, removed when the test ends. The server is IDENTITIES_TEST_REDIS
// (default redis://127.0.0.1:6379/0). When it does not answer, the test is
// skipped with one line, unless IDENTITIES_REQUIRE_REDIS=1 (as in CI),
// which fails it instead.
package redistest

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// Options are the client options of URL, or the test stops.
func Options(tb testing.TB) *redis.Options {
	tb.Helper()
	o, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("redistest: IDENTITIES_TEST_REDIS: %v", err)
	}
	return o
}

// Client returns a client of the tests' Redis and a key prefix no other
// test uses; the keys under it are deleted when the test ends.
func Client(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	rdb := redis.NewClient(Options(tb))
	tb.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if os.Getenv("IDENTITIES_REQUIRE_REDIS") == "1" {
			tb.Fatalf("redistest: Redis at %s does not answer (IDENTITIES_REQUIRE_REDIS=1): %v", URL(), err)
		}
		tb.Skipf("redistest: no Redis at %s (%v); set IDENTITIES_TEST_REDIS to run this test", URL(), err)
	}
	prefix := "identities-test:" + rand.Text()[:12] + ":"
	tb.Cleanup(func() { Clean(tb, rdb, prefix) })
	return rdb, prefix
}

// Clean deletes every key that holds prefix.
func Clean(tb testing.TB, rdb *redis.Client, prefix string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			tb.Errorf("redistest: clean %s: %v", iter.Val(), err)
			return
		}
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("redistest: clean %s: %v", prefix, err)
	}
}
