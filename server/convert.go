package server

import (
	"strconv"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/store"
)

// converter turns store records into API types. It converts each user once
// per response, however often the user appears in it.
type converter struct {
	users map[int64]*gen.User
}

func newConverter() *converter { return &converter{users: make(map[int64]*gen.User)} }

// common holds the fields both identity families share.
type common struct {
	user, designator *gen.User
	connection       gen.Connection
}

func (c *converter) common(v *store.IdentityView) common {
	conn := c.connection(v.Connection, v.ConnectionOwner)
	return common{
		user:       c.user(v.User),
		designator: c.user(v.Designator),
		connection: *conn,
	}
}

func (c *converter) infrastructure(v *store.IdentityView) gen.InfrastructureIdentity {
	x := c.common(v)
	return gen.InfrastructureIdentity{
		Id:                       v.ID,
		IdentityId:               v.IdentityID,
		Username:                 v.Username,
		Email:                    v.Email,
		ConnectedAt:              v.ConnectedAt,
		DisconnectedAt:           v.DisconnectedAt,
		ServiceAccount:           v.ServiceAccountAt,
		ServiceAccountReason:     v.ServiceAccountReason,
		User:                     x.user,
		ServiceAccountDesignator: x.designator,
		HasMfa:                   v.HasMFA,
		Connection:               x.connection,
		LastCheckedAt:            v.LastCheckedAt,
		CreatedAt:                v.CreatedAt,
		UpdatedAt:                v.UpdatedAt,
		AdminAccess:              v.AccessA,
		DbAccess:                 v.AccessB,
	}
}

func (c *converter) versionControl(v *store.IdentityView) gen.VersionControlIdentity {
	x := c.common(v)
	return gen.VersionControlIdentity{
		Id:                       v.ID,
		IdentityId:               v.IdentityID,
		Username:                 v.Username,
		Email:                    v.Email,
		ConnectedAt:              v.ConnectedAt,
		DisconnectedAt:           v.DisconnectedAt,
		ServiceAccount:           v.ServiceAccountAt,
		ServiceAccountReason:     v.ServiceAccountReason,
		User:                     x.user,
		ServiceAccountDesignator: x.designator,
		HasMfa:                   v.HasMFA,
		Connection:               x.connection,
		LastCheckedAt:            v.LastCheckedAt,
		CreatedAt:                v.CreatedAt,
		UpdatedAt:                v.UpdatedAt,
		WriteAccess:              v.AccessA,
		PushProductionCodeAccess: v.AccessB,
	}
}

// connection converts a connection; owner (may be nil) becomes its user.
func (c *converter) connection(s *store.Connection, owner *store.User) *gen.Connection {
	if s == nil {
		return nil
	}
	out := &gen.Connection{
		Id:                 strconv.FormatInt(s.ID, 10),
		ClientType:         s.ClientType,
		State:              s.State,
		Connected:          s.Connected,
		ConnectedAt:        s.ConnectedAt,
		FailedAt:           s.FailedAt,
		CompanyId:          strconv.FormatInt(s.CompanyID, 10),
		AssignmentId:       s.AssignmentID,
		User:               c.user(owner),
		AccountId:          s.AccountID,
		ClientId:           s.ClientID,
		ClientAlias:        s.ClientAlias,
		ManuallyUpdatedAt:  s.ManuallyUpdatedAt,
		AliasUpdatedAt:     s.AliasUpdatedAt,
		DeletedAt:          s.DeletedAt,
		RequestorId:        s.RequestorID,
		WriteAccessEnabled: s.WriteAccessEnabled,
		SourcePreference:   s.SourcePreference,
		SecurityLabel:      s.SecurityLabel,
		JqlQuery:           s.JQLQuery,
		Authorized:         s.Authorized,
		Workspaces:         []map[string]any{},
		ProviderTypes:      s.ProviderTypes,
		Code:               s.Code,
		GroupLabel:         s.GroupLabel,
	}
	if out.ProviderTypes == nil {
		out.ProviderTypes = []int64{}
	}
	if s.Product != nil {
		p := s.Product
		out.Product = &p
	}
	return out
}

// user converts a full user. Inside it the recursion stops: background
// checks and person identities carry user null, and the connections of
// person identities carry user null.
func (c *converter) user(s *store.User) *gen.User {
	if s == nil {
		return nil
	}
	if u, ok := c.users[s.ID]; ok {
		return u
	}
	u := &gen.User{
		Id:                 s.ID,
		EntryId:            s.EntryID,
		Email:              s.Email,
		FirstName:          s.FirstName,
		LastName:           s.LastName,
		JobTitle:           s.JobTitle,
		DrataTermsAgreedAt: s.TermsAgreedAt,
		CreatedAt:          s.CreatedAt,
		UpdatedAt:          s.UpdatedAt,
		Roles:              s.Roles,
		BackgroundChecks:   make([]gen.BackgroundCheck, len(s.BackgroundChecks)),
		Identities:         make([]gen.PersonIdentity, len(s.Identities)),
		Documents:          []gen.DocumentPage{},
	}
	if u.Roles == nil {
		u.Roles = []string{}
	}
	for i, b := range s.BackgroundChecks {
		u.BackgroundChecks[i] = gen.BackgroundCheck{
			Id: b.ID, UserId: b.UserID, Status: b.Status, CaseId: b.CaseID, CaseInvitationId: b.CaseInvitationID,
			ManualCheckDate: date(b.ManualCheckDate), ManuallyCheckUrl: b.ManuallyCheckURL, Type: b.Type, Source: b.Source,
			ReportData: b.ReportData, OutOfScopeReason: b.OutOfScopeReason, OutOfScopeAt: b.OutOfScopeAt,
			InvitationEmail: b.InvitationEmail, LinkedAt: b.LinkedAt, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt,
		}
	}
	for i, p := range s.Identities {
		u.Identities[i] = gen.PersonIdentity{
			Id: p.ID, IdentityId: p.IdentityID, Username: p.Username, ConnectedAt: p.ConnectedAt, DisconnectedAt: p.DisconnectedAt,
			HasMfa: p.HasMFA, Connection: c.connection(p.Connection, nil), HasIdp: p.HasIDP, SecondaryEmail: p.SecondaryEmail,
			FirstName: p.FirstName, LastName: p.LastName, StartedAt: p.StartedAt, SeparatedAt: p.SeparatedAt,
			IsContractor: p.IsContractor, JobTitle: p.JobTitle, ManagerId: p.ManagerID, ManagerName: p.ManagerName,
		}
	}
	if len(s.Documents) > 0 {
		docs := make([]gen.Document, len(s.Documents))
		for i, d := range s.Documents {
			docs[i] = gen.Document{
				Id: &d.ID, Name: &d.Name, Type: &d.Type, FileUrl: d.FileURL, RenewalDate: date(d.RenewalDate),
				CreatedAt: &d.CreatedAt, UpdatedAt: &d.UpdatedAt,
			}
		}
		n := int64(len(docs))
		u.Documents = []gen.DocumentPage{{Data: docs, Page: 1, Limit: max(n, 10), Total: n}}
	}
	c.users[s.ID] = u
	return u
}

func date(t *time.Time) *openapi_types.Date {
	if t == nil {
		return nil
	}
	return &openapi_types.Date{Time: *t}
}
