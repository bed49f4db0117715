package sqlite

import (
	"context"
	"encoding/hex"
	"strings"
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

// tokensByRunes is how tokens was first written, piece by piece over the
// text's runes: the oracle of the buffer-writing one.
func tokensByRunes(prefix string, r []rune, n int) string {
	var b strings.Builder
	for i := 0; i+n <= len(r); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.WriteString(hex.EncodeToString([]byte(string(r[i : i+n]))))
	}
	return b.String()
}

// The search index's tokens, and the terms' queries, are byte for byte
// what they were: an index written by an earlier binary keeps answering.
func FuzzTokensMatchTheRuneWalk(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "abc", "user@example.com", "é", "ɐé日本語", "a\xffb", "\xe6\x97", "x\n\n", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for n := 1; n <= trigram; n++ {
			if got, want := tokens("c12f1x", s, n), tokensByRunes("c12f1x", []rune(s), n); got != want {
				t.Fatalf("tokens(%q, %d) = %q, want %q", s, n, got, want)
			}
		}
		if got, want := tokens("c1f2x", "", 0), tokensByRunes("c1f2x", nil, 0); got != want {
			t.Fatalf("the empty term: %q, want %q", got, want)
		}
	})
}
