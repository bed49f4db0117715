package postgres

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/identities-go/identities/store"
)

// sortColumns maps each sort to its key column, each the third column of
// an index (company_id, family, key, id). Text keys are folded as the
// sorts compare (ASCII letters only) and collate bytewise.
var sortColumns = map[store.Sort]string{
	store.SortIdentityID:       "i.identity_id_key",
	store.SortUsername:         "i.username_key",
	store.SortEmail:            "i.email_key",
	store.SortConnectedAt:      "i.connected_at",
	store.SortDisconnectedAt:   "i.disconnected_at",
	store.SortServiceAccount:   "i.service_account_at",
	store.SortHasMFA:           "i.has_mfa",
	store.SortAdminAccess:      "i.access_a_at",
	store.SortDBAccess:         "i.access_b_at",
	store.SortWriteAccess:      "i.access_a_at",
	store.SortPushProdAccess:   "i.access_b_at",
	store.SortUser:             "i.user_name_key",
	store.SortClientID:         "i.client_id_key",
	store.SortClientAlias:      "i.client_alias_key",
	store.SortConnectionStatus: "i.state_key",
}

// connectionSource names, for a sort on a copy of a connection's value,
// the column of connections it copies: every identity of a connection has
// the same key.
var connectionSource = map[store.Sort]string{
	store.SortClientID:         "client_id",
	store.SortClientAlias:      "client_alias",
	store.SortConnectionStatus: "state",
}

// searchText is the expression the search indexes hold: the folded fields,
// one a line. A term without a newline is in it exactly when some field
// holds it.
const searchText = `(i.identity_id_fold || E'\n' || i.username_fold || E'\n' || i.email_fold)`

// trigram is the length, in characters, of the pieces the search indexes
// hold: a shorter term cannot use them.
const trigram = 3

// ErrBadQuery reports a ListQuery the store cannot run.
var ErrBadQuery = errors.New("postgres: bad list query")

// params numbers a query's arguments.
type params struct{ args []any }

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

// query is one statement and its arguments.
type query struct {
	sql  string
	args []any
}

// listSQL is the SQL of one list request: a count, and two ways to read
// the page. ordered walks the sort's index and skips the rows that do not
// match: its cost grows with the rows it walks, about (offset+limit) times
// all/matches. matched reads only the matches, through the search or
// connection index, and sorts them: its cost grows with the matches.
// useMatched chooses the cheaper. Both page queries end in "LIMIT $n
// OFFSET $m", the last two arguments, which pageArgs sets.
type listSQL struct {
	count    query // all identities of the company and family, the matches, and runs
	filtered bool  // whether any filter applies
	ordered  query
	matched  query
	// With a connection filter, no q and a sort on a connection's value, the
	// count also returns the filter's connections with their keys and
	// counts, and the page is read with runs: see runs.
	byConnection bool
	runs         runs
}

// buildList writes the SQL for q.
func buildList(q store.ListQuery) (listSQL, error) {
	key, ok := sortColumns[q.Sort]
	family := q.Family.Code()
	if !ok || family == 0 || q.Page < 1 || q.Limit < 1 {
		return listSQL{}, fmt.Errorf("%w: sort %q, family %q, page %d, limit %d", ErrBadQuery, q.Sort, q.Family, q.Page, q.Limit)
	}
	// The family is written into the SQL, not passed: each family's search
	// index is partial, and a plan may use it only for a literal family.
	fam := strconv.Itoa(int(family))
	needle := fold(q.Q)
	var l listSQL
	l.filtered = q.ConnectionID != 0 || q.ClientType != "" || needle != ""

	// conns is the filter's connections, as a subquery.
	conns := func(p *params) string {
		where := "c.company_id = " + p.add(q.CompanyID)
		if q.ConnectionID != 0 {
			where += " AND c.id = " + p.add(q.ConnectionID)
		}
		if q.ClientType != "" {
			where += " AND c.client_type = " + p.add(q.ClientType)
		}
		return "(SELECT c.id FROM connections c WHERE " + where + ")"
	}
	hasConns := q.ConnectionID != 0 || q.ClientType != ""
	// where is the condition on identities i of a match. With walk, it is
	// written so that no index can find the matches (connection_id + 0 of
	// an array, strpos in place of LIKE): the query that uses it walks the sort's
	// index, which the planner would otherwise trade for reading the
	// matches and sorting them when it misjudges how many there are.
	where := func(p *params, walk bool) string {
		w := "i.company_id = " + p.add(q.CompanyID) + " AND i.family = " + fam
		if hasConns {
			if walk {
				// An array of the kept ids, not a subquery the planner would
				// turn into a join.
				w += " AND i.connection_id + 0 = ANY (ARRAY" + conns(p) + ")"
			} else {
				w += " AND i.connection_id IN " + conns(p)
			}
		}
		switch {
		case needle == "":
		case strings.Contains(needle, "\n") || utf8.RuneCountInString(needle) < trigram:
			// The joined text would find a term with a newline across two
			// fields, and the search index holds nothing of a term too short
			// for a trigram: check each field, on every identity of the
			// company and family (from identities_folds alone).
			t := p.add(needle)
			w += " AND (strpos(i.identity_id_fold, " + t + ") > 0 OR strpos(i.username_fold, " + t + ") > 0 OR strpos(i.email_fold, " + t + ") > 0)"
		case walk:
			w += " AND strpos(" + searchText + ", " + p.add(needle) + ") > 0"
		default:
			w += " AND " + searchText + " LIKE " + p.add(containsPattern(needle))
		}
		return w
	}

	// The count: every identity of the company and family, and the matches,
	// from the counts kept by triggers unless a q needs the rows.
	var p params
	counted := func(extra string) string {
		return "(SELECT coalesce(sum(k.n), 0)::bigint FROM identity_counts k WHERE k.company_id = " + p.add(q.CompanyID) + " AND k.family = " + fam + extra + ")"
	}
	all := counted("")
	var total string
	switch {
	case needle != "":
		total = "(SELECT count(*) FROM identities i WHERE " + where(&p, false) + ")"
	case hasConns:
		total = counted(" AND k.connection_id IN " + conns(&p))
	default:
		total = all
	}
	kept := "(SELECT NULL::bigint[] AS ids, NULL::text[] AS keys, NULL::bigint[] AS ns)"
	if src := connectionSource[q.Sort]; src != "" && hasConns && needle == "" {
		l.byConnection = true
		l.runs = runs{companyID: q.CompanyID, family: fam, desc: q.Descending}
		kept = "(SELECT array_agg(c.id ORDER BY c.id) AS ids, array_agg(lower(c." + src + ` COLLATE "C") ORDER BY c.id) AS keys,
			array_agg(coalesce(k.n, 0) ORDER BY c.id) AS ns
			FROM connections c LEFT JOIN identity_counts k ON k.company_id = c.company_id AND k.family = ` + fam + ` AND k.connection_id = c.id
			WHERE c.id IN ` + conns(&p) + ")"
	}
	l.count = query{"SELECT " + all + ", " + total + ", r.ids, r.keys, r.ns FROM " + kept + " r", p.args}

	asc := !q.Descending
	order := func(key, id string) string {
		if asc {
			return " ORDER BY " + key + " ASC NULLS FIRST, " + id + " ASC"
		}
		return " ORDER BY " + key + " DESC NULLS LAST, " + id + " DESC"
	}
	p = params{}
	w := where(&p, true)
	l.ordered = query{"SELECT i.id FROM identities i WHERE " + w + order(key, "i.id") + pageLimit(&p), p.args}
	if l.filtered {
		// The matches, fenced off so that the sort's index cannot order them:
		// they are read through whichever index finds them best, then sorted.
		p = params{}
		w := where(&p, false)
		l.matched = query{"WITH m AS MATERIALIZED (SELECT i.id, " + key + " AS k FROM identities i WHERE " + w + ") SELECT m.id FROM m" +
			order("m.k", "m.id") + pageLimit(&p), p.args}
	}
	return l, nil
}

// pageLimit appends the limit and offset placeholders, with zero values
// that pageArgs replaces.
func pageLimit(p *params) string {
	return " LIMIT " + p.add(int64(0)) + " OFFSET " + p.add(int64(0))
}

// pageArgs returns q's arguments with the page's limit and offset.
func pageArgs(q query, limit, offset int64) []any {
	args := append([]any(nil), q.args...)
	args[len(args)-2], args[len(args)-1] = limit, offset
	return args
}

// useMatched says whether reading the matches beats walking the index: it
// does when the matches are fewer than the rows the walk would visit.
func useMatched(all, matches, offset, limit int64) bool {
	visits := float64(offset+limit) * float64(all) / float64(max(matches, 1))
	return float64(matches) <= visits
}
