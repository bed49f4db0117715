package sqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/identities-go/identities/store"
)

const connectionCols = `id, company_id, client_type, state, connected, connected_at, failed_at, assignment_id,
	owner_user_id, account_id, client_id, client_alias, manually_updated_at, alias_updated_at, deleted_at,
	requestor_id, product, write_access_enabled, source_preference, security_label, jql_query, authorized,
	provider_types, code, group_label`

func scanConnection(sc interface{ Scan(...any) error }, c *store.Connection) error {
	return sc.Scan(&c.ID, &c.CompanyID, &c.ClientType, &c.State, &c.Connected, nullTimeCol{&c.ConnectedAt}, nullTimeCol{&c.FailedAt}, &c.AssignmentID,
		&c.OwnerUserID, &c.AccountID, &c.ClientID, &c.ClientAlias, nullTimeCol{&c.ManuallyUpdatedAt}, nullTimeCol{&c.AliasUpdatedAt}, nullTimeCol{&c.DeletedAt},
		&c.RequestorID, jsonCol{&c.Product}, &c.WriteAccessEnabled, &c.SourcePreference, &c.SecurityLabel, &c.JQLQuery, &c.Authorized,
		jsonCol{&c.ProviderTypes}, &c.Code, &c.GroupLabel)
}

const userCols = `id, company_id, entry_id, email, first_name, last_name, job_title, terms_agreed_at, roles, created_at, updated_at`

func scanUser(sc interface{ Scan(...any) error }, u *store.User) error {
	return sc.Scan(&u.ID, &u.CompanyID, &u.EntryID, &u.Email, &u.FirstName, &u.LastName, &u.JobTitle,
		nullTimeCol{&u.TermsAgreedAt}, jsonCol{&u.Roles}, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
}

// loadGraph fills in the connections and users that views refer to, with
// each user's background checks, person identities (and their connections)
// and documents: six queries, whatever len(views) is.
// Only records of companyID are loaded, whatever the rows point at.
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

func loadConnections(ctx context.Context, q querier, companyID int64, ids []int64) (map[int64]*store.Connection, error) {
	out := make(map[int64]*store.Connection)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT "+connectionCols+" FROM connections WHERE company_id = ? AND id IN (SELECT value FROM json_each(?))", companyID, idList(uniq(ids)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: load connections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c := new(store.Connection)
		if err := scanConnection(rows, c); err != nil {
			return nil, fmt.Errorf("sqlite: scan connection: %w", err)
		}
		out[c.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load connections: %w", err)
	}
	return out, nil
}

// loadUsers loads users with their nested records in five queries.
func loadUsers(ctx context.Context, q querier, companyID int64, ids []int64) (map[int64]*store.User, error) {
	out := make(map[int64]*store.User)
	if len(ids) == 0 {
		return out, nil
	}
	list := idList(uniq(ids))
	rows, err := q.QueryContext(ctx, "SELECT "+userCols+" FROM users WHERE company_id = ? AND id IN (SELECT value FROM json_each(?))", companyID, list)
	if err != nil {
		return nil, fmt.Errorf("sqlite: load users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u := &store.User{BackgroundChecks: []store.BackgroundCheck{}, Identities: []store.PersonIdentity{}, Documents: []store.Document{}}
		if err := scanUser(rows, u); err != nil {
			return nil, fmt.Errorf("sqlite: scan user: %w", err)
		}
		out[u.ID] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: load users: %w", err)
	}
	if err := loadBackgroundChecks(ctx, q, list, out); err != nil {
		return nil, err
	}
	if err := loadPersonIdentities(ctx, q, companyID, list, out); err != nil {
		return nil, err
	}
	return out, loadDocuments(ctx, q, list, out)
}

func loadBackgroundChecks(ctx context.Context, q querier, list string, users map[int64]*store.User) error {
	rows, err := q.QueryContext(ctx, `SELECT id, user_id, status, case_id, case_invitation_id, manual_check_date, manually_check_url,
		type, source, report_data, out_of_scope_reason, out_of_scope_at, invitation_email, linked_at, created_at, updated_at
		FROM background_checks WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id`, list)
	if err != nil {
		return fmt.Errorf("sqlite: load background checks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b store.BackgroundCheck
		if err := rows.Scan(&b.ID, &b.UserID, &b.Status, &b.CaseID, &b.CaseInvitationID, nullTimeCol{&b.ManualCheckDate}, &b.ManuallyCheckURL,
			&b.Type, &b.Source, &b.ReportData, &b.OutOfScopeReason, nullTimeCol{&b.OutOfScopeAt}, &b.InvitationEmail, nullTimeCol{&b.LinkedAt},
			timeCol{&b.CreatedAt}, timeCol{&b.UpdatedAt}); err != nil {
			return fmt.Errorf("sqlite: scan background check: %w", err)
		}
		if u := users[b.UserID]; u != nil {
			u.BackgroundChecks = append(u.BackgroundChecks, b)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load background checks: %w", err)
	}
	return nil
}

func loadPersonIdentities(ctx context.Context, q querier, companyID int64, list string, users map[int64]*store.User) error {
	rows, err := q.QueryContext(ctx, `SELECT id, user_id, connection_id, identity_id, username, connected_at, disconnected_at, has_mfa, has_idp,
		secondary_email, first_name, last_name, started_at, separated_at, is_contractor, job_title, manager_id, manager_name
		FROM person_identities WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id`, list)
	if err != nil {
		return fmt.Errorf("sqlite: load person identities: %w", err)
	}
	defer rows.Close()
	var connIDs []int64
	type ref struct {
		user  *store.User
		index int
		conn  int64
	}
	var refs []ref
	for rows.Next() {
		var p store.PersonIdentity
		var connID *int64
		if err := rows.Scan(&p.ID, &p.UserID, &connID, &p.IdentityID, &p.Username, nullTimeCol{&p.ConnectedAt}, nullTimeCol{&p.DisconnectedAt},
			&p.HasMFA, &p.HasIDP, &p.SecondaryEmail, &p.FirstName, &p.LastName, nullTimeCol{&p.StartedAt}, nullTimeCol{&p.SeparatedAt},
			&p.IsContractor, &p.JobTitle, &p.ManagerID, &p.ManagerName); err != nil {
			return fmt.Errorf("sqlite: scan person identity: %w", err)
		}
		u := users[p.UserID]
		if u == nil {
			continue
		}
		u.Identities = append(u.Identities, p)
		if connID != nil {
			connIDs = append(connIDs, *connID)
			refs = append(refs, ref{u, len(u.Identities) - 1, *connID})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load person identities: %w", err)
	}
	rows.Close()
	conns, err := loadConnections(ctx, q, companyID, connIDs)
	if err != nil {
		return err
	}
	for _, r := range refs {
		r.user.Identities[r.index].Connection = conns[r.conn]
	}
	return nil
}

func loadDocuments(ctx context.Context, q querier, list string, users map[int64]*store.User) error {
	rows, err := q.QueryContext(ctx, `SELECT id, user_id, name, type, file_url, renewal_date, created_at, updated_at
		FROM documents WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id`, list)
	if err != nil {
		return fmt.Errorf("sqlite: load documents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d store.Document
		if err := rows.Scan(&d.ID, &d.UserID, &d.Name, &d.Type, &d.FileURL, nullTimeCol{&d.RenewalDate}, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}); err != nil {
			return fmt.Errorf("sqlite: scan document: %w", err)
		}
		if u := users[d.UserID]; u != nil {
			u.Documents = append(u.Documents, d)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load documents: %w", err)
	}
	return nil
}
