package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// querier is what a pool and a transaction both offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// loadGraph fills in the connections and users that views refer to, with
// each user's background checks, person identities (and their
// connections) and documents: six queries, whatever len(views) is. Only
// records of companyID are loaded, whatever the rows point at.
func loadGraph(ctx context.Context, q querier, companyID int64, views []store.IdentityView) error {
	return store.LinkViews(views,
		func(ids []int64) (map[int64]*store.Connection, error) { return loadConnections(ctx, q, companyID, ids) },
		func(ids []int64) (map[int64]*store.User, error) { return loadUsers(ctx, q, companyID, ids) })
}

// uniq sorts ids and drops repeats.
func uniq(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// each runs query and calls fn on each row, wrapping any error with what.
func each(ctx context.Context, q querier, what, query string, args []any, fn func(pgx.Rows) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: load %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("postgres: scan %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: load %s: %w", what, err)
	}
	return nil
}

// loadConnections always runs its query, so that a page costs the same
// number of statements whether or not it refers to any.
func loadConnections(ctx context.Context, q querier, companyID int64, ids []int64) (map[int64]*store.Connection, error) {
	out := make(map[int64]*store.Connection)
	err := each(ctx, q, "connections", "SELECT "+connectionCols+" FROM connections c WHERE c.company_id = $1 AND c.id = ANY($2)",
		[]any{companyID, uniq(ids)}, func(rows pgx.Rows) error {
			c := new(store.Connection)
			if err := rows.Scan(connectionDest(c)...); err != nil {
				return err
			}
			out[c.ID] = c
			return nil
		})
	return out, err
}

// loadUsers loads users with their nested records in five queries.
func loadUsers(ctx context.Context, q querier, companyID int64, ids []int64) (map[int64]*store.User, error) {
	out := make(map[int64]*store.User)
	ids = uniq(ids)
	err := each(ctx, q, "users", "SELECT "+userCols+" FROM users u WHERE u.company_id = $1 AND u.id = ANY($2)",
		[]any{companyID, ids}, func(rows pgx.Rows) error {
			u := &store.User{BackgroundChecks: []store.BackgroundCheck{}, Identities: []store.PersonIdentity{}, Documents: []store.Document{}}
			if err := rows.Scan(userDest(u)...); err != nil {
				return err
			}
			out[u.ID] = u
			return nil
		})
	if err != nil {
		return nil, err
	}
	// Only the users found: their ids are the company's.
	ids = ids[:0]
	for id := range out {
		ids = append(ids, id)
	}
	if err := loadBackgroundChecks(ctx, q, ids, out); err != nil {
		return nil, err
	}
	if err := loadPersonIdentities(ctx, q, companyID, ids, out); err != nil {
		return nil, err
	}
	return out, loadDocuments(ctx, q, ids, out)
}

func loadBackgroundChecks(ctx context.Context, q querier, ids []int64, users map[int64]*store.User) error {
	return each(ctx, q, "background checks", `SELECT id, user_id, status, case_id, case_invitation_id, manual_check_date, manually_check_url,
		type, source, report_data, out_of_scope_reason, out_of_scope_at, invitation_email, linked_at, created_at, updated_at
		FROM background_checks WHERE user_id = ANY($1) ORDER BY user_id, id`, []any{ids}, func(rows pgx.Rows) error {
		var b store.BackgroundCheck
		if err := rows.Scan(&b.ID, &b.UserID, &b.Status, &b.CaseID, &b.CaseInvitationID, &b.ManualCheckDate, &b.ManuallyCheckURL,
			&b.Type, &b.Source, &b.ReportData, &b.OutOfScopeReason, &b.OutOfScopeAt, &b.InvitationEmail, &b.LinkedAt,
			&b.CreatedAt, &b.UpdatedAt); err != nil {
			return err
		}
		if u := users[b.UserID]; u != nil {
			u.BackgroundChecks = append(u.BackgroundChecks, b)
		}
		return nil
	})
}

// loadPersonIdentities loads the users' person identities with their
// connections (of companyID only), in one query.
func loadPersonIdentities(ctx context.Context, q querier, companyID int64, ids []int64, users map[int64]*store.User) error {
	return each(ctx, q, "person identities", `SELECT p.id, p.user_id, p.identity_id, p.username, p.connected_at, p.disconnected_at, p.has_mfa, p.has_idp,
		p.secondary_email, p.first_name, p.last_name, p.started_at, p.separated_at, p.is_contractor, p.job_title, p.manager_id, p.manager_name,
		c.id IS NOT NULL, `+connectionCols+`
		FROM person_identities p LEFT JOIN connections c ON c.id = p.connection_id AND c.company_id = $2
		WHERE p.user_id = ANY($1) ORDER BY p.user_id, p.id`, []any{ids, companyID}, func(rows pgx.Rows) error {
		var p store.PersonIdentity
		var hasConn bool
		var c connectionRow
		dest := []any{&p.ID, &p.UserID, &p.IdentityID, &p.Username, &p.ConnectedAt, &p.DisconnectedAt, &p.HasMFA, &p.HasIDP,
			&p.SecondaryEmail, &p.FirstName, &p.LastName, &p.StartedAt, &p.SeparatedAt, &p.IsContractor, &p.JobTitle, &p.ManagerID, &p.ManagerName,
			&hasConn}
		if err := rows.Scan(append(dest, c.dest()...)...); err != nil {
			return err
		}
		if hasConn {
			p.Connection = c.connection()
		}
		if u := users[p.UserID]; u != nil {
			u.Identities = append(u.Identities, p)
		}
		return nil
	})
}

func loadDocuments(ctx context.Context, q querier, ids []int64, users map[int64]*store.User) error {
	return each(ctx, q, "documents", `SELECT id, user_id, name, type, file_url, renewal_date, created_at, updated_at
		FROM documents WHERE user_id = ANY($1) ORDER BY user_id, id`, []any{ids}, func(rows pgx.Rows) error {
		var d store.Document
		if err := rows.Scan(&d.ID, &d.UserID, &d.Name, &d.Type, &d.FileURL, &d.RenewalDate, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return err
		}
		if u := users[d.UserID]; u != nil {
			u.Documents = append(u.Documents, d)
		}
		return nil
	})
}
