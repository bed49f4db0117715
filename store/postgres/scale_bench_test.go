package postgres_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/internal/scaledb"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/postgres"
)

// openScale returns a store holding scaledb.Options(n), seeding a database
// for it first if no earlier run left one: the database is named by the
// size, the seed and the schema, and kept (seeded under another name and
// renamed into place, so that concurrent runs never see half of one).
// Databases of the same size and seed but an older schema are dropped.
func openScale(b *testing.B, n int) *postgres.Store {
	b.Helper()
	pgtest.Require(b)
	ctx := context.Background()
	o := scaledb.Options(n)
	prefix := fmt.Sprintf("identities_bench_%d_seed%d_", n, o.Seed)
	name := prefix + postgres.SchemaDigest()
	ok, err := pgtest.Exists(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	if !ok {
		stale, err := pgtest.Databases(ctx, prefix)
		if err != nil {
			b.Fatal(err)
		}
		for _, db := range stale {
			if !strings.Contains(db, "_tmp") {
				_ = pgtest.Drop(ctx, db)
			}
		}
		tmp := fmt.Sprintf("%s_tmp%d", name, os.Getpid())
		start := time.Now()
		if err := seedScale(ctx, tmp, o); err != nil {
			_ = pgtest.Drop(ctx, tmp)
			b.Fatal(err)
		}
		if err := pgtest.Rename(ctx, tmp, name); err != nil {
			_ = pgtest.Drop(ctx, tmp)
			b.Fatal(err)
		}
		b.Logf("seeded %d identities of each family in %s into database %s", n, time.Since(start).Round(time.Millisecond), name)
	}
	url, err := pgtest.URLFor(name)
	if err != nil {
		b.Fatal(err)
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st
}

// seedScale creates database name and loads o into it.
func seedScale(ctx context.Context, name string, o seed.Options) error {
	if err := pgtest.Create(ctx, name); err != nil {
		return err
	}
	url, err := pgtest.URLFor(name)
	if err != nil {
		return err
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Load(ctx, seed.Stream(o, 10_000))
}

// BenchmarkScaleList is scaledb's table of list pages (the SQLite store's
// benchmark of the same name runs it too) on PostgreSQL stores of each
// -scale size.
func BenchmarkScaleList(b *testing.B) {
	stores := map[int]store.Identities{}
	for _, n := range scaledb.Sizes(b) {
		stores[n] = openScale(b, n)
	}
	scaledb.BenchmarkList(b, stores)
}
