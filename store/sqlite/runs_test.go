package sqlite

import (
	"cmp"
	"context"
	"path/filepath"
	"slices"
	"testing"

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
	if err != nil {
		t.Fatal(err)
	}
	// Every connection of the company gets one client type; their keys
	// collide in pairs.
	alias := []*string{new("Beta"), new("beta"), nil, new("alpha")}
	state := []string{"ACTIVE", "active", "PENDING", "ACTIVE"}
	var conns []*store.Connection
	for i := range d.Connections {
		c := &d.Connections[i]
		c.ClientType = "AWS"
		c.ClientAlias = alias[len(conns)%len(alias)]
		c.ClientID = alias[(len(conns)+1)%len(alias)]
		c.State = state[len(conns)%len(state)]
		conns = append(conns, c)
	}
	byID := map[int64]*store.Connection{}
	for _, c := range conns {
		byID[c.ID] = c
	}
	s, err := Open(ctx, filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Load(ctx, store.Whole(d)); err != nil {
		t.Fatal(err)
	}
	keyOf := map[store.Sort]func(*store.Connection) *string{
		store.SortClientID:         func(c *store.Connection) *string { return c.ClientID },
		store.SortClientAlias:      func(c *store.Connection) *string { return c.ClientAlias },
		store.SortConnectionStatus: func(c *store.Connection) *string { return &c.State },
	}
	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		for sort, key := range keyOf {
			for _, desc := range []bool{false, true} {
				var want []store.Identity
				for _, it := range d.Identities {
					if it.Family == f {
						want = append(want, it)
					}
				}
				slices.SortFunc(want, func(a, b store.Identity) int {
					c := compareKeys(key(byID[a.ConnectionID]), key(byID[b.ConnectionID]))
					if c == 0 {
						c = cmp.Compare(a.ID, b.ID)
					}
					if desc {
						c = -c
					}
					return c
				})
				var got []int64
				for page := int64(1); ; page++ {
					p, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: 1, Family: f, Page: page, Limit: 7, Sort: sort, Descending: desc, ClientType: "AWS"})
					if err != nil {
						t.Fatal(err)
					}
					if p.Total != int64(len(want)) {
						t.Fatalf("%s %s desc=%v: total %d, want %d", f, sort, desc, p.Total, len(want))
					}
					if len(p.Items) == 0 {
						break
					}
					for _, v := range p.Items {
						got = append(got, v.ID)
					}
				}
				var wantIDs []int64
				for _, it := range want {
					wantIDs = append(wantIDs, it.ID)
				}
				if !slices.Equal(got, wantIDs) {
					t.Fatalf("%s %s desc=%v:\ngot  %v\nwant %v", f, sort, desc, got, wantIDs)
				}
			}
		}
	}
}
