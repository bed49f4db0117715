package storetest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// testListFilters: q is a case-insensitive (Unicode) substring of one
// field, with % and _ literal, for terms of one, two and more characters,
// and never across fields; clientType and connectionId filter by the
// identity's connection and stay inside the company and family.
func testListFilters(t *testing.T, o Opened, f *fixture) {
	for _, fam := range families {
		t.Run(string(fam), func(t *testing.T) {
			fd := f.family(fam)
			at := func(i int) *store.Identity { return f.idents[fd.ids[i]] }
			all := len(fd.ids)
			id := func(is ...int) []int64 {
				var out []int64
				for _, i := range is {
					out = append(out, fd.ids[i])
				}
				return out
			}
			withEmail := at(11) // its email is hand-made

			// want nil: the oracle decides, and the q must filter.
			qs := []qCase{
				{"%", id(0, 2)},
				{"_", id(0, 2)},
				{"_runner%", id(0)},
				{"CI_RUNNER", id(0)},
				{"0%_S", id(2)},
				{"élodie", id(7, 8)},
				{"øSTER", id(7, 8)},
				{"e.ø", id(7, 8)},
				// Go lower-cases İ to i, one byte shorter.
				{"\u0130P", id(9)},
				{"ip", id(9)},
				{"\u0130", nil},
				{"i\u0307", []int64{}},
				{"\n", id(10)},
				{"\nLIN", id(10)},
				{"1\nline2", id(10)},
				{"dup-ID", id(11, 12)},
				{strings.ToUpper(at(14).IdentityID), id(14)},
				// Across fields: what a search of the fields joined by
				// newlines would wrongly find.
				{at(3).IdentityID[len(at(3).IdentityID)-3:] + "\n", []int64{}},
				{at(12).IdentityID[len(at(12).IdentityID)-3:] + "\n" + (*at(12).Email)[:2], []int64{}},
				{"\nalp", []int64{}},
				{withEmail.Username + "\n" + (*withEmail.Email)[:3], []int64{}},
				{"no-such-identity", []int64{}},
				{"@EXAMPLE.COM", nil},
			}
			if fam != store.Infrastructure {
				// The same data as the first family's: some of it, to
				// show that the search keeps to the family.
				qs = slices.DeleteFunc(qs, func(c qCase) bool {
					return !slices.Contains([]string{"%", "_runner%", "élodie", "\u0130P", "ip", "\n", "1\nline2", "\nalp", "@EXAMPLE.COM"}, c.q)
				})
			}
			for _, c := range qs {
				q := store.ListQuery{CompanyID: f.A, Family: fam, Page: 1, Limit: 50, Sort: store.SortIdentityID, Q: c.q}
				want := f.expect(q)
				if c.want != nil {
					require.ElementsMatch(t, c.want, want, "the oracle's matches of q %q", c.q)
				} else {
					require.True(t, len(want) > 0 && len(want) < all, "q %q keeps %d of %d identities; it must filter", c.q, len(want), all)
				}
				p, ids := list(t, o.Store, q)
				require.Equal(t, int64(len(want)), p.Total, "total of %s", describeQuery(q))
				sameOrder(t, f, q, want, ids)
			}

			// The connection filters.
			var foreign, otherFamily int64
			types := map[string]bool{"NO_SUCH_TYPE": true}
			var qs2 []store.ListQuery
			for _, c := range f.conns {
				switch {
				case c.CompanyID == f.B && foreign == 0:
					foreign = c.ID
				case c.CompanyID == f.A && usedBy(f, fam, c.ID):
					types[c.ClientType] = true
					qs2 = append(qs2, store.ListQuery{ConnectionID: c.ID})
				}
			}
			otherFamily = f.family(otherFamilyOf[fam]).conn0
			require.NotZero(t, foreign)
			for ct := range types {
				qs2 = append(qs2, store.ListQuery{ClientType: ct})
			}
			qs2 = append(qs2,
				store.ListQuery{ConnectionID: otherFamily},
				store.ListQuery{ConnectionID: foreign},
				store.ListQuery{ConnectionID: 987654321},
				store.ListQuery{ConnectionID: fd.conn0, ClientType: fd.clientType},
				store.ListQuery{ConnectionID: fd.conn1, ClientType: fd.clientType},
				store.ListQuery{ConnectionID: fd.nullConn, Q: "ci"},
				store.ListQuery{ConnectionID: fd.mixedConn, Q: "ALPH"},
			)
			nonEmpty := 0
			for _, q := range qs2 {
				q.CompanyID, q.Family, q.Page, q.Limit, q.Sort = f.A, fam, 1, 50, store.SortClientID
				want := f.expect(q)
				if len(want) > 0 {
					nonEmpty++
				}
				p, ids := list(t, o.Store, q)
				require.Equal(t, int64(len(want)), p.Total, "total of %s", describeQuery(q))
				sameOrder(t, f, q, want, ids)
			}
			for _, q := range []store.ListQuery{{ConnectionID: foreign}, {ConnectionID: otherFamily}, {ClientType: "NO_SUCH_TYPE"}, {ConnectionID: fd.conn1, ClientType: fd.clientType}} {
				q.CompanyID, q.Family = f.A, fam
				require.Empty(t, f.expect(q), "the oracle's matches of %s", describeQuery(q))
			}
			require.Greater(t, nonEmpty, 5, "the connection filters match too little to prove anything")
			require.Greater(t, len(types), 2, "company A's %s identities use too few client types", fam)
		})
	}
}

// testListPaging: pages past the end (up to the largest page number) are
// empty with the same total, the last page is partial, and a query the API
// could not send is an error.
func testListPaging(t *testing.T, o Opened, f *fixture) {
	ctx := context.Background()
	for _, fam := range families {
		for _, sh := range []shape{{name: "none"}, {name: "q", q: "exa"}} {
			q := sh.query(f, fam, store.SortUsername, false, 1, 7)
			want := f.expect(q)
			n := int64(len(want))
			for n%q.Limit == 0 {
				q.Limit++
			}
			last := (n + q.Limit - 1) / q.Limit
			require.Greater(t, n%q.Limit, int64(0), "%s: the last page must be partial", describeQuery(q))
			q.Page = last
			p, ids := list(t, o.Store, q)
			require.Equal(t, n, p.Total)
			sameOrder(t, f, q, want[(last-1)*q.Limit:], ids)
			for _, limit := range []int64{1, 7, 50} {
				pages := []int64{last + 1, n + 1, 1 << 62, math.MaxInt64}
				if limit > 1 {
					pages = append(pages, math.MaxInt64/limit+1) // the first whose offset overflows
				}
				for _, page := range pages {
					q.Page, q.Limit = page, limit
					if (page-1)*limit < n {
						continue // not past the end
					}
					p, ids := list(t, o.Store, q)
					assert.Empty(t, ids, "%s", describeQuery(q))
					assert.Equal(t, n, p.Total, "%s", describeQuery(q))
				}
			}
		}
	}

	good := store.ListQuery{CompanyID: f.A, Family: store.Infrastructure, Page: 1, Limit: 10, Sort: store.SortUsername}
	for name, change := range map[string]func(*store.ListQuery){
		"page 0":         func(q *store.ListQuery) { q.Page = 0 },
		"page -1":        func(q *store.ListQuery) { q.Page = -1 },
		"limit 0":        func(q *store.ListQuery) { q.Limit = 0 },
		"unknown sort":   func(q *store.ListQuery) { q.Sort = "NAME" },
		"no sort":        func(q *store.ListQuery) { q.Sort = "" },
		"no family":      func(q *store.ListQuery) { q.Family = "" },
		"unknown family": func(q *store.ListQuery) { q.Family = "infra" },
	} {
		q := good
		change(&q)
		_, err := o.Store.ListIdentities(ctx, q)
		assert.Error(t, err, "%s: %s", name, describeQuery(q))
	}
	_, err := o.Store.ListIdentities(ctx, good)
	require.NoError(t, err)
}

// testListScope: each company sees only its own identities of the asked
// family; a company with none (or no such company) sees an empty list.
func testListScope(t *testing.T, o Opened, f *fixture) {
	for _, company := range []int64{f.A, f.B, 987654} {
		for _, fam := range families {
			for _, q := range []store.ListQuery{
				{Sort: store.SortIdentityID},
				{Sort: store.SortUsername, Q: "alpha"},
			} {
				q.CompanyID, q.Family, q.Page, q.Limit = company, fam, 1, 50
				want := f.expect(q)
				if company != 987654 {
					require.NotEmpty(t, want, "the oracle's matches of %s", describeQuery(q))
				}
				p, ids := list(t, o.Store, q)
				require.Equal(t, int64(len(want)), p.Total, "total of %s", describeQuery(q))
				sameOrder(t, f, q, want, ids)
				for _, v := range p.Items {
					checkRefs(t, f, v)
				}
			}
		}
	}
}

// testGet: identities read back as loaded, with their nested records
// equal to the loaded ones, from their own company and family only.
func testGet(t *testing.T, o Opened, f *fixture) {
	ctx := context.Background()
	require.NoError(t, o.Store.Ping(ctx))
	var ids []int64
	for _, fam := range families {
		fd := f.family(fam)
		for _, i := range []int{0, 3, 6, 8, 10, 17, 18, 20} {
			ids = append(ids, fd.ids[i])
		}
		ids = append(ids, fd.linked)
	}
	b := 0
	for _, it := range f.d.Identities {
		if it.CompanyID == f.B && b < 2 {
			ids = append(ids, it.ID)
			b++
		}
	}
	for i, id := range ids {
		it := f.idents[id]
		checkView(t, f, get(t, o.Store, it.CompanyID, it.Family, it.ID))
		if i%3 != 0 {
			continue
		}
		otherCompany := f.A
		if it.CompanyID == f.A {
			otherCompany = f.B
		}
		for what, c := range map[string]struct {
			company int64
			fam     store.Family
		}{"another company": {otherCompany, it.Family}, "the other family": {it.CompanyID, otherFamilyOf[it.Family]}, "no company": {0, it.Family}} {
			_, err := o.Store.GetIdentity(ctx, c.company, c.fam, it.ID)
			require.ErrorIs(t, err, store.ErrNotFound, "identity %d read as %s", it.ID, what)
		}
	}
	_, err := o.Store.GetIdentity(ctx, f.A, store.Infrastructure, 987654)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// testLoad: a load in parts keeps them all; a load into a store with data
// fails with ErrNotEmpty; a load that fails (a part's error, a record
// that refers to another company's) keeps nothing.
func testLoad(t *testing.T, h Harness) {
	ctx := context.Background()
	f := newFixture(t)
	d := f.dataset()
	partOf := func(company int64) *store.Dataset {
		p := &store.Dataset{}
		for _, c := range d.Companies {
			if c.ID == company {
				p.Companies = append(p.Companies, c)
			}
		}
		for _, u := range d.Users {
			if u.CompanyID == company {
				p.Users = append(p.Users, u)
			}
		}
		for _, c := range d.Connections {
			if c.CompanyID == company {
				p.Connections = append(p.Connections, c)
			}
		}
		return p
	}
	parts := func(ps ...*store.Dataset) func(func(*store.Dataset, error) bool) {
		return func(yield func(*store.Dataset, error) bool) {
			for _, p := range ps {
				if !yield(p, nil) {
					return
				}
			}
		}
	}
	loaded := func(t *testing.T, s store.Store) {
		t.Helper()
		for _, company := range []int64{f.A, f.B} {
			for _, fam := range families {
				q := store.ListQuery{CompanyID: company, Family: fam, Page: 1, Limit: 50, Sort: store.SortIdentityID}
				want := f.expect(q)
				require.NotEmpty(t, want)
				p, ids := list(t, s, q)
				require.Equal(t, int64(len(want)), p.Total)
				sameOrder(t, f, q, want, ids)
			}
		}
		checkView(t, f, get(t, s, f.A, store.Infrastructure, f.family(store.Infrastructure).ids[8]))
	}

	// One store: every failed load must leave it empty for the next.
	o := open(t, h)
	broken := func(yield func(*store.Dataset, error) bool) {
		if yield(partOf(f.A), nil) {
			yield(nil, fmt.Errorf("the source broke"))
		}
	}
	require.Error(t, o.Store.Load(ctx, broken), "a load whose source broke")
	mine := f.family(store.Infrastructure).ids[5]
	for _, c := range []struct {
		what  string
		spoil func(d *store.Dataset)
	}{
		{"user", func(d *store.Dataset) {
			setIdentity(d, mine, func(it *store.Identity) { it.UserID = ptr(f.usersB[0]) })
		}},
		{"designator", func(d *store.Dataset) {
			setIdentity(d, mine, func(it *store.Identity) { it.DesignatorID = ptr(f.usersB[0]) })
		}},
		{"connection", func(d *store.Dataset) {
			setIdentity(d, mine, func(it *store.Identity) { it.ConnectionID = foreignConn(f) })
		}},
		{"connection owner", func(d *store.Dataset) { d.Connections[0].OwnerUserID = ptr(f.usersB[0]) }},
	} {
		bad := f.dataset()
		c.spoil(bad)
		require.Error(t, o.Store.Load(ctx, store.Whole(bad)), "a record referring to another company's %s was loaded", c.what)
	}
	// Identities come last, referring to the users and connections of both
	// earlier parts.
	require.NoError(t, o.Store.Load(ctx, parts(partOf(f.A), partOf(f.B), &store.Dataset{Identities: d.Identities})),
		"a load in parts, after failed loads")
	loaded(t, o.Store)
	require.ErrorIs(t, o.Store.Load(ctx, store.Whole(f.dataset())), store.ErrNotEmpty)
	loaded(t, o.Store)
}

func setIdentity(d *store.Dataset, id int64, fn func(*store.Identity)) {
	for i := range d.Identities {
		if d.Identities[i].ID == id {
			fn(&d.Identities[i])
		}
	}
}

// foreignConn returns a connection of company B.
func foreignConn(f *fixture) int64 {
	for _, c := range f.d.Connections {
		if c.CompanyID == f.B {
			return c.ID
		}
	}
	panic("storetest: company B has no connection")
}

// usedBy reports whether any of company A's identities of fam use conn.
func usedBy(f *fixture, fam store.Family, conn int64) bool {
	for _, id := range f.family(fam).ids {
		if f.idents[id].ConnectionID == conn {
			return true
		}
	}
	return false
}

// qCase is a q and the identities it must find (nil: the oracle decides,
// and the q must keep some identities but not all).
type qCase struct {
	q    string
	want []int64
}
