package sqlite

import (
	"context"
	"testing"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestSearchFollowsRawUpdates: the folded search text and its trigram
// index follow a change to an identity's searched columns, whoever makes
// it, so that q finds the new text and no longer the old.
func TestSearchFollowsRawUpdates(t *testing.T) {
	s, d := openSeeded(t, seed.Options{Companies: 1, Identities: 5, Seed: 3})
	ctx := context.Background()
	target := d.Identities[0]
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET username = 'Élodie.Øster', email = 'ÅSA@example.com' WHERE id = ?", target.ID); err != nil {
		t.Fatal(err)
	}
	search := func(q string) store.Page {
		t.Helper()
		page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: target.CompanyID, Family: target.Family, Page: 1, Limit: 50, Q: q, Sort: store.SortUsername})
		if err != nil {
			t.Fatal(err)
		}
		return page
	}
	for _, q := range []string{"élodie", "ÉLODIE", "øSTER", "e.ø", "åsa@", "øs"} {
		if page := search(q); page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != target.ID {
			t.Errorf("q=%q found %d identities, want identity %d", q, page.Total, target.ID)
		}
	}
	if page := search(target.Username); page.Total != 0 {
		t.Errorf("the old username %q is still found", target.Username)
	}
}
