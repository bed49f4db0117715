package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/identities-go/identities/gen"
)

// VersionControlService covers the identities found in version control
// connections (GitHub, GitLab, Bitbucket, …).
type VersionControlService struct {
	ids identities[VersionControlListOptions, gen.VersionControlIdentityPage, gen.VersionControlIdentity, gen.VersionControlToggleRequest]
}

func newVersionControlService(c *Client) *VersionControlService {
	return &VersionControlService{ids: identities[VersionControlListOptions, gen.VersionControlIdentityPage, gen.VersionControlIdentity, gen.VersionControlToggleRequest]{
		client: c, opList: opListVersionControl, opConnect: opConnectVersionControl,
		opToggle: opToggleVersionControl, opServiceAccount: opServiceAccountVersionControl,
		list: func(ctx context.Context, o *VersionControlListOptions, editors ...gen.RequestEditorFn) (*http.Response, error) {
			return c.gen.ListVersionControlIdentities(ctx, o.params(), editors...)
		},
		pageOf: func(o *VersionControlListOptions) *int64 { return &o.Page },
		contents: func(p *gen.VersionControlIdentityPage) ([]gen.VersionControlIdentity, int64, int64, int64) {
			return p.Data, p.Page, p.Limit, p.Total
		},
		connect:        c.gen.ConnectVersionControlIdentity,
		toggle:         c.gen.ToggleVersionControlIdentity,
		serviceAccount: c.gen.SetVersionControlServiceAccount,
	}}
}

// VersionControlListOptions are the query parameters of
// VersionControlService.List. Zero values are left out, so the server's
// defaults apply (page 1, 20 a page, sorted by USERNAME ascending).
type VersionControlListOptions struct {
	// Page is the page to return, from 1.
	Page int64
	// Limit is how many identities a page holds (at most 50).
	Limit int64
	// Q keeps identities whose identity id, username or email contains it,
	// ignoring case.
	Q string
	// ClientType keeps identities found through connections of this type.
	ClientType gen.VersionControlClientType
	// ConnectionID keeps identities found through this connection.
	ConnectionID int64
	// Sort is what to order the identities by.
	Sort gen.VersionControlSort
	// SortDir is the direction to sort in.
	SortDir gen.SortDir
}

func (o *VersionControlListOptions) params() *gen.ListVersionControlIdentitiesParams {
	return &gen.ListVersionControlIdentitiesParams{
		Page: ptr(o.Page), Limit: ptr(o.Limit), Q: ptr(o.Q),
		ClientType: ptr(o.ClientType), ConnectionId: ptr(o.ConnectionID),
		Sort: ptr(o.Sort), SortDir: ptr(o.SortDir),
	}
}

// List returns one page of the company's version control identities
// (listVersionControlIdentities); nil opts asks for the first page. The
// Response carries Page, Limit, Total and NextPage.
func (s *VersionControlService) List(ctx context.Context, opts *VersionControlListOptions) (*gen.VersionControlIdentityPage, *Response, error) {
	return s.ids.List(ctx, opts)
}

// All yields every version control identity that matches opts, from
// opts.Page on, each with the Response of the page it came in, asking for a
// page only when the loop reaches it. Breaking out of the loop stops the
// requests; an error is yielded once, with the failed request's Response, and
// ends the walk. It copies opts, so the caller's value is never changed.
func (s *VersionControlService) All(ctx context.Context, opts *VersionControlListOptions) iter.Seq2[Listed[gen.VersionControlIdentity], error] {
	return s.ids.All(ctx, opts)
}

// Connect links the identity id to the user userID of the same company
// (connectVersionControlIdentity) and returns the identity as it now is.
func (s *VersionControlService) Connect(ctx context.Context, id, userID int64) (*gen.VersionControlIdentity, *Response, error) {
	return s.ids.Connect(ctx, id, &userID)
}

// Disconnect unlinks the identity id from its user, sending exactly
// {"userId":null} to connectVersionControlIdentity.
func (s *VersionControlService) Disconnect(ctx context.Context, id int64) (*gen.VersionControlIdentity, *Response, error) {
	return s.ids.Connect(ctx, id, nil)
}

// SetAccess sets (on) or clears the access flag field of the identity id
// (toggleVersionControlIdentity): VERSION_CONTROL_WRITE_ACCESS or
// VERSION_CONTROL_PUSH_PROD_CODE_ACCESS; an empty field leaves the choice to
// the server, which takes VERSION_CONTROL_WRITE_ACCESS.
func (s *VersionControlService) SetAccess(ctx context.Context, id int64, field gen.VersionControlToggleField, on bool) (*gen.VersionControlIdentity, *Response, error) {
	f, err := toggleField(opToggleVersionControl, field)
	if err != nil {
		return nil, nil, err
	}
	return s.ids.Toggle(ctx, id, gen.VersionControlToggleRequest{Toggle: on, ToggleField: f})
}

// SetServiceAccount marks (mark true) or unmarks the identity id as a
// service account, giving the reason (setVersionControlServiceAccount).
func (s *VersionControlService) SetServiceAccount(ctx context.Context, id int64, mark bool, reason string) (*gen.VersionControlIdentity, *Response, error) {
	return s.ids.SetServiceAccount(ctx, id, mark, reason)
}
