package storetest

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
)

// The oracle: what a list must return, computed in Go from the fixture.

var families = []store.Family{store.Infrastructure, store.VersionControl}

// sorts are the sort keys the API accepts for each family.
var sorts = map[store.Family][]store.Sort{
	store.Infrastructure: {
		store.SortIdentityID, store.SortUsername, store.SortEmail, store.SortConnectedAt, store.SortDisconnectedAt,
		store.SortServiceAccount, store.SortHasMFA, store.SortAdminAccess, store.SortDBAccess, store.SortUser,
		store.SortClientID, store.SortClientAlias, store.SortConnectionStatus,
	},
	store.VersionControl: {
		store.SortIdentityID, store.SortUsername, store.SortEmail, store.SortConnectedAt, store.SortDisconnectedAt,
		store.SortServiceAccount, store.SortHasMFA, store.SortWriteAccess, store.SortPushProdAccess, store.SortUser,
		store.SortClientID, store.SortConnectionStatus,
	},
}

// nullable are the sorts whose value may be null.
var nullable = map[store.Sort]bool{
	store.SortEmail: true, store.SortConnectedAt: true, store.SortDisconnectedAt: true, store.SortServiceAccount: true,
	store.SortAdminAccess: true, store.SortDBAccess: true, store.SortWriteAccess: true, store.SortPushProdAccess: true,
	store.SortUser: true, store.SortClientID: true, store.SortClientAlias: true,
}

// SortKey is the value an identity is ordered by: null, or a text (folded
// as SQLite's COLLATE NOCASE folds it), a time or a flag. Keys compare with
// Compare and, being comparable, can be counted in a map.
type SortKey struct {
	null bool
	text string
	at   time.Time
	flag bool
}

// NullKey is the key of a null value.
var NullKey = SortKey{null: true}

// nocase folds text as SQLite's COLLATE NOCASE compares it: ASCII A-Z to
// a-z, every other byte as it is. Folded texts then compare bytewise.
func nocase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TextKey is the key of a text, compared without ASCII case; nil is null.
func TextKey(s *string) SortKey {
	if s == nil {
		return NullKey
	}
	return SortKey{text: nocase(*s)}
}

// TimeKey is the key of a time; nil is null.
func TimeKey(t *time.Time) SortKey {
	if t == nil {
		return NullKey
	}
	return SortKey{at: t.UTC()}
}

// FlagKey is the key of a flag: false before true.
func FlagKey(b bool) SortKey { return SortKey{flag: b} }

// Compare orders a and b in ascending order, null before every value, as
// the API documents: -1, 0 or 1.
func (a SortKey) Compare(b SortKey) int {
	if a.null || b.null {
		return boolCompare(!a.null, !b.null)
	}
	if c := strings.Compare(a.text, b.text); c != 0 {
		return c
	}
	if c := a.at.Compare(b.at); c != 0 {
		return c
	}
	return boolCompare(a.flag, b.flag)
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// key is what it is ordered by under s.
func (f *fixture) key(it *store.Identity, s store.Sort) SortKey {
	conn := f.conns[it.ConnectionID]
	switch s {
	case store.SortIdentityID:
		return TextKey(&it.IdentityID)
	case store.SortUsername:
		return TextKey(&it.Username)
	case store.SortEmail:
		return TextKey(it.Email)
	case store.SortConnectedAt:
		return TimeKey(it.ConnectedAt)
	case store.SortDisconnectedAt:
		return TimeKey(it.DisconnectedAt)
	case store.SortServiceAccount:
		return TimeKey(it.ServiceAccountAt)
	case store.SortHasMFA:
		return FlagKey(it.HasMFA)
	case store.SortAdminAccess, store.SortWriteAccess:
		return TimeKey(it.AccessA)
	case store.SortDBAccess, store.SortPushProdAccess:
		return TimeKey(it.AccessB)
	case store.SortUser:
		if it.UserID == nil {
			return NullKey
		}
		u := f.users[*it.UserID]
		name := u.FirstName + " " + u.LastName
		return TextKey(&name)
	case store.SortClientID:
		return TextKey(conn.ClientID)
	case store.SortClientAlias:
		return TextKey(conn.ClientAlias)
	case store.SortConnectionStatus:
		return TextKey(&conn.State)
	}
	panic("storetest: no key for sort " + string(s))
}

// matchesQ is the documented q: a substring of the identity id, the
// username or the email, each lower-cased as Go lower-cases Unicode, with
// no wildcards and never across two fields.
func matchesQ(it *store.Identity, q string) bool {
	q = strings.ToLower(q)
	in := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	return in(it.IdentityID) || in(it.Username) || (it.Email != nil && in(*it.Email))
}

// matches reports whether it is one of q's matches, ignoring paging.
func (f *fixture) matches(it *store.Identity, q store.ListQuery) bool {
	return it.CompanyID == q.CompanyID && it.Family == q.Family &&
		(q.ClientType == "" || f.conns[it.ConnectionID].ClientType == q.ClientType) &&
		(q.ConnectionID == 0 || it.ConnectionID == q.ConnectionID) &&
		(q.Q == "" || matchesQ(it, q.Q))
}

// expect returns the ids of every match of q, in q's order: by the sort's
// value, nulls first, ties by id; all of it reversed when descending.
func (f *fixture) expect(q store.ListQuery) []int64 {
	var its []*store.Identity
	for _, it := range f.idents {
		if f.matches(it, q) {
			its = append(its, it)
		}
	}
	slices.SortFunc(its, func(a, b *store.Identity) int {
		if c := f.key(a, q.Sort).Compare(f.key(b, q.Sort)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	ids := make([]int64, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	if q.Descending {
		slices.Reverse(ids)
	}
	return ids
}

// shape is one kind of filter a list may have.
type shape struct {
	name         string
	clientType   string
	connectionID int64
	q            string
}

func (s shape) hasQ() bool { return s.q != "" }

// query returns the list query of company A's family fam in this shape.
func (s shape) query(f *fixture, fam store.Family, sort store.Sort, desc bool, page, limit int64) store.ListQuery {
	return store.ListQuery{CompanyID: f.A, Family: fam, Page: page, Limit: limit, Sort: sort, Descending: desc,
		ClientType: s.clientType, ConnectionID: s.connectionID, Q: s.q}
}

// shapes are the filter shapes every sort is tried with: none, each
// filter alone, a q of three or more characters (which many identities
// match: the email domain), one of two, and a client type with a q.
func (f *fixture) shapes(fam store.Family) []shape {
	fd := f.family(fam)
	return []shape{
		{name: "none"},
		{name: "clientType", clientType: fd.clientType},
		{name: "connectionId", connectionID: fd.conn1},
		{name: "q3", q: "EXA"},
		{name: "q2", q: "Ci"},
		{name: "clientType+q", clientType: fd.clientType, q: "RUNNER"},
	}
}

// otherFamilyOf maps each family to the other.
var otherFamilyOf = map[store.Family]store.Family{store.Infrastructure: store.VersionControl, store.VersionControl: store.Infrastructure}
