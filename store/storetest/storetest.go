// Package storetest is the conformance suite every store.Store must pass:
// the list semantics (scoping, paging, every sort in both directions, the
// filters and the search), the write rules of store.Apply as a store keeps
// them, exact totals, concurrent writers, a fixed number of statements a
// page, and (for stores that can explain their queries) plans that never
// read a whole table.
//
// A store's own tests run it with a Harness:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, storetest.Harness{
//			Open: func(t testing.TB) storetest.Opened {
//				s, n := openCounting(t) // a new, empty store and its statement counter
//				return storetest.Opened{Store: s, Statements: n.Load, Explainer: ...}
//			},
//			FullScan: func(line string) bool { ... },
//			TempSort: func(line string) bool { ... },
//		})
//	}
//
// The cases run in four parallel groups, each on a store of its own (see
// Run), and load their own data. Expected results are computed in Go from
// that data (see oracle.go), never read back from the store. The data is
// small (28 identities a family and company) so that the suite stays fast
// under the race detector, but hand-made to hold what the semantics turn
// on: nulls, ties and at least two distinct values for every sort, text
// whose case differs in and beyond ASCII, the characters SQL LIKE treats
// as wildcards, a newline inside a username, and look-alikes in another
// company.
package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// Harness is what Run needs of a store implementation.
type Harness struct {
	// Open returns a new, empty store. Run closes it when the test ends
	// (and fails the test if Close fails); Open must not close it itself.
	Open func(t testing.TB) Opened

	// FullScan reports whether one line of a plan reads a whole table of
	// identities (an index walk is not a full scan). TempSort reports
	// whether a line sorts rows the query has read (rather than reading
	// them in order from an index). With FullScan set, Run runs the plan
	// case, and every Opened must carry an Explainer; leave both nil for a
	// store that cannot explain its queries.
	FullScan func(line string) bool
	TempSort func(line string) bool
}

// Opened is one store that Harness.Open opened.
type Opened struct {
	Store store.Store
	// Statements returns how many statements the store has sent to its
	// database so far. Required: the statement case compares its counts.
	Statements func() int64
	// Explainer explains the store's list queries; required when the
	// harness sets FullScan.
	Explainer Explainer
}

// Explainer returns the plans of the queries a store runs for a list.
type Explainer interface {
	ExplainList(ctx context.Context, q store.ListQuery) (Plans, error)
}

// ExplainFunc adapts a function to Explainer.
type ExplainFunc func(ctx context.Context, q store.ListQuery) (Plans, error)

// ExplainList calls f.
func (f ExplainFunc) ExplainList(ctx context.Context, q store.ListQuery) (Plans, error) {
	return f(ctx, q)
}

// Plans are the plan lines of the queries behind one list request.
type Plans struct {
	// Count is the plan of the query that counts the matches.
	Count []string
	// Ordered is the plan of the page query that walks an index in the
	// sort's order and skips what does not match.
	Ordered []string
	// Matched is the plan of the page query that reads only the matches,
	// through a filter or search index, and then sorts them. It may be
	// empty when the query has no filter.
	Matched []string
}

// Run runs every case of the suite against stores h opens, in five groups
// that run in parallel, each on a store of its own: the cases that only
// read share one loaded store ("Reads": the sort and statement case first,
// which needs the store's counter to itself, then the others in parallel); the
// write cases run in order on another ("Writes"); the concurrent writers,
// the loads and the pages laid out from connections ("ConnectionRuns") have
// one each.
func Run(t *testing.T, h Harness) {
	require.NotNil(t, h.Open, "Harness.Open is required")
	if h.FullScan != nil || h.TempSort != nil {
		require.True(t, h.FullScan != nil && h.TempSort != nil, "Harness.FullScan and TempSort go together")
	}
	t.Run("Reads", func(t *testing.T) {
		t.Parallel()
		read, f := openLoaded(t, h)
		t.Run("SortsAndStatements", func(t *testing.T) { testSortsAndStatements(t, read, f) })
		type readCase struct {
			name string
			fn   func(*testing.T, Opened, *fixture)
		}
		reads := []readCase{
			{"ListFilters", testListFilters},
			{"ListPaging", testListPaging},
			{"ListScope", testListScope},
			{"Get", testGet},
			{"APIKeys", testAPIKeys}, // keys, which no other case reads
		}
		if h.FullScan != nil {
			reads = append(reads, readCase{"Plans", func(t *testing.T, o Opened, f *fixture) { testPlans(t, h, o, f) }})
		}
		for _, c := range reads {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.fn(t, read, f)
			})
		}
	})
	t.Run("Writes", func(t *testing.T) {
		t.Parallel()
		testWrites(t, h)
	})
	t.Run("ConcurrentWriters", func(t *testing.T) {
		t.Parallel()
		testConcurrentWriters(t, h)
	})
	t.Run("Load", func(t *testing.T) {
		t.Parallel()
		testLoad(t, h)
	})
	t.Run("ConnectionRuns", func(t *testing.T) {
		t.Parallel()
		testConnectionRuns(t, h)
	})
}

// open opens a new, empty store through h and arranges for it to be closed.
func open(t *testing.T, h Harness) Opened {
	t.Helper()
	o := h.Open(t)
	require.NotNil(t, o.Store, "Harness.Open returned no store")
	require.NotNil(t, o.Statements, "Harness.Open returned no statement counter")
	t.Cleanup(func() { assert.NoError(t, o.Store.Close(), "closing the store") })
	return o
}

// openLoaded opens a store holding a new fixture's data.
func openLoaded(t *testing.T, h Harness) (Opened, *fixture) {
	t.Helper()
	o := open(t, h)
	f := newFixture(t)
	require.NoError(t, o.Store.Load(context.Background(), store.Whole(f.dataset())))
	return o, f
}
