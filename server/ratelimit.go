package server

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter meters requests per client as a leaky bucket of perMinute
// requests that drains at perMinute per minute (x/time/rate's token bucket,
// which meters the same way). A client is an IPv4 address or an IPv6 /64,
// since one IPv6 host commonly holds a whole /64.
type limiter struct {
	perMinute int
	every     rate.Limit

	mu        sync.Mutex
	buckets   map[netip.Prefix]*bucket
	lastSweep time.Time
}

// clientKey is the bucket a client address falls in.
func clientKey(a netip.Addr) netip.Prefix {
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil { // the zero Addr: one shared bucket
		return netip.Prefix{}
	}
	return p
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perMinute int) *limiter {
	return &limiter{perMinute: perMinute, every: rate.Limit(float64(perMinute) / 60), buckets: make(map[netip.Prefix]*bucket)}
}

// verdict is the outcome of one request's check.
type verdict struct {
	allowed    bool
	remaining  int
	retryAfter time.Duration // until one request is allowed again
	reset      time.Duration // until the bucket is full again
}

func (l *limiter) take(addr netip.Addr, now time.Time) verdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	key := clientKey(addr)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.every, l.perMinute)}
		l.buckets[key] = b
	}
	b.seen = now
	v := verdict{allowed: b.lim.AllowN(now, 1)}
	tokens := b.lim.TokensAt(now)
	v.remaining = max(0, int(math.Floor(tokens)))
	v.reset = time.Duration((float64(l.perMinute) - tokens) / float64(l.every) * float64(time.Second))
	if !v.allowed {
		v.retryAfter = time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
	}
	return v
}

// sweep forgets, once a minute, addresses whose buckets have refilled.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for addr, b := range l.buckets {
		if now.Sub(b.seen) > time.Minute {
			delete(l.buckets, addr)
		}
	}
}

// headers sets the rate-limit headers every response carries.
func (v verdict) headers(h http.Header, perMinute int) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(perMinute))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(ceilSeconds(v.reset)))
	if !v.allowed {
		h.Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(v.retryAfter))))
	}
}

func ceilSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

// clientAddr is the address a request comes from. X-Forwarded-For counts
// only when the peer is a trusted proxy, and then only its right-most
// address that is not itself a trusted proxy, so a client cannot buy a
// fresh bucket by forging the header.
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	var addr netip.Addr
	if err == nil {
		addr = peer.Addr().Unmap().WithZone("")
	} else if a, ok := parseHop(r.RemoteAddr); ok {
		addr = a
	}
	if !isTrusted(addr, trusted) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		if !isTrusted(a, trusted) {
			return a
		}
	}
	return addr
}

// parseHop reads one X-Forwarded-For entry: an address, or an address with
// a port ("192.0.2.1:5678", "[2001:db8::1]:80"), without any zone.
func parseHop(h string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(h)
	if err != nil {
		ap, err := netip.ParseAddrPort(h)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
