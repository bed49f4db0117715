// Package apikey makes API keys, digests them for storage, and decides what
// their scopes allow.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// keyPrefix starts every key, so leaked keys are easy to recognise.
const keyPrefix = "idk_"

// Scopes a key can carry. Write scopes do not imply read.
const (
	InfrastructureRead  = "infrastructure:read"
	InfrastructureWrite = "infrastructure:write"
	VersionControlRead  = "version-control:read"
	VersionControlWrite = "version-control:write"
	// AllRead grants both read scopes.
	AllRead = "read"
	// AllReadWrite grants every scope.
	AllReadWrite = "read-write"
)

// Known lists every scope name a key may be given.
var Known = []string{InfrastructureRead, InfrastructureWrite, VersionControlRead, VersionControlWrite, AllRead, AllReadWrite}

// New returns a fresh secret key, the short prefix shown in listings, and
// the digest to store.
func New() (secret, prefix string, digest []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("apikey: read random: %w", err)
	}
	secret = keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, secret[:len(keyPrefix)+6], Digest(secret), nil
}

// Digest is what the store keeps of a key. Keys carry 256 random bits, so
// one SHA-256 is enough; no password stretching is needed.
func Digest(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// ParseBearer returns the key in an Authorization header value, or "" when
// the value is not a well-formed bearer credential.
func ParseBearer(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return ""
	}
	return token
}

// ValidateScopes reports the first unknown scope.
func ValidateScopes(scopes []string) error {
	for _, s := range scopes {
		if !slices.Contains(Known, s) {
			return fmt.Errorf("apikey: unknown scope %q (known: %s)", s, strings.Join(Known, ", "))
		}
	}
	return nil
}

// Allows reports whether scopes grant need (such as "infrastructure:read").
func Allows(scopes []string, need string) bool {
	for _, s := range scopes {
		switch {
		case s == need, s == AllReadWrite:
			return true
		case s == AllRead && strings.HasSuffix(need, ":read"):
			return true
		}
	}
	return false
}

// ValidateNets parses CIDRs (or bare addresses) of an allow-list.
func ValidateNets(nets []string) error {
	for _, n := range nets {
		if _, err := parseNet(n); err != nil {
			return err
		}
	}
	return nil
}

func parseNet(n string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(n); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(n)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("apikey: %q is neither a CIDR nor an address", n)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AllowsAddr reports whether addr is inside the allow-list; an empty list
// allows every address.
func AllowsAddr(nets []string, addr netip.Addr) bool {
	if len(nets) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, n := range nets {
		if p, err := parseNet(n); err == nil && p.Contains(addr) {
			return true
		}
	}
	return false
}
