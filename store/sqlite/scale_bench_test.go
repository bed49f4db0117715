package sqlite_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/scaledb"
	"github.com/identities-go/identities/store"
)

// scaleSizes are the store sizes, in identities of each family, that the
// scale benchmarks run at. make bench-scale sets 10000,100000,1000000.
var scaleSizes = flag.String("scale", "10000", "comma-separated store sizes (identities of each family) for the scale benchmarks")

func sizes(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			b.Fatalf("-scale: %q is not a size of at least 1000", f)
		}
		out = append(out, n)
	}
	return out
}

// documentedSorts lists a family's sort values as the document has them.
func documentedSorts(b *testing.B, f store.Family) []store.Sort {
	doc, err := gen.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	schema := map[store.Family]string{store.Infrastructure: "InfrastructureSort", store.VersionControl: "VersionControlSort"}[f]
	var out []store.Sort
	for _, v := range doc.Components.Schemas[schema].Value.Enum {
		out = append(out, store.Sort(v.(string)))
	}
	return out
}

// scaleFilters are the filters every sort runs with: none, each connection
// filter, and a q that matches about one identity in twenty.
func scaleFilters(b *testing.B, st store.Identities, f store.Family) []struct {
	name string
	q    store.ListQuery
} {
	first, err := st.ListIdentities(context.Background(), store.ListQuery{CompanyID: 1, Family: f, Page: 1, Limit: 1, Sort: store.SortIdentityID})
	if err != nil || len(first.Items) == 0 {
		b.Fatalf("the store holds no %s identity: %v", f, err)
	}
	it := first.Items[0]
	return []struct {
		name string
		q    store.ListQuery
	}{
		{"none", store.ListQuery{}},
		{"clientType", store.ListQuery{ClientType: it.Connection.ClientType}},
		{"connectionId", store.ListQuery{ConnectionID: it.ConnectionID}},
		{"q=name", store.ListQuery{Q: "lovelace"}},
	}
}

// BenchmarkScaleList reads page 1 (50 items) of every sort, direction and
// filter of both families from stores of each -scale size, and a page in
// the middle of the list.
func BenchmarkScaleList(b *testing.B) {
	for _, n := range sizes(b) {
		st := scaledb.Open(b, n)
		for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
			filters := scaleFilters(b, st, f)
			for _, sort := range documentedSorts(b, f) {
				for _, desc := range []bool{false, true} {
					for _, fl := range filters {
						q := fl.q
						q.CompanyID, q.Family, q.Page, q.Limit, q.Sort, q.Descending = 1, f, 1, 50, sort, desc
						name := fmt.Sprintf("family=%s/sort=%s/dir=%s/filter=%s/size=%d", f, sort, dirName(desc), fl.name, n)
						b.Run(name, func(b *testing.B) { benchList(b, st, q) })
					}
				}
			}
			// A page in the middle of the list, and q terms that match one
			// identity and that are shorter than the search index serves.
			one, err := st.ListIdentities(context.Background(), store.ListQuery{CompanyID: 1, Family: f, Page: 1, Limit: 1, Sort: store.SortIdentityID})
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name string
				q    store.ListQuery
			}{
				{"deep-page-middle", store.ListQuery{Page: int64(n/2/50 + 1)}},
				{"q=id", store.ListQuery{Q: strings.ToUpper(one.Items[0].IdentityID[1:7])}},
				{"q=2char", store.ListQuery{Q: "la"}},
			} {
				q := c.q
				q.CompanyID, q.Family, q.Limit, q.Sort = 1, f, 50, store.SortUsername
				q.Page = max(q.Page, 1)
				b.Run(fmt.Sprintf("family=%s/sort=USERNAME/dir=ASC/filter=%s/size=%d", f, c.name, n), func(b *testing.B) { benchList(b, st, q) })
			}
		}
	}
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
