package postgres

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/identities-go/identities/store"
)

// runs reads a page sorted on a connection's value when a filter keeps
// whole connections (see store.LayOutRuns): the count returns every kept
// connection with its key and its count, and query reads just the page's
// slices, each from identities_by_connection in id order.
type runs struct {
	companyID int64
	family    string // the family code, as SQL
	desc      bool
}

// compareKeys orders keys as the sorts do: NULL first, then bytewise (the
// keys are folded already).
func compareKeys(a, b *string) int {
	if a == nil || b == nil {
		return boolCompare(a != nil, b != nil)
	}
	return bytes.Compare([]byte(*a), []byte(*b))
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// query returns the page at offset of limit identities of the kept
// connections, as (part, id) rows: the page is the rows ordered by part,
// then by id in the sort's direction. It reports false when runs do not
// apply (no connection, or too many), and the index is walked instead.
func (r runs) query(kept []store.Run, offset, limit int64) (query, bool) {
	dir := "ASC"
	if r.desc {
		dir = "DESC"
	}
	var p params
	var parts []string
	ordered, page := store.LayOutRuns(kept, compareKeys, r.desc, offset, limit)
	for _, sl := range page {
		arms := make([]string, 0, sl.End-sl.First)
		for _, g := range ordered[sl.First:sl.End] {
			arms = append(arms, fmt.Sprintf("(SELECT i.id FROM identities i WHERE i.company_id = %s AND i.family = %s AND i.connection_id = %s ORDER BY i.id %s LIMIT %s)",
				p.add(r.companyID), r.family, p.add(g.ID), dir, p.add(sl.Skip+sl.Take)))
		}
		parts = append(parts, fmt.Sprintf("SELECT %d::bigint AS part, g.id FROM (SELECT a.id FROM (%s) a ORDER BY a.id %s LIMIT %s OFFSET %s) g",
			len(parts), strings.Join(arms, " UNION ALL "), dir, p.add(sl.Take), p.add(sl.Skip)))
	}
	if len(parts) == 0 {
		return query{}, false
	}
	return query{strings.Join(parts, " UNION ALL "), p.args}, true
}
