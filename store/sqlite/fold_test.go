package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

func TestQueryIgnoresCaseBeyondASCII(t *testing.T) {
	s, d := openSeeded(t, seed.Options{Companies: 1, Identities: 5, Seed: 3})
	ctx := context.Background()
	target := d.Identities[0]
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET username = 'Élodie.Øster' WHERE id = ?", target.ID); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"élodie", "ÉLODIE", "øSTER", "e.ø"} {
		page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: target.CompanyID, Family: target.Family, Page: 1, Limit: 50, Q: q, Sort: store.SortUsername})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 1 || page.Items[0].ID != target.ID {
			t.Fatalf("q=%q found %d identities, want identity %d", q, page.Total, target.ID)
		}
	}
}

func TestUpdatedAtNeverGoesBackwards(t *testing.T) {
	s, d := openSeeded(t, seed.Options{Companies: 1, Identities: 5, Seed: 3})
	ctx := context.Background()
	it := d.Identities[0]
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := s.SetAccess(ctx, it.CompanyID, it.Family, it.ID, store.AccessA, it.AccessA == nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if !v.UpdatedAt.Equal(later) {
		t.Fatalf("updatedAt %v, want %v", v.UpdatedAt, later)
	}
	// A request that read the clock earlier but commits later.
	earlier := later.Add(-time.Hour)
	v, err = s.SetAccess(ctx, it.CompanyID, it.Family, it.ID, store.AccessB, v.AccessB == nil, earlier)
	if err != nil {
		t.Fatal(err)
	}
	if v.UpdatedAt.Before(later) {
		t.Fatalf("updatedAt went back from %v to %v", later, v.UpdatedAt)
	}
}
