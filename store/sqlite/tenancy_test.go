package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// TestForeignKeysKeepRowsInsideTheCompany: the schema refuses a row that
// points an identity at another company's user, designator or connection
// (which the API cannot write), so that reads need not check.
func TestForeignKeysKeepRowsInsideTheCompany(t *testing.T) {
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
	before, err := s.GetIdentity(ctx, mine.CompanyID, mine.Family, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	for col, id := range map[string]int64{"user_id": theirUser, "designator_id": theirUser, "connection_id": theirConn} {
		_, err := s.write.ExecContext(ctx, "UPDATE identities SET "+col+" = ? WHERE id = ?", id, mine.ID)
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
			t.Errorf("pointing %s at another company's record: %v, want a foreign key error", col, err)
		}
	}
	// The same columns may point inside the company.
	var myUser int64
	for _, u := range d.Users {
		if u.CompanyID == mine.CompanyID {
			myUser = u.ID
		}
	}
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET designator_id = ? WHERE id = ?", myUser, mine.ID); err != nil {
		t.Fatalf("pointing designator_id at a user of the company: %v", err)
	}
	if _, err := s.write.ExecContext(ctx, "UPDATE identities SET designator_id = ? WHERE id = ?", before.DesignatorID, mine.ID); err != nil {
		t.Fatal(err)
	}
	after, err := s.GetIdentity(ctx, mine.CompanyID, mine.Family, mine.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("a refused update changed the identity:\nbefore %+v\nafter  %+v", before.Identity, after.Identity)
	}
	page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: mine.CompanyID, Family: mine.Family, Page: 1, Limit: 50, Sort: store.SortIdentityID})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, it := range page.Items {
		found = found || it.ID == mine.ID
		if it.Connection.CompanyID != mine.CompanyID {
			t.Fatalf("identity %d listed with another company's connection", it.ID)
		}
	}
	if !found {
		t.Fatalf("identity %d is no longer listed", mine.ID)
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
	if err := s.Load(context.Background(), store.Whole(d)); !errors.Is(err, store.ErrCrossTenant) {
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
