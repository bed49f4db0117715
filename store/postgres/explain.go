package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// ExplainList returns the plans PostgreSQL makes for the queries behind q:
// the count, the page walking the sort's index, and the page reading the
// matches (none when q has no filter), one line of EXPLAIN (COSTS OFF)
// each.
//
// The plans are made with sequential scans and, for the page walking the
// index, sorts priced out of reach (SET LOCAL, in the explain's own
// transaction only). On small tables the planner rightly prefers reading
// everything and sorting it; priced out, it still chooses them when no
// index can do the work, so a plan shows whether the indexes the schema
// promises exist and serve the query, whatever the table's size.
func (s *Store) ExplainList(ctx context.Context, q store.ListQuery) (count, ordered, matched []string, err error) {
	l, err := buildList(q)
	if err != nil {
		return nil, nil, nil, err
	}
	explain := func(tx pgx.Tx, qu query, settings ...string) ([]string, error) {
		for _, set := range append([]string{"SET LOCAL enable_seqscan = off"}, settings...) {
			if _, err := tx.Exec(ctx, set); err != nil {
				return nil, fmt.Errorf("postgres: explain: %w", err)
			}
		}
		var lines []string
		err := each(ctx, tx, "plan", "EXPLAIN (COSTS OFF) "+qu.sql, qu.args, func(rows pgx.Rows) error {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			lines = append(lines, line)
			return nil
		})
		return lines, err
	}
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		if count, err = explain(tx, l.count); err != nil {
			return err
		}
		if l.filtered {
			if matched, err = explain(tx, rowsOf(parts(l.matched, q.Limit, 0))); err != nil {
				return err
			}
		}
		pq := parts(l.ordered, q.Limit, 0)
		if l.byConnection {
			var total int64
			_, kept, err := l.readCount(ctx, tx, &total)
			if err != nil {
				return err
			}
			if runs, ok := l.runs.query(kept, 0, q.Limit); ok {
				pq = runs
			}
		}
		ordered, err = explain(tx, rowsOf(pq), "SET LOCAL enable_sort = off")
		return err
	})
	return count, ordered, matched, err
}

// rowsOf is the query that loadPage runs for pq.
func rowsOf(pq query) query { return query{pageSQL(pq), pq.args} }
