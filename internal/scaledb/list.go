package scaledb

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/store"
)

// BenchmarkList reads, from each store (keyed by its -scale size), page 1
// (50 items) of every sort, direction and filter the document allows in
// both families, then a page in the middle, a q matching one identity and
// a q shorter than a trigram. The sizes are the innermost loop, so each
// shape's runs at every size stand next to each other in time. Every
// store's benchmark of list pages at scale is this one.
func BenchmarkList(b *testing.B, stores map[int]store.Identities) {
	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		filters := []shape{
			{"none", func(int, store.Identities) store.ListQuery { return store.ListQuery{} }},
			{"clientType", func(_ int, st store.Identities) store.ListQuery {
				return store.ListQuery{ClientType: firstIdentity(b, st, f).Connection.ClientType}
			}},
			{"connectionId", func(_ int, st store.Identities) store.ListQuery {
				return store.ListQuery{ConnectionID: firstIdentity(b, st, f).ConnectionID}
			}},
			{"q=name", func(int, store.Identities) store.ListQuery { return store.ListQuery{Q: "lovelace"} }}, // about 1 in 20
		}
		var cases []benchCase
		for _, sort := range documentedSorts(b, f) {
			for _, desc := range []bool{false, true} {
				for _, fl := range filters {
					cases = append(cases, benchCase{sort, desc, fl})
				}
			}
		}
		for _, extra := range []shape{
			{"deep-page-middle", func(n int, _ store.Identities) store.ListQuery { return store.ListQuery{Page: int64(n/2/50 + 1)} }},
			{"q=id", func(_ int, st store.Identities) store.ListQuery {
				return store.ListQuery{Q: strings.ToUpper(firstIdentity(b, st, f).IdentityID[1:7])}
			}},
			{"q=2char", func(int, store.Identities) store.ListQuery { return store.ListQuery{Q: "la"} }},
		} {
			cases = append(cases, benchCase{store.SortUsername, false, extra})
		}
		for _, c := range cases {
			for _, n := range Sizes(b) {
				st := stores[n]
				q := c.shape.q(n, st)
				q.CompanyID, q.Family, q.Limit, q.Sort, q.Descending = 1, f, 50, c.sort, c.desc
				q.Page = max(q.Page, 1)
				name := fmt.Sprintf("family=%s/sort=%s/dir=%s/filter=%s/size=%d", f, c.sort, dirName(c.desc), c.shape.name, n)
				b.Run(name, func(b *testing.B) { benchList(b, st, q) })
			}
		}
	}
}

// documentedSorts lists a family's sort values as the document has them.
func documentedSorts(b *testing.B, f store.Family) []store.Sort {
	schema := map[store.Family]string{store.Infrastructure: "InfrastructureSort", store.VersionControl: "VersionControlSort"}[f]
	var out []store.Sort
	for _, v := range apitest.Enum(b, schema) {
		out = append(out, store.Sort(v))
	}
	return out
}

// shape is one list request, named, whose values depend on the store.
type shape struct {
	name string
	q    func(n int, st store.Identities) store.ListQuery
}

// benchCase is a shape in one sort order.
type benchCase struct {
	sort  store.Sort
	desc  bool
	shape shape
}

// firstIdentity returns the family's identity with the lowest identity id.
func firstIdentity(b *testing.B, st store.Identities, f store.Family) store.IdentityView {
	first, err := st.ListIdentities(context.Background(), store.ListQuery{CompanyID: 1, Family: f, Page: 1, Limit: 1, Sort: store.SortIdentityID})
	if err != nil || len(first.Items) == 0 {
		b.Fatalf("the store holds no %s identity: %v", f, err)
	}
	return first.Items[0]
}

func dirName(desc bool) string {
	if desc {
		return "DESC"
	}
	return "ASC"
}

func benchList(b *testing.B, st store.Identities, q store.ListQuery) {
	ctx := context.Background()
	page, err := st.ListIdentities(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	if page.Total == 0 {
		b.Fatalf("%+v matches nothing", q)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.ListIdentities(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(page.Total), "matches")
}
