package sqlite

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestStatementCacheUnderContention: more concurrent readers and writers
// than the pools have connections, each running statements the cache has
// not seen yet, all finish (preparing never waits on a connection while
// holding one) and statements end up cached.
func TestStatementCacheUnderContention(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "stmts.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, store.Whole(d)); err != nil {
		t.Fatal(err)
	}
	sorts := make([]store.Sort, 0, len(sortColumns))
	for sort := range sortColumns {
		sorts = append(sorts, sort)
	}
	it := d.Identities[0]
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 32 {
		wg.Go(func() {
			for i := range 10 {
				q := store.ListQuery{CompanyID: 1, Family: it.Family, Page: 1, Limit: 5, Sort: sorts[(g+i)%len(sorts)], Descending: i%2 == 0}
				if _, err := s.ListIdentities(ctx, q); err != nil {
					errs <- err
					return
				}
				if g%4 == 0 {
					if _, err := s.UpdateIdentity(ctx, 1, it.Family, it.ID, store.SetAccess{Access: store.AccessA, On: i%2 == 0}, time.Now()); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.readStmts.mu.Lock()
	cached := len(s.readStmts.m)
	s.readStmts.mu.Unlock()
	if cached < len(sorts) {
		t.Fatalf("%d statements cached after %d list shapes", cached, len(sorts))
	}
}
