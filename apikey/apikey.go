// Package apikey issues API keys, digests them for storage, and decides what
// their scopes allow.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
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

// Grant is what a new key acts as and may do.
type Grant struct {
	CompanyID int64
	// UserID is the acting user; it must belong to the company.
	UserID int64
	// Scopes are what the key may do: at least one of Known.
	Scopes []string
	// AllowedNets are CIDRs or addresses the key may be used from; empty
	// allows any address.
	AllowedNets []string
	// ExpiresAt, when set, is when the key stops working.
	ExpiresAt *time.Time
}

// Store records keys; store.Admin is one.
type Store interface {
	CreateAPIKey(ctx context.Context, k store.NewAPIKey, now time.Time) (int64, error)
}

// Issue makes a key for g and records it in st as created at now: only its
// digest and the short prefix shown in listings are stored. It returns the
// secret, which is shown once and cannot be recovered, and the key's id.
func Issue(ctx context.Context, st Store, g Grant, now time.Time) (secret string, id int64, err error) {
	if len(g.Scopes) == 0 {
		return "", 0, errors.New("apikey: a key needs at least one scope")
	}
	if err := ValidateScopes(g.Scopes); err != nil {
		return "", 0, err
	}
	if err := ValidateNets(g.AllowedNets); err != nil {
		return "", 0, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", 0, fmt.Errorf("apikey: read random: %w", err)
	}
	secret = keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	id, err = st.CreateAPIKey(ctx, store.NewAPIKey{
		CompanyID: g.CompanyID, UserID: g.UserID, Prefix: secret[:len(keyPrefix)+6], Hash: Digest(secret),
		Scopes: slices.Clone(g.Scopes), AllowedNets: slices.Clone(g.AllowedNets), ExpiresAt: g.ExpiresAt,
	}, now)
	if err != nil {
		return "", 0, fmt.Errorf("apikey: record the key: %w", err)
	}
	return secret, id, nil
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
