// Package postgres is an implementation of store.Store on PostgreSQL (15 or
// later), through a pgx connection pool. Any number of replicas may share
// one database: writes lock the row they change (SELECT … FOR UPDATE) and
// are retried on serialization failures and deadlocks; reads see one
// snapshot per request; the schema is migrated at Open by exactly one of
// the replicas that start together.
//
// The schema and the reasons for it are in migrations/00001_init.sql.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/identities-go/identities/store"
)

// Store is a store.Store on one PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Loader = (*Store)(nil)
)

// Open connects to the database at url (a postgres:// URL or a key=value
// connection string) and applies any pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open with a pool configuration, for callers that set its
// size, a tracer or other options. The store changes cfg: it sets what
// every connection needs (see configure).
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Store, error) {
	configure(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// configure sets what the store's queries rely on: times scanned in UTC,
// and a plan made for each execution's own values (a list's best plan
// depends on its term and filters, which a generic plan cannot know).
func configure(cfg *pgxpool.Config) {
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "identities"
	}
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		if after != nil {
			return after(ctx, c)
		}
		return nil
	}
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// readTx runs fn in a read-only transaction that sees one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: end read: %w", err)
	}
	return nil
}

// writeTx runs fn in a read-committed transaction and commits it when fn
// returns nil. A transaction that fails on a serialization failure or a
// deadlock is run again, a bounded number of times (see retry).
func (s *Store) writeTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return retry(ctx, func() error {
		tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("postgres: commit: %w", err)
		}
		return nil
	})
}

// errNoRows reports whether err is pgx's "no rows".
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
