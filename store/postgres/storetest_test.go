package postgres

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/storetest"
)

// counter is a pgx tracer that counts the statements sent.
type counter struct{ n atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// openCounting opens a store on a new database, counting its statements.
func openCounting(t testing.TB) (*Store, *counter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(t))
	require.NoError(t, err)
	n := new(counter)
	cfg.ConnConfig.Tracer = n
	s, err := OpenConfig(context.Background(), cfg)
	require.NoError(t, err)
	return s, n
}

// TestStore runs the store conformance suite, each store on a database of
// its own.
func TestStore(t *testing.T) {
	pgtest.Require(t)
	storetest.Run(t, storetest.Harness{
		Open: func(t testing.TB) storetest.Opened {
			s, n := openCounting(t)
			return storetest.Opened{
				Store:      s,
				Statements: n.n.Load,
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

// fullScan reports whether a line of EXPLAIN reads every row of
// identities: a sequential scan of it. Index and bitmap scans are not.
func fullScan(line string) bool {
	return strings.Contains(line, "Seq Scan on identities ") || strings.HasSuffix(line, "Seq Scan on identities")
}

// tempSort reports whether a plan line is a sort node (not its "Sort Key"
// detail).
func tempSort(line string) bool {
	l := strings.TrimLeft(line, " ")
	l = strings.TrimPrefix(l, "->  ")
	return strings.HasPrefix(l, "Sort") && !strings.HasPrefix(l, "Sort Key") && !strings.HasPrefix(l, "Sort Method") ||
		strings.HasPrefix(l, "Incremental Sort")
}

func TestPlanPredicates(t *testing.T) {
	for line, want := range map[string]bool{
		"Seq Scan on identities i":                                    true,
		"  ->  Parallel Seq Scan on identities i":                     true,
		"Seq Scan on identities":                                      true,
		"Seq Scan on identity_counts k":                               false,
		"->  Index Scan using identities_by_username on identities i": false,
		"Bitmap Heap Scan on identities i":                            false,
	} {
		assert.Equal(t, want, fullScan(line), "fullScan(%q)", line)
	}
	for line, want := range map[string]bool{
		"Sort":                        true,
		"  ->  Sort":                  true,
		"        Sort Key: m.k, m.id": false,
		"  ->  Incremental Sort":      true,
		"  ->  Index Only Scan Backward using identities_by_username on identities i": false,
	} {
		assert.Equal(t, want, tempSort(line), "tempSort(%q)", line)
	}
}
