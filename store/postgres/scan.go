package postgres

import (
	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// identityCols are the columns scanIdentity reads, of identities as i.
const identityCols = `i.id, i.company_id, i.family, i.connection_id, i.identity_id, i.username, i.email,
	i.connected_at, i.disconnected_at, i.service_account_at, i.service_account_reason,
	i.user_id, i.designator_id, i.has_mfa, i.last_checked_at, i.created_at, i.updated_at,
	i.access_a_at, i.access_b_at`

// identityDest returns the scan targets of identityCols for it, and the
// family code to convert after the scan.
func identityDest(it *store.Identity, family *int16) []any {
	return []any{&it.ID, &it.CompanyID, family, &it.ConnectionID, &it.IdentityID, &it.Username, &it.Email,
		&it.ConnectedAt, &it.DisconnectedAt, &it.ServiceAccountAt, &it.ServiceAccountReason,
		&it.UserID, &it.DesignatorID, &it.HasMFA, &it.LastCheckedAt, &it.CreatedAt, &it.UpdatedAt,
		&it.AccessA, &it.AccessB}
}

func scanIdentity(row pgx.Row, it *store.Identity) error {
	var family int16
	if err := row.Scan(identityDest(it, &family)...); err != nil {
		return err
	}
	it.Family = store.FamilyOf(int64(family))
	return nil
}

const connectionCols = `c.id, c.company_id, c.client_type, c.state, c.connected, c.connected_at, c.failed_at, c.assignment_id,
	c.owner_user_id, c.account_id, c.client_id, c.client_alias, c.manually_updated_at, c.alias_updated_at, c.deleted_at,
	c.requestor_id, c.product, c.write_access_enabled, c.source_preference, c.security_label, c.jql_query, c.authorized,
	c.provider_types, c.code, c.group_label`

func connectionDest(c *store.Connection) []any {
	return []any{&c.ID, &c.CompanyID, &c.ClientType, &c.State, &c.Connected, &c.ConnectedAt, &c.FailedAt, &c.AssignmentID,
		&c.OwnerUserID, &c.AccountID, &c.ClientID, &c.ClientAlias, &c.ManuallyUpdatedAt, &c.AliasUpdatedAt, &c.DeletedAt,
		&c.RequestorID, &c.Product, &c.WriteAccessEnabled, &c.SourcePreference, &c.SecurityLabel, &c.JQLQuery, &c.Authorized,
		&c.ProviderTypes, &c.Code, &c.GroupLabel}
}

const userCols = `u.id, u.company_id, u.entry_id, u.email, u.first_name, u.last_name, u.job_title, u.terms_agreed_at,
	u.roles, u.created_at, u.updated_at`

func userDest(u *store.User) []any {
	return []any{&u.ID, &u.CompanyID, &u.EntryID, &u.Email, &u.FirstName, &u.LastName, &u.JobTitle, &u.TermsAgreedAt,
		&u.Roles, &u.CreatedAt, &u.UpdatedAt}
}

// orEmpty returns s, or an empty slice for nil: array columns are NOT NULL.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// connectionRow scans connectionCols of an outer join, where every column
// may be NULL.
type connectionRow struct {
	c                                  store.Connection
	id, companyID                      *int64
	clientType, state                  *string
	connected, writeAccess, authorized *bool
}

func (r *connectionRow) dest() []any {
	d := connectionDest(&r.c)
	d[0], d[1], d[2], d[3], d[4] = &r.id, &r.companyID, &r.clientType, &r.state, &r.connected
	d[17], d[21] = &r.writeAccess, &r.authorized
	return d
}

// connection returns the scanned connection; the row must hold one.
func (r *connectionRow) connection() *store.Connection {
	c := r.c
	c.ID, c.CompanyID, c.ClientType, c.State, c.Connected = *r.id, *r.companyID, *r.clientType, *r.state, *r.connected
	c.WriteAccessEnabled, c.Authorized = *r.writeAccess, *r.authorized
	return &c
}
