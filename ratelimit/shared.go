package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Shared holds the budgets in Redis, so that every replica of the server
// takes from the same budget of a client. Its clock is Redis's. While
// Redis does not answer, each replica meters its clients in process (a
// Local budget of the same size), logs that once, and asks Redis again
// after a pause; when Redis answers again the budgets are shared again.
type Shared struct {
	rdb      *redis.Client
	limiter  *redis_rate.Limiter
	limit    redis_rate.Limit
	prefix   string
	fallback *Local
	log      *slog.Logger
	timeout  time.Duration
	pause    time.Duration

	mu        sync.Mutex
	down      bool
	downUntil time.Time // no call to Redis before this, once it failed
}

// SharedOptions tunes a Shared limiter; the zero value takes the defaults.
type SharedOptions struct {
	// Prefix starts every key the limiter writes; default "identities:".
	Prefix string
	// Timeout bounds each call to Redis; default 100ms.
	Timeout time.Duration
	// Pause is how long a replica meters in process after Redis failed
	// before it asks Redis again; default one second.
	Pause time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Defaults of SharedOptions.
const (
	DefaultPrefix  = "identities:"
	DefaultTimeout = 100 * time.Millisecond
	DefaultPause   = time.Second
)

// NewShared returns a limiter of perMinute requests a minute (positive)
// whose budgets live in the Redis that rdb talks to.
func NewShared(rdb *redis.Client, perMinute int, o SharedOptions) *Shared {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Shared{
		rdb: rdb, limiter: redis_rate.NewLimiter(rdb), limit: redis_rate.PerMinute(perMinute),
		prefix: o.Prefix, fallback: NewLocal(perMinute), log: o.Logger,
	}
	s.timeout, s.pause = o.Timeout, o.Pause
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.pause <= 0 {
		s.pause = DefaultPause
	}
	return s
}

// Take takes one request from client's shared budget, or from its budget
// in this process while Redis does not answer.
func (s *Shared) Take(ctx context.Context, client string, now time.Time) Verdict {
	if s.skipRedis(now) {
		return s.fallback.Take(ctx, client, now)
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	res, err := s.limiter.Allow(cctx, s.prefix+client, s.limit)
	cancel()
	if err != nil {
		if ctx.Err() != nil { // the request went away, Redis did not
			return s.fallback.Take(ctx, client, now)
		}
		s.failed(now, err)
		return s.fallback.Take(ctx, client, now)
	}
	s.answered()
	v := Verdict{Allowed: res.Allowed > 0, Limit: s.limit.Rate, Remaining: res.Remaining, Reset: max(res.ResetAfter, 0)}
	if !v.Allowed {
		v.RetryAfter = max(res.RetryAfter, 0)
	}
	return v
}

// Ping reports whether Redis answers. An answer after a failure shares the
// budgets again at once, without waiting for the pause to end.
func (s *Shared) Ping(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Ping(cctx).Err(); err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
	s.answered()
	return nil
}

func (s *Shared) skipRedis(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down && now.Before(s.downUntil)
}

func (s *Shared) failed(now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		s.log.Warn("rate limit: Redis does not answer; each replica limits its clients on its own until it does", "err", err)
	}
	s.down, s.downUntil = true, now.Add(s.pause)
}

func (s *Shared) answered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		s.log.Info("rate limit: Redis answers again; budgets are shared again")
		s.down = false
	}
}
