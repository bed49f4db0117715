package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestReadsStayInsideTheCompany: even a row that points at another
// company's connection or user (which the API cannot create) never brings
// that company's records into a response.
func TestReadsStayInsideTheCompany(t *testing.T) {
	s, d := openSeeded(t, seed.Options{Companies: 2, Identities: 5, Seed: 4})
	ctx := context.Background()
	var mine store.Identity
	var theirUser, theirConn int64
	for _, it := range d.Identities {
		if it.CompanyID == d.Companies[0].ID && mine.ID == 0 {
			mine = it
		}
	}
	for _, u := range d.Users {
		if u.CompanyID == d.Companies[1].ID {
			theirUser = u.ID
		}
	}
	for _, c := range d.Connections {
		if c.CompanyID == d.Companies[1].ID {
			theirConn = c.ID
		}
	}
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET user_id = ? WHERE id = ?", theirUser, mine.ID); err != nil {
		t.Fatal(err)
	}
	v, err := s.GetIdentity(ctx, mine.CompanyID, mine.Family, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.User != nil {
		t.Fatalf("another company's user %d was loaded", v.User.ID)
	}
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET connection_id = ? WHERE id = ?", theirConn, mine.ID); err != nil {
		t.Fatal(err)
	}
	page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: mine.CompanyID, Family: mine.Family, Page: 1, Limit: 50, Sort: store.SortIdentityID})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range page.Items {
		if it.ID == mine.ID || it.Connection.CompanyID != mine.CompanyID {
			t.Fatalf("identity %d listed through another company's connection", it.ID)
		}
	}
}

func TestLoadRefusesCrossTenantReferences(t *testing.T) {
	d, err := seed.Generate(seed.Options{Companies: 2, Identities: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	var other int64
	for _, u := range d.Users {
		if u.CompanyID != d.Identities[0].CompanyID {
			other = u.ID
		}
	}
	d.Identities[0].UserID = &other
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Load(context.Background(), d); !errors.Is(err, ErrCrossTenant) {
		t.Fatalf("Load = %v, want ErrCrossTenant", err)
	}
}

func TestPathsWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?b.db", "c#d.db", "e%20f.db"} {
		s, err := Open(context.Background(), filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s: the database is not at that path: %v", name, err)
		}
	}
}

func TestListAPIKeysIsNeverNil(t *testing.T) {
	s, _ := openSeeded(t, seed.Options{Companies: 1, Identities: 1, Seed: 1})
	keys, err := s.ListAPIKeys(context.Background(), 0)
	if err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("keys %#v, err %v", keys, err)
	}
}
