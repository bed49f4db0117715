package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"

	"github.com/identities-go/identities/gen"
)

// The operationIds of api/openapi.yaml, one per client method.
const (
	opListInfrastructure           = "listInfrastructureIdentities"
	opConnectInfrastructure        = "connectInfrastructureIdentity"
	opToggleInfrastructure         = "toggleInfrastructureIdentity"
	opServiceAccountInfrastructure = "setInfrastructureServiceAccount"
	opListVersionControl           = "listVersionControlIdentities"
	opConnectVersionControl        = "connectVersionControlIdentity"
	opToggleVersionControl         = "toggleVersionControlIdentity"
	opServiceAccountVersionControl = "setVersionControlServiceAccount"
)

// fetch calls an operation and decodes its response into a new T.
func fetch[T any](ctx context.Context, c *Client, op string, send sendFunc) (*T, *Response, error) {
	out := new(T)
	resp, err := c.call(ctx, op, out, send)
	if err != nil {
		return nil, resp, err
	}
	return out, resp, nil
}

// putFunc is a generated method that PUTs body to the identity id.
type putFunc[B any] func(ctx context.Context, id gen.IdentityId, body B, editors ...gen.RequestEditorFn) (*http.Response, error)

// put sends body to the identity id through the generated method and decodes
// the identity it returns.
func put[T, B any](ctx context.Context, c *Client, op string, id int64, body B, send putFunc[B]) (*T, *Response, error) {
	if id < 1 {
		return nil, nil, fmt.Errorf("client: %s: identity id must be positive, got %d", op, id)
	}
	return fetch[T](ctx, c, op, func(ctx context.Context, editors ...gen.RequestEditorFn) (*http.Response, error) {
		return send(ctx, id, body, editors...)
	})
}

// toggleField returns a pointer to a valid toggle field, or nil for the
// server's default when field is empty.
func toggleField[F interface {
	~string
	Valid() bool
}](op string, field F) (*F, error) {
	if field == "" {
		return nil, nil
	}
	if !field.Valid() {
		return nil, fmt.Errorf("client: %s: unknown toggle field %q", op, string(field))
	}
	return &field, nil
}

// identities is the implementation the two families share. A family
// differs only in its types, its operations and the generated methods it
// calls: O is its list options, P its page, I its identity and TB its toggle
// request.
type identities[O, P, I, TB any] struct {
	client                                        *Client
	opList, opConnect, opToggle, opServiceAccount string

	// list sends the list operation with opts.
	list func(ctx context.Context, opts *O, editors ...gen.RequestEditorFn) (*http.Response, error)
	// pageOf points at the page number held in opts.
	pageOf func(opts *O) *int64
	// contents takes a page apart.
	contents func(p *P) (items []I, page, limit, total int64)

	connect        putFunc[gen.ConnectRequest]
	toggle         putFunc[TB]
	serviceAccount putFunc[gen.ServiceAccountRequest]
}

// List returns one page and records its paging on the Response.
func (f *identities[O, P, I, TB]) List(ctx context.Context, opts *O) (*P, *Response, error) {
	if opts == nil {
		opts = new(O)
	}
	p, resp, err := fetch[P](ctx, f.client, f.opList, func(ctx context.Context, editors ...gen.RequestEditorFn) (*http.Response, error) {
		return f.list(ctx, opts, editors...)
	})
	if err != nil {
		return nil, resp, err
	}
	items, page, limit, total := f.contents(p)
	resp.setPage(page, limit, total, len(items))
	return p, resp, nil
}

// Listed is one identity of a walk over a list (All), with the response of
// the page it came in.
type Listed[I any] struct {
	// Identity points into its page's items, which no later page reuses; it
	// is nil only when the walk yields an error.
	Identity *I
	// Response is the response of the page the identity came in, shared by
	// every identity of that page: its paging (Page, Limit, Total,
	// NextPage), request ID, rate-limit state, attempts and duration. With an
	// error it is the failed request's, or nil when no response arrived.
	Response *Response
}

// All walks the pages from the options' page (1 when 0) lazily, yielding each
// identity with its page's Response: the next page is asked for only when the
// loop has taken every identity of this one, and breaking out of the loop
// stops the requests. An error is yielded once, with the failed request's
// Response, and ends the walk. The options are copied, never changed.
func (f *identities[O, P, I, TB]) All(ctx context.Context, opts *O) iter.Seq2[Listed[I], error] {
	var base O
	if opts != nil {
		base = *opts
	}
	return func(yield func(Listed[I], error) bool) {
		o := base
		number := max(*f.pageOf(&o), 1)
		for {
			*f.pageOf(&o) = number
			p, resp, err := f.List(ctx, &o)
			if err != nil {
				yield(Listed[I]{Response: resp}, err)
				return
			}
			items, _, _, _ := f.contents(p)
			for i := range items {
				if !yield(Listed[I]{Identity: &items[i], Response: resp}, nil) {
					return
				}
			}
			if resp.NextPage <= number {
				return
			}
			number = resp.NextPage
		}
	}
}

// Connect links the identity to userID, or unlinks it when userID is nil.
func (f *identities[O, P, I, TB]) Connect(ctx context.Context, id int64, userID *int64) (*I, *Response, error) {
	if userID != nil && *userID < 1 {
		return nil, nil, fmt.Errorf("client: %s: user id must be positive, got %d", f.opConnect, *userID)
	}
	return put[I](ctx, f.client, f.opConnect, id, gen.ConnectRequest{UserId: userID}, f.connect)
}

// Toggle sends a toggle request.
func (f *identities[O, P, I, TB]) Toggle(ctx context.Context, id int64, body TB) (*I, *Response, error) {
	return put[I](ctx, f.client, f.opToggle, id, body, f.toggle)
}

// SetServiceAccount marks (mark true) or unmarks the identity as a service
// account.
func (f *identities[O, P, I, TB]) SetServiceAccount(ctx context.Context, id int64, mark bool, reason string) (*I, *Response, error) {
	body := gen.ServiceAccountRequest{ServiceAccount: mark, ServiceAccountReason: reason}
	return put[I](ctx, f.client, f.opServiceAccount, id, body, f.serviceAccount)
}

// ptr is nil for the zero value (an omitted query parameter), else &v.
func ptr[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
