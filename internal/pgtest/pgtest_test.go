package pgtest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestNewDatabaseIsDroppedWithItsTest: a new database is empty, reachable
// at its URL, and gone once its test ends, even with a connection open.
func TestNewDatabaseIsDroppedWithItsTest(t *testing.T) {
	ctx := context.Background()
	var name string
	t.Run("uses", func(t *testing.T) {
		u := NewDatabase(t)
		p, err := url.Parse(u)
		require.NoError(t, err)
		name = strings.TrimPrefix(p.Path, "/")
		require.True(t, strings.HasPrefix(name, "identities_test_"))
		c, err := pgx.Connect(ctx, u)
		require.NoError(t, err)
		// Left open: the drop closes it.
		var tables int
		require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables))
		require.Zero(t, tables)
		ok, err := Exists(ctx, name)
		require.NoError(t, err)
		require.True(t, ok)
	})
	Require(t)
	ok, err := Exists(ctx, name)
	require.NoError(t, err)
	require.False(t, ok, "database %s outlived its test", name)
}
