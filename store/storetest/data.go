package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// fixture is the data loaded into one store, and the oracle's view of it,
// which the write cases keep up to date.
type fixture struct {
	d        *store.Dataset
	A, B     int64 // the two companies
	conns    map[int64]*store.Connection
	users    map[int64]*store.User
	idents   map[int64]*store.Identity // the current state of every identity
	families map[store.Family]*familyData
	usersA   []int64 // company A's users, in id order
	usersB   []int64
}

// familyData names the hand-made records of one family of company A.
type familyData struct {
	// ids are company A's identities of the family, in id order; ids[i]
	// below means the identity the fixture edited as number i.
	ids []int64
	// conn0 and nullConn share clientType; conn1 and mixedConn share
	// another. nullConn has no client id nor alias.
	conn0, conn1, nullConn, mixedConn int64
	clientType                        string
	// plain are identities with no user, no access and no service account
	// mark, one for each write case; withAccess has access A; linked is
	// linked to a user.
	plain              []int64
	withAccess, linked int64
}

// The data is seed data of two companies with 28 identities of each family,
// which company A's are then edited by hand.
var fixtureSeed = seed.Options{Companies: 2, Identities: 28, Seed: 12}

// hour returns a fixed time n hours after a base, for hand-made data.
func hour(n int) *time.Time {
	t := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Hour)
	return &t
}

func ptr[T any](v T) *T { return &v }

// newFixture makes the data, checks it holds what the cases need, and
// fails the test if not.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	d, err := seed.Generate(fixtureSeed)
	require.NoError(t, err)
	require.Len(t, d.Companies, 2)
	f := &fixture{d: d, A: d.Companies[0].ID, B: d.Companies[1].ID, families: map[store.Family]*familyData{}}
	for _, u := range d.Users {
		switch u.CompanyID {
		case f.A:
			f.usersA = append(f.usersA, u.ID)
		case f.B:
			f.usersB = append(f.usersB, u.ID)
		}
	}
	require.GreaterOrEqual(t, len(f.usersA), 6, "company A's users")
	require.NotEmpty(t, f.usersB, "company B's users")
	f.index()

	// Users whose names tie when ASCII case is ignored, and one beyond ASCII.
	f.users[f.usersA[3]].FirstName, f.users[f.usersA[3]].LastName = "ada", "lovelace"
	f.users[f.usersA[4]].FirstName, f.users[f.usersA[4]].LastName = "Ada", "Lovelace"
	f.users[f.usersA[5]].FirstName, f.users[f.usersA[5]].LastName = "Øyvind", "Ærø"

	nextConn := int64(0)
	for _, c := range d.Connections {
		nextConn = max(nextConn, c.ID)
	}
	for _, fam := range []store.Family{store.Infrastructure, store.VersionControl} {
		fd := &familyData{}
		var conns []int64
		for _, it := range d.Identities {
			if it.CompanyID == f.A && it.Family == fam {
				fd.ids = append(fd.ids, it.ID)
				if !slices.Contains(conns, it.ConnectionID) {
					conns = append(conns, it.ConnectionID)
				}
			}
		}
		require.GreaterOrEqual(t, len(fd.ids), 28, "company A's %s identities", fam)
		require.GreaterOrEqual(t, len(conns), 2, "company A's %s connections", fam)
		slices.Sort(conns)
		fd.conn0, fd.conn1 = conns[0], conns[1]
		c0, c1 := f.conns[fd.conn0], f.conns[fd.conn1]
		fd.clientType = c0.ClientType
		c0.State, c1.State = "ACTIVE", "MISCONFIGURED"
		c0.ClientID, c0.ClientAlias = ptr("Client-Zulu"), ptr("alias-b")
		c1.ClientAlias = ptr("Alias-B")

		nextConn++
		fd.nullConn = nextConn
		d.Connections = append(d.Connections, store.Connection{
			ID: fd.nullConn, CompanyID: f.A, ClientType: c0.ClientType, State: "PENDING",
			OwnerUserID: ptr(f.usersA[1]), Product: map[string]any{"name": "hand-made"}, ProviderTypes: []int64{2},
		})
		nextConn++
		fd.mixedConn = nextConn
		d.Connections = append(d.Connections, store.Connection{
			ID: fd.mixedConn, CompanyID: f.A, ClientType: c1.ClientType, State: "ACTIVE", Connected: true, ConnectedAt: hour(0),
			OwnerUserID: ptr(f.usersA[2]), ClientID: ptr("client-zulu"), ClientAlias: ptr("Élan"), ProviderTypes: []int64{},
		})
		f.index()
		c0, c1 = f.conns[fd.conn0], f.conns[fd.conn1]

		at := func(i int) *store.Identity { return f.idents[fd.ids[i]] }
		for i := range 3 {
			at(i).ConnectionID = fd.nullConn
			at(3 + i).ConnectionID = fd.mixedConn
		}
		at(6).ConnectionID, at(7).ConnectionID = c0.ID, c1.ID

		// What SQL LIKE would treat as wildcards, next to look-alikes.
		at(0).Username = "ci_runner%7"
		at(1).Username = "ciXrunnerY7"
		at(2).Email = ptr("100%_sure@example.com")
		// Case that differs in ASCII (a tie) and beyond it (no tie: É and é
		// are different bytes, and the lower id holds the lower case).
		at(3).Username, at(4).Username = "alpha", "ALPHA"
		at(5).Username, at(6).Username = "Zeta", "Beta"
		at(7).Username, at(8).Username = "élodie.øster", "Élodie.Øster"
		// A capital that Go lower-cases to one byte fewer: İ to i.
		at(9).Username = "İpek"
		at(10).Username = "line1\nline2"
		at(11).IdentityID, at(12).IdentityID = "DUP-id-0001", "dup-ID-0001"
		at(11).Email, at(12).Email = ptr("Dup@Example.com"), ptr("dup@example.COM")
		at(13).Email = nil

		// Every nullable time: a null, a tie and another value.
		at(14).ConnectedAt = nil
		at(15).ConnectedAt, at(16).ConnectedAt, at(17).ConnectedAt = hour(1), hour(1), hour(2)
		at(14).DisconnectedAt, at(15).DisconnectedAt, at(16).DisconnectedAt, at(17).DisconnectedAt = hour(3), hour(3), hour(4), nil
		for i, sa := range map[int]*time.Time{17: nil, 18: hour(5), 19: hour(5), 20: hour(6)} {
			it := at(i)
			it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = sa, nil, nil
			if sa != nil {
				it.ServiceAccountReason, it.DesignatorID = ptr(fmt.Sprintf("runs job %d", i)), ptr(f.usersA[i%2])
			}
		}
		at(13).AccessA, at(14).AccessA, at(15).AccessA, at(16).AccessA = hour(7), hour(7), hour(8), nil
		at(17).AccessB, at(18).AccessB, at(19).AccessB, at(20).AccessB = hour(9), hour(9), hour(10), nil
		at(0).HasMFA, at(1).HasMFA = true, false

		// Linked users: none, two identities of one user, and the users
		// whose names tie or are beyond ASCII.
		at(5).UserID = nil
		at(6).UserID, at(7).UserID = ptr(f.usersA[2]), ptr(f.usersA[2])
		at(8).UserID, at(9).UserID, at(10).UserID = ptr(f.usersA[3]), ptr(f.usersA[4]), ptr(f.usersA[5])

		// What the write cases start from.
		for i := 21; i < 28; i++ {
			it := at(i)
			it.UserID, it.ConnectedAt, it.DisconnectedAt, it.AccessA, it.AccessB = nil, nil, nil, nil, nil
			it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = nil, nil, nil
			if i < 26 {
				fd.plain = append(fd.plain, it.ID)
			}
		}
		at(26).AccessA, fd.withAccess = hour(11), at(26).ID
		at(27).UserID, at(27).ConnectedAt, fd.linked = ptr(f.usersA[0]), hour(12), at(27).ID

		f.families[fam] = fd
	}
	// Company B holds look-alikes of A's hand-made usernames, which A's
	// lists must never show.
	n := map[store.Family]int{}
	for i := range d.Identities {
		if it := &d.Identities[i]; it.CompanyID == f.B && n[it.Family] < 2 {
			it.Username = []string{"ci_runner%7", "alpha"}[n[it.Family]]
			n[it.Family]++
		}
	}
	f.index()
	f.check(t)
	return f
}

// index points the fixture's maps at the dataset's records.
func (f *fixture) index() {
	f.conns = map[int64]*store.Connection{}
	for i := range f.d.Connections {
		f.conns[f.d.Connections[i].ID] = &f.d.Connections[i]
	}
	f.users = map[int64]*store.User{}
	for i := range f.d.Users {
		f.users[f.d.Users[i].ID] = &f.d.Users[i]
	}
	f.idents = map[int64]*store.Identity{}
	for i := range f.d.Identities {
		f.idents[f.d.Identities[i].ID] = &f.d.Identities[i]
	}
}

// dataset returns a copy of the data to load, which the store cannot
// change the oracle through.
func (f *fixture) dataset() *store.Dataset {
	d := &store.Dataset{
		Companies:   slices.Clone(f.d.Companies),
		Users:       slices.Clone(f.d.Users),
		Connections: slices.Clone(f.d.Connections),
		Identities:  make([]store.Identity, 0, len(f.idents)),
	}
	for _, id := range slices.Sorted(maps.Keys(f.idents)) {
		d.Identities = append(d.Identities, *f.idents[id])
	}
	return d
}

// update records that the store now holds it.
func (f *fixture) update(it store.Identity) {
	c := it
	f.idents[it.ID] = &c
}

// family returns the hand-made data of company A's family fam.
func (f *fixture) family(fam store.Family) *familyData { return f.families[fam] }

// check fails the test unless, for every sort of each family of company
// A, the values hold a null (where the sort allows one), a tie and two
// distinct values, and the hand-made orders are the ones the cases rely on.
func (f *fixture) check(t testing.TB) {
	t.Helper()
	for _, fam := range families {
		var its []*store.Identity
		for _, id := range f.families[fam].ids {
			its = append(its, f.idents[id])
		}
		for _, s := range sorts[fam] {
			distinct := map[SortKey]int{}
			for _, it := range its {
				distinct[f.key(it, s)]++
			}
			nonNull, tie := 0, false
			for k, n := range distinct {
				if !k.null {
					nonNull++
					tie = tie || n > 1
				}
			}
			require.GreaterOrEqual(t, nonNull, 2, "%s %s: distinct values", fam, s)
			require.True(t, tie, "%s %s: no two identities share a value", fam, s)
			require.Equal(t, nullable[s], distinct[NullKey] > 0, "%s %s: nulls", fam, s)
		}
		ids := f.families[fam].ids
		asc := f.expect(store.ListQuery{CompanyID: f.A, Family: fam, Sort: store.SortUsername})
		require.Less(t, slices.Index(asc, ids[8]), slices.Index(asc, ids[7]), "%s: É sorts before é", fam)
		require.Equal(t, slices.Index(asc, ids[3])+1, slices.Index(asc, ids[4]), "%s: alpha and ALPHA tie", fam)
	}
}
