package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/identities-go/identities/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// versionTable is goose's record of the applied migrations.
const versionTable = "identities_schema_version"

// migrateLock is the advisory lock key held around the migrations, so that
// replicas that start at once apply each exactly once: the first runs
// them, the others wait and then find nothing to do.
const migrateLock int64 = 0x1d3e_7a11_5ca1_e001

// migrate applies the pending migrations while holding migrateLock on a
// connection of its own, outside the pool, which goose uses: a pool of
// one connection cannot both hold the lock and migrate.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	// Closing the session releases the lock, whatever happens below.
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("postgres: lock for migrations: %w", err)
	}

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// SchemaDigest identifies the schema a store migrates to: it changes with
// every migration's text. Caches of prepared databases key on it.
func SchemaDigest() string { return store.MigrationsDigest(migrations, "migrations/*.sql") }
