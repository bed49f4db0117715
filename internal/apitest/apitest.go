// Package apitest holds what tests of the API share across packages: one
// validator of the embedded document, the document's enums, one way to send
// a request and check its answer against the contract, and the generated
// client with a key.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/gen"
)

// BasePath is where the tests serve the API, as the server does by default.
const BasePath = "/public"

// Validator is the validator of the embedded document served under
// BasePath, which contract.New builds once per test binary.
func Validator(tb testing.TB) *contract.Validator {
	tb.Helper()
	v, err := contract.New(BasePath)
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	return v
}

// Enum returns the values the document lists for a component schema, such
// as "InfrastructureSort", in the document's order.
func Enum(tb testing.TB, schema string) []string {
	tb.Helper()
	ref := Validator(tb).Document().Components.Schemas[schema]
	if ref == nil || ref.Value == nil || len(ref.Value.Enum) == 0 {
		tb.Fatalf("apitest: the document has no enum schema %s", schema)
	}
	out := make([]string, len(ref.Value.Enum))
	for i, v := range ref.Value.Enum {
		out[i] = v.(string)
	}
	return out
}

// Response is one answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Request is one request to send: Body is nil, a string or []byte sent as
// it is, or a value sent as JSON; Header pairs are set after the defaults.
type Request struct {
	Method, URL string
	// Key, when set, is sent as the bearer token.
	Key    string
	Body   any
	Header []string
}

// raw is the body as sent, and whether there is one.
func (r Request) raw() ([]byte, error) {
	switch b := r.Body.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(b), nil
	case []byte:
		return b, nil
	default:
		return json.Marshal(b)
	}
}

// Send sends req with c (http.DefaultClient when nil). A body goes as
// application/json unless Header says otherwise. It does not fail the test,
// so goroutines may call it.
func Send(c *http.Client, req Request) (Response, error) {
	if c == nil {
		c = http.DefaultClient
	}
	raw, err := req.raw()
	if err != nil {
		return Response{}, err
	}
	var rd io.Reader
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	hr, err := http.NewRequest(req.Method, req.URL, rd)
	if err != nil {
		return Response{}, err
	}
	if raw != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Key != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Key)
	}
	for i := 0; i+1 < len(req.Header); i += 2 {
		hr.Header.Set(req.Header[i], req.Header[i+1])
	}
	resp, err := c.Do(hr)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, err
}

// Do is Send that fails tb on a transport error.
func Do(tb testing.TB, c *http.Client, req Request) Response {
	tb.Helper()
	resp, err := Send(c, req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return resp
}

// Conforms fails tb unless resp is an answer the document allows to req,
// whenever req resolves to one of its operations. req.URL may be absolute;
// only its path under BasePath and its query count.
func Conforms(tb testing.TB, req Request, resp Response) {
	tb.Helper()
	raw, err := req.raw()
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		tb.Fatal(err)
	}
	hr := httptest.NewRequest(req.Method, u.RequestURI(), bytes.NewReader(raw))
	v := Validator(tb)
	rt, err := v.FindRoute(hr)
	if errors.Is(err, contract.ErrNoRoute) || errors.Is(err, contract.ErrMethodNotAllowed) {
		return
	}
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.ValidateResponse(context.Background(), hr, rt, resp.Status, resp.Header, resp.Body); err != nil {
		tb.Fatalf("%s %s: the answer does not conform: %v", req.Method, req.URL, err)
	}
}

// Client is the generated client of the API at base (base path included),
// sending key as the bearer token, over c (http.DefaultClient when nil).
func Client(tb testing.TB, base, key string, c *http.Client) *gen.ClientWithResponses {
	tb.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	cl, err := gen.NewClientWithResponses(base, gen.WithHTTPClient(c), gen.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+key)
		return nil
	}))
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	return cl
}
