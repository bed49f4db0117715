package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// v1Seed is how testdata/v1.db was made, by the release before schema 2:
//
//	identities seed --db v1.db --companies 3 --identities 25 --rand-seed 9
//	identities keys create --db v1.db --company 1
var v1Seed = seed.Options{Companies: 3, Identities: 25, Seed: 9}

// TestUpgradeFromVersion1 opens a database written by the previous schema:
// every record is kept, and the lists (which now read the copies, the
// counts and the search index the upgrade builds) answer exactly like a
// store loaded afresh with the same data.
func TestUpgradeFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, err := os.ReadFile("testdata/v1.db")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	upgraded, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("opening a version 1 database: %v", err)
	}
	defer upgraded.Close()

	if version := schemaVersion(t, upgraded); version != 2 {
		t.Fatalf("schema version %d, want 2", version)
	}
	if res, err := upgraded.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
	var broken int
	if err := upgraded.read.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&broken); err != nil || broken != 0 {
		t.Fatalf("%d foreign key violations (%v)", broken, err)
	}

	want, err := seed.Generate(v1Seed)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[int64]store.Identity{}
	for _, c := range want.Companies {
		for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
			p, err := upgraded.ListIdentities(ctx, store.ListQuery{CompanyID: c.ID, Family: f, Page: 1, Limit: 50, Sort: store.SortIdentityID})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range p.Items {
				kept[v.ID] = v.Identity
			}
		}
	}
	if len(kept) != len(want.Identities) {
		t.Fatalf("%d identities after the upgrade, want %d", len(kept), len(want.Identities))
	}
	for _, it := range want.Identities {
		if !reflect.DeepEqual(kept[it.ID], it) {
			t.Fatalf("identity %d changed in the upgrade:\nwas %+v\nis  %+v", it.ID, it, kept[it.ID])
		}
	}
	keys, err := upgraded.ListAPIKeys(ctx, 0)
	if err != nil || len(keys) != 1 || keys[0].CompanyID != 1 {
		t.Fatalf("keys after the upgrade: %+v, %v", keys, err)
	}

	fresh, err := Open(ctx, filepath.Join(t.TempDir(), "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := fresh.Load(ctx, store.Whole(want)); err != nil {
		t.Fatal(err)
	}
	conn := want.Identities[0].ConnectionID
	var clientType string
	for _, c := range want.Connections {
		if c.ID == conn {
			clientType = c.ClientType
		}
	}
	// Every sort in both directions, and every filter (including q terms of
	// three, two and one characters) in one of them.
	var queries []store.ListQuery
	for sort := range sortColumns {
		queries = append(queries, store.ListQuery{Sort: sort}, store.ListQuery{Sort: sort, Descending: true})
	}
	for _, f := range []store.ListQuery{{ConnectionID: conn}, {ClientType: clientType}, {Q: "ada"}, {Q: "e."}, {Q: "E"}, {Q: want.Identities[3].IdentityID[2:8]}} {
		f.Sort = store.SortUser
		queries = append(queries, f)
	}
	for _, q := range queries {
		q.CompanyID, q.Family, q.Page, q.Limit = want.Identities[0].CompanyID, want.Identities[0].Family, 1, 50
		a, err := upgraded.ListIdentities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		b, err := fresh.ListIdentities(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if a.Total != b.Total || !slices.Equal(pageIDs(a), pageIDs(b)) {
			t.Fatalf("%+v: the upgraded store lists %d: %v; a fresh one %d: %v", q, a.Total, pageIDs(a), b.Total, pageIDs(b))
		}
	}
}

func pageIDs(p store.Page) []int64 {
	ids := make([]int64, len(p.Items))
	for i, v := range p.Items {
		ids[i] = v.ID
	}
	return ids
}
