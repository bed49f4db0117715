package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

const identityByID = "SELECT " + identityCols + " FROM identities i WHERE i.id = $1 AND i.company_id = $2 AND i.family = $3"

// GetIdentity returns one identity of the company with its nested records.
func (s *Store) GetIdentity(ctx context.Context, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	var v store.IdentityView
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		v, err = getIdentity(ctx, tx, companyID, family, id)
		return err
	})
	return v, err
}

func getIdentity(ctx context.Context, q querier, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	views := make([]store.IdentityView, 1)
	if err := scanIdentity(q.QueryRow(ctx, identityByID, id, companyID, family.Code()), &views[0].Identity); err != nil {
		if errNoRows(err) {
			return store.IdentityView{}, fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
		}
		return store.IdentityView{}, fmt.Errorf("postgres: get identity: %w", err)
	}
	if err := loadGraph(ctx, q, companyID, views); err != nil {
		return store.IdentityView{}, err
	}
	return views[0], nil
}

// UpdateIdentity reads and locks the identity (SELECT … FOR UPDATE, so
// that a writer on another replica waits for this one and then reads its
// result), applies change with store.Apply and writes back the changed
// row, all in one transaction, retried on a serialization failure or a
// deadlock.
func (s *Store) UpdateIdentity(ctx context.Context, companyID int64, family store.Family, id int64, change store.Change, now time.Time) (store.IdentityView, error) {
	var out store.IdentityView
	err := s.writeTx(ctx, func(tx pgx.Tx) error {
		var cur store.Identity
		if err := scanIdentity(tx.QueryRow(ctx, identityByID+" FOR UPDATE", id, companyID, family.Code()), &cur); err != nil {
			if errNoRows(err) {
				return fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
			}
			return fmt.Errorf("postgres: read identity: %w", err)
		}
		if user := store.LinkedUser(change); user != nil {
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = $1 AND company_id = $2", *user, companyID).Scan(&one)
			if errNoRows(err) {
				return fmt.Errorf("user %d: %w", *user, store.ErrUserNotFound)
			}
			if err != nil {
				return fmt.Errorf("postgres: find user: %w", err)
			}
		}
		changed, err := store.Apply(change, &cur, now)
		if err != nil {
			return err
		}
		if changed {
			_, err := tx.Exec(ctx, `UPDATE identities SET user_id = $1, connected_at = $2, disconnected_at = $3,
				service_account_at = $4, service_account_reason = $5, designator_id = $6, access_a_at = $7, access_b_at = $8, updated_at = $9
				WHERE id = $10`,
				cur.UserID, cur.ConnectedAt, cur.DisconnectedAt, cur.ServiceAccountAt, cur.ServiceAccountReason,
				cur.DesignatorID, cur.AccessA, cur.AccessB, cur.UpdatedAt, id)
			if err != nil {
				return fmt.Errorf("postgres: update identity: %w", err)
			}
		}
		out, err = getIdentity(ctx, tx, companyID, family, id)
		return err
	})
	return out, err
}
