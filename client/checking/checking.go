// Package checking turns on a client's checking of every response against
// the API's contract, the OpenAPI document built into the module:
//
//	c, err := client.New(client.WithToken(token), checking.WithResponseChecking())
//
// It lives apart from package client so that programs that never check
// responses do not link the validator and the document.
package checking

import (
	"context"
	"net/http"
	"net/url"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/contract"
)

// WithResponseChecking is the client option that checks every final
// response against the contract served under the client's base URL path.
// The contract is loaded once per base path and shared by every client of
// the process.
func WithResponseChecking() client.Option {
	return client.WithResponseChecker(func(baseURL *url.URL) (client.ResponseChecker, error) {
		v, err := contract.New(baseURL.Path)
		if err != nil {
			return nil, err
		}
		return checker{v}, nil
	})
}

// checker is a client.ResponseChecker over a contract validator.
type checker struct{ v *contract.Validator }

// CheckResponse checks the response to req with the validator.
func (c checker) CheckResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) ([]client.Violation, error) {
	found, err := c.v.CheckResponse(ctx, req, status, header, body)
	if err != nil {
		return nil, err
	}
	out := make([]client.Violation, len(found))
	for i, v := range found {
		out[i] = client.Violation{Path: v.Path, Reason: v.Reason}
	}
	return out, nil
}
