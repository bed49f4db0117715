// Package scaledb prepares large SQLite stores for benchmarks: one company
// with n identities of each family, seeded once and kept in the user's cache
// directory, keyed by size, seed and schema, so that later runs reuse them.
package scaledb

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store/sqlite"
)

// sizes is the -scale flag of every test binary that benchmarks at scale;
// make bench-scale sets 10000,100000,1000000.
var sizes = flag.String("scale", "10000", "comma-separated store sizes (identities of each family) for the scale benchmarks")

// Sizes returns the -scale sizes, in identities of each family.
func Sizes(tb testing.TB) []int {
	tb.Helper()
	var out []int
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1000 {
			tb.Fatalf("-scale: %q is not a size of at least 1000", f)
		}
		out = append(out, n)
	}
	return out
}

// Options are the seed options of a store with n identities of each family.
func Options(n int) seed.Options {
	return seed.Options{Companies: 1, Identities: n, Seed: 1}
}

// Dir is where prepared stores are kept: $IDENTITIES_BENCH_DIR, or a folder
// in the user's cache directory.
func Dir() (string, error) {
	if d := os.Getenv("IDENTITIES_BENCH_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("scaledb: no cache directory; set IDENTITIES_BENCH_DIR: %w", err)
	}
	return filepath.Join(base, "identities", "bench"), nil
}

// Open returns a store holding Options(n), seeding it first if no earlier
// run left one. It is closed with tb.
func Open(tb testing.TB, n int) *sqlite.Store {
	tb.Helper()
	ctx := context.Background()
	dir, err := Dir()
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	o := Options(n)
	path := filepath.Join(dir, fmt.Sprintf("identities-%d-seed%d-%s.db", n, o.Seed, sqlite.SchemaDigest()))
	if _, err := os.Stat(path); err != nil {
		// Stores of an older schema are of no further use.
		for _, suffix := range []string{".db", ".db-wal", ".db-shm"} {
			stale, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("identities-%d-seed%d-*%s", n, o.Seed, suffix)))
			for _, f := range stale {
				_ = os.Remove(f)
			}
		}
		start := time.Now()
		if err := build(ctx, path, o); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("seeded %d identities of each family in %s into %s", n, time.Since(start).Round(time.Millisecond), path)
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// build seeds a new store next to path and renames it into place, so that
// concurrent runs never see half a store.
func build(ctx context.Context, path string, o seed.Options) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	defer os.Remove(tmp)
	st, err := sqlite.Open(ctx, tmp)
	if err != nil {
		return err
	}
	if err := st.Load(ctx, seed.Stream(o, 10_000)); err != nil {
		_ = st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
