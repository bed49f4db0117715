package apikey

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestNewKeysAreUniqueAndDigestStable(t *testing.T) {
	s1, p1, d1, err := New()
	if err != nil {
		t.Fatal(err)
	}
	s2, _, d2, _ := New()
	if s1 == s2 || bytes.Equal(d1, d2) {
		t.Fatal("two keys are equal")
	}
	if !strings.HasPrefix(s1, "idk_") || !strings.HasPrefix(s1, p1) || len(p1) >= len(s1) {
		t.Fatalf("key %q prefix %q", s1, p1)
	}
	if !bytes.Equal(Digest(s1), d1) || len(d1) != 32 {
		t.Fatal("digest differs from the one New returned")
	}
}

func TestParseBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc":   "abc",
		"bearer abc":   "abc",
		"Bearer  abc ": "abc",
		"Basic abc":    "",
		"Bearer":       "",
		"Bearer ":      "",
		"Bearer a b":   "",
		"":             "",
		"abc":          "",
		"Bearer\tabc":  "",
	} {
		if got := ParseBearer(header); got != want {
			t.Errorf("ParseBearer(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestAllows(t *testing.T) {
	cases := []struct {
		scopes []string
		need   string
		want   bool
	}{
		{[]string{InfrastructureRead}, "infrastructure:read", true},
		{[]string{InfrastructureRead}, "infrastructure:write", false},
		{[]string{InfrastructureWrite}, "infrastructure:read", false},
		{[]string{InfrastructureRead}, "version-control:read", false},
		{[]string{AllRead}, "version-control:read", true},
		{[]string{AllRead}, "version-control:write", false},
		{[]string{AllReadWrite}, "infrastructure:write", true},
		{nil, "infrastructure:read", false},
	}
	for _, c := range cases {
		if got := Allows(c.scopes, c.need); got != c.want {
			t.Errorf("Allows(%v, %s) = %v, want %v", c.scopes, c.need, got, c.want)
		}
	}
	if err := ValidateScopes([]string{"read", "admin"}); err == nil {
		t.Fatal("unknown scope accepted")
	}
	if err := ValidateScopes(Known); err != nil {
		t.Fatal(err)
	}
}

func TestAllowsAddr(t *testing.T) {
	nets := []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7"}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "11.0.0.1": false, "2001:db8::1": true, "192.0.2.7": true, "192.0.2.8": false, "::ffff:10.0.0.1": true,
	} {
		if got := AllowsAddr(nets, netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowsAddr(%s) = %v, want %v", addr, got, want)
		}
	}
	if !AllowsAddr(nil, netip.MustParseAddr("8.8.8.8")) {
		t.Fatal("an empty allow-list must allow everything")
	}
	if err := ValidateNets([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("bad CIDR accepted")
	}
}
