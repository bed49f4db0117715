package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// list runs q and returns its items' ids. It fails the test on an error.
func list(t testing.TB, s store.Identities, q store.ListQuery) (store.Page, []int64) {
	t.Helper()
	p, err := s.ListIdentities(context.Background(), q)
	require.NoError(t, err, "list %s", describeQuery(q))
	ids := make([]int64, len(p.Items))
	for i, v := range p.Items {
		ids[i] = v.ID
	}
	return p, ids
}

// walk reads every page of q (q.Page is ignored) and checks that each page
// is full but the last, holds the next matches in order and reports the
// same total. It returns the pages' items.
func walk(t testing.TB, f *fixture, s store.Identities, q store.ListQuery, want []int64) []store.IdentityView {
	t.Helper()
	var items []store.IdentityView
	for q.Page = 1; ; q.Page++ {
		p, ids := list(t, s, q)
		require.Equal(t, int64(len(want)), p.Total, "total of %s", describeQuery(q))
		from := min(int64(len(want)), (q.Page-1)*q.Limit)
		to := min(int64(len(want)), from+q.Limit)
		sameOrder(t, f, q, want[from:to], ids)
		items = append(items, p.Items...)
		if to == int64(len(want)) {
			return items
		}
	}
}

// sameOrder fails the test unless got are the ids want, in order; it then
// shows each id with its sort value.
func sameOrder(t testing.TB, f *fixture, q store.ListQuery, want, got []int64) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	t.Fatalf("%s:\nwant %s\ngot  %s", describeQuery(q), describeIDs(f, want, q.Sort), describeIDs(f, got, q.Sort))
}

func describeQuery(q store.ListQuery) string {
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}
	s := fmt.Sprintf("company %d %s sort %s %s page %d limit %d", q.CompanyID, q.Family, q.Sort, dir, q.Page, q.Limit)
	if q.ClientType != "" {
		s += " clientType " + q.ClientType
	}
	if q.ConnectionID != 0 {
		s += fmt.Sprintf(" connectionId %d", q.ConnectionID)
	}
	if q.Q != "" {
		s += fmt.Sprintf(" q %q", q.Q)
	}
	return s
}

// describeIDs lists ids with the value each is sorted by.
func describeIDs(f *fixture, ids []int64, s store.Sort) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		it := f.idents[id]
		if it == nil || s == "" {
			parts[i] = fmt.Sprint(id)
			continue
		}
		k := f.key(it, s)
		switch {
		case k.null:
			parts[i] = fmt.Sprintf("%d(null)", id)
		case k.text != "":
			parts[i] = fmt.Sprintf("%d(%q)", id, k.text)
		case !k.at.IsZero():
			parts[i] = fmt.Sprintf("%d(%s)", id, k.at.Format(time.RFC3339))
		default:
			parts[i] = fmt.Sprintf("%d(%v)", id, k.flag)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func normTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// normIdentity returns it with every time in UTC, so that equal records
// compare equal whatever location a store returns times in.
func normIdentity(it store.Identity) store.Identity {
	it.ConnectedAt, it.DisconnectedAt = normTime(it.ConnectedAt), normTime(it.DisconnectedAt)
	it.ServiceAccountAt, it.LastCheckedAt = normTime(it.ServiceAccountAt), normTime(it.LastCheckedAt)
	it.AccessA, it.AccessB = normTime(it.AccessA), normTime(it.AccessB)
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return it
}

// checkRefs checks that v is the fixture's identity and that its nested
// records are the ones it refers to, by id.
func checkRefs(t testing.TB, f *fixture, v store.IdentityView) {
	t.Helper()
	want := f.idents[v.ID]
	require.NotNil(t, want, "identity %d is not in the data", v.ID)
	require.Equal(t, normIdentity(*want), normIdentity(v.Identity), "identity %d", v.ID)
	require.NotNil(t, v.Connection, "identity %d: no connection", v.ID)
	require.Equal(t, v.ConnectionID, v.Connection.ID, "identity %d: connection", v.ID)
	require.Equal(t, v.CompanyID, v.Connection.CompanyID, "identity %d: connection's company", v.ID)
	sameUser(t, fmt.Sprintf("identity %d: user", v.ID), v.UserID, v.User)
	sameUser(t, fmt.Sprintf("identity %d: designator", v.ID), v.DesignatorID, v.Designator)
	sameUser(t, fmt.Sprintf("identity %d: connection owner", v.ID), f.conns[v.ConnectionID].OwnerUserID, v.ConnectionOwner)
}

func sameUser(t testing.TB, what string, id *int64, u *store.User) {
	t.Helper()
	switch {
	case id == nil:
		require.Nil(t, u, what)
	default:
		require.NotNil(t, u, "%s %d is not loaded", what, *id)
		require.Equal(t, *id, u.ID, what)
	}
}

// checkView is checkRefs, and every nested record equal to the data.
func checkView(t testing.TB, f *fixture, v store.IdentityView) {
	t.Helper()
	checkRefs(t, f, v)
	require.JSONEq(t, toJSON(t, f.conns[v.ConnectionID]), toJSON(t, v.Connection), "identity %d: connection", v.ID)
	for what, p := range map[string]struct {
		id *int64
		u  *store.User
	}{"user": {v.UserID, v.User}, "designator": {v.DesignatorID, v.Designator}, "connection owner": {f.conns[v.ConnectionID].OwnerUserID, v.ConnectionOwner}} {
		if p.id != nil {
			require.JSONEq(t, toJSON(t, f.users[*p.id]), toJSON(t, p.u), "identity %d: %s", v.ID, what)
		}
	}
}

// toJSON encodes v: JSON compares records whatever the types a store
// decodes free-form values to (a number in a connection's product).
func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// get reads one identity and fails the test on an error.
func get(t testing.TB, s store.Identities, company int64, fam store.Family, id int64) store.IdentityView {
	t.Helper()
	v, err := s.GetIdentity(context.Background(), company, fam, id)
	require.NoError(t, err, "get %s identity %d of company %d", fam, id, company)
	return v
}

// checkTotals checks the total of every filter shape, of each of company
// A's connections and of the client type of each, in family fam, against
// the oracle. It asks for a page past the end, which holds no items but
// the same total, so that each check costs little.
func checkTotals(t testing.TB, f *fixture, s store.Identities, fam store.Family, what string) {
	t.Helper()
	var qs []store.ListQuery
	for _, sh := range f.shapes(fam) {
		qs = append(qs, sh.query(f, fam, store.SortUsername, false, 1<<40, 1))
	}
	types := map[string]bool{}
	for _, c := range f.conns {
		if c.CompanyID == f.A && usedBy(f, fam, c.ID) {
			qs = append(qs, store.ListQuery{ConnectionID: c.ID})
			if !types[c.ClientType] {
				types[c.ClientType] = true
				qs = append(qs, store.ListQuery{ClientType: c.ClientType})
			}
		}
	}
	for _, q := range qs {
		q.CompanyID, q.Family, q.Page, q.Limit, q.Sort = f.A, fam, 1<<40, 1, store.SortUsername
		p, _ := list(t, s, q)
		assert.Equal(t, int64(len(f.expect(q))), p.Total, "%s: total of %s", what, describeQuery(q))
	}
}
