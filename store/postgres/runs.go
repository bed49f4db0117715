package postgres

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/identities-go/identities/store"
)

// runs reads a page sorted on a connection's value when a filter keeps
// whole connections: each connection's identities share one key, so the
// page is a slice of the connections laid out in key order, each run in id
// order (connections with equal keys merged by id). The count returns
// every kept connection with its key and its count; query reads just the
// slices of the page, each from identities_by_connection in id order, so
// the cost grows with the page, whichever connections come first.
type runs struct {
	companyID int64
	family    string // the family code, as SQL
	desc      bool
}

// run is a kept connection: its id, its key and how many identities it has.
type run struct {
	id  int64
	key *string
	n   int64
}

// maxRuns is the most connections a page is laid out from; past it, the
// sort's index is walked instead.
const maxRuns = 64

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
func (r runs) query(kept []run, offset, limit int64) (query, bool) {
	if len(kept) == 0 || len(kept) > maxRuns {
		return query{}, false
	}
	kept = slices.Clone(kept)
	slices.SortStableFunc(kept, func(a, b run) int { return compareKeys(a.key, b.key) })
	if r.desc {
		slices.Reverse(kept)
	}
	dir := "ASC"
	if r.desc {
		dir = "DESC"
	}
	var p params
	var parts []string
	same := func(i, j int) bool { return compareKeys(kept[i].key, kept[j].key) == 0 }
	size := func(i int) int64 { return kept[i].n }
	for _, sl := range store.PageOfRuns(len(kept), same, size, offset, limit) {
		arms := make([]string, 0, sl.End-sl.First)
		for _, g := range kept[sl.First:sl.End] {
			arms = append(arms, fmt.Sprintf("(SELECT i.id FROM identities i WHERE i.company_id = %s AND i.family = %s AND i.connection_id = %s ORDER BY i.id %s LIMIT %s)",
				p.add(r.companyID), r.family, p.add(g.id), dir, p.add(sl.Skip+sl.Take)))
		}
		parts = append(parts, fmt.Sprintf("SELECT %d::bigint AS part, g.id FROM (SELECT a.id FROM (%s) a ORDER BY a.id %s LIMIT %s OFFSET %s) g",
			len(parts), strings.Join(arms, " UNION ALL "), dir, p.add(sl.Take), p.add(sl.Skip)))
	}
	if len(parts) == 0 {
		return query{}, false
	}
	return query{strings.Join(parts, " UNION ALL "), p.args}, true
}
