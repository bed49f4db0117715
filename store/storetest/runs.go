package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// testConnectionRuns walks, page by page, lists sorted on a connection's
// value and filtered by client type, on a store where every connection has
// that type and their keys collide: equal (ties merged by id), equal but
// for ASCII case, or missing. These are the pages a store may lay out from
// the filter's connections (store.LayOutRuns) rather than walk an index.
func testConnectionRuns(t *testing.T, h Harness) {
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 30, Seed: 3})
	require.NoError(t, err)
	alias := []*string{ptr("Beta"), ptr("beta"), nil, ptr("alpha")}
	state := []string{"ACTIVE", "active", "PENDING", "ACTIVE"}
	for i := range d.Connections {
		c := &d.Connections[i]
		c.ClientType = "AWS"
		c.ClientAlias = alias[i%len(alias)]
		c.ClientID = alias[(i+1)%len(alias)]
		c.State = state[i%len(state)]
	}
	f := &fixture{d: d}
	f.index()
	o := open(t, h)
	require.NoError(t, o.Store.Load(context.Background(), store.Whole(f.dataset())))
	for _, fam := range families {
		for _, sort := range []store.Sort{store.SortClientID, store.SortClientAlias, store.SortConnectionStatus} {
			for _, desc := range []bool{false, true} {
				q := store.ListQuery{CompanyID: d.Companies[0].ID, Family: fam, Limit: 7, Sort: sort, Descending: desc, ClientType: "AWS"}
				want := f.expect(q)
				var got []int64
				for q.Page = 1; ; q.Page++ {
					p, ids := list(t, o.Store, q)
					require.Equal(t, int64(len(want)), p.Total, "%s", describeQuery(q))
					if len(ids) == 0 {
						break
					}
					got = append(got, ids...)
				}
				sameOrder(t, f, q, want, got)
			}
		}
	}
}
