package postgres

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// pick returns the page query, complete with its arguments, for a list
// with all identities in its company and family, matches of them, and
// (with runs) the filter's connections.
func (l listSQL) pick(all, matches, offset, limit int64, kept []store.Run) query {
	if l.byConnection {
		if pq, ok := l.runs.query(kept, offset, limit); ok {
			return pq
		}
	}
	if l.filtered && useMatched(all, matches, offset, limit) {
		return parts(l.matched, limit, offset)
	}
	return parts(l.ordered, limit, offset)
}

// parts returns pq's page of limit ids at offset as (part, id) rows, the
// part being each id's place.
func parts(pq query, limit, offset int64) query {
	return query{"SELECT row_number() OVER () AS part, s.id FROM (" + pq.sql + ") s", pageArgs(pq, limit, offset)}
}

// ListIdentities runs, in one read-only transaction of one snapshot, the
// count, the page's rows and five queries for the records nested in them,
// whatever the page's size. The count comes from counts kept by triggers
// unless q is set; the page comes from an index in the sort's order, or
// from the matches when they are few (see listSQL), or from the runs of
// the filter's connections (see runs).
func (s *Store) ListIdentities(ctx context.Context, q store.ListQuery) (store.Page, error) {
	l, err := buildList(q)
	if err != nil {
		return store.Page{}, err
	}
	var page store.Page
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		all, kept, err := l.readCount(ctx, tx, &page.Total)
		if err != nil {
			return err
		}
		if q.Page-1 > (math.MaxInt64-q.Limit)/q.Limit || (q.Page-1)*q.Limit >= page.Total {
			return nil
		}
		offset := (q.Page - 1) * q.Limit
		items, err := loadPage(ctx, tx, l.pick(all, page.Total, offset, q.Limit, kept), q.Descending)
		if err != nil {
			return err
		}
		page.Items = items
		return loadGraph(ctx, tx, q.CompanyID, page.Items)
	})
	if err != nil {
		return store.Page{}, err
	}
	return page, nil
}

// readCount runs the count: it returns all identities of the company and
// family, sets *total to the matches, and returns the filter's
// connections when the list is read with runs.
func (l listSQL) readCount(ctx context.Context, q querier, total *int64) (int64, []store.Run, error) {
	var all int64
	var ids, ns []int64
	var keys []*string
	if err := q.QueryRow(ctx, l.count.sql, l.count.args...).Scan(&all, total, &ids, &keys, &ns); err != nil {
		return 0, nil, fmt.Errorf("postgres: count identities: %w", err)
	}
	if len(ids) != len(keys) || len(ids) != len(ns) {
		return 0, nil, fmt.Errorf("postgres: count identities: %d connections, %d keys, %d counts", len(ids), len(keys), len(ns))
	}
	kept := make([]store.Run, len(ids))
	for i := range ids {
		kept[i] = store.Run{ID: ids[i], Key: keys[i], N: ns[i]}
	}
	return all, kept, nil
}

// pageSQL reads the rows of the (part, id) rows pq returns, each with its
// part.
func pageSQL(pq query) string {
	return "SELECT p.part, " + identityCols + " FROM (" + pq.sql + ") p JOIN identities i ON i.id = p.id"
}

// loadPage reads the rows of the page that pq picks, ordered by part, then
// by id (descending with desc).
func loadPage(ctx context.Context, tx pgx.Tx, pq query, desc bool) ([]store.IdentityView, error) {
	type row struct {
		part int64
		view store.IdentityView
	}
	var got []row
	err := each(ctx, tx, "identities", pageSQL(pq), pq.args, func(rows pgx.Rows) error {
		var r row
		var family int16
		if err := rows.Scan(append([]any{&r.part}, identityDest(&r.view.Identity, &family)...)...); err != nil {
			return err
		}
		r.view.Family = store.FamilyOf(int64(family))
		got = append(got, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(got, func(a, b row) int {
		if c := cmp.Compare(a.part, b.part); c != 0 {
			return c
		}
		if desc {
			return cmp.Compare(b.view.ID, a.view.ID)
		}
		return cmp.Compare(a.view.ID, b.view.ID)
	})
	out := make([]store.IdentityView, len(got))
	for i, r := range got {
		out[i] = r.view
	}
	return out, nil
}
