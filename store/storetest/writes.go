package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// at is a clock for the write cases, after every time in the data.
func at(minute int) time.Time {
	return time.Date(2030, 1, 1, 0, minute, 0, 0, time.UTC)
}

// writer makes changes to company A's identities of one family and checks
// what every write must hold.
type writer struct {
	s   store.Store
	f   *fixture
	fam store.Family
}

// do applies change to company A's identity id at minute, checks that the
// returned view is what the store then holds and that its nested records
// are the data's, and records it in the oracle.
func (w writer) do(t *testing.T, id int64, change store.Change, minute int) store.IdentityView {
	t.Helper()
	v, err := w.s.UpdateIdentity(context.Background(), w.f.A, w.fam, id, change, at(minute))
	require.NoError(t, err, "%T %+v on %s identity %d", change, change, w.fam, id)
	require.Equal(t, v, get(t, w.s, w.f.A, w.fam, id), "the view %T returned is not what the store holds", change)
	w.f.update(v.Identity)
	checkView(t, w.f, v)
	return v
}

// get returns the stored identity.
func (w writer) get(t *testing.T, id int64) store.IdentityView {
	t.Helper()
	return get(t, w.s, w.f.A, w.fam, id)
}

// same requires a change to have changed nothing: not even updatedAt.
func same(t *testing.T, what string, before, after store.IdentityView) {
	t.Helper()
	require.Equal(t, before, after, "%s changed the record", what)
}

// want requires v's identity to be before's with edit applied.
func want(t *testing.T, what string, before store.IdentityView, edit func(*store.Identity), v store.IdentityView) {
	t.Helper()
	exp := before.Identity
	edit(&exp)
	require.Equal(t, normIdentity(exp), normIdentity(v.Identity), what)
}

// writeFixture names what a write case changes: an identity of its own
// with no user, no access and no mark, and the identities every case may
// try (and fail) to change.
type writeFixture struct {
	writer
	plain      int64 // no user, no access, not a service account
	withAccess int64 // access A set
	linked     int64 // linked to a user
	theirs     int64 // an identity of company B of the family
}

// testWrites runs the write cases in order on one store, each case on a
// plain identity of its own; then the totals case checks the whole store.
func testWrites(t *testing.T, h Harness) {
	o, f := openLoaded(t, h)
	// The rules do not depend on the family: each case but the refusals
	// runs on one family, and each kind of change runs on both.
	for k, c := range []struct {
		name     string
		fn       func(*testing.T, writeFixture)
		families []store.Family
	}{
		{"Link", testLink, []store.Family{store.Infrastructure}},
		{"SetAccess", testSetAccess, []store.Family{store.VersionControl}},
		{"MarkServiceAccount", testMarkServiceAccount, []store.Family{store.Infrastructure}},
		{"UpdatedAtNeverGoesBackwards", testUpdatedAtNeverGoesBackwards, []store.Family{store.VersionControl}},
		{"RefusedChanges", testRefusedChanges, families},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, fam := range c.families {
				fd := f.family(fam)
				w := writeFixture{writer: writer{o.Store, f, fam}, plain: fd.plain[k], withAccess: fd.withAccess, linked: fd.linked}
				for _, it := range f.d.Identities {
					if it.CompanyID == f.B && it.Family == fam {
						w.theirs = it.ID
						break
					}
				}
				t.Run(string(fam), func(t *testing.T) { c.fn(t, w) })
			}
		})
	}
	t.Run("TotalsThroughChanges", func(t *testing.T) { testTotalsThroughChanges(t, o, f) })
}

// testLink: linking sets the user and connectedAt and clears
// disconnectedAt; linking the same user again changes nothing; relinking
// sets connectedAt anew; unlinking keeps connectedAt and sets
// disconnectedAt; unlinking again changes nothing.
func testLink(t *testing.T, w writeFixture) {
	u1, u2 := w.f.usersA[0], w.f.usersA[1]
	link := func(user *int64, minute int) store.IdentityView {
		t.Helper()
		return w.do(t, w.plain, store.Link{UserID: user}, minute)
	}

	before := w.get(t, w.plain)
	v := link(&u1, 1)
	want(t, "link", before, func(it *store.Identity) {
		it.UserID, it.ConnectedAt, it.DisconnectedAt, it.UpdatedAt = &u1, ptr(at(1)), nil, at(1)
	}, v)
	require.Equal(t, u1, v.User.ID)
	same(t, "linking the same user again", v, link(&u1, 2))

	before = v
	v = link(&u2, 3)
	want(t, "relink", before, func(it *store.Identity) { it.UserID, it.ConnectedAt, it.UpdatedAt = &u2, ptr(at(3)), at(3) }, v)

	before = v
	v = link(nil, 4)
	want(t, "unlink", before, func(it *store.Identity) { it.UserID, it.DisconnectedAt, it.UpdatedAt = nil, ptr(at(4)), at(4) }, v)
	require.Nil(t, v.User)
	same(t, "unlinking again", v, link(nil, 5))

	before = v
	v = link(&u1, 6)
	want(t, "link after unlink", before, func(it *store.Identity) {
		it.UserID, it.ConnectedAt, it.DisconnectedAt, it.UpdatedAt = &u1, ptr(at(6)), nil, at(6)
	}, v)

	// A seeded link of another user.
	before = w.get(t, w.linked)
	other := u2
	if *before.UserID == u2 {
		other = u1
	}
	v = w.do(t, w.linked, store.Link{UserID: &other}, 7)
	want(t, "relink a seeded link", before, func(it *store.Identity) {
		it.UserID, it.ConnectedAt, it.DisconnectedAt, it.UpdatedAt = &other, ptr(at(7)), nil, at(7)
	}, v)
}

// testSetAccess: setting a flag records the time; setting it again, or
// setting a flag that is set, keeps the original time and changes nothing;
// each flag is independent; clearing clears only that flag.
func testSetAccess(t *testing.T, w writeFixture) {
	set := func(id int64, a store.Access, on bool, minute int) store.IdentityView {
		t.Helper()
		return w.do(t, id, store.SetAccess{Access: a, On: on}, minute)
	}

	before := w.get(t, w.plain)
	v := set(w.plain, store.AccessA, true, 1)
	want(t, "set A", before, func(it *store.Identity) { it.AccessA, it.UpdatedAt = ptr(at(1)), at(1) }, v)
	same(t, "setting A again", v, set(w.plain, store.AccessA, true, 2))

	before = v
	v = set(w.plain, store.AccessB, true, 3)
	want(t, "set B", before, func(it *store.Identity) { it.AccessB, it.UpdatedAt = ptr(at(3)), at(3) }, v)

	before = v
	v = set(w.plain, store.AccessA, false, 4)
	want(t, "clear A", before, func(it *store.Identity) { it.AccessA, it.UpdatedAt = nil, at(4) }, v)
	same(t, "clearing A again", v, set(w.plain, store.AccessA, false, 5))

	before = v
	v = set(w.plain, store.AccessB, false, 6)
	want(t, "clear B", before, func(it *store.Identity) { it.AccessB, it.UpdatedAt = nil, at(6) }, v)

	seeded := w.get(t, w.withAccess)
	same(t, "setting an access that was already set", seeded, set(w.withAccess, store.AccessA, true, 7))
}

// testMarkServiceAccount: marking records the time, the reason and the
// actor as designator; marking alike again changes nothing; a new reason
// or actor keeps the time of the first mark; unmarking clears all three;
// unmarking again changes nothing.
func testMarkServiceAccount(t *testing.T, w writeFixture) {
	u1, u2 := w.f.usersA[0], w.f.usersA[1]
	mark := func(m bool, reason string, actor int64, minute int) store.IdentityView {
		t.Helper()
		return w.do(t, w.plain, store.MarkServiceAccount{Mark: m, Reason: reason, ActorID: actor}, minute)
	}

	before := w.get(t, w.plain)
	v := mark(true, "deploys", u1, 1)
	want(t, "mark", before, func(it *store.Identity) {
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID, it.UpdatedAt = ptr(at(1)), ptr("deploys"), &u1, at(1)
	}, v)
	require.Equal(t, u1, v.Designator.ID)
	same(t, "marking again alike", v, mark(true, "deploys", u1, 2))

	before = v
	v = mark(true, "runs CI", u1, 3)
	want(t, "a new reason", before, func(it *store.Identity) { it.ServiceAccountReason, it.UpdatedAt = ptr("runs CI"), at(3) }, v)
	before = v
	v = mark(true, "runs CI", u2, 4)
	want(t, "a new actor", before, func(it *store.Identity) { it.DesignatorID, it.UpdatedAt = &u2, at(4) }, v)
	require.Equal(t, u2, v.Designator.ID)

	before = v
	v = mark(false, "a person after all", u1, 5)
	want(t, "unmark", before, func(it *store.Identity) {
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID, it.UpdatedAt = nil, nil, nil, at(5)
	}, v)
	require.Nil(t, v.Designator)
	same(t, "unmarking again", v, mark(false, "still a person", u2, 6))

	before = v
	v = mark(true, "", u2, 7)
	want(t, "mark with no reason", before, func(it *store.Identity) {
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID, it.UpdatedAt = ptr(at(7)), ptr(""), &u2, at(7)
	}, v)
}

// testUpdatedAtNeverGoesBackwards: a change whose clock is behind the
// record's updatedAt (a request that read the clock earlier but commits
// later) records updatedAt, not its own time.
func testUpdatedAtNeverGoesBackwards(t *testing.T, w writeFixture) {
	u1 := w.f.usersA[0]
	before := w.get(t, w.plain)
	v := w.do(t, w.plain, store.SetAccess{Access: store.AccessA, On: true}, 60)
	want(t, "set A", before, func(it *store.Identity) { it.AccessA, it.UpdatedAt = ptr(at(60)), at(60) }, v)

	for minute, c := range []struct {
		change store.Change
		edit   func(*store.Identity)
	}{
		{store.SetAccess{Access: store.AccessB, On: true}, func(it *store.Identity) { it.AccessB = ptr(at(60)) }},
		{store.Link{UserID: &u1}, func(it *store.Identity) { it.UserID, it.ConnectedAt = &u1, ptr(at(60)) }},
		{store.Link{}, func(it *store.Identity) { it.UserID, it.DisconnectedAt = nil, ptr(at(60)) }},
		{store.MarkServiceAccount{Mark: true, Reason: "late", ActorID: u1}, func(it *store.Identity) {
			it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = ptr(at(60)), ptr("late"), &u1
		}},
		{store.SetAccess{Access: store.AccessA, On: false}, func(it *store.Identity) { it.AccessA = nil }},
	} {
		before = v
		v = w.do(t, w.plain, c.change, minute) // minutes 0..4: before 60
		want(t, "a change with an earlier clock", before, c.edit, v)
	}
	// A later clock moves it on.
	before = v
	v = w.do(t, w.plain, store.SetAccess{Access: store.AccessA, On: true}, 61)
	want(t, "a later change", before, func(it *store.Identity) { it.AccessA, it.UpdatedAt = ptr(at(61)), at(61) }, v)
}

// testRefusedChanges: a change to another company's or the other family's
// or a missing identity fails with ErrNotFound; linking another company's
// user or a missing one fails with ErrUserNotFound; a change naming no
// known flag fails with ErrBadChange. None of them changes anything.
func testRefusedChanges(t *testing.T, w writeFixture) {
	fam := w.fam
	ctx := context.Background()
	f := w.f
	theirUser, missing := f.usersB[0], int64(987654)
	mine := []int64{w.plain, w.linked, w.withAccess}
	before := map[int64]store.IdentityView{}
	for _, id := range mine {
		before[id] = w.get(t, id)
	}
	theirsBefore := get(t, w.s, f.B, fam, w.theirs)

	for _, c := range []struct {
		name    string
		company int64
		fam     store.Family
		id      int64
		change  store.Change
		err     error
	}{
		{"link another company's user", f.A, fam, w.plain, store.Link{UserID: &theirUser}, store.ErrUserNotFound},
		{"relink to another company's user", f.A, fam, w.linked, store.Link{UserID: &theirUser}, store.ErrUserNotFound},
		{"link a missing user", f.A, fam, w.plain, store.Link{UserID: &missing}, store.ErrUserNotFound},
		{"relink to a missing user", f.A, fam, w.linked, store.Link{UserID: &missing}, store.ErrUserNotFound},
		{"another company's identity", f.A, fam, w.theirs, store.Link{UserID: &f.usersA[0]}, store.ErrNotFound},
		{"another company's identity, its own user", f.A, fam, w.theirs, store.Link{UserID: &theirUser}, store.ErrNotFound},
		{"another company's identity, access", f.A, fam, w.theirs, store.SetAccess{Access: store.AccessA, On: true}, store.ErrNotFound},
		{"another company's identity, mark", f.A, fam, w.theirs, store.MarkServiceAccount{Mark: true, Reason: "x", ActorID: f.usersA[0]}, store.ErrNotFound},
		{"seen from another company", f.B, fam, w.plain, store.SetAccess{Access: store.AccessA, On: true}, store.ErrNotFound},
		{"seen from another company, its user", f.B, fam, w.plain, store.Link{UserID: &theirUser}, store.ErrNotFound},
		{"the other family", f.A, otherFamilyOf[fam], w.plain, store.SetAccess{Access: store.AccessA, On: true}, store.ErrNotFound},
		{"the other family, unlink", f.A, otherFamilyOf[fam], w.linked, store.Link{}, store.ErrNotFound},
		{"a missing identity", f.A, fam, missing, store.Link{}, store.ErrNotFound},
		{"an unknown flag", f.A, fam, w.plain, store.SetAccess{Access: store.Access(9), On: true}, store.ErrBadChange},
		{"no flag", f.A, fam, w.withAccess, store.SetAccess{On: false}, store.ErrBadChange},
		{"no change", f.A, fam, w.plain, nil, store.ErrBadChange},
	} {
		_, err := w.s.UpdateIdentity(ctx, c.company, c.fam, c.id, c.change, at(1))
		require.ErrorIs(t, err, c.err, c.name)
	}
	for _, id := range mine {
		same(t, "the refused changes", before[id], w.get(t, id))
	}
	same(t, "the refused changes", theirsBefore, get(t, w.s, f.B, fam, w.theirs))
	checkTotals(t, f, w.s, fam, "after refused changes")
}

// testTotalsThroughChanges: after every kind of change (link, unlink,
// relink, flags set and cleared, marks and unmarks) the total of every
// filter stays exact, and the sorts on what changed follow the changes.
func testTotalsThroughChanges(t *testing.T, o Opened, f *fixture) {
	for _, fam := range families {
		fd := f.family(fam)
		u := f.usersA
		// relink links identity i to a user other than its own.
		relink := func(i int) store.Change {
			if cur := f.idents[fd.ids[i]].UserID; cur != nil && *cur == u[5] {
				return store.Link{UserID: &u[1]}
			}
			return store.Link{UserID: &u[5]}
		}
		// The changes, in groups of a kind; the totals are checked after each.
		for g, group := range [][]struct {
			ident  int
			change store.Change
		}{
			{{5, store.Link{UserID: &u[0]}}, {8, store.Link{UserID: &u[4]}}, {14, relink(14)}, {0, relink(0)}},
			{{6, store.Link{}}, {0, store.Link{}}},
			{{16, store.SetAccess{Access: store.AccessA, On: true}}, {20, store.SetAccess{Access: store.AccessB, On: true}}},
			{{13, store.SetAccess{Access: store.AccessA, On: false}}, {17, store.SetAccess{Access: store.AccessB, On: false}}},
			{{17, store.MarkServiceAccount{Mark: true, Reason: "new", ActorID: u[2]}}, {19, store.MarkServiceAccount{Mark: true, Reason: "other", ActorID: u[3]}}},
			{{18, store.MarkServiceAccount{Mark: false}}},
		} {
			for i, c := range group {
				id := fd.ids[c.ident]
				before := *f.idents[id]
				v, err := o.Store.UpdateIdentity(context.Background(), f.A, fam, id, c.change, at(100+10*g+i))
				require.NoError(t, err, "%T %+v on %s identity %d", c.change, c.change, fam, id)
				require.NotEqual(t, normIdentity(before), normIdentity(v.Identity), "%T %+v changed nothing; it proves nothing", c.change, c.change)
				f.update(v.Identity)
			}
			checkTotals(t, f, o.Store, fam, fmt.Sprintf("after the changes of group %d", g))
		}
		changed := []store.Sort{store.SortUser, store.SortConnectedAt, store.SortDisconnectedAt, store.SortServiceAccount}
		if fam == store.Infrastructure {
			changed = append(changed, store.SortAdminAccess, store.SortDBAccess)
		} else {
			changed = append(changed, store.SortWriteAccess, store.SortPushProdAccess)
		}
		shapes := f.shapes(fam)
		for i, sort := range changed {
			for d, desc := range []bool{false, true} {
				q := shapes[(i+d)%2].query(f, fam, sort, desc, 1, 50)
				want := f.expect(q)
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
