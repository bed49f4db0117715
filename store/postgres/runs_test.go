package postgres

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestConnectionRuns walks, page by page, lists sorted on a connection's
// value and filtered by client type, where the connections of that type
// share keys (ties merged by id), differ only in ASCII case, or have none.
func TestConnectionRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 30, Seed: 3})
	require.NoError(t, err)
	// Every connection of the company gets one client type; their keys
	// collide in pairs.
	alias := []*string{new("Beta"), new("beta"), nil, new("alpha")}
	state := []string{"ACTIVE", "active", "PENDING", "ACTIVE"}
	byID := map[int64]*store.Connection{}
	for i := range d.Connections {
		c := &d.Connections[i]
		c.ClientType = "AWS"
		c.ClientAlias = alias[i%len(alias)]
		c.ClientID = alias[(i+1)%len(alias)]
		c.State = state[i%len(state)]
		byID[c.ID] = c
	}
	s, err := Open(ctx, pgtest.NewDatabase(t))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Load(ctx, store.Whole(d)))
	keyOf := map[store.Sort]func(*store.Connection) *string{
		store.SortClientID:         func(c *store.Connection) *string { return asciiLowerPtr(c.ClientID) },
		store.SortClientAlias:      func(c *store.Connection) *string { return asciiLowerPtr(c.ClientAlias) },
		store.SortConnectionStatus: func(c *store.Connection) *string { return asciiLowerPtr(&c.State) },
	}
	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		for sort, key := range keyOf {
			for _, desc := range []bool{false, true} {
				var want []int64
				var its []store.Identity
				for _, it := range d.Identities {
					if it.Family == f {
						its = append(its, it)
					}
				}
				slices.SortFunc(its, func(a, b store.Identity) int {
					c := compareKeys(key(byID[a.ConnectionID]), key(byID[b.ConnectionID]))
					if c == 0 {
						c = cmp.Compare(a.ID, b.ID)
					}
					if desc {
						c = -c
					}
					return c
				})
				for _, it := range its {
					want = append(want, it.ID)
				}
				var got []int64
				for page := int64(1); ; page++ {
					p, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: 1, Family: f, Page: page, Limit: 7, Sort: sort, Descending: desc, ClientType: "AWS"})
					require.NoError(t, err)
					require.Equal(t, int64(len(want)), p.Total, "%s %s desc=%v", f, sort, desc)
					if len(p.Items) == 0 {
						break
					}
					for _, v := range p.Items {
						got = append(got, v.ID)
					}
				}
				require.Equal(t, want, got, "%s %s desc=%v", f, sort, desc)
			}
		}
	}
}
