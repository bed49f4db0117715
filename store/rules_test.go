package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// clock returns a fixed time minute minutes after a base.
func clock(minute int) time.Time {
	return time.Date(2030, 1, 1, 0, minute, 0, 0, time.UTC)
}

func tp(minute int) *time.Time { t := clock(minute); return &t }

func ptr[T any](v T) *T { return &v }

const (
	alice = int64(11)
	bob   = int64(12)
)

// identity is a record last updated at minute 10: unlinked, no access, not
// a service account. Each case edits its own copy.
func identity(edit func(*store.Identity)) store.Identity {
	it := store.Identity{
		ID: 1, CompanyID: 1, Family: store.Infrastructure, ConnectionID: 1, IdentityID: "abc", Username: "sally",
		CreatedAt: clock(0), UpdatedAt: clock(10),
	}
	if edit != nil {
		edit(&it)
	}
	return it
}

func linked(user int64, connected int) func(*store.Identity) {
	return func(it *store.Identity) { it.UserID, it.ConnectedAt = ptr(user), tp(connected) }
}

func marked(since int, reason string, by int64) func(*store.Identity) {
	return func(it *store.Identity) {
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = tp(since), ptr(reason), ptr(by)
	}
}

func TestApply(t *testing.T) {
	cases := []struct {
		name   string
		before store.Identity
		change store.Change
		now    int // minute
		// want edits before into the expected record; nil: unchanged.
		want func(*store.Identity)
		err  error
	}{
		// Link.
		{name: "link an unlinked identity", before: identity(nil), change: store.Link{UserID: ptr(alice)}, now: 20,
			want: func(it *store.Identity) { it.UserID, it.ConnectedAt, it.UpdatedAt = ptr(alice), tp(20), clock(20) }},
		{name: "link a disconnected identity clears disconnectedAt",
			before: identity(func(it *store.Identity) { it.ConnectedAt, it.DisconnectedAt = tp(1), tp(2) }),
			change: store.Link{UserID: ptr(alice)}, now: 20,
			want: func(it *store.Identity) {
				it.UserID, it.ConnectedAt, it.DisconnectedAt, it.UpdatedAt = ptr(alice), tp(20), nil, clock(20)
			}},
		{name: "link the same user again", before: identity(linked(alice, 5)), change: store.Link{UserID: ptr(alice)}, now: 20},
		{name: "relink to another user sets connectedAt anew", before: identity(linked(alice, 5)), change: store.Link{UserID: ptr(bob)}, now: 20,
			want: func(it *store.Identity) { it.UserID, it.ConnectedAt, it.UpdatedAt = ptr(bob), tp(20), clock(20) }},
		{name: "unlink keeps connectedAt and sets disconnectedAt", before: identity(linked(alice, 5)), change: store.Link{}, now: 20,
			want: func(it *store.Identity) { it.UserID, it.DisconnectedAt, it.UpdatedAt = nil, tp(20), clock(20) }},
		{name: "unlink an unlinked identity", before: identity(nil), change: store.Link{}, now: 20},
		{name: "unlink a disconnected identity keeps its time",
			before: identity(func(it *store.Identity) { it.ConnectedAt, it.DisconnectedAt = tp(1), tp(2) }), change: store.Link{}, now: 20},

		// SetAccess.
		{name: "set A", before: identity(nil), change: store.SetAccess{Access: store.AccessA, On: true}, now: 20,
			want: func(it *store.Identity) { it.AccessA, it.UpdatedAt = tp(20), clock(20) }},
		{name: "set B", before: identity(nil), change: store.SetAccess{Access: store.AccessB, On: true}, now: 20,
			want: func(it *store.Identity) { it.AccessB, it.UpdatedAt = tp(20), clock(20) }},
		{name: "set A when set keeps its time", before: identity(func(it *store.Identity) { it.AccessA = tp(3) }),
			change: store.SetAccess{Access: store.AccessA, On: true}, now: 20},
		{name: "set B when set keeps its time", before: identity(func(it *store.Identity) { it.AccessB = tp(3) }),
			change: store.SetAccess{Access: store.AccessB, On: true}, now: 20},
		{name: "set A leaves B", before: identity(func(it *store.Identity) { it.AccessB = tp(3) }),
			change: store.SetAccess{Access: store.AccessA, On: true}, now: 20,
			want: func(it *store.Identity) { it.AccessA, it.UpdatedAt = tp(20), clock(20) }},
		{name: "clear A leaves B", before: identity(func(it *store.Identity) { it.AccessA, it.AccessB = tp(3), tp(4) }),
			change: store.SetAccess{Access: store.AccessA, On: false}, now: 20,
			want: func(it *store.Identity) { it.AccessA, it.UpdatedAt = nil, clock(20) }},
		{name: "clear B leaves A", before: identity(func(it *store.Identity) { it.AccessA, it.AccessB = tp(3), tp(4) }),
			change: store.SetAccess{Access: store.AccessB, On: false}, now: 20,
			want: func(it *store.Identity) { it.AccessB, it.UpdatedAt = nil, clock(20) }},
		{name: "clear A when clear", before: identity(nil), change: store.SetAccess{Access: store.AccessA, On: false}, now: 20},
		{name: "clear B when clear", before: identity(nil), change: store.SetAccess{Access: store.AccessB, On: false}, now: 20},
		{name: "no flag", before: identity(nil), change: store.SetAccess{On: true}, now: 20, err: store.ErrBadChange},
		{name: "an unknown flag", before: identity(func(it *store.Identity) { it.AccessA = tp(3) }),
			change: store.SetAccess{Access: store.AccessB + 1, On: false}, now: 20, err: store.ErrBadChange},

		// MarkServiceAccount.
		{name: "mark", before: identity(nil), change: store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: alice}, now: 20,
			want: func(it *store.Identity) { marked(20, "deploys", alice)(it); it.UpdatedAt = clock(20) }},
		{name: "mark alike again", before: identity(marked(5, "deploys", alice)),
			change: store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: alice}, now: 20},
		{name: "a new reason keeps the first mark's time", before: identity(marked(5, "deploys", alice)),
			change: store.MarkServiceAccount{Mark: true, Reason: "runs CI", ActorID: alice}, now: 20,
			want: func(it *store.Identity) { it.ServiceAccountReason, it.UpdatedAt = ptr("runs CI"), clock(20) }},
		{name: "a new actor keeps the first mark's time", before: identity(marked(5, "deploys", alice)),
			change: store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: bob}, now: 20,
			want: func(it *store.Identity) { it.DesignatorID, it.UpdatedAt = ptr(bob), clock(20) }},
		{name: "an empty reason is a reason", before: identity(marked(5, "deploys", alice)),
			change: store.MarkServiceAccount{Mark: true, Reason: "", ActorID: alice}, now: 20,
			want: func(it *store.Identity) { it.ServiceAccountReason, it.UpdatedAt = ptr(""), clock(20) }},
		{name: "mark a record marked without a reason",
			before: identity(func(it *store.Identity) { it.ServiceAccountAt = tp(5) }),
			change: store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: alice}, now: 20,
			want: func(it *store.Identity) {
				it.ServiceAccountReason, it.DesignatorID, it.UpdatedAt = ptr("deploys"), ptr(alice), clock(20)
			}},
		{name: "unmark clears the time, reason and designator", before: identity(marked(5, "deploys", alice)),
			change: store.MarkServiceAccount{Mark: false, Reason: "ignored", ActorID: bob}, now: 20,
			want: func(it *store.Identity) {
				it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID, it.UpdatedAt = nil, nil, nil, clock(20)
			}},
		{name: "unmark an unmarked identity", before: identity(nil), change: store.MarkServiceAccount{Mark: false, ActorID: bob}, now: 20},
		{name: "unmark a stray reason", before: identity(func(it *store.Identity) { it.ServiceAccountReason = ptr("left over") }),
			change: store.MarkServiceAccount{Mark: false}, now: 20,
			want: func(it *store.Identity) { it.ServiceAccountReason, it.UpdatedAt = nil, clock(20) }},
		{name: "unmark a stray designator", before: identity(func(it *store.Identity) { it.DesignatorID = ptr(alice) }),
			change: store.MarkServiceAccount{Mark: false}, now: 20,
			want: func(it *store.Identity) { it.DesignatorID, it.UpdatedAt = nil, clock(20) }},

		// The clock.
		{name: "an earlier clock records updatedAt, not its own time", before: identity(nil),
			change: store.SetAccess{Access: store.AccessA, On: true}, now: 4,
			want: func(it *store.Identity) { it.AccessA = tp(10) }},
		{name: "an earlier clock links at updatedAt", before: identity(nil), change: store.Link{UserID: ptr(bob)}, now: 4,
			want: func(it *store.Identity) { it.UserID, it.ConnectedAt = ptr(bob), tp(10) }},
		{name: "an earlier clock unlinks at updatedAt", before: identity(linked(alice, 5)), change: store.Link{}, now: 4,
			want: func(it *store.Identity) { it.UserID, it.DisconnectedAt = nil, tp(10) }},
		{name: "an earlier clock marks at updatedAt", before: identity(nil),
			change: store.MarkServiceAccount{Mark: true, Reason: "r", ActorID: alice}, now: 4,
			want: marked(10, "r", alice)},
		{name: "the same clock", before: identity(nil), change: store.SetAccess{Access: store.AccessB, On: true}, now: 10,
			want: func(it *store.Identity) { it.AccessB = tp(10) }},
		{name: "no change does not move updatedAt", before: identity(nil), change: store.Link{}, now: 50},

		{name: "no change at all", before: identity(nil), change: nil, now: 20, err: store.ErrBadChange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := c.before
			changed, err := store.Apply(c.change, &it, clock(c.now))
			want := c.before
			if c.want != nil {
				c.want(&want)
				if c.now >= 10 {
					assert.True(t, want.UpdatedAt.Equal(clock(c.now)), "the case expects updatedAt %v at %v", want.UpdatedAt, clock(c.now))
				}
			}
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				assert.False(t, changed, "a refused change reports a change")
			} else {
				require.NoError(t, err)
				assert.Equal(t, c.want != nil, changed, "changed")
			}
			assert.Equal(t, want, it)
		})
	}
}

// TestApplyRepeated: applying any change twice changes nothing the second
// time, updatedAt included.
func TestApplyRepeated(t *testing.T) {
	for _, c := range []store.Change{
		store.Link{UserID: ptr(alice)}, store.Link{},
		store.SetAccess{Access: store.AccessA, On: true}, store.SetAccess{Access: store.AccessA, On: false},
		store.SetAccess{Access: store.AccessB, On: true}, store.SetAccess{Access: store.AccessB, On: false},
		store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: alice}, store.MarkServiceAccount{Mark: false},
	} {
		for _, before := range []store.Identity{identity(nil), identity(linked(bob, 3)), identity(marked(4, "x", bob)),
			identity(func(it *store.Identity) { it.AccessA, it.AccessB = tp(1), tp(2) })} {
			it := before
			_, err := store.Apply(c, &it, clock(20))
			require.NoError(t, err)
			once := it
			changed, err := store.Apply(c, &it, clock(30))
			require.NoError(t, err)
			assert.False(t, changed, "%T %+v applied twice changed the record", c, c)
			assert.Equal(t, once, it, "%T %+v applied twice", c, c)
		}
	}
}

// TestApplyDoesNotWriteThrough: Apply replaces the record's pointers and
// never writes through them, so records sharing a value with it, and the
// change's own user id, stay as they were.
func TestApplyDoesNotWriteThrough(t *testing.T) {
	shared := clock(3)
	reason := "deploys"
	user := alice
	before := identity(func(it *store.Identity) {
		it.UserID, it.ConnectedAt, it.AccessA = ptr(bob), &shared, &shared
		it.ServiceAccountAt, it.ServiceAccountReason, it.DesignatorID = &shared, &reason, ptr(bob)
	})
	it := before
	for _, c := range []store.Change{
		store.Link{UserID: &user}, store.Link{}, store.Link{UserID: &user},
		store.SetAccess{Access: store.AccessA, On: false}, store.SetAccess{Access: store.AccessA, On: true},
		store.MarkServiceAccount{Mark: true, Reason: "other", ActorID: alice}, store.MarkServiceAccount{Mark: false},
	} {
		_, err := store.Apply(c, &it, clock(20))
		require.NoError(t, err)
	}
	assert.Equal(t, clock(3), shared)
	assert.Equal(t, "deploys", reason)
	user = bob
	require.NotNil(t, it.UserID)
	assert.Equal(t, alice, *it.UserID, "the record shares the change's user id")
}

func TestLinkedUser(t *testing.T) {
	u := alice
	assert.Equal(t, &u, store.LinkedUser(store.Link{UserID: &u}))
	assert.Nil(t, store.LinkedUser(store.Link{}))
	assert.Nil(t, store.LinkedUser(store.SetAccess{Access: store.AccessA, On: true}))
	assert.Nil(t, store.LinkedUser(store.MarkServiceAccount{Mark: true, ActorID: alice}))
	assert.Nil(t, store.LinkedUser(nil))
}
