package server

import (
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/identities-go/identities/ratelimit"
)

// clientKey is the budget a client address takes from: an IPv4 address or
// an IPv6 /64, since one IPv6 host commonly holds a whole /64.
func clientKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil { // the zero Addr: one shared budget
		return "unknown"
	}
	return p.String()
}

// rateLimitHeaders sets the rate-limit headers every response carries.
func rateLimitHeaders(h http.Header, v ratelimit.Verdict) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.Remaining))
	h.Set("X-RateLimit-Reset", strconv.Itoa(ceilSeconds(v.Reset)))
	if !v.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(1, ceilSeconds(v.RetryAfter))))
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
