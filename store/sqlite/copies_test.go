package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestCopiesFollowTheirSources: the values the sorts, the counts and the
// search read from copies follow every change of what they copy, whether
// the API makes it (a link) or an operator does (a rename of a user or a
// connection, a moved or deleted identity).
func TestCopiesFollowTheirSources(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "copies.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, store.Whole(d)); err != nil {
		t.Fatal(err)
	}
	it := d.Identities[0]
	user := d.Users[1]

	// first returns the id listed first by sort, and the total, for q.
	first := func(sort store.Sort, q store.ListQuery) (int64, int64) {
		t.Helper()
		q.CompanyID, q.Family, q.Page, q.Limit, q.Sort = it.CompanyID, it.Family, 1, 1, sort
		p, err := s.ListIdentities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) == 0 {
			return 0, p.Total
		}
		return p.Items[0].ID, p.Total
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := s.write.ExecContext(ctx, query, args...); err != nil {
			t.Fatal(err)
		}
	}

	// A link through the API: sorting by USER finds the identity under the
	// user's new name.
	if _, err := s.UpdateIdentity(ctx, it.CompanyID, it.Family, it.ID, store.Link{UserID: &user.ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	exec("UPDATE users SET first_name = '!first', last_name = 'of all' WHERE id = ?", user.ID)
	if got, _ := first(store.SortUser, store.ListQuery{Q: it.IdentityID}); got != it.ID {
		t.Fatal("the identity is not found by its own identity id")
	}
	p, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: it.CompanyID, Family: it.Family, Page: 1, Limit: 50, Sort: store.SortUser, Descending: false})
	if err != nil {
		t.Fatal(err)
	}
	var firstNamed store.IdentityView
	for _, v := range p.Items {
		if v.User != nil {
			firstNamed = v
			break
		}
	}
	if firstNamed.User == nil || firstNamed.User.ID != user.ID {
		t.Fatalf("after renaming user %d to '!first of all', the first named identity by USER is %+v", user.ID, firstNamed.User)
	}

	// A renamed connection: CLIENT_ALIAS and CONNECTION_STATUS follow.
	exec("UPDATE connections SET client_alias = '!', state = '!' WHERE id = ?", it.ConnectionID)
	for _, sort := range []store.Sort{store.SortClientAlias, store.SortConnectionStatus} {
		got, _ := first(sort, store.ListQuery{})
		v, err := s.GetIdentity(ctx, it.CompanyID, it.Family, got)
		if err != nil || v.ConnectionID != it.ConnectionID {
			t.Fatalf("%s: first is identity %d of connection %d, want one of connection %d (%v)", sort, got, v.ConnectionID, it.ConnectionID, err)
		}
	}

	// An identity moved to another connection, renamed, then deleted: the
	// counts and the search follow.
	var other int64
	for _, c := range d.Connections {
		if c.CompanyID == it.CompanyID && c.ID != it.ConnectionID {
			other = c.ID
		}
	}
	_, before := first(store.SortUsername, store.ListQuery{ConnectionID: other})
	exec("UPDATE identities SET connection_id = ?, username = 'Zzyzx-Moved' WHERE id = ?", other, it.ID)
	if _, after := first(store.SortUsername, store.ListQuery{ConnectionID: other}); after != before+1 {
		t.Fatalf("connection %d counts %d after the move, want %d", other, after, before+1)
	}
	if got, n := first(store.SortUsername, store.ListQuery{Q: "zzyzx-m"}); got != it.ID || n != 1 {
		t.Fatalf("q=zzyzx-m finds %d (total %d), want the renamed identity %d", got, n, it.ID)
	}
	_, all := first(store.SortUsername, store.ListQuery{})
	exec("DELETE FROM identities WHERE id = ?", it.ID)
	if _, n := first(store.SortUsername, store.ListQuery{}); n != all-1 {
		t.Fatalf("total %d after a delete, want %d", n, all-1)
	}
	if _, n := first(store.SortUsername, store.ListQuery{Q: "zzyzx-m"}); n != 0 {
		t.Fatalf("a deleted identity is still found: total %d", n)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
}
