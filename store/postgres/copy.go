package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/identities-go/identities/store"
)

// flatten returns the records of kind T that users hold, each with the
// user's id.
func flatten[T any](users []store.User, of func(*store.User) []T, setUser func(*T, int64)) []T {
	var out []T
	for i := range users {
		for _, r := range of(&users[i]) {
			setUser(&r, users[i].ID)
			out = append(out, r)
		}
	}
	return out
}

func copyChecks(ctx context.Context, tx pgx.Tx, users []store.User) error {
	bs := flatten(users, func(u *store.User) []store.BackgroundCheck { return u.BackgroundChecks },
		func(b *store.BackgroundCheck, id int64) { b.UserID = id })
	return copyTable(ctx, tx, "background_checks", []string{"id", "user_id", "status", "case_id", "case_invitation_id", "manual_check_date",
		"manually_check_url", "type", "source", "report_data", "out_of_scope_reason", "out_of_scope_at", "invitation_email", "linked_at",
		"created_at", "updated_at"}, len(bs), func(i int) []any {
		b := &bs[i]
		return []any{b.ID, b.UserID, b.Status, b.CaseID, b.CaseInvitationID, b.ManualCheckDate, b.ManuallyCheckURL, b.Type, b.Source,
			b.ReportData, b.OutOfScopeReason, b.OutOfScopeAt, b.InvitationEmail, b.LinkedAt, b.CreatedAt, b.UpdatedAt}
	})
}

func copyDocuments(ctx context.Context, tx pgx.Tx, users []store.User) error {
	ds := flatten(users, func(u *store.User) []store.Document { return u.Documents },
		func(d *store.Document, id int64) { d.UserID = id })
	return copyTable(ctx, tx, "documents", []string{"id", "user_id", "name", "type", "file_url", "renewal_date", "created_at", "updated_at"},
		len(ds), func(i int) []any {
			d := &ds[i]
			return []any{d.ID, d.UserID, d.Name, d.Type, d.FileURL, d.RenewalDate, d.CreatedAt, d.UpdatedAt}
		})
}

// copyPersons runs after the connections, which person identities refer to.
func copyPersons(ctx context.Context, tx pgx.Tx, users []store.User) error {
	ps := flatten(users, func(u *store.User) []store.PersonIdentity { return u.Identities },
		func(p *store.PersonIdentity, id int64) { p.UserID = id })
	return copyTable(ctx, tx, "person_identities", []string{"id", "user_id", "connection_id", "identity_id", "username", "connected_at",
		"disconnected_at", "has_mfa", "has_idp", "secondary_email", "first_name", "last_name", "started_at", "separated_at", "is_contractor",
		"job_title", "manager_id", "manager_name"}, len(ps), func(i int) []any {
		p := &ps[i]
		var connID *int64
		if p.Connection != nil {
			connID = &p.Connection.ID
		}
		return []any{p.ID, p.UserID, connID, p.IdentityID, p.Username, p.ConnectedAt, p.DisconnectedAt, p.HasMFA, p.HasIDP,
			p.SecondaryEmail, p.FirstName, p.LastName, p.StartedAt, p.SeparatedAt, p.IsContractor, p.JobTitle, p.ManagerID, p.ManagerName}
	})
}

// copyIdentities writes the identities with the copies the sorts and the
// search need, which the triggers set aside would otherwise write.
func copyIdentities(ctx context.Context, tx pgx.Tx, r *store.Refs, its []store.Identity) error {
	return copyTable(ctx, tx, "identities", []string{"id", "company_id", "family", "connection_id", "identity_id", "username", "email",
		"connected_at", "disconnected_at", "service_account_at", "service_account_reason", "user_id", "designator_id", "has_mfa",
		"last_checked_at", "created_at", "updated_at", "access_a_at", "access_b_at",
		"user_name_key", "client_id_key", "client_alias_key", "state_key", "identity_id_fold", "username_fold", "email_fold"},
		len(its), func(k int) []any {
			i := &its[k]
			var userName *string
			if i.UserID != nil {
				name := asciiLower(r.UserName(*i.UserID))
				userName = &name
			}
			c := r.Connection(i.ConnectionID)
			email := ""
			if i.Email != nil {
				email = *i.Email
			}
			return []any{i.ID, i.CompanyID, i.Family.Code(), i.ConnectionID, i.IdentityID, i.Username, i.Email,
				i.ConnectedAt, i.DisconnectedAt, i.ServiceAccountAt, i.ServiceAccountReason, i.UserID, i.DesignatorID, i.HasMFA,
				i.LastCheckedAt, i.CreatedAt, i.UpdatedAt, i.AccessA, i.AccessB,
				userName, asciiLowerPtr(c.ClientID), asciiLowerPtr(c.ClientAlias), asciiLower(c.State),
				fold(i.IdentityID), fold(i.Username), fold(email)}
		})
}

func asciiLowerPtr(s *string) *string {
	if s == nil {
		return nil
	}
	l := asciiLower(*s)
	return &l
}
