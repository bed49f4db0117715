// Package ratelimit holds the request budgets of the API's clients: in this
// process (Local), or in Redis, shared by every replica of the server
// (Shared). Both meter a client the same way: a budget of perMinute
// requests that refills at perMinute a minute (GCRA, the same as a token
// bucket).
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Verdict is the outcome of one request's check.
type Verdict struct {
	// Allowed says whether the request may go on.
	Allowed bool
	// Limit is the budget: requests a minute.
	Limit int
	// Remaining is how many more requests the budget allows now.
	Remaining int
	// RetryAfter is how long until one request is allowed again; 0 when
	// this one is.
	RetryAfter time.Duration
	// Reset is how long until the budget is full again.
	Reset time.Duration
}

// Limiter takes one request from a client's budget. A Limiter always
// answers: one that depends on a service decides on its own when the
// service does not answer.
type Limiter interface {
	Take(ctx context.Context, client string, now time.Time) Verdict
}

// Local holds the budgets in this process, by client, forgetting a client a
// minute after its budget refilled. Its clock is the now each Take is
// given.
type Local struct {
	perMinute int
	every     rate.Limit

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLocal returns a Local limiter of perMinute requests a minute, which
// must be positive.
func NewLocal(perMinute int) *Local {
	return &Local{perMinute: perMinute, every: rate.Limit(float64(perMinute) / 60), buckets: make(map[string]*bucket)}
}

// Take takes one request from client's budget.
func (l *Local) Take(_ context.Context, client string, now time.Time) Verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[client]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.perMinute)}
		l.buckets[client] = b
	}
	b.seen = now
	v := Verdict{Allowed: b.lim.AllowN(now, 1), Limit: l.perMinute}
	tokens := b.lim.TokensAt(now)
	v.Remaining = max(0, int(math.Floor(tokens)))
	v.Reset = time.Duration((float64(l.perMinute) - tokens) / float64(l.every) * float64(time.Second))
	if !v.Allowed {
		v.RetryAfter = time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	}
	return v
}

// sweep forgets, once a minute, clients whose budgets have refilled.
func (l *Local) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for c, b := range l.buckets {
		if now.Sub(b.seen) > time.Minute {
			delete(l.buckets, c)
		}
	}
}
