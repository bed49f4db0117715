// Package pgtest gives tests throwaway PostgreSQL databases: each
// NewDatabase is a new, empty database on the server that
// $IDENTITIES_TEST_POSTGRES names, dropped when the test ends, so that
// tests and parallel runs never see each other's data.
//
// When the server does not answer, the test is skipped with one line, or
// fails when $IDENTITIES_REQUIRE_POSTGRES is 1 (as in CI, where a skip
// would hide that nothing ran).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The environment variables tests read.
const (
	// EnvURL names the server: a postgres:// URL of a database the role can
	// connect to, whose role may create databases.
	EnvURL = "IDENTITIES_TEST_POSTGRES"
	// EnvRequire set to 1 turns a skip for want of a server into a failure.
	EnvRequire = "IDENTITIES_REQUIRE_POSTGRES"
)

// DefaultURL is the server tests use when EnvURL is unset.
const DefaultURL = "postgres://root@127.0.0.1:5432/postgres?sslmode=disable"

// BaseURL returns the URL of the server's administrative database.
func BaseURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// URLFor returns BaseURL with its database replaced by name.
func URLFor(name string) (string, error) {
	u, err := url.Parse(BaseURL())
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("pgtest: %s is not a postgres:// URL", EnvURL)
	}
	u.Path = "/" + name
	return u.String(), nil
}

var probe struct {
	once sync.Once
	err  error
}

// Require skips tb, or fails it when EnvRequire is 1, unless the server
// answers. It asks the server once per test binary.
func Require(tb testing.TB) {
	tb.Helper()
	probe.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		probe.err = admin(ctx, func(c *pgx.Conn) error { return c.Ping(ctx) })
	})
	if probe.err == nil {
		return
	}
	// One line: pgx's connect errors span several.
	reason := strings.Join(strings.Fields(probe.err.Error()), " ")
	msg := fmt.Sprintf("pgtest: no PostgreSQL at %s (%s); set %s, or %s=1 to fail instead of skipping", redacted(BaseURL()), reason, EnvURL, EnvRequire)
	if os.Getenv(EnvRequire) == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// NewDatabase creates an empty database with a random name and returns its
// URL; the database is dropped when tb ends, with any connection still
// open to it.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	Require(tb)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "identities_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	if err := Create(ctx, name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := Drop(context.Background(), name); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	u, err := URLFor(name)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// Create creates an empty database named name.
func Create(ctx context.Context, name string) error {
	return admin(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("pgtest: create database %s: %w", name, err)
		}
		return nil
	})
}

// Drop drops the database named name, if there is one, closing the
// connections still open to it.
func Drop(ctx context.Context, name string) error {
	return admin(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: drop database %s: %w", name, err)
		}
		return nil
	})
}

// Rename renames database from to to; no one may be connected to it.
func Rename(ctx context.Context, from, to string) error {
	return admin(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{from}.Sanitize()+" RENAME TO "+pgx.Identifier{to}.Sanitize()); err != nil {
			return fmt.Errorf("pgtest: rename database %s: %w", from, err)
		}
		return nil
	})
}

// Exists reports whether a database named name exists.
func Exists(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := admin(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
	})
	if err != nil {
		return false, fmt.Errorf("pgtest: find database %s: %w", name, err)
	}
	return ok, nil
}

// admin runs fn on a new connection to the administrative database.
func admin(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := pgx.Connect(ctx, BaseURL())
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	return fn(c)
}

// redacted returns u without its password.
func redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(" + EnvURL + ")"
	}
	return p.Redacted()
}

// Databases lists the databases whose names begin with prefix.
func Databases(ctx context.Context, prefix string) ([]string, error) {
	var names []string
	err := admin(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname", prefix)
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgtest: list databases: %w", err)
	}
	return names, nil
}
