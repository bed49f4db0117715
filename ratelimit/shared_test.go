package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/redistest"
	"github.com/identities-go/identities/ratelimit"
)

// TestSharedBudgetAcrossReplicas: two limiters on one Redis (two replicas)
// take from one budget per client: together they admit what one would.
func TestSharedBudgetAcrossReplicas(t *testing.T) {
	t.Parallel()
	pool, prefix := redistest.Client(t)
	a := ratelimit.NewShared(pool, 10, ratelimit.SharedOptions{Prefix: prefix})
	b := ratelimit.NewShared(pool, 10, ratelimit.SharedOptions{Prefix: prefix})
	ctx := context.Background()
	now := time.Now()
	allowed := 0
	var last ratelimit.Verdict
	for i := range 30 {
		l := a
		if i%2 == 1 {
			l = b
		}
		last = l.Take(ctx, "192.0.2.1/32", now)
		if last.Allowed {
			allowed++
		}
	}
	assert.InDelta(t, 10, allowed, 1, "two replicas admit one budget (and at most a refill of the seconds the loop took)")
	assert.False(t, last.Allowed)
	assert.Equal(t, 10, last.Limit)
	assert.Equal(t, 0, last.Remaining)
	assert.Positive(t, last.RetryAfter)
	assert.LessOrEqual(t, last.RetryAfter, 6*time.Second, "one request comes back every 6 s at 10 a minute")
	assert.True(t, a.Take(ctx, "192.0.2.2/32", now).Allowed, "another client has its own budget")
	require.NoError(t, a.Ping(ctx))
}

// TestSharedMetersAsLocalDoes: the budget kept in Redis answers each take
// as the budget in process does (the same GCRA), up to the microseconds
// Redis's clock moves between takes.
func TestSharedMetersAsLocalDoes(t *testing.T) {
	t.Parallel()
	pool, prefix := redistest.Client(t)
	const perMinute = 7 // a request's share is not a whole number of microseconds
	shared := ratelimit.NewShared(pool, perMinute, ratelimit.SharedOptions{Prefix: prefix, Timeout: time.Second})
	local := ratelimit.NewLocal(perMinute)
	ctx, now := context.Background(), time.Now()
	for i := range perMinute + 2 {
		want, got := local.Take(ctx, "c", now), shared.Take(ctx, "c", now)
		assert.Equal(t, want.Allowed, got.Allowed, "take %d", i)
		assert.Equal(t, want.Limit, got.Limit, "take %d", i)
		assert.Equal(t, want.Remaining, got.Remaining, "take %d", i)
		assert.InDelta(t, want.RetryAfter, got.RetryAfter, float64(time.Second), "take %d: retry after", i)
		assert.InDelta(t, want.Reset, got.Reset, float64(time.Second), "take %d: reset", i)
	}
	conn, err := pool.GetContext(ctx)
	require.NoError(t, err)
	defer conn.Close()
	ttl, err := redis.Int64(redis.DoContext(conn, ctx, "PTTL", prefix+"gcra:c"))
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Milliseconds(), ttl, float64(time.Second.Milliseconds()), "the key lives until the budget is full again")
}

// TestNewRedisPoolSaysWhatIsWrongWithTheURL: a URL the pool could never
// dial is an error at once; a good one is not, though nothing answers
// there.
func TestNewRedisPoolSaysWhatIsWrongWithTheURL(t *testing.T) {
	for _, bad := range []string{"http://127.0.0.1:6379", "redis://127.0.0.1:6379/x", "127.0.0.1:6379", "redis://%zz"} {
		_, err := ratelimit.NewRedisPool(bad)
		assert.ErrorContains(t, err, "redis URL", bad)
	}
	pool, err := ratelimit.NewRedisPool("redis://user:secret@127.0.0.1:1/2")
	require.NoError(t, err)
	require.NoError(t, pool.Close())
}

// TestSharedFallsBackAndRecovers: while Redis does not answer, a limiter
// still answers from a budget of its own, logs that once, and shares the
// budget again once Redis answers.
func TestSharedFallsBackAndRecovers(t *testing.T) {
	t.Parallel()
	_, prefix := redistest.Client(t)
	var down atomic.Bool
	dial := (&net.Dialer{Timeout: time.Second}).DialContext
	pool := redistest.Pool(t, redis.DialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errors.New("redis is down (test)")
		}
		c, err := dial(ctx, network, addr)
		return &cuttable{Conn: c, down: &down}, err
	}))
	var logs syncBuffer
	l := ratelimit.NewShared(pool, 3, ratelimit.SharedOptions{Prefix: prefix, Pause: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	now := time.Now()

	require.True(t, l.Take(ctx, "c", now).Allowed, "shared")
	down.Store(true)
	require.Error(t, l.Ping(ctx))
	for i := range 3 {
		require.True(t, l.Take(ctx, "c", now).Allowed, "request %d with Redis down: the local budget of 3", i)
	}
	v := l.Take(ctx, "c", now)
	assert.False(t, v.Allowed, "the local budget is spent")
	assert.Positive(t, v.RetryAfter)
	assert.Equal(t, 1, strings.Count(logs.String(), "Redis does not answer"), "logged once: %s", logs.String())

	down.Store(false)
	later := now.Add(2 * time.Second) // past the pause
	v = l.Take(ctx, "c", later)
	assert.True(t, v.Allowed, "shared again: one taken of 3 before Redis went down")
	assert.Equal(t, 1, v.Remaining, "the shared budget counts what was taken before Redis went down")
	assert.Contains(t, logs.String(), "Redis answers again")
}

// cuttable is a connection that fails once down is set.
type cuttable struct {
	net.Conn
	down *atomic.Bool
}

func (c *cuttable) Read(p []byte) (int, error) {
	if c.down.Load() {
		return 0, errors.New("redis is down (test)")
	}
	return c.Conn.Read(p)
}

func (c *cuttable) Write(p []byte) (int, error) {
	if c.down.Load() {
		return 0, errors.New("redis is down (test)")
	}
	return c.Conn.Write(p)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
