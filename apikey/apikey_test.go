package apikey

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// recorder is a Store that keeps what it is asked to record.
type recorder struct {
	keys []store.NewAPIKey
	at   []time.Time
	err  error
}

func (r *recorder) CreateAPIKey(_ context.Context, k store.NewAPIKey, now time.Time) (int64, error) {
	if r.err != nil {
		return 0, r.err
	}
	r.keys = append(r.keys, k)
	r.at = append(r.at, now)
	return int64(len(r.keys)), nil
}

func TestIssueRecordsTheDigestNeverTheSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &recorder{}
	now := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	expires := now.Add(time.Hour)
	g := Grant{CompanyID: 3, UserID: 7, Scopes: []string{AllRead}, AllowedNets: []string{"192.0.2.0/24"}, ExpiresAt: &expires}
	s1, id1, err := Issue(ctx, st, g, now)
	require.NoError(t, err)
	s2, id2, err := Issue(ctx, st, g, now)
	require.NoError(t, err)

	assert.NotEqual(t, s1, s2, "two keys are equal")
	assert.Equal(t, []int64{1, 2}, []int64{id1, id2}, "the ids the store gave")
	assert.Regexp(t, `^idk_[A-Za-z0-9_-]{43}$`, s1)
	k := st.keys[0]
	assert.Equal(t, Digest(s1), k.Hash)
	assert.Len(t, k.Hash, 32)
	assert.Equal(t, s1[:10], k.Prefix, "the prefix shown in listings")
	assert.NotContains(t, fmt.Sprintf("%+v", k), s1, "the secret is recorded")
	assert.Equal(t, store.NewAPIKey{CompanyID: 3, UserID: 7, Prefix: k.Prefix, Hash: k.Hash, Scopes: []string{AllRead}, AllowedNets: []string{"192.0.2.0/24"}, ExpiresAt: &expires}, k)
	assert.Equal(t, now, st.at[0], "created at the caller's clock")

	g.Scopes[0] = AllReadWrite
	assert.Equal(t, []string{AllRead}, k.Scopes, "the grant's slices are copied")
}

func TestIssueRefusesWhatNoKeyMayBe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, g := range map[string]Grant{
		"no scopes":     {CompanyID: 1, UserID: 1},
		"unknown scope": {CompanyID: 1, UserID: 1, Scopes: []string{"admin"}},
		"bad network":   {CompanyID: 1, UserID: 1, Scopes: []string{AllRead}, AllowedNets: []string{"10.0.0.0/33"}},
	} {
		st := &recorder{}
		_, _, err := Issue(ctx, st, g, time.Now())
		assert.Error(t, err, name)
		assert.Empty(t, st.keys, "%s: recorded anyway", name)
	}
	broken := errors.New("disk full")
	_, _, err := Issue(ctx, &recorder{err: broken}, Grant{CompanyID: 1, UserID: 1, Scopes: []string{AllRead}}, time.Now())
	assert.ErrorIs(t, err, broken)
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
