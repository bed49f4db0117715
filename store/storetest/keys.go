package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// testAPIKeys: a key authenticates as its company and user until it
// expires or is revoked; revoking again keeps the first time; lists are
// per company (all for 0) and never nil; a key needs a user of its
// company; FirstUser is the company's lowest user id.
func testAPIKeys(t *testing.T, o Opened, f *fixture) {
	s, ctx := o.Store, context.Background()

	for company, users := range map[int64][]int64{f.A: f.usersA, f.B: f.usersB} {
		first, err := s.FirstUser(ctx, company)
		require.NoError(t, err)
		require.Equal(t, slices.Min(users), first)
	}
	keys, err := s.ListAPIKeys(ctx, 0)
	require.NoError(t, err)
	require.NotNil(t, keys, "an empty list is nil")
	require.Empty(t, keys)

	now := at(0)
	expires := now.Add(time.Hour)
	userA, userB := f.usersA[1], f.usersB[0]
	a := store.NewAPIKey{CompanyID: f.A, UserID: userA, Prefix: "idk_aaaa", Hash: []byte("hash of key a"),
		Scopes: []string{"identities:read"}, AllowedNets: []string{"10.0.0.0/8"}, ExpiresAt: &expires}
	idA, err := s.CreateAPIKey(ctx, a, now)
	require.NoError(t, err)
	b := store.NewAPIKey{CompanyID: f.B, UserID: userB, Prefix: "idk_bbbb", Hash: []byte("hash of key b"), Scopes: []string{"identities:read", "identities:write"}}
	idB, err := s.CreateAPIKey(ctx, b, now.Add(time.Minute))
	require.NoError(t, err)
	require.NotEqual(t, idA, idB)

	_, err = s.CreateAPIKey(ctx, store.NewAPIKey{CompanyID: f.A, UserID: userB, Prefix: "idk_cccc", Hash: []byte("hash of key c"), Scopes: []string{}}, now)
	require.ErrorIs(t, err, store.ErrNotFound, "a key for another company's user")

	p, err := s.Authenticate(ctx, a.Hash, now.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, idA, p.KeyID)
	require.Equal(t, f.A, p.Company.ID)
	require.Equal(t, userA, p.User.ID)
	require.Equal(t, f.A, p.User.CompanyID)
	require.Equal(t, f.users[userA].Email, p.User.Email)
	require.Equal(t, a.Scopes, p.Scopes)
	require.Equal(t, a.AllowedNets, p.AllowedNets)
	_, err = s.Authenticate(ctx, a.Hash, expires.Add(time.Minute))
	require.ErrorIs(t, err, store.ErrKeyNotFound, "an expired key")
	_, err = s.Authenticate(ctx, []byte("no such hash"), now)
	require.ErrorIs(t, err, store.ErrKeyNotFound)

	listed := func(company int64) []store.APIKey {
		keys, err := s.ListAPIKeys(ctx, company)
		require.NoError(t, err)
		require.NotNil(t, keys)
		return keys
	}
	ka := listed(f.A)
	require.Len(t, ka, 1)
	require.Equal(t, idA, ka[0].ID)
	require.Equal(t, userA, ka[0].UserID)
	require.Equal(t, a.Prefix, ka[0].Prefix)
	require.Equal(t, a.Scopes, ka[0].Scopes)
	require.True(t, ka[0].CreatedAt.Equal(now), "createdAt %v, want %v", ka[0].CreatedAt, now)
	require.True(t, ka[0].ExpiresAt != nil && ka[0].ExpiresAt.Equal(expires))
	require.Nil(t, ka[0].RevokedAt)
	require.Len(t, listed(f.B), 1)
	require.Len(t, listed(0), 2)
	require.Empty(t, listed(987654))

	p, err = s.Authenticate(ctx, b.Hash, now.Add(24*time.Hour))
	require.NoError(t, err, "a key without expiry")
	require.Equal(t, userB, p.User.ID)
	require.NoError(t, s.RevokeAPIKey(ctx, idB, now.Add(2*time.Minute)))
	require.NoError(t, s.RevokeAPIKey(ctx, idB, now.Add(3*time.Minute)))
	kb := listed(f.B)
	require.True(t, kb[0].RevokedAt != nil && kb[0].RevokedAt.Equal(now.Add(2*time.Minute)), "revoking again moved revokedAt to %v", kb[0].RevokedAt)
	_, err = s.Authenticate(ctx, b.Hash, now.Add(4*time.Minute))
	require.ErrorIs(t, err, store.ErrKeyNotFound, "a revoked key")
	require.ErrorIs(t, s.RevokeAPIKey(ctx, 987654, now), store.ErrKeyNotFound)
	p, err = s.Authenticate(ctx, a.Hash, now.Add(5*time.Minute))
	require.NoError(t, err, "revoking one key revoked another")
}
