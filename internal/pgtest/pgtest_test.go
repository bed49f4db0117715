package pgtest

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestCopiesOfATemplate: copies hold what the template was filled with,
// a write to one copy does not reach another or the template, and no one
// connects to the template once it is filled.
func TestCopiesOfATemplate(t *testing.T) {
	Require(t)
	ctx := context.Background()
	tpl, err := NewTemplate(ctx, func(ctx context.Context, u string) error {
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)")
		return err
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = Drop(ctx, tpl) })

	count := func(u string) int {
		c, err := pgx.Connect(ctx, u)
		require.NoError(t, err)
		defer c.Close(ctx)
		var n int
		require.NoError(t, c.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n))
		return n
	}
	a, b := Copy(t, tpl), Copy(t, tpl)
	c, err := pgx.Connect(ctx, a)
	require.NoError(t, err)
	_, err = c.Exec(ctx, "INSERT INTO t VALUES (3)")
	require.NoError(t, err)
	require.NoError(t, c.Close(ctx))
	require.Equal(t, 3, count(a))
	require.Equal(t, 2, count(b), "a write to one copy reached another")
	u, err := URLFor(tpl)
	require.NoError(t, err)
	_, err = pgx.Connect(ctx, u)
	require.Error(t, err, "connected to the template")

	_, err = NewTemplate(ctx, func(context.Context, string) error { return errors.New("no") })
	require.Error(t, err)
}

// TestSweepDropsTheDatabasesOfEndedProcesses: the sweep drops the
// databases of a tag whose session ended, and keeps those of live ones.
func TestSweepDropsTheDatabasesOfEndedProcesses(t *testing.T) {
	Require(t)
	ctx := context.Background()
	// Two other processes, as far as the server can tell: one ends, one
	// lives on.
	ended, endedConn, err := claim()
	require.NoError(t, err)
	live, liveConn, err := claim()
	require.NoError(t, err)
	defer liveConn.Close(ctx)
	endedDB, liveDB := namePrefix+ended+"_x", namePrefix+live+"_x"
	for _, name := range []string{endedDB, liveDB} {
		require.NoError(t, Create(ctx, name))
		t.Cleanup(func() { _ = Drop(ctx, name) })
	}
	require.NoError(t, endedConn.Close(ctx))
	// The server releases the lock once the session's backend has exited.
	require.Eventually(t, func() bool {
		var held bool
		err := admin(ctx, func(c *pgx.Conn) error {
			return c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1)",
				lockClass, parseTag(t, ended)).Scan(&held)
		})
		return err == nil && !held
	}, 10*time.Second, 20*time.Millisecond, "the ended session's lock is still held")

	// Sweep as a third process, whose own tag is not a database's.
	own, ownConn, err := claim()
	require.NoError(t, err)
	defer ownConn.Close(ctx)
	sweep(ownConn, own)
	ok, err := Exists(ctx, endedDB)
	require.NoError(t, err)
	require.False(t, ok, "the database of an ended process was kept")
	ok, err = Exists(ctx, liveDB)
	require.NoError(t, err)
	require.True(t, ok, "the database of a live process was dropped")
}

func parseTag(t *testing.T, tag string) uint32 {
	n, err := strconv.ParseUint(tag, 16, 32)
	require.NoError(t, err)
	return uint32(n)
}
