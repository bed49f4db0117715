package ratelimit

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gomodule/redigo/redis"
)

// Shared holds the budgets in Redis (5 or newer), so that every replica of
// the server takes from the same budget of a client. Its clock is Redis's.
// While Redis does not answer, each replica meters its clients in process
// (a Local budget of the same size), logs that once, and asks Redis again
// after a pause; when Redis answers again the budgets are shared again.
type Shared struct {
	pool      *redis.Pool
	perMinute int
	prefix    string
	fallback  *Local
	log       *slog.Logger
	timeout   time.Duration
	pause     time.Duration

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

// gcra takes one request from a budget kept in Redis, in one round trip.
// Its keys are prefix + "gcra:" + client: a key segment of their own, which
// no earlier version of the server reads.
//
//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(1, gcraSource)

// NewRedisPool returns a pool of connections to the Redis at rawURL
// (redis://[user:password@]host[:port][/db], or rediss:// for TLS), dialed
// with opts, or an error that says what is wrong with rawURL. It does not
// connect: a Redis that does not answer yet is not an error.
func NewRedisPool(rawURL string, opts ...redis.DialOption) (*redis.Pool, error) {
	// redigo reads the URL as it dials; a dial that never connects checks
	// the URL now.
	errChecked := errors.New("checked")
	_, err := redis.DialURLContext(context.Background(), rawURL, redis.DialContextFunc(func(context.Context, string, string) (net.Conn, error) {
		return nil, errChecked
	}))
	if !errors.Is(err, errChecked) {
		return nil, fmt.Errorf("ratelimit: redis URL: %w", err)
	}
	return &redis.Pool{
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialURLContext(ctx, rawURL, opts...)
		},
		MaxIdle:     64, // each request holds a connection for one round trip
		IdleTimeout: 5 * time.Minute,
	}, nil
}

// NewShared returns a limiter of perMinute requests a minute (positive)
// whose budgets live in the Redis that pool connects to.
func NewShared(pool *redis.Pool, perMinute int, o SharedOptions) *Shared {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Shared{pool: pool, perMinute: perMinute, prefix: o.Prefix, fallback: NewLocal(perMinute), log: o.Logger}
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
	v, err := s.take(ctx, client)
	if err != nil {
		if ctx.Err() == nil { // Redis failed, not the request that went away
			s.failed(now, err)
		}
		return s.fallback.Take(ctx, client, now)
	}
	s.answered()
	return v
}

// take runs gcra on client's key.
func (s *Shared) take(ctx context.Context, client string) (v Verdict, err error) {
	err = s.call(ctx, func(ctx context.Context, conn redis.Conn) error {
		r, err := redis.Int64s(gcra.DoContext(ctx, conn, s.prefix+"gcra:"+client, s.perMinute, time.Minute.Microseconds()))
		if err == nil && len(r) != 4 {
			err = fmt.Errorf("the script answered %d values, not 4", len(r))
		}
		if err != nil {
			return err
		}
		v = Verdict{
			Allowed: r[0] == 1, Limit: s.perMinute, Remaining: int(r[1]),
			RetryAfter: time.Duration(r[2]) * time.Microsecond, Reset: time.Duration(r[3]) * time.Microsecond,
		}
		return nil
	})
	return v, err
}

// Ping reports whether Redis answers. An answer after a failure shares the
// budgets again at once, without waiting for the pause to end.
func (s *Shared) Ping(ctx context.Context) error {
	err := s.call(ctx, func(ctx context.Context, conn redis.Conn) error {
		_, err := redis.DoContext(conn, ctx, "PING")
		return err
	})
	if err != nil {
		return err
	}
	s.answered()
	return nil
}

// call runs f on a connection of the pool, within the limiter's timeout.
func (s *Shared) call(ctx context.Context, f func(context.Context, redis.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	conn, err := s.pool.GetContext(ctx)
	if err == nil {
		err = f(ctx, conn)
		conn.Close()
	}
	if err != nil {
		return fmt.Errorf("ratelimit: redis: %w", err)
	}
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
