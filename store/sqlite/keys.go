package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/identities-go/identities/store"
)

// Authenticate finds the live key whose digest is hash, with its company and
// acting user.
func (s *Store) Authenticate(ctx context.Context, hash []byte, now time.Time) (store.Principal, error) {
	var p store.Principal
	var expires, revoked *time.Time
	row := s.read.QueryRowContext(ctx, `SELECT k.id, k.scopes, k.allowed_nets, k.expires_at, k.revoked_at,
		c.id, c.name, c.plan_includes_api, c.created_at,
		u.id, u.company_id, u.entry_id, u.email, u.first_name, u.last_name, u.job_title, u.terms_agreed_at, u.roles, u.created_at, u.updated_at
		FROM api_keys k JOIN companies c ON c.id = k.company_id JOIN users u ON u.id = k.user_id
		WHERE k.hash = ?`, hash)
	u := &p.User
	err := row.Scan(&p.KeyID, jsonCol{&p.Scopes}, jsonCol{&p.AllowedNets}, nullTimeCol{&expires}, nullTimeCol{&revoked},
		&p.Company.ID, &p.Company.Name, &p.Company.PlanIncludesAPI, timeCol{&p.Company.CreatedAt},
		&u.ID, &u.CompanyID, &u.EntryID, &u.Email, &u.FirstName, &u.LastName, &u.JobTitle,
		nullTimeCol{&u.TermsAgreedAt}, jsonCol{&u.Roles}, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Principal{}, store.ErrKeyNotFound
	}
	if err != nil {
		return store.Principal{}, fmt.Errorf("sqlite: authenticate: %w", err)
	}
	if revoked != nil || (expires != nil && !now.Before(*expires)) {
		return store.Principal{}, store.ErrKeyNotFound
	}
	return p, nil
}

// CreateAPIKey records a key for a user of the company.
func (s *Store) CreateAPIKey(ctx context.Context, k store.NewAPIKey, now time.Time) (int64, error) {
	scopes, err := jsonArg(k.Scopes)
	if err != nil {
		return 0, err
	}
	nets, err := jsonArg(append([]string{}, k.AllowedNets...))
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ? AND company_id = ?", k.UserID, k.CompanyID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d of company %d: %w", k.UserID, k.CompanyID, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: find key user: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (company_id, user_id, prefix, hash, scopes, allowed_nets, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, k.CompanyID, k.UserID, k.Prefix, k.Hash, scopes, nets, msp(k.ExpiresAt), ms(now))
		if err != nil {
			return fmt.Errorf("sqlite: insert api key: %w", err)
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

// ListAPIKeys lists keys, newest first, of one company or of all (companyID 0).
func (s *Store) ListAPIKeys(ctx context.Context, companyID int64) ([]store.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, company_id, user_id, prefix, scopes, allowed_nets, expires_at, revoked_at, created_at
		FROM api_keys WHERE ? = 0 OR company_id = ? ORDER BY id DESC`, companyID, companyID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	defer rows.Close()
	out := []store.APIKey{}
	for rows.Next() {
		var k store.APIKey
		if err := rows.Scan(&k.ID, &k.CompanyID, &k.UserID, &k.Prefix, jsonCol{&k.Scopes}, jsonCol{&k.AllowedNets},
			nullTimeCol{&k.ExpiresAt}, nullTimeCol{&k.RevokedAt}, timeCol{&k.CreatedAt}); err != nil {
			return nil, fmt.Errorf("sqlite: scan api key: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes a key; revoking a revoked key keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", ms(now), id)
		if err != nil {
			return fmt.Errorf("sqlite: revoke api key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("api key %d: %w", id, store.ErrKeyNotFound)
		}
		return nil
	})
}

// FirstUser returns the lowest user id of a company.
func (s *Store) FirstUser(ctx context.Context, companyID int64) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, "SELECT id FROM users WHERE company_id = ? ORDER BY id LIMIT 1", companyID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("company %d has no users: %w", companyID, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: first user: %w", err)
	}
	return id, nil
}
