package sqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// scratchFiles lists what a load left in dir besides the database.
func scratchFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var left []string
	for _, e := range entries {
		if strings.Contains(e.Name(), "-load-") {
			left = append(left, e.Name())
		}
	}
	return left
}

// attached lists the databases the store's write connection has open.
func attached(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.write.QueryContext(context.Background(), "SELECT name FROM pragma_database_list")
	require.NoError(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		names = append(names, name)
	}
	require.NoError(t, rows.Err())
	return names
}

// The search index a load builds aside and copies in is sound, answers
// exactly like a scan of the searched text, and leaves no scratch file.
func TestLoadBuildsTheSearchIndexAside(t *testing.T) {
	ctx := context.Background()
	// More identities than one batch of either kind holds.
	d, err := seed.Generate(seed.Options{Companies: 2, Identities: 150, Seed: 9})
	require.NoError(t, err)
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "identities.db"))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Load(ctx, store.Whole(d)))
	assert.Empty(t, scratchFiles(t, dir))
	assert.NotContains(t, attached(t, s), scratchSchema, "the load left its scratch database attached")

	_, err = s.write.ExecContext(ctx, "INSERT INTO identities_search (identities_search) VALUES ('integrity-check')")
	require.NoError(t, err, "the copied search index fails its integrity check")

	terms := []string{"a", "e.", "@", "co", "com", "user", "-1", "@exa"}
	for _, c := range d.Companies {
		for _, family := range []store.Family{store.Infrastructure, store.VersionControl} {
			for _, term := range terms {
				var indexed, scanned int
				require.NoError(t, s.read.QueryRowContext(ctx, "SELECT count(*) FROM identities_search WHERE identities_search MATCH ?",
					searchQuery(c.ID, family.Code(), term)).Scan(&indexed))
				require.NoError(t, s.read.QueryRowContext(ctx, "SELECT count(*) FROM identities WHERE company_id = ? AND family = ? AND instr(search, ?) > 0",
					c.ID, family.Code(), term).Scan(&scanned))
				assert.Equal(t, scanned, indexed, "company %d, %s, term %q", c.ID, family, term)
			}
		}
	}
}

// A load that fails keeps nothing, neither rows nor its scratch file.
func TestFailedLoadLeavesNoScratch(t *testing.T) {
	ctx := context.Background()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 150, Seed: 9})
	require.NoError(t, err)
	dir := t.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "identities.db"))
	require.NoError(t, err)
	defer s.Close()
	broken := errors.New("the source broke")
	parts := func(yield func(*store.Dataset, error) bool) {
		if yield(d, nil) {
			yield(nil, broken)
		}
	}
	require.ErrorIs(t, s.Load(ctx, parts), broken)
	assert.Empty(t, scratchFiles(t, dir))
	assert.Equal(t, "wal", journalMode(t, s), "the failed load left the store out of write-ahead logging")
	var n int
	require.NoError(t, s.read.QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&n))
	assert.Zero(t, n)
	// The store still loads.
	require.NoError(t, s.Load(ctx, store.Whole(d)))
}
