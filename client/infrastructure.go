package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/identities-go/identities/gen"
)

// InfrastructureService covers the identities found in infrastructure
// connections (AWS, GCP, Azure, …).
type InfrastructureService struct {
	ids identities[InfrastructureListOptions, gen.InfrastructureIdentityPage, gen.InfrastructureIdentity, gen.InfrastructureToggleRequest]
}

func newInfrastructureService(c *Client) *InfrastructureService {
	return &InfrastructureService{ids: identities[InfrastructureListOptions, gen.InfrastructureIdentityPage, gen.InfrastructureIdentity, gen.InfrastructureToggleRequest]{
		client: c, opList: opListInfrastructure, opConnect: opConnectInfrastructure,
		opToggle: opToggleInfrastructure, opServiceAccount: opServiceAccountInfrastructure,
		list: func(ctx context.Context, o *InfrastructureListOptions, editors ...gen.RequestEditorFn) (*http.Response, error) {
			return c.gen.ListInfrastructureIdentities(ctx, o.params(), editors...)
		},
		pageOf: func(o *InfrastructureListOptions) *int64 { return &o.Page },
		contents: func(p *gen.InfrastructureIdentityPage) ([]gen.InfrastructureIdentity, int64, int64, int64) {
			return p.Data, p.Page, p.Limit, p.Total
		},
		connect:        c.gen.ConnectInfrastructureIdentity,
		toggle:         c.gen.ToggleInfrastructureIdentity,
		serviceAccount: c.gen.SetInfrastructureServiceAccount,
	}}
}

// InfrastructureListOptions are the query parameters of
// InfrastructureService.List. Zero values are left out, so the server's
// defaults apply (page 1, 20 a page, sorted by USERNAME ascending).
type InfrastructureListOptions struct {
	// Page is the page to return, from 1.
	Page int64
	// Limit is how many identities a page holds (at most 50).
	Limit int64
	// Q keeps identities whose identity id, username or email contains it,
	// ignoring case.
	Q string
	// ClientType keeps identities found through connections of this type.
	ClientType gen.InfrastructureClientType
	// ConnectionID keeps identities found through this connection.
	ConnectionID int64
	// Sort is what to order the identities by.
	Sort gen.InfrastructureSort
	// SortDir is the direction to sort in.
	SortDir gen.SortDir
}

func (o *InfrastructureListOptions) params() *gen.ListInfrastructureIdentitiesParams {
	return &gen.ListInfrastructureIdentitiesParams{
		Page: ptr(o.Page), Limit: ptr(o.Limit), Q: ptr(o.Q),
		ClientType: ptr(o.ClientType), ConnectionId: ptr(o.ConnectionID),
		Sort: ptr(o.Sort), SortDir: ptr(o.SortDir),
	}
}

// List returns one page of the company's infrastructure identities
// (listInfrastructureIdentities); nil opts asks for the first page. The
// Response carries Page, Limit, Total and NextPage.
func (s *InfrastructureService) List(ctx context.Context, opts *InfrastructureListOptions) (*gen.InfrastructureIdentityPage, *Response, error) {
	return s.ids.List(ctx, opts)
}

// All yields every infrastructure identity that matches opts, from opts.Page on,
// each with the Response of the page it came in, asking for a page only when
// the loop reaches it. Breaking out of the loop stops the requests; an error
// is yielded once, with the failed request's Response, and ends the walk. It
// copies opts, so the caller's value is never changed.
func (s *InfrastructureService) All(ctx context.Context, opts *InfrastructureListOptions) iter.Seq2[Listed[gen.InfrastructureIdentity], error] {
	return s.ids.All(ctx, opts)
}

// Connect links the identity id to the user userID of the same company
// (connectInfrastructureIdentity) and returns the identity as it now is.
func (s *InfrastructureService) Connect(ctx context.Context, id, userID int64) (*gen.InfrastructureIdentity, *Response, error) {
	return s.ids.Connect(ctx, id, &userID)
}

// Disconnect unlinks the identity id from its user, sending exactly
// {"userId":null} to connectInfrastructureIdentity.
func (s *InfrastructureService) Disconnect(ctx context.Context, id int64) (*gen.InfrastructureIdentity, *Response, error) {
	return s.ids.Connect(ctx, id, nil)
}

// SetAccess sets (on) or clears the access flag field of the identity id
// (toggleInfrastructureIdentity): INFRASTRUCTURE_ADMIN_ACCESS or
// INFRASTRUCTURE_DB_ACCESS; an empty field leaves the choice to the server,
// which takes INFRASTRUCTURE_ADMIN_ACCESS.
func (s *InfrastructureService) SetAccess(ctx context.Context, id int64, field gen.InfrastructureToggleField, on bool) (*gen.InfrastructureIdentity, *Response, error) {
	f, err := toggleField(opToggleInfrastructure, field)
	if err != nil {
		return nil, nil, err
	}
	return s.ids.Toggle(ctx, id, gen.InfrastructureToggleRequest{Toggle: on, ToggleField: f})
}

// SetServiceAccount marks (mark true) or unmarks the identity id as a
// service account, giving the reason (setInfrastructureServiceAccount).
func (s *InfrastructureService) SetServiceAccount(ctx context.Context, id int64, mark bool, reason string) (*gen.InfrastructureIdentity, *Response, error) {
	return s.ids.SetServiceAccount(ctx, id, mark, reason)
}
