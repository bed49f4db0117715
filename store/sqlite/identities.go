package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/identities-go/identities/store"
)

const identityCols = `i.id, i.company_id, i.family, i.connection_id, i.identity_id, i.username, i.email,
	i.connected_at, i.disconnected_at, i.service_account_at, i.service_account_reason,
	i.user_id, i.designator_id, i.has_mfa, i.last_checked_at, i.created_at, i.updated_at,
	i.access_a_at, i.access_b_at`

func scanIdentity(sc interface{ Scan(...any) error }, it *store.Identity) error {
	var family string
	err := sc.Scan(&it.ID, &it.CompanyID, &family, &it.ConnectionID, &it.IdentityID, &it.Username, &it.Email,
		nullTimeCol{&it.ConnectedAt}, nullTimeCol{&it.DisconnectedAt}, nullTimeCol{&it.ServiceAccountAt}, &it.ServiceAccountReason,
		&it.UserID, &it.DesignatorID, &it.HasMFA, nullTimeCol{&it.LastCheckedAt}, timeCol{&it.CreatedAt}, timeCol{&it.UpdatedAt},
		nullTimeCol{&it.AccessA}, nullTimeCol{&it.AccessB})
	it.Family = store.Family(family)
	return err
}

// sortExpr maps each sort key to the SQL it orders by. Text sorts ignore case.
var sortExpr = map[store.Sort]string{
	store.SortIdentityID:       "i.identity_id COLLATE NOCASE",
	store.SortUsername:         "i.username COLLATE NOCASE",
	store.SortEmail:            "i.email COLLATE NOCASE",
	store.SortConnectedAt:      "i.connected_at",
	store.SortDisconnectedAt:   "i.disconnected_at",
	store.SortServiceAccount:   "i.service_account_at",
	store.SortHasMFA:           "i.has_mfa",
	store.SortAdminAccess:      "i.access_a_at",
	store.SortDBAccess:         "i.access_b_at",
	store.SortWriteAccess:      "i.access_a_at",
	store.SortPushProdAccess:   "i.access_b_at",
	store.SortUser:             "(u.first_name || ' ' || u.last_name) COLLATE NOCASE",
	store.SortClientID:         "c.client_id COLLATE NOCASE",
	store.SortClientAlias:      "c.client_alias COLLATE NOCASE",
	store.SortConnectionStatus: "c.state COLLATE NOCASE",
}

// ErrBadQuery reports a ListQuery the store cannot run.
var ErrBadQuery = errors.New("sqlite: bad list query")

// ListIdentities runs two queries for the page and its total, and six more
// for the records nested in it, whatever the page size.
func (s *Store) ListIdentities(ctx context.Context, q store.ListQuery) (store.Page, error) {
	order, ok := sortExpr[q.Sort]
	if !ok || !q.Family.Valid() || q.Page < 1 || q.Limit < 1 {
		return store.Page{}, fmt.Errorf("%w: sort %q, family %q, page %d, limit %d", ErrBadQuery, q.Sort, q.Family, q.Page, q.Limit)
	}
	where := []string{"i.company_id = ?", "i.family = ?"}
	args := []any{q.CompanyID, string(q.Family)}
	if q.Q != "" {
		// fold is the Go function registered in fold.go: Unicode case folding,
		// where SQLite's lower() folds ASCII letters only.
		needle := fold(q.Q)
		where = append(where, "(instr(fold(i.identity_id), ?) OR instr(fold(i.username), ?) OR instr(fold(coalesce(i.email, '')), ?))")
		args = append(args, needle, needle, needle)
	}
	if q.ClientType != "" {
		where = append(where, "c.client_type = ?")
		args = append(args, q.ClientType)
	}
	if q.ConnectionID != 0 {
		where = append(where, "i.connection_id = ?")
		args = append(args, q.ConnectionID)
	}
	cond := strings.Join(where, " AND ")
	dir := "ASC"
	if q.Descending {
		dir = "DESC"
	}

	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var page store.Page
	countSQL := "SELECT count(*) FROM identities i JOIN connections c ON c.id = i.connection_id AND c.company_id = i.company_id WHERE " + cond
	if err := tx.QueryRowContext(ctx, countSQL, args...).Scan(&page.Total); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: count identities: %w", err)
	}
	if q.Page-1 > (math.MaxInt64-q.Limit)/q.Limit || (q.Page-1)*q.Limit >= page.Total {
		return page, nil
	}
	pageSQL := fmt.Sprintf(`SELECT %s FROM identities i
		JOIN connections c ON c.id = i.connection_id AND c.company_id = i.company_id
		LEFT JOIN users u ON u.id = i.user_id AND u.company_id = i.company_id
		WHERE %s ORDER BY %s %s, i.id %s LIMIT ? OFFSET ?`, identityCols, cond, order, dir, dir)
	rows, err := tx.QueryContext(ctx, pageSQL, append(args, q.Limit, (q.Page-1)*q.Limit)...)
	if err != nil {
		return store.Page{}, fmt.Errorf("sqlite: list identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v store.IdentityView
		if err := scanIdentity(rows, &v.Identity); err != nil {
			return store.Page{}, fmt.Errorf("sqlite: scan identity: %w", err)
		}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("sqlite: list identities: %w", err)
	}
	if err := loadGraph(ctx, tx, q.CompanyID, page.Items); err != nil {
		return store.Page{}, err
	}
	return page, nil
}

// GetIdentity returns one identity of the company with its nested records.
func (s *Store) GetIdentity(ctx context.Context, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.IdentityView{}, fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return getIdentity(ctx, tx, companyID, family, id)
}

func getIdentity(ctx context.Context, q querier, companyID int64, family store.Family, id int64) (store.IdentityView, error) {
	views := make([]store.IdentityView, 1)
	row := q.QueryRowContext(ctx, "SELECT "+identityCols+" FROM identities i WHERE i.id = ? AND i.company_id = ? AND i.family = ?", id, companyID, string(family))
	if err := scanIdentity(row, &views[0].Identity); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return store.IdentityView{}, fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
		}
		return store.IdentityView{}, fmt.Errorf("sqlite: get identity: %w", err)
	}
	if err := loadGraph(ctx, q, companyID, views); err != nil {
		return store.IdentityView{}, err
	}
	return views[0], nil
}

// change runs fn on the company's identity in one write transaction and
// returns the identity as it then is. fn gets the time to record: now, or
// the identity's updatedAt if that is later, so that updatedAt never goes
// backwards even when a request that read the clock earlier commits later.
func (s *Store) change(ctx context.Context, companyID int64, family store.Family, id int64, now time.Time, fn func(tx *sql.Tx, cur *store.Identity, now time.Time) error) (store.IdentityView, error) {
	var out store.IdentityView
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var cur store.Identity
		row := tx.QueryRowContext(ctx, "SELECT "+identityCols+" FROM identities i WHERE i.id = ? AND i.company_id = ? AND i.family = ?", id, companyID, string(family))
		if err := scanIdentity(row, &cur); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%s identity %d: %w", family, id, store.ErrNotFound)
			}
			return fmt.Errorf("sqlite: read identity: %w", err)
		}
		if now.Before(cur.UpdatedAt) {
			now = cur.UpdatedAt
		}
		if err := fn(tx, &cur, now); err != nil {
			return err
		}
		v, err := getIdentity(ctx, tx, companyID, family, id)
		out = v
		return err
	})
	return out, err
}

// Connect links the identity to a user of the same company, or unlinks it.
// Linking sets connectedAt and clears disconnectedAt; unlinking sets
// disconnectedAt. A request that changes nothing leaves every field as it was.
func (s *Store) Connect(ctx context.Context, companyID int64, family store.Family, id int64, userID *int64, now time.Time) (store.IdentityView, error) {
	return s.change(ctx, companyID, family, id, now, func(tx *sql.Tx, cur *store.Identity, now time.Time) error {
		if userID == nil {
			if cur.UserID == nil {
				return nil
			}
			_, err := tx.ExecContext(ctx, "UPDATE identities SET user_id = NULL, disconnected_at = ?, updated_at = ? WHERE id = ?", ms(now), ms(now), id)
			return wrapExec(err)
		}
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ? AND company_id = ?", *userID, companyID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", *userID, store.ErrUserNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: find user: %w", err)
		}
		if cur.UserID != nil && *cur.UserID == *userID {
			return nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE identities SET user_id = ?, connected_at = ?, disconnected_at = NULL, updated_at = ? WHERE id = ?", *userID, ms(now), ms(now), id)
		return wrapExec(err)
	})
}

// SetAccess sets an access flag (keeping the original time when already set)
// or clears it.
func (s *Store) SetAccess(ctx context.Context, companyID int64, family store.Family, id int64, access store.Access, on bool, now time.Time) (store.IdentityView, error) {
	col := map[store.Access]string{store.AccessA: "access_a_at", store.AccessB: "access_b_at"}[access]
	if col == "" {
		return store.IdentityView{}, fmt.Errorf("%w: access flag %d", ErrBadQuery, access)
	}
	return s.change(ctx, companyID, family, id, now, func(tx *sql.Tx, cur *store.Identity, now time.Time) error {
		var err error
		if on {
			_, err = tx.ExecContext(ctx, "UPDATE identities SET "+col+" = ?, updated_at = ? WHERE id = ? AND "+col+" IS NULL", ms(now), ms(now), id)
		} else {
			_, err = tx.ExecContext(ctx, "UPDATE identities SET "+col+" = NULL, updated_at = ? WHERE id = ? AND "+col+" IS NOT NULL", ms(now), id)
		}
		return wrapExec(err)
	})
}

// SetServiceAccount marks the identity (recording the time, the reason and
// the acting user) or unmarks it (clearing all three).
func (s *Store) SetServiceAccount(ctx context.Context, companyID int64, family store.Family, id int64, c store.ServiceAccountChange, now time.Time) (store.IdentityView, error) {
	return s.change(ctx, companyID, family, id, now, func(tx *sql.Tx, cur *store.Identity, now time.Time) error {
		var err error
		if c.Mark {
			_, err = tx.ExecContext(ctx, `UPDATE identities
				SET service_account_at = coalesce(service_account_at, ?1), service_account_reason = ?2, designator_id = ?3, updated_at = ?1
				WHERE id = ?4 AND (service_account_at IS NULL OR service_account_reason IS NOT ?2 OR designator_id IS NOT ?3)`,
				ms(now), c.Reason, c.ActorID, id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE identities
				SET service_account_at = NULL, service_account_reason = NULL, designator_id = NULL, updated_at = ?
				WHERE id = ? AND (service_account_at IS NOT NULL OR service_account_reason IS NOT NULL OR designator_id IS NOT NULL)`,
				ms(now), id)
		}
		return wrapExec(err)
	})
}

func wrapExec(err error) error {
	if err != nil {
		return fmt.Errorf("sqlite: update identity: %w", err)
	}
	return nil
}
