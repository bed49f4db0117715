package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// logSize is the size of the write-ahead log beside the database at path,
// 0 when there is none.
func logSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	require.NoError(t, err)
	return fi.Size()
}

// journalMode is the database's journal mode, as its write connection sees
// it.
func journalMode(t *testing.T, s *Store) string {
	t.Helper()
	var mode string
	require.NoError(t, s.write.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode))
	return mode
}

// loadOnce opens a new store, runs before on it, loads a small dataset and
// checks that everything was loaded, soundly, and that the store is back in
// write-ahead logging. It returns the store and its database's path.
func loadOnce(t *testing.T, before func(*Store)) (*Store, string) {
	t.Helper()
	ctx := context.Background()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 300, Seed: 4})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "identities.db")
	s, err := Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	before(s)
	require.NoError(t, s.Load(ctx, store.Whole(d)))

	assert.Equal(t, "wal", journalMode(t, s), "the load left the store out of write-ahead logging")
	res, err := s.IntegrityCheck(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ok", res)
	var n int
	require.NoError(t, s.read.QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&n))
	assert.Equal(t, len(d.Identities), n)
	return s, path
}

// A load into a store no one else has open writes its pages straight into
// the database file: none goes through the log.
func TestLoadAloneWritesStraightIntoTheFile(t *testing.T) {
	_, path := loadOnce(t, func(*Store) {})
	assert.Zero(t, logSize(t, path), "the load went through the write-ahead log")
}

// A load into a store that another connection has open goes through the
// log, as any write does, and the reader is not disturbed.
func TestLoadBesideAReaderGoesThroughTheLog(t *testing.T) {
	ctx := context.Background()
	var reader *sql.Conn
	_, path := loadOnce(t, func(s *Store) {
		var err error
		reader, err = s.read.Conn(ctx)
		require.NoError(t, err)
		var n int
		require.NoError(t, reader.QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&n))
	})
	defer reader.Close()
	assert.NotZero(t, logSize(t, path), "the load left write-ahead logging while another connection had the store open")
	var n int
	require.NoError(t, reader.QueryRowContext(ctx, "SELECT count(*) FROM identities").Scan(&n))
	assert.NotZero(t, n, "the reader does not see the load")
}
