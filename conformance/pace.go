package conformance

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/identities-go/identities/internal/wait"
)

// clock is the time the pacer reads and waits on; tests replace it.
type clock interface {
	Now() time.Time
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error { return wait.Sleep(ctx, d) }

const (
	// maxRetries bounds how often one request is sent again after a 429.
	maxRetries = 5
	// maxWait bounds one wait for the server's rate limit.
	maxWait = 2 * time.Minute
)

// pacer spaces requests as the server asks. It sends at once while the
// server's X-RateLimit-Remaining says there is room; when the budget is
// (nearly) spent it spaces requests by X-RateLimit-Reset over the
// requests spent, the pace at which a refilling budget comes back; a 429
// waits its Retry-After (or backs off when there is none). An optional
// cap (requests per minute) applies on top.
type pacer struct {
	clock clock
	cap   *rate.Limiter // nil: no cap
	next  time.Time     // no request before this, as the server asked
}

func newPacer(c clock, perMinute int) *pacer {
	p := &pacer{clock: c}
	if perMinute > 0 {
		p.cap = rate.NewLimiter(rate.Limit(float64(perMinute)/60), 1)
	}
	return p
}

// wait blocks until the next request may go.
func (p *pacer) wait(ctx context.Context) error {
	now := p.clock.Now()
	var d time.Duration
	if p.cap != nil {
		d = p.cap.ReserveN(now, 1).DelayFrom(now)
	}
	d = max(d, p.next.Sub(now))
	if d <= 0 {
		return ctx.Err()
	}
	return p.clock.Sleep(ctx, d)
}

// observe reads an answer's rate-limit headers. For a 429 it returns how
// long to wait before sending the request again, and whether to.
func (p *pacer) observe(h http.Header, status, attempt int) (time.Duration, bool) {
	now := p.clock.Now()
	remaining, okRemaining := headerInt(h, "X-RateLimit-Remaining")
	reset, okReset := headerInt(h, "X-RateLimit-Reset")
	if okRemaining && okReset && remaining <= 1 {
		spent := 1
		if limit, ok := headerInt(h, "X-RateLimit-Limit"); ok && limit-remaining > 1 {
			spent = limit - remaining
		}
		p.later(now.Add(min(time.Duration(reset)*time.Second/time.Duration(spent), maxWait)))
	}
	if status != http.StatusTooManyRequests || attempt >= maxRetries {
		return 0, false
	}
	delay := min(time.Second<<attempt, 30*time.Second)
	if d, ok := wait.RetryAfter(h, now); ok {
		delay = min(d, maxWait)
	}
	p.later(now.Add(delay))
	return delay, true
}

func (p *pacer) later(t time.Time) {
	if t.After(p.next) {
		p.next = t
	}
}

func headerInt(h http.Header, name string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	return n, err == nil && n >= 0
}
