package server

import (
	"context"
	"time"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/store"
)

// handlers implements the generated strict interface over a store. Each
// method reads its input, calls the store once and converts the result;
// errors go to the one error writer, which maps them to statuses.
type handlers struct {
	store store.Identities
	now   func() time.Time
}

var _ gen.StrictServerInterface = (*handlers)(nil)

const (
	defaultPage  = 1
	defaultLimit = 20
)

// listQuery fills in the documented defaults.
func listQuery(ctx context.Context, family store.Family, page, limit *int64, q *string, clientType *string, connectionID *int64, sort *string, dir *gen.SortDir) store.ListQuery {
	lq := store.ListQuery{
		CompanyID:    principalFrom(ctx).Company.ID,
		Family:       family,
		Page:         deref(page, defaultPage),
		Limit:        deref(limit, defaultLimit),
		Q:            deref(q, ""),
		ClientType:   deref(clientType, ""),
		ConnectionID: deref(connectionID, 0),
		Sort:         store.Sort(deref(sort, string(store.SortUsername))),
		Descending:   dir != nil && *dir == gen.SortDirDESC,
	}
	return lq
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func enumString[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

func (h *handlers) ListInfrastructureIdentities(ctx context.Context, req gen.ListInfrastructureIdentitiesRequestObject) (gen.ListInfrastructureIdentitiesResponseObject, error) {
	p := req.Params
	q := listQuery(ctx, store.Infrastructure, p.Page, p.Limit, p.Q, enumString(p.ClientType), p.ConnectionId, enumString(p.Sort), p.SortDir)
	page, err := h.store.ListIdentities(ctx, q)
	if err != nil {
		return nil, err
	}
	c := newConverter()
	out := gen.ListInfrastructureIdentities200JSONResponse{Data: make([]gen.InfrastructureIdentity, len(page.Items)), Page: q.Page, Limit: q.Limit, Total: page.Total}
	for i := range page.Items {
		out.Data[i] = c.infrastructure(&page.Items[i])
	}
	return out, nil
}

func (h *handlers) ListVersionControlIdentities(ctx context.Context, req gen.ListVersionControlIdentitiesRequestObject) (gen.ListVersionControlIdentitiesResponseObject, error) {
	p := req.Params
	q := listQuery(ctx, store.VersionControl, p.Page, p.Limit, p.Q, enumString(p.ClientType), p.ConnectionId, enumString(p.Sort), p.SortDir)
	page, err := h.store.ListIdentities(ctx, q)
	if err != nil {
		return nil, err
	}
	c := newConverter()
	out := gen.ListVersionControlIdentities200JSONResponse{Data: make([]gen.VersionControlIdentity, len(page.Items)), Page: q.Page, Limit: q.Limit, Total: page.Total}
	for i := range page.Items {
		out.Data[i] = c.versionControl(&page.Items[i])
	}
	return out, nil
}

func (h *handlers) ConnectInfrastructureIdentity(ctx context.Context, req gen.ConnectInfrastructureIdentityRequestObject) (gen.ConnectInfrastructureIdentityResponseObject, error) {
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.Infrastructure, req.Id, store.Link{UserID: req.Body.UserId}, h.now())
	if err != nil {
		return nil, err
	}
	return gen.ConnectInfrastructureIdentity200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) ConnectVersionControlIdentity(ctx context.Context, req gen.ConnectVersionControlIdentityRequestObject) (gen.ConnectVersionControlIdentityResponseObject, error) {
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.VersionControl, req.Id, store.Link{UserID: req.Body.UserId}, h.now())
	if err != nil {
		return nil, err
	}
	return gen.ConnectVersionControlIdentity200JSONResponse{VersionControlIdentityJSONResponse: gen.VersionControlIdentityJSONResponse(newConverter().versionControl(&v))}, nil
}

// Without toggleField, the first flag of the family is meant.
var infrastructureAccess = map[gen.InfrastructureToggleField]store.Access{
	gen.InfrastructureToggleFieldINFRASTRUCTUREADMINACCESS: store.AccessA,
	gen.InfrastructureToggleFieldINFRASTRUCTUREDBACCESS:    store.AccessB,
}

var versionControlAccess = map[gen.VersionControlToggleField]store.Access{
	gen.VersionControlToggleFieldVERSIONCONTROLWRITEACCESS:        store.AccessA,
	gen.VersionControlToggleFieldVERSIONCONTROLPUSHPRODCODEACCESS: store.AccessB,
}

func (h *handlers) ToggleInfrastructureIdentity(ctx context.Context, req gen.ToggleInfrastructureIdentityRequestObject) (gen.ToggleInfrastructureIdentityResponseObject, error) {
	field := deref(req.Body.ToggleField, gen.InfrastructureToggleFieldINFRASTRUCTUREADMINACCESS)
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.Infrastructure, req.Id, store.SetAccess{Access: infrastructureAccess[field], On: req.Body.Toggle}, h.now())
	if err != nil {
		return nil, err
	}
	return gen.ToggleInfrastructureIdentity200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) ToggleVersionControlIdentity(ctx context.Context, req gen.ToggleVersionControlIdentityRequestObject) (gen.ToggleVersionControlIdentityResponseObject, error) {
	field := deref(req.Body.ToggleField, gen.VersionControlToggleFieldVERSIONCONTROLWRITEACCESS)
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.VersionControl, req.Id, store.SetAccess{Access: versionControlAccess[field], On: req.Body.Toggle}, h.now())
	if err != nil {
		return nil, err
	}
	return gen.ToggleVersionControlIdentity200JSONResponse{VersionControlIdentityJSONResponse: gen.VersionControlIdentityJSONResponse(newConverter().versionControl(&v))}, nil
}

func serviceAccountChange(ctx context.Context, body *gen.ServiceAccountRequest) store.MarkServiceAccount {
	return store.MarkServiceAccount{Mark: body.ServiceAccount, Reason: body.ServiceAccountReason, ActorID: principalFrom(ctx).User.ID}
}

func (h *handlers) SetInfrastructureServiceAccount(ctx context.Context, req gen.SetInfrastructureServiceAccountRequestObject) (gen.SetInfrastructureServiceAccountResponseObject, error) {
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.Infrastructure, req.Id, serviceAccountChange(ctx, req.Body), h.now())
	if err != nil {
		return nil, err
	}
	return gen.SetInfrastructureServiceAccount200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) SetVersionControlServiceAccount(ctx context.Context, req gen.SetVersionControlServiceAccountRequestObject) (gen.SetVersionControlServiceAccountResponseObject, error) {
	v, err := h.store.UpdateIdentity(ctx, principalFrom(ctx).Company.ID, store.VersionControl, req.Id, serviceAccountChange(ctx, req.Body), h.now())
	if err != nil {
		return nil, err
	}
	return gen.SetVersionControlServiceAccount200JSONResponse{VersionControlIdentityJSONResponse: gen.VersionControlIdentityJSONResponse(newConverter().versionControl(&v))}, nil
}
