package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/postgres"
	"github.com/identities-go/identities/store/sqlite"
)

// dbHelp describes every command's --db flag.
const dbHelp = "the database: a postgres:// or postgresql:// URL selects PostgreSQL, anything else is a SQLite file"

// connectTimeout bounds connecting to a PostgreSQL server and migrating
// it, so that an unreachable server fails the command instead of hanging.
const connectTimeout = 15 * time.Second

// isPostgres says whether --db names a PostgreSQL database.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// openStore opens the store db names. A SQLite file is created when
// missing only if create is set; otherwise a missing file is a usage
// error, so that a typo does not leave an empty database behind.
func openStore(ctx context.Context, db string, create bool) (store.Store, error) {
	if db == "" {
		return nil, usagef("--db is required")
	}
	if isPostgres(db) {
		u, err := url.Parse(db)
		if err != nil {
			return nil, usagef("--db: not a PostgreSQL URL: %v", redactURLError(err))
		}
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		st, err := postgres.Open(ctx, db)
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", u.Redacted(), err)
		}
		return st, nil
	}
	if !create {
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("--db %s: no such database file", db)
		}
	}
	return sqlite.Open(ctx, db)
}

// displayDB is db as it may be shown: a URL without its password.
func displayDB(db string) string {
	if u, err := url.Parse(db); err == nil && isPostgres(db) {
		return u.Redacted()
	}
	return db
}

// redactURLError drops the URL, which may hold a password, from a parse
// error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
