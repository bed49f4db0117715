// Package sqlite is the embedded, default implementation of store.Store, on
// a pure-Go SQLite driver: WAL, synchronous=FULL, foreign keys on, and one
// writer connection whose transactions begin IMMEDIATE, so concurrent
// writers queue instead of failing with "database is locked".
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/identities-go/identities/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store on one SQLite database file.
type Store struct {
	path  string  // the database file
	read  *sql.DB // many connections, read-only queries
	write *sql.DB // one connection, every change
	// Prepared statements of each pool.
	readStmts, writeStmts *stmtCache
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

// Open opens (creating if needed) the database at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, func(dsn string) (*sql.DB, error) { return sql.Open("sqlite", dsn) })
}

// open is Open with the pools made by openDB, which tests use to wrap the
// driver.
func open(ctx context.Context, path string, openDB func(dsn string) (*sql.DB, error)) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	pragmas := []string{"busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)", "journal_mode(WAL)"}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// The path is escaped so that ? and # in it stay part of the file name.
	file := "file:" + uriPath.Replace(path)
	dsn := file + "?" + q.Encode()

	write, err := openDB(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	s := &Store{path: path, write: write}
	unlock, err := lockMigrations(path)
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	err = s.migrate(ctx)
	unlock()
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	q.Set("_txlock", "deferred")
	q.Add("_pragma", "query_only(1)")
	// Reads go through a memory map rather than a read call per page, and
	// keep more pages: lookups by id of matches spread over the file.
	q.Add("_pragma", fmt.Sprintf("mmap_size(%d)", readMmap))
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", readCache))
	read, err := openDB(file + "?" + q.Encode())
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = read
	s.readStmts, s.writeStmts = newStmtCache(read), newStmtCache(write)
	return s, nil
}

// readMmap is how much of the database file each read connection maps, and
// readCache its page cache in KiB.
const (
	readMmap  = 64 << 30
	readCache = 32 << 10
)

// uriPath escapes what SQLite's URI filenames give a meaning to.
var uriPath = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// versionTable is goose's record of the applied migrations.
const versionTable = "identities_schema_version"

// migrate applies the pending embedded migrations through goose. A database that a migrator before
// goose kept (in PRAGMA user_version) is adopted first: goose's record
// starts with the versions it holds.
func (s *Store) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if err := s.adoptUserVersion(ctx); err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, sub,
		goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// adoptUserVersion records in goose's table the migrations that PRAGMA
// user_version says were applied, when goose has kept no record yet.
func (s *Store) adoptUserVersion(ctx context.Context) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var version, tables int64
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return fmt.Errorf("sqlite: read schema version: %w", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", versionTable).Scan(&tables); err != nil {
			return fmt.Errorf("sqlite: read schema version: %w", err)
		}
		if version == 0 || tables > 0 {
			return nil
		}
		st, err := database.NewStore(database.DialectSQLite3, versionTable)
		if err != nil {
			return fmt.Errorf("sqlite: migrations: %w", err)
		}
		if err := st.CreateVersionTable(ctx, tx); err != nil {
			return fmt.Errorf("sqlite: adopt schema version %d: %w", version, err)
		}
		for v := range version + 1 { // goose's record starts at version 0
			if err := st.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
				return fmt.Errorf("sqlite: adopt schema version %d: %w", version, err)
			}
		}
		return nil
	})
}

// tx runs fn in one write transaction, committing when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return inTx(ctx, s.write, fn)
}

// inTx runs fn in one transaction of db, committing when it returns nil.
func inTx(ctx context.Context, db interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its first line
// ("ok" for a sound database).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	var res string
	if err := s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return "", fmt.Errorf("sqlite: integrity check: %w", err)
	}
	return res, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	s.readStmts.close()
	s.writeStmts.close()
	return errors.Join(s.read.Close(), s.write.Close())
}

// SchemaDigest identifies the schema a store migrates to: it changes with
// every migration's text. Caches of prepared databases key on it.
func SchemaDigest() string { return store.MigrationsDigest(migrations, "migrations/*.sql") }
