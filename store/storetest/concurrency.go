package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// testConcurrentWriters: 16 writers change, at once, one identity they all
// mark (each with a reason of its own) and one they all link, unlink and
// flip flags of, twice each, and one identity each, once. Their clocks run out of step, so some
// commit a time earlier than one already committed. Every write succeeds;
// no writer sees updatedAt go backwards; each writer's own identity ends as
// its last write returned it; the marked identity ends as the write whose
// reason it holds returned it, and keeps the time of the first mark, which
// every write saw (no write read a state another then overwrote); the
// other shared identity ends as a write with the latest updatedAt returned
// it; and the totals stay exact.
func testConcurrentWriters(t *testing.T, h Harness) {
	o, f := openLoaded(t, h)
	const writers, rounds = 16, 2
	fam := store.Infrastructure
	ids := f.family(fam).ids
	require.GreaterOrEqual(t, len(ids), writers+2)
	marked, shared, own := ids[0], ids[1], ids[2:2+writers]
	users := f.usersA

	type result struct {
		writer int
		reason string
		view   store.IdentityView
	}
	var (
		mu      sync.Mutex
		results = map[int64][]result{}
		errs    []error
		clock   atomic.Int64
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			last := map[int64]time.Time{}
			write := func(id int64, change store.Change, reason string) {
				// Every third writer's clock lags 5 ms behind the others'.
				now := base.Add(time.Duration(clock.Add(1))*time.Millisecond - time.Duration(g%3)*5*time.Millisecond)
				v, err := o.Store.UpdateIdentity(context.Background(), f.A, fam, id, change, now)
				if err != nil {
					fail(fmt.Errorf("writer %d: %T %+v on %d: %w", g, change, change, id, err))
					return
				}
				if v.UpdatedAt.Before(last[id]) {
					fail(fmt.Errorf("writer %d: identity %d: updatedAt went back from %v to %v", g, id, last[id], v.UpdatedAt))
				}
				last[id] = v.UpdatedAt
				mu.Lock()
				results[id] = append(results[id], result{g, reason, v})
				mu.Unlock()
			}
			for r := range rounds {
				reason := fmt.Sprintf("writer %d round %d", g, r)
				write(marked, store.MarkServiceAccount{Mark: true, Reason: reason, ActorID: users[g%len(users)]}, reason)
				changes := []store.Change{
					store.SetAccess{Access: store.AccessA, On: r%2 == 0},
					store.Link{UserID: &users[(g+r)%len(users)]},
					store.SetAccess{Access: store.AccessB, On: g%2 == 0},
					store.Link{},
					store.MarkServiceAccount{Mark: (g+r)%2 == 0, Reason: "shared", ActorID: users[0]},
				}
				if r == 0 {
					write(own[g], changes[g%len(changes)], "")
				}
				write(shared, changes[(g+r)%len(changes)], "")
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Empty(t, errs)

	// Each writer's own identity: its last write.
	for g, id := range own {
		rs := results[id]
		require.Len(t, rs, 1)
		require.Equal(t, rs[len(rs)-1].view, get(t, o.Store, f.A, fam, id), "writer %d's identity is not as its last write left it", g)
	}

	// The marked identity: the write whose reason it holds.
	final := get(t, o.Store, f.A, fam, marked)
	require.NotNil(t, final.ServiceAccountReason)
	rs := results[marked]
	require.Len(t, rs, writers*rounds)
	var lastWrite *result
	for i, r := range rs {
		require.NotNil(t, r.view.ServiceAccountReason)
		require.Equal(t, r.reason, *r.view.ServiceAccountReason, "writer %d got another write's state back", r.writer)
		require.Equal(t, final.ServiceAccountAt, r.view.ServiceAccountAt, "writer %d's mark does not keep the first mark's time: a lost update", r.writer)
		require.False(t, r.view.UpdatedAt.After(final.UpdatedAt), "writer %d's write is later than the final state", r.writer)
		if r.reason == *final.ServiceAccountReason {
			lastWrite = &rs[i]
		}
	}
	require.NotNil(t, lastWrite, "the final reason %q is no write's", *final.ServiceAccountReason)
	require.Equal(t, lastWrite.view, final, "the marked identity is not as its last write left it")

	// The shared identity: a write with the latest updatedAt.
	final = get(t, o.Store, f.A, fam, shared)
	rs = results[shared]
	require.Len(t, rs, writers*rounds)
	found := false
	for _, r := range rs {
		require.False(t, r.view.UpdatedAt.After(final.UpdatedAt), "writer %d's write is later than the final state", r.writer)
		found = found || reflect.DeepEqual(r.view, final)
	}
	require.True(t, found, "the shared identity is in a state no write returned: %+v", final.Identity)

	for _, id := range append([]int64{marked, shared}, own...) {
		f.update(get(t, o.Store, f.A, fam, id).Identity)
	}
	checkTotals(t, f, o.Store, fam, "after concurrent writes")
}
