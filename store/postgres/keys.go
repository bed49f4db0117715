package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// Authenticate finds the live key whose digest is hash, with its company and
// acting user.
func (s *Store) Authenticate(ctx context.Context, hash []byte, now time.Time) (store.Principal, error) {
	var p store.Principal
	var expires, revoked *time.Time
	row := s.pool.QueryRow(ctx, `SELECT k.id, k.scopes, k.allowed_nets, k.expires_at, k.revoked_at,
		c.id, c.name, c.plan_includes_api, c.created_at, `+userCols+`
		FROM api_keys k JOIN companies c ON c.id = k.company_id JOIN users u ON u.id = k.user_id
		WHERE k.hash = $1`, hash)
	dest := []any{&p.KeyID, &p.Scopes, &p.AllowedNets, &expires, &revoked,
		&p.Company.ID, &p.Company.Name, &p.Company.PlanIncludesAPI, &p.Company.CreatedAt}
	err := row.Scan(append(dest, userDest(&p.User)...)...)
	if errNoRows(err) {
		return store.Principal{}, store.ErrKeyNotFound
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("postgres: authenticate: %w", err)
	}
	if revoked != nil || (expires != nil && !now.Before(*expires)) {
		return store.Principal{}, store.ErrKeyNotFound
	}
	return p, nil
}

// CreateAPIKey records a key for a user of the company, in one statement
// that inserts nothing when the company has no such user.
func (s *Store) CreateAPIKey(ctx context.Context, k store.NewAPIKey, now time.Time) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO api_keys (company_id, user_id, prefix, hash, scopes, allowed_nets, expires_at, created_at)
		SELECT $1::bigint, $2::bigint, $3::text, $4::bytea, $5::text[], $6::text[], $7::timestamptz, $8::timestamptz WHERE EXISTS (SELECT 1 FROM users WHERE id = $2 AND company_id = $1)
		RETURNING id`, k.CompanyID, k.UserID, k.Prefix, k.Hash, orEmpty(k.Scopes), orEmpty(k.AllowedNets), k.ExpiresAt, now).Scan(&id)
	if errNoRows(err) {
		return 0, fmt.Errorf("user %d of company %d: %w", k.UserID, k.CompanyID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: insert api key: %w", err)
	}
	return id, nil
}

// ListAPIKeys lists keys, newest first, of one company or of all (companyID 0).
func (s *Store) ListAPIKeys(ctx context.Context, companyID int64) ([]store.APIKey, error) {
	out := []store.APIKey{}
	err := each(ctx, s.pool, "api keys", `SELECT id, company_id, user_id, prefix, scopes, allowed_nets, expires_at, revoked_at, created_at
		FROM api_keys WHERE $1::bigint = 0 OR company_id = $1 ORDER BY id DESC`, []any{companyID}, func(rows pgx.Rows) error {
		var k store.APIKey
		if err := rows.Scan(&k.ID, &k.CompanyID, &k.UserID, &k.Prefix, &k.Scopes, &k.AllowedNets, &k.ExpiresAt, &k.RevokedAt, &k.CreatedAt); err != nil {
			return err
		}
		out = append(out, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeAPIKey revokes a key; revoking a revoked key keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, now time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2", now, id)
	if err != nil {
		return fmt.Errorf("postgres: revoke api key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("api key %d: %w", id, store.ErrKeyNotFound)
	}
	return nil
}

// FirstUser returns the lowest user id of a company.
func (s *Store) FirstUser(ctx context.Context, companyID int64) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "SELECT id FROM users WHERE company_id = $1 ORDER BY id LIMIT 1", companyID).Scan(&id)
	if errNoRows(err) {
		return 0, fmt.Errorf("company %d has no users: %w", companyID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: first user: %w", err)
	}
	return id, nil
}
