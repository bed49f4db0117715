// Package wait holds how the client and the conformance checker wait: for a
// server's Retry-After, and for a time unless the context ends first.
package wait

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxSeconds is the most seconds a time.Duration holds with room to spare.
const maxSeconds = int64(time.Duration(1<<62) / time.Second)

// RetryAfter reads the Retry-After header of h: delay-seconds, or an HTTP
// date (a date already past is 0). ok is false when the header is absent
// or neither; a number of seconds too large for a Duration is capped.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, maxSeconds)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Sleep waits for d, or until ctx ends, whichever comes first; it returns
// ctx's error when ctx ended first (or had already ended).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
