// Package pgtest gives tests throwaway PostgreSQL databases: each
// NewDatabase is a new, empty database on the server that
// $IDENTITIES_TEST_POSTGRES names, dropped when the test ends, so that
// tests and parallel runs never see each other's data. A database that
// many tests need filled the same way is made once with NewTemplate and
// copied for each test with Copy, which is much cheaper than filling it
// again.
//
// When the server does not answer, the test is skipped with one line, or
// fails when $IDENTITIES_REQUIRE_POSTGRES is 1 (as in CI, where a skip
// would hide that nothing ran).
//
// Templates outlive the process that made them, as do the databases of a
// process that dies without running its cleanups (a panic, a timeout, a
// kill); the next process to make a database drops them. Each process
// holds, for as long as it lives, an advisory lock on a tag that every
// database it makes carries in its name: the server releases the lock when
// the process's connection ends, however it ends, so the databases of a
// tag whose lock no session holds belong to no live process.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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
	return newDatabase(tb, "")
}

// Copy creates a database from template, a name NewTemplate returned, and
// returns its URL; the copy is dropped when tb ends, with any connection
// still open to it.
func Copy(tb testing.TB, template string) string {
	tb.Helper()
	return newDatabase(tb, template)
}

// newDatabase creates a database named for this process, empty or a copy
// of template, dropped when tb ends.
func newDatabase(tb testing.TB, template string) string {
	tb.Helper()
	Require(tb)
	ctx := context.Background()
	name, err := ownedName("")
	if err != nil {
		tb.Fatal(err)
	}
	if err := create(ctx, name, template); err != nil {
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

// NewTemplate creates a database, has fill fill it through its URL, and
// returns its name for Copy. fill must close every connection it opens
// before it returns: a database cannot be copied while anyone is connected
// to it, and once filled no one can connect to the template. The template
// lives as long as the process (its name carries the process's tag, see
// the package's documentation); it is dropped if fill fails.
func NewTemplate(ctx context.Context, fill func(ctx context.Context, url string) error) (string, error) {
	name, err := ownedName("tpl")
	if err != nil {
		return "", err
	}
	if err := create(ctx, name, ""); err != nil {
		return "", err
	}
	u, err := URLFor(name)
	if err == nil {
		err = fill(ctx, u)
	}
	if err == nil {
		err = admin(ctx, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH ALLOW_CONNECTIONS false")
			return err
		})
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("pgtest: template %s: %w", name, err), Drop(context.WithoutCancel(ctx), name))
	}
	return name, nil
}

// Create creates an empty database named name.
func Create(ctx context.Context, name string) error {
	return create(ctx, name, "")
}

// create creates a database named name, a copy of template unless it is "".
func create(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		// The default strategy (WAL_LOG) copies a small database in a
		// fraction of the time FILE_COPY's checkpoint takes.
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	return admin(ctx, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx, sql); err != nil {
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

// adminPool holds this process's connections to the administrative
// database, which every database made or dropped goes through: a new
// connection each time cost the server as much as the statement. The
// connections end with the process.
var adminPool struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// admin runs fn on a connection to the administrative database.
func admin(ctx context.Context, fn func(*pgx.Conn) error) error {
	adminPool.once.Do(func() {
		cfg, err := pgxpool.ParseConfig(BaseURL())
		if err != nil {
			adminPool.err = err
			return
		}
		// Enough that no parallel test's create or drop (a checkpoint,
		// up to a second under load) waits for another's connection.
		cfg.MaxConns = 32
		cfg.ConnConfig.RuntimeParams["application_name"] = "pgtest admin"
		adminPool.pool, adminPool.err = pgxpool.NewWithConfig(context.Background(), cfg)
	})
	if adminPool.err != nil {
		return adminPool.err
	}
	return adminPool.pool.AcquireFunc(ctx, func(c *pgxpool.Conn) error { return fn(c.Conn()) })
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
