package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// testSortsAndStatements: every sort of each family, in both directions,
// returns the oracle's order (nulls first ascending and last descending,
// ties by id in the sort's direction) with nested records that match the
// ids, unfiltered in one page of 50, and then with every filter shape at
// pages of 1 and 50, and some at 7 (each sort with some of them). Each page costs the
// same number of statements whatever its size, sort, direction and
// filters; with a q it may cost another fixed number. The pages of 50 hold
// linked users with their documents and connection owners, so that the
// count covers loading them. Walked a few at a time, a sort with ties at
// every page boundary keeps its order across pages.
func testSortsAndStatements(t *testing.T, o Opened, f *fixture) {
	type probe struct {
		sort  store.Sort
		desc  bool
		shape shape
		limit int64
	}
	cost := map[bool]int64{}   // by whether the query has a q
	first := map[bool]string{} // the query that set it
	for _, fam := range families {
		var probes []probe
		shapes, famSorts := f.shapes(fam), sorts[fam]
		for _, sort := range famSorts {
			for _, desc := range []bool{false, true} {
				probes = append(probes, probe{sort, desc, shape{name: "none"}, 50})
			}
		}
		// Every filter shape at pages of 1 and 50, and some at 7, each with
		// another sort.
		n := 0
		for _, sh := range shapes {
			for _, limit := range []int64{1, 7, 50} {
				if (sh.name == "none" && limit == 50) || (limit == 7 && sh.name != "none" && sh.name != "q3") {
					continue
				}
				probes = append(probes, probe{famSorts[(5*n)%len(famSorts)], n%2 == 1, sh, limit})
				n++
			}
		}
		for _, pr := range probes {
			q := pr.shape.query(f, fam, pr.sort, pr.desc, 1, pr.limit)
			want := f.expect(q)
			before := o.Statements()
			p, ids := list(t, o.Store, q)
			n := o.Statements() - before
			require.Equal(t, int64(len(want)), p.Total, "total of %s", describeQuery(q))
			sameOrder(t, f, q, want[:min(int(pr.limit), len(want))], ids)
			var users, docs, owners int
			for _, v := range p.Items {
				checkRefs(t, f, v)
				if v.ConnectionOwner != nil {
					owners++
				}
				if v.User != nil {
					users++
					if len(v.User.BackgroundChecks) > 0 && len(v.User.Identities) > 0 && v.User.Identities[0].Connection != nil {
						docs += len(v.User.Documents)
					}
				}
			}
			if pr.limit == 50 && pr.shape.name == "none" {
				require.True(t, users > 0 && docs > 0 && owners > 0,
					"a page of 50 holds %d linked users, %d of their documents and %d connection owners", users, docs, owners)
			}
			c, ok := cost[pr.shape.hasQ()]
			if !ok {
				cost[pr.shape.hasQ()], first[pr.shape.hasQ()] = n, describeQuery(q)
				t.Logf("%s costs %d statements", describeQuery(q), n)
				continue
			}
			if n != c {
				t.Errorf("%s took %d statements; %s took %d", describeQuery(q), n, first[pr.shape.hasQ()], c)
			}
		}
		// HAS_MFA ties across every page boundary.
		for _, desc := range []bool{false, true} {
			q := shape{}.query(f, fam, store.SortHasMFA, desc, 1, 10)
			walk(t, f, o.Store, q, f.expect(q))
		}
	}
	require.Len(t, cost, 2)
	for _, n := range cost {
		require.Positive(t, n, "the statement counter counts nothing")
	}
}

// testPlans: for every sort of each family in both directions and every
// filter shape, no plan line of the count, of the page walking the sort's
// index or of the page reading the matches reads every row of the table,
// and the page walking the sort's index sorts nothing itself.
func testPlans(t *testing.T, h Harness, o Opened, f *fixture) {
	require.NotNil(t, o.Explainer, "the harness checks plans but the store it opened has no Explainer")
	ctx := context.Background()
	// Each faulty plan once, with the queries it was seen for.
	type fault struct{ what, line string }
	faults := map[fault][]string{}
	var order []fault
	report := func(what, line string, q store.ListQuery, plan []string) {
		k := fault{what, line}
		if faults[k] == nil {
			order = append(order, k)
			faults[k] = append(faults[k], "plan:\n    "+strings.Join(plan, "\n    "))
		}
		faults[k] = append(faults[k], describeQuery(q))
	}
	queries := 0
	for _, fam := range families {
		for _, sort := range sorts[fam] {
			for _, desc := range []bool{false, true} {
				for _, sh := range f.shapes(fam) {
					q := sh.query(f, fam, sort, desc, 1, 50)
					p, err := o.Explainer.ExplainList(ctx, q)
					require.NoError(t, err, "explain %s", describeQuery(q))
					require.NotEmpty(t, p.Count, "no count plan for %s", describeQuery(q))
					require.NotEmpty(t, p.Ordered, "no ordered plan for %s", describeQuery(q))
					if sh.name != "none" {
						require.NotEmpty(t, p.Matched, "no matched plan for %s", describeQuery(q))
					}
					queries++
					for what, plan := range map[string][]string{"count": p.Count, "ordered page": p.Ordered, "matched page": p.Matched} {
						for _, line := range plan {
							if h.FullScan(line) {
								report("the "+what+" reads every row", line, q, plan)
							}
							if what == "ordered page" && h.TempSort(line) {
								report("the "+what+" sorts its rows", line, q, plan)
							}
						}
					}
				}
			}
		}
	}
	slices.SortFunc(order, func(a, b fault) int { return strings.Compare(a.what+a.line, b.what+b.line) })
	for _, k := range order {
		qs := faults[k]
		shown := qs[1:min(len(qs), 4)]
		t.Errorf("%s: %q, in %d of %d queries, such as\n  %s\n  %s", k.what, k.line, len(qs)-1, queries, strings.Join(shown, "\n  "), qs[0])
	}
	if len(order) > 0 {
		t.Log(fmt.Sprintf("%d faulty plan lines", len(order)))
	}
}
