package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
)

const identityCols = `i.id, i.company_id, i.family, i.connection_id, i.identity_id, i.username, i.email,
	i.connected_at, i.disconnected_at, i.service_account_at, i.service_account_reason,
	i.user_id, i.designator_id, i.has_mfa, i.last_checked_at, i.created_at, i.updated_at,
	i.access_a_at, i.access_b_at`

func scanIdentity(sc interface{ Scan(...any) error }, it *store.Identity) error {
	var family int64
	err := sc.Scan(&it.ID, &it.CompanyID, &family, &it.ConnectionID, &it.IdentityID, &it.Username, &it.Email,
		nullTimeCol{&it.ConnectedAt}, nullTimeCol{&it.DisconnectedAt}, nullTimeCol{&it.ServiceAccountAt}, &it.ServiceAccountReason,
		&it.UserID, &it.DesignatorID, &it.HasMFA, nullTimeCol{&it.LastCheckedAt}, timeCol{&it.CreatedAt}, timeCol{&it.UpdatedAt},
		nullTimeCol{&it.AccessA}, nullTimeCol{&it.AccessB})
	it.Family = store.FamilyOf(int64(family))
	return err
}

// sortColumn is what a sort orders by and the index kept in that order.
// For a sort on a copy of a connection's value, source names the value in
// connections: every identity of a connection has the same key.
type sortColumn struct{ expr, index, source string }

// sortColumns maps each sort key to its column. Text sorts ignore ASCII case.
var sortColumns = map[store.Sort]sortColumn{
	store.SortIdentityID:       {"i.identity_id COLLATE NOCASE", "identities_by_identity_id", ""},
	store.SortUsername:         {"i.username COLLATE NOCASE", "identities_by_username", ""},
	store.SortEmail:            {"i.email COLLATE NOCASE", "identities_by_email", ""},
	store.SortConnectedAt:      {"i.connected_at", "identities_by_connected_at", ""},
	store.SortDisconnectedAt:   {"i.disconnected_at", "identities_by_disconnected_at", ""},
	store.SortServiceAccount:   {"i.service_account_at", "identities_by_service_account_at", ""},
	store.SortHasMFA:           {"i.has_mfa", "identities_by_has_mfa", ""},
	store.SortAdminAccess:      {"i.access_a_at", "identities_by_access_a_at", ""},
	store.SortDBAccess:         {"i.access_b_at", "identities_by_access_b_at", ""},
	store.SortWriteAccess:      {"i.access_a_at", "identities_by_access_a_at", ""},
	store.SortPushProdAccess:   {"i.access_b_at", "identities_by_access_b_at", ""},
	store.SortUser:             {"i.user_name COLLATE NOCASE", "identities_by_user_name", ""},
	store.SortClientID:         {"i.client_id COLLATE NOCASE", "identities_by_client_id", "client_id"},
	store.SortClientAlias:      {"i.client_alias COLLATE NOCASE", "identities_by_client_alias", "client_alias"},
	store.SortConnectionStatus: {"i.connection_state COLLATE NOCASE", "identities_by_connection_state", "state"},
}

// ErrBadQuery reports a ListQuery the store cannot run.
var ErrBadQuery = errors.New("sqlite: bad list query")

// listSQL is the SQL of one list request: a count, and two ways to pick the
// page's ids. ordered walks the sort's index and skips rows that do not
// match: its cost grows with the rows it walks, about (offset+limit) times
// all/matches. matched reads only the matching rows, through the search or
// connection index, and sorts them: its cost grows with the matches.
// useMatched chooses the cheaper.
type listSQL struct {
	count       string
	countArgs   []any
	filtered    bool // whether any filter applies
	ordered     string
	orderedArgs []any
	matched     string
	matchedArgs []any

	// With a connection filter, no q and a sort on a connection's value, the
	// count also returns the filter's connections with their keys and
	// counts, and the page is read with runs: see connectionRuns.
	byConnection bool
	runs         connectionRuns
}

// connectionRuns reads a page sorted on a connection's value when a filter
// keeps whole connections (see store.LayOutRuns): the count query returns
// every kept connection with its key and its count, and sql reads just the
// page's slices, each from identities_by_connection in id order.
type connectionRuns struct {
	companyID, family int64
	desc              bool
}

// sql returns the query and its arguments for the page at offset of limit
// identities, from conns, the count's JSON array of [id, key, n]. The query
// returns (part, id) rows: the page is the rows ordered by part, then by id
// in the sort's direction. An empty query means "walk the index instead".
func (r connectionRuns) sql(conns string, offset, limit int64) (string, []any, error) {
	var raw [][3]any
	if err := json.Unmarshal([]byte(conns), &raw); err != nil {
		return "", nil, fmt.Errorf("sqlite: read the filter's connections: %w", err)
	}
	kept := make([]store.Run, len(raw))
	for i, c := range raw {
		id, ok1 := c[0].(float64)
		n, ok2 := c[2].(float64)
		key, ok3 := c[1].(string)
		if !ok1 || !ok2 || (!ok3 && c[1] != nil) {
			return "", nil, fmt.Errorf("sqlite: read the filter's connections: %v", c)
		}
		kept[i] = store.Run{ID: int64(id), N: int64(n)}
		if ok3 {
			kept[i].Key = &key
		}
	}
	dir := "ASC"
	if r.desc {
		dir = "DESC"
	}
	var parts []string
	var args []any
	runs, page := store.LayOutRuns(kept, compareKeys, r.desc, offset, limit)
	for _, sl := range page {
		arms := make([]string, 0, sl.End-sl.First)
		for _, g := range runs[sl.First:sl.End] {
			arms = append(arms, "SELECT i.id FROM identities i INDEXED BY identities_by_connection WHERE i.company_id = ? AND i.family = ? AND i.connection_id = ?")
			args = append(args, r.companyID, r.family, g.ID)
		}
		parts = append(parts, fmt.Sprintf("SELECT %d, id FROM (%s ORDER BY 1 %s LIMIT ? OFFSET ?)", len(parts), strings.Join(arms, " UNION ALL "), dir))
		args = append(args, sl.Take, sl.Skip)
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	return strings.Join(parts, " UNION ALL "), args, nil
}

// compareKeys orders keys as the sorts do: NULL first, then text with ASCII
// letters folded to lower case (SQLite's NOCASE).
func compareKeys(a, b *string) int {
	if a == nil || b == nil {
		return boolCompare(a != nil, b != nil)
	}
	return bytes.Compare(asciiLower(*a), asciiLower(*b))
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

func asciiLower(s string) []byte {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}

// buildList writes the SQL for q.
func buildList(q store.ListQuery) (listSQL, error) {
	col, ok := sortColumns[q.Sort]
	family := q.Family.Code()
	if !ok || family == 0 || q.Page < 1 || q.Limit < 1 {
		return listSQL{}, fmt.Errorf("%w: sort %q, family %q, page %d, limit %d", ErrBadQuery, q.Sort, q.Family, q.Page, q.Limit)
	}
	var l listSQL
	tenant := []any{q.CompanyID, family}

	// The connection filter: which of the company's connections it keeps
	// (connWhere), applied to identities (conn) and to the counts (kconn).
	var conn, kconn, connWhere string
	var connArgs []any
	switch {
	case q.ConnectionID != 0 && q.ClientType != "":
		connWhere = "company_id = ? AND id = ? AND client_type = ?"
		connArgs = []any{q.CompanyID, q.ConnectionID, q.ClientType}
	case q.ConnectionID != 0:
		connWhere = "company_id = ? AND id = ?"
		connArgs = []any{q.CompanyID, q.ConnectionID}
	case q.ClientType != "":
		connWhere = "company_id = ? AND client_type = ?"
		connArgs = []any{q.CompanyID, q.ClientType}
	}
	if connWhere != "" {
		conn = "i.connection_id IN (SELECT id FROM connections WHERE " + connWhere + ")"
		kconn = "k.connection_id IN (SELECT id FROM connections WHERE " + connWhere + ")"
	}

	// The search: the search index's query for the term, and the check of
	// the term itself on each row.
	var search, match string
	var searchArgs []any
	switch needle := fold(q.Q); {
	case needle == "":
	case strings.Contains(needle, "\n"):
		// search separates fields with newlines: check each field, on every
		// identity of the company and family.
		search = "(instr(fold(i.identity_id), ?) OR instr(fold(i.username), ?) OR instr(fold(coalesce(i.email, '')), ?))"
		searchArgs = []any{needle, needle, needle}
	default:
		search = "instr(i.search, ?) > 0"
		searchArgs = []any{needle}
		match = searchQuery(q.CompanyID, family, needle)
	}
	l.filtered = conn != "" || search != ""

	where := []string{"i.company_id = ?", "i.family = ?"}
	args := append([]any{}, tenant...)
	if conn != "" {
		where = append(where, conn)
		args = append(args, connArgs...)
	}
	if search != "" {
		where = append(where, search)
		args = append(args, searchArgs...)
	}
	cond := strings.Join(where, " AND ")

	// matchedFrom reads only matching rows: those the search index names, or
	// the company's rows of the family (of the connection, if filtered).
	matchedFrom := "identities i INDEXED BY identities_by_connection"
	var matchedArgs []any
	if match != "" {
		matchedFrom = "identities_search s CROSS JOIN identities i ON i.id = s.rowid"
		cond = "s.identities_search MATCH ? AND " + cond
		matchedArgs = []any{match}
	}
	matchedArgs = append(matchedArgs, args...)

	// The count: every identity of the company and family, the matches, and
	// (for runs) the filter's connections with their keys.
	all := "(SELECT coalesce(sum(k.n), 0) FROM identity_counts k WHERE k.company_id = ? AND k.family = ?)"
	var total string
	var totalArgs []any
	switch {
	case search == "" && kconn == "":
		total, totalArgs = all, tenant
	case search == "":
		total = "(SELECT coalesce(sum(k.n), 0) FROM identity_counts k WHERE k.company_id = ? AND k.family = ? AND " + kconn + ")"
		totalArgs = append(append([]any{}, tenant...), connArgs...)
	case match != "" && conn == "":
		// The search index's query matches exactly the company's identities
		// of the family that hold the term: the index alone counts them.
		total, totalArgs = "(SELECT count(*) FROM identities_search s WHERE s.identities_search MATCH ?)", []any{match}
	default:
		total, totalArgs = "(SELECT count(*) FROM "+matchedFrom+" WHERE "+cond+")", matchedArgs
	}
	conns := "NULL"
	var connsArgs []any
	if l.byConnection = col.source != "" && connWhere != "" && search == ""; l.byConnection {
		conns = "(SELECT json_group_array(json_array(c.id, c." + col.source + ", (SELECT coalesce(sum(k.n), 0) FROM identity_counts k " +
			"WHERE k.company_id = c.company_id AND k.family = ? AND k.connection_id = c.id))) FROM connections c WHERE c.id IN (SELECT id FROM connections WHERE " + connWhere + "))"
		connsArgs = append([]any{family}, connArgs...)
	}
	l.count = "SELECT " + all + ", " + total + ", " + conns
	l.countArgs = append(append(append([]any{}, tenant...), totalArgs...), connsArgs...)

	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	order := fmt.Sprintf(" ORDER BY %s %s, i.id %s LIMIT ? OFFSET ?", col.expr, dir, dir)
	plain := strings.Join(where, " AND ")
	l.ordered = "SELECT i.id FROM identities i INDEXED BY " + col.index + " WHERE " + plain + order
	l.orderedArgs = args
	l.runs = connectionRuns{companyID: q.CompanyID, family: family, desc: q.Descending}
	if l.filtered {
		l.matched = "SELECT i.id FROM " + matchedFrom + " WHERE " + cond + order
		l.matchedArgs = matchedArgs
	}
	return l, nil
}

// pick returns the page query (but offset and limit, unless it returns
// (part, id) rows) for a list with all identities in its company and family
// and matches of them, given the count's list of the filter's connections.
func (l listSQL) pick(all, matches, offset, limit int64, conns string) (query string, args []any, parts bool, err error) {
	if l.byConnection {
		query, args, err := l.runs.sql(conns, offset, limit)
		if err != nil || query != "" {
			return query, args, true, err
		}
	}
	if l.filtered && useMatched(all, matches, offset, limit) {
		return l.matched, l.matchedArgs, false, nil
	}
	return l.ordered, l.orderedArgs, false, nil
}

// useMatched says whether reading the matches beats walking the index: it
// does when the matches are fewer than the rows the walk would visit.
func useMatched(all, matches, offset, limit int64) bool {
	visits := float64(offset+limit) * float64(all) / float64(max(matches, 1))
	return float64(matches) <= visits
}

// ListIdentities runs three queries (the total, the page's ids, its rows)
// and six more for the records nested in the page, whatever its size. The
// total comes from counts kept by triggers unless q is set; the page's ids
// come from an index in the sort's order, or from the matches when they
// are few (see listSQL).
func (s *Store) ListIdentities(ctx context.Context, q store.ListQuery) (store.Page, error) {
	l, err := buildList(q)
	if err != nil {
		return store.Page{}, err
	}
	defer s.readStmts.fill(ctx) // after the rollback below
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	c := cachedTx{tx, s.readStmts}

	var page store.Page
	var all int64
	var conns sql.NullString
	if err := c.QueryRowContext(ctx, l.count, l.countArgs...).Scan(&all, &page.Total, &conns); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: count identities: %w", err)
	}
	if q.Page-1 > (math.MaxInt64-q.Limit)/q.Limit || (q.Page-1)*q.Limit >= page.Total {
		return page, nil
	}
	offset := (q.Page - 1) * q.Limit
	pageSQL, args, parts, err := l.pick(all, page.Total, offset, q.Limit, conns.String)
	if err != nil {
		return store.Page{}, err
	}
	if !parts {
		args = append(args[:len(args):len(args)], q.Limit, offset)
	}
	ids, err := queryIDs(ctx, c, pageSQL, parts, q.Descending, args...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: list identities: %w", err)
	}
	if page.Items, err = loadIdentities(ctx, c, q.CompanyID, ids); err != nil {
		return store.Page{}, err
	}
	if err := loadGraph(ctx, c, q.CompanyID, page.Items); err != nil {
		return store.Page{}, err
	}
	return page, nil
}

// queryIDs runs a query of identity ids; with parts, of (part, id) rows,
// which it orders by part, then by id (descending with desc).
func queryIDs(ctx context.Context, q querier, query string, parts, desc bool, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type row struct{ part, id int64 }
	var got []row
	for rows.Next() {
		var r row
		dest := []any{&r.id}
		if parts {
			dest = []any{&r.part, &r.id}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if parts {
		slices.SortFunc(got, func(a, b row) int {
			if c := cmp.Compare(a.part, b.part); c != 0 {
				return c
			}
			if desc {
				return cmp.Compare(b.id, a.id)
			}
			return cmp.Compare(a.id, b.id)
		})
	}
	ids := make([]int64, len(got))
	for i, r := range got {
		ids[i] = r.id
	}
	return ids, nil
}

// loadIdentities reads the company's identities ids, in the order of ids.
// The unary + keeps SQLite from walking the company's rows in some index
// instead of looking the ids up.
func loadIdentities(ctx context.Context, q querier, companyID int64, ids []int64) ([]store.IdentityView, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+identityCols+" FROM identities i WHERE i.id IN (SELECT value FROM json_each(?)) AND +i.company_id = ?", idList(ids), companyID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load identities: %w", err)
	}
	defer rows.Close()
	at := make(map[int64]int, len(ids))
	for i, id := range ids {
		at[id] = i
	}
	views := make([]store.IdentityView, len(ids))
	found := 0
	for rows.Next() {
		var it store.Identity
		if err := scanIdentity(rows, &it); err != nil {
			return nil, fmt.Errorf("sqlite: scan identity: %w", err)
		}
		views[at[it.ID]].Identity = it
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load identities: %w", err)
	}
	if found != len(ids) {
		return nil, fmt.Errorf("sqlite: load identities: %d of %d rows found", found, len(ids))
	}
	return views, nil
}

// ExplainList returns the plans SQLite makes for the queries behind q: the
// count, the page walking the sort's index, and the page reading the
// matches (none when q has no filter). Each line is one step, indented by
// its depth.
func (s *Store) ExplainList(ctx context.Context, q store.ListQuery) (count, ordered, matched []string, err error) {
	l, err := buildList(q)
	if err != nil {
		return nil, nil, nil, err
	}
	if count, err = s.explain(ctx, l.count, l.countArgs); err != nil {
		return nil, nil, nil, err
	}
	query, args := l.ordered, append(l.orderedArgs, q.Limit, 0)
	if l.byConnection {
		var all, total int64
		var conns sql.NullString
		if err := s.read.QueryRowContext(ctx, l.count, l.countArgs...).Scan(&all, &total, &conns); err != nil {
			return nil, nil, nil, fmt.Errorf("sqlite: count identities: %w", err)
		}
		if runs, runsArgs, err := l.runs.sql(conns.String, 0, q.Limit); err != nil {
			return nil, nil, nil, err
		} else if runs != "" {
			query, args = runs, runsArgs
		}
	}
	if ordered, err = s.explain(ctx, query, args); err != nil {
		return nil, nil, nil, err
	}
	if l.filtered {
		if matched, err = s.explain(ctx, l.matched, append(l.matchedArgs, q.Limit, 0)); err != nil {
			return nil, nil, nil, err
		}
	}
	return count, ordered, matched, nil
}

func (s *Store) explain(ctx context.Context, query string, args []any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: explain: %w", err)
	}
	defer rows.Close()
	depth := map[int64]int{}
	var lines []string
	for rows.Next() {
		var id, parent, unused int64
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, fmt.Errorf("sqlite: explain: %w", err)
		}
		depth[id] = depth[parent] + 1
		lines = append(lines, strings.Repeat("  ", depth[id]-1)+detail)
	}
	return lines, rows.Err()
}

// GetIdentity returns one identity of the company with its nested records.
func (s *Store) GetIdentity(ctx context.Context, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	defer s.readStmts.fill(ctx) // after the rollback below
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.IdentityView{}, fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return getIdentity(ctx, cachedTx{tx, s.readStmts}, companyID, family, id)
}

func getIdentity(ctx context.Context, q querier, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	views := make([]store.IdentityView, 1)
	row := q.QueryRowContext(ctx, "SELECT "+identityCols+" FROM identities i WHERE i.id = ? AND i.company_id = ? AND i.family = ?", id, companyID, family.Code())
	if err := scanIdentity(row, &views[0].Identity); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.IdentityView{}, fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
		}
		return store.IdentityView{}, fmt.Errorf("sqlite: get identity: %w", err)
	}
	if err := loadGraph(ctx, q, companyID, views); err != nil {
		return store.IdentityView{}, err
	}
	return views[0], nil
}

// UpdateIdentity reads the identity, applies change with store.Apply and
// writes back the changed row, all in one write transaction.
func (s *Store) UpdateIdentity(ctx context.Context, companyID int64, family store.Family, id int64, change store.Change, now time.Time) (store.IdentityView, error) {
	var out store.IdentityView
	defer s.writeStmts.fill(ctx) // after the commit
	err := s.tx(ctx, func(sqlTx *sql.Tx) error {
		tx := cachedTx{sqlTx, s.writeStmts}
		var cur store.Identity
		row := tx.QueryRowContext(ctx, "SELECT "+identityCols+" FROM identities i WHERE i.id = ? AND i.company_id = ? AND i.family = ?", id, companyID, family.Code())
		if err := scanIdentity(row, &cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
			}
			return fmt.Errorf("sqlite: read identity: %w", err)
		}
		if user := store.LinkedUser(change); user != nil {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ? AND company_id = ?", *user, companyID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("user %d: %w", *user, store.ErrUserNotFound)
			}
			if err != nil {
				return fmt.Errorf("sqlite: find user: %w", err)
			}
		}
		changed, err := store.Apply(change, &cur, now)
		if err != nil {
			return err
		}
		if changed {
			_, err := tx.ExecContext(ctx, `UPDATE identities SET user_id = ?, connected_at = ?, disconnected_at = ?,
				service_account_at = ?, service_account_reason = ?, designator_id = ?, access_a_at = ?, access_b_at = ?, updated_at = ?
				WHERE id = ?`,
				cur.UserID, msp(cur.ConnectedAt), msp(cur.DisconnectedAt), msp(cur.ServiceAccountAt), cur.ServiceAccountReason,
				cur.DesignatorID, msp(cur.AccessA), msp(cur.AccessB), ms(cur.UpdatedAt), id)
			if err != nil {
				return fmt.Errorf("sqlite: update identity: %w", err)
			}
		}
		v, err := getIdentity(ctx, tx, companyID, family, id)
		out = v
		return err
	})
	return out, err
}
