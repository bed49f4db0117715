package postgres

import (
	"context"
	"fmt"
	"iter"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// Load bulk-copies every part into an empty database in one transaction,
// with COPY. It refuses a dataset whose records refer to another company's
// users or connections, or to ones not loaded yet. While it runs, the
// identities table's indexes, triggers and foreign keys are set aside and
// then rebuilt once (see setAside); the copies they would keep are written
// by the load itself. Lists and reads of identities on any replica wait
// until the load ends.
func (s *Store) Load(ctx context.Context, parts iter.Seq2[*store.Dataset, error]) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin load: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// One load at a time. (Reads of identities wait for the load to end:
	// setting its indexes aside locks the table.)
	if _, err := tx.Exec(ctx, "LOCK TABLE companies IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("postgres: lock for load: %w", err)
	}
	var full bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM companies)").Scan(&full); err != nil {
		return fmt.Errorf("postgres: count companies: %w", err)
	}
	if full {
		return store.ErrNotEmpty
	}
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '512MB'"); err != nil {
		return fmt.Errorf("postgres: set up load: %w", err)
	}
	restore, err := setAside(ctx, tx)
	if err != nil {
		return err
	}
	r := store.NewRefs()
	for d, err := range parts {
		if err != nil {
			return fmt.Errorf("postgres: load: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("postgres: load: %w", err)
		}
		if err := r.Add(d); err != nil {
			return err
		}
		if err := copyPart(ctx, tx, r, d); err != nil {
			return err
		}
	}
	if err := restore(); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit load: %w", err)
	}
	// Statistics for the planner, and the visibility map that lets a deep
	// page walk an index without reading the rows. The data is in: a
	// failure here only costs speed until autovacuum comes by.
	if _, err := s.pool.Exec(ctx, "VACUUM (ANALYZE) companies, users, background_checks, connections, person_identities, documents, identities, identity_counts"); err != nil {
		slog.WarnContext(ctx, "postgres: vacuum after load", "err", err)
	}
	return nil
}

// setAside drops the identities table's indexes (but its primary key),
// triggers and foreign keys, whose upkeep row by row would make a bulk
// load many times slower, and returns the function that puts them back
// from their own definitions and rebuilds the counts. It runs in the
// load's transaction: if the load fails, the rollback restores them too.
func setAside(ctx context.Context, tx pgx.Tx) (restore func() error, err error) {
	type object struct{ drop, create string }
	var objects []object
	read := func(what, query string, fn func(name, def string) object) error {
		return each(ctx, tx, what, query, nil, func(rows pgx.Rows) error {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				return err
			}
			objects = append(objects, fn(pgx.Identifier{name}.Sanitize(), def))
			return nil
		})
	}
	err = read("foreign keys", `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'identities'::regclass AND contype = 'f' ORDER BY conname`, func(name, def string) object {
		return object{"ALTER TABLE identities DROP CONSTRAINT " + name, "ALTER TABLE identities ADD CONSTRAINT " + name + " " + def}
	})
	if err == nil {
		err = read("triggers", `SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
			WHERE tgrelid = 'identities'::regclass AND NOT tgisinternal ORDER BY tgname`, func(name, def string) object {
			return object{"DROP TRIGGER " + name + " ON identities", def}
		})
	}
	if err == nil {
		err = read("indexes", `SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
			WHERE x.indrelid = 'identities'::regclass AND NOT x.indisprimary ORDER BY i.relname`, func(name, def string) object {
			return object{"DROP INDEX " + name, def}
		})
	}
	if err != nil {
		return nil, err
	}
	for _, o := range objects {
		if _, err := tx.Exec(ctx, o.drop); err != nil {
			return nil, fmt.Errorf("postgres: set aside for load: %w", err)
		}
	}
	return func() error {
		for _, o := range objects {
			if _, err := tx.Exec(ctx, o.create); err != nil {
				return fmt.Errorf("postgres: restore after load: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO identity_counts (company_id, family, connection_id, n)
			SELECT company_id, family, connection_id, count(*) FROM identities GROUP BY company_id, family, connection_id`)
		if err != nil {
			return fmt.Errorf("postgres: count after load: %w", err)
		}
		return nil
	}, nil
}

// copyTable copies n rows, row(i) each, into table's columns.
func copyTable(ctx context.Context, tx pgx.Tx, table string, cols []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
	if err != nil {
		return fmt.Errorf("postgres: load %s: %w", table, err)
	}
	return nil
}

// copyPart copies one part, each kind of record after those it refers to.
func copyPart(ctx context.Context, tx pgx.Tx, r *store.Refs, d *store.Dataset) error {
	steps := []func() error{
		func() error {
			return copyTable(ctx, tx, "companies", []string{"id", "name", "plan_includes_api", "created_at"}, len(d.Companies), func(i int) []any {
				c := &d.Companies[i]
				return []any{c.ID, c.Name, c.PlanIncludesAPI, c.CreatedAt}
			})
		},
		func() error {
			return copyTable(ctx, tx, "users", []string{"id", "company_id", "entry_id", "email", "first_name", "last_name", "job_title",
				"terms_agreed_at", "roles", "created_at", "updated_at"}, len(d.Users), func(i int) []any {
				u := &d.Users[i]
				return []any{u.ID, u.CompanyID, u.EntryID, u.Email, u.FirstName, u.LastName, u.JobTitle, u.TermsAgreedAt, orEmpty(u.Roles), u.CreatedAt, u.UpdatedAt}
			})
		},
		func() error { return copyChecks(ctx, tx, d.Users) },
		func() error { return copyDocuments(ctx, tx, d.Users) },
		func() error {
			return copyTable(ctx, tx, "connections", []string{"id", "company_id", "client_type", "state", "connected", "connected_at", "failed_at",
				"assignment_id", "owner_user_id", "account_id", "client_id", "client_alias", "manually_updated_at", "alias_updated_at", "deleted_at",
				"requestor_id", "product", "write_access_enabled", "source_preference", "security_label", "jql_query", "authorized",
				"provider_types", "code", "group_label"}, len(d.Connections), func(i int) []any {
				c := &d.Connections[i]
				var product any
				if c.Product != nil {
					product = c.Product
				}
				return []any{c.ID, c.CompanyID, c.ClientType, c.State, c.Connected, c.ConnectedAt, c.FailedAt,
					c.AssignmentID, c.OwnerUserID, c.AccountID, c.ClientID, c.ClientAlias, c.ManuallyUpdatedAt, c.AliasUpdatedAt, c.DeletedAt,
					c.RequestorID, product, c.WriteAccessEnabled, c.SourcePreference, c.SecurityLabel, c.JQLQuery, c.Authorized,
					orEmpty(c.ProviderTypes), c.Code, c.GroupLabel}
			})
		},
		func() error { return copyPersons(ctx, tx, d.Users) },
		func() error { return copyIdentities(ctx, tx, r, d.Identities) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}
