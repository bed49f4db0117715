package sqlite

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/storetest"
)

// TestStore runs the store conformance suite on stores in temporary
// directories, counting the statements they send to SQLite.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t testing.TB) storetest.Opened {
			n := new(atomic.Int64)
			s := openCounting(t, n)
			return storetest.Opened{
				Store:      s,
				Statements: n.Load,
				Explainer: storetest.ExplainFunc(func(ctx context.Context, q store.ListQuery) (storetest.Plans, error) {
					count, ordered, matched, err := s.ExplainList(ctx, q)
					return storetest.Plans{Count: count, Ordered: ordered, Matched: matched}, err
				}),
			}
		},
		FullScan: fullScan,
		TempSort: tempSort,
	})
}

// fullScan reports whether a line of EXPLAIN QUERY PLAN reads every row of
// identities: a SCAN of it (under its own name or as i) that uses no index.
// A SCAN of another table (such as the search index) and a SEARCH are not.
func fullScan(line string) bool {
	f := strings.Fields(line)
	return len(f) >= 2 && f[0] == "SCAN" && (f[1] == "i" || f[1] == "identities") && !strings.Contains(line, "USING")
}

// tempSort reports whether a plan line sorts the rows it read.
func tempSort(line string) bool {
	return strings.Contains(line, "USE TEMP B-TREE FOR ORDER BY")
}

func TestPlanPredicates(t *testing.T) {
	for line, want := range map[string]bool{
		"SCAN i":            true,
		"  SCAN identities": true,
		"SCAN i USING INDEX identities_by_username":                                 false,
		"SCAN i USING COVERING INDEX identities_by_connection":                      false,
		"SEARCH i USING INDEX identities_by_connection (company_id=? AND family=?)": false,
		"SCAN s VIRTUAL TABLE INDEX 0:M1":                                           false,
		"SCAN identities_search VIRTUAL TABLE INDEX 0:M1":                           false,
		"SCAN c": false,
	} {
		if fullScan(line) != want {
			t.Errorf("fullScan(%q) = %v", line, !want)
		}
	}
	if !tempSort("USE TEMP B-TREE FOR ORDER BY") || tempSort("USE TEMP B-TREE FOR DISTINCT") {
		t.Error("tempSort")
	}
}
