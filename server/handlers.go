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

// list lists one page of the caller's identities of a family, with the
// documented defaults filled in.
func (h *handlers) list(ctx context.Context, family store.Family, page, limit *int64, q *string, clientType *string, connectionID *int64, sort *string, dir *gen.SortDir) (store.ListQuery, store.Page, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return store.ListQuery{}, store.Page{}, err
	}
	lq := store.ListQuery{
		CompanyID:    p.Company.ID,
		Family:       family,
		Page:         deref(page, defaultPage),
		Limit:        deref(limit, defaultLimit),
		Q:            deref(q, ""),
		ClientType:   deref(clientType, ""),
		ConnectionID: deref(connectionID, 0),
		Sort:         store.Sort(deref(sort, string(store.SortUsername))),
		Descending:   dir != nil && *dir == gen.SortDirDESC,
	}
	pg, err := h.store.ListIdentities(ctx, lq)
	return lq, pg, err
}

// update applies a change to one of the caller's identities.
func (h *handlers) update(ctx context.Context, family store.Family, id int64, change store.Change) (store.IdentityView, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return store.IdentityView{}, err
	}
	return h.store.UpdateIdentity(ctx, p.Company.ID, family, id, change, h.now())
}

// markServiceAccount marks or unmarks one of the caller's identities, with
// the caller as designator.
func (h *handlers) markServiceAccount(ctx context.Context, family store.Family, id int64, body *gen.ServiceAccountRequest) (store.IdentityView, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return store.IdentityView{}, err
	}
	return h.update(ctx, family, id, store.MarkServiceAccount{Mark: body.ServiceAccount, Reason: body.ServiceAccountReason, ActorID: p.User.ID})
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
	q, page, err := h.list(ctx, store.Infrastructure, p.Page, p.Limit, p.Q, enumString(p.ClientType), p.ConnectionId, enumString(p.Sort), p.SortDir)
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
	q, page, err := h.list(ctx, store.VersionControl, p.Page, p.Limit, p.Q, enumString(p.ClientType), p.ConnectionId, enumString(p.Sort), p.SortDir)
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
	v, err := h.update(ctx, store.Infrastructure, req.Id, store.Link{UserID: req.Body.UserId})
	if err != nil {
		return nil, err
	}
	return gen.ConnectInfrastructureIdentity200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) ConnectVersionControlIdentity(ctx context.Context, req gen.ConnectVersionControlIdentityRequestObject) (gen.ConnectVersionControlIdentityResponseObject, error) {
	v, err := h.update(ctx, store.VersionControl, req.Id, store.Link{UserID: req.Body.UserId})
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
	v, err := h.update(ctx, store.Infrastructure, req.Id, store.SetAccess{Access: infrastructureAccess[field], On: req.Body.Toggle})
	if err != nil {
		return nil, err
	}
	return gen.ToggleInfrastructureIdentity200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) ToggleVersionControlIdentity(ctx context.Context, req gen.ToggleVersionControlIdentityRequestObject) (gen.ToggleVersionControlIdentityResponseObject, error) {
	field := deref(req.Body.ToggleField, gen.VersionControlToggleFieldVERSIONCONTROLWRITEACCESS)
	v, err := h.update(ctx, store.VersionControl, req.Id, store.SetAccess{Access: versionControlAccess[field], On: req.Body.Toggle})
	if err != nil {
		return nil, err
	}
	return gen.ToggleVersionControlIdentity200JSONResponse{VersionControlIdentityJSONResponse: gen.VersionControlIdentityJSONResponse(newConverter().versionControl(&v))}, nil
}

func (h *handlers) SetInfrastructureServiceAccount(ctx context.Context, req gen.SetInfrastructureServiceAccountRequestObject) (gen.SetInfrastructureServiceAccountResponseObject, error) {
	v, err := h.markServiceAccount(ctx, store.Infrastructure, req.Id, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.SetInfrastructureServiceAccount200JSONResponse{InfrastructureIdentityJSONResponse: gen.InfrastructureIdentityJSONResponse(newConverter().infrastructure(&v))}, nil
}

func (h *handlers) SetVersionControlServiceAccount(ctx context.Context, req gen.SetVersionControlServiceAccountRequestObject) (gen.SetVersionControlServiceAccountResponseObject, error) {
	v, err := h.markServiceAccount(ctx, store.VersionControl, req.Id, req.Body)
	if err != nil {
		return nil, err
	}
	return gen.SetVersionControlServiceAccount200JSONResponse{VersionControlIdentityJSONResponse: gen.VersionControlIdentityJSONResponse(newConverter().versionControl(&v))}, nil
}
