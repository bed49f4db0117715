package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
)

// result is one response, its body decoded as a JSON object.
type result struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// call sends a request to base+path (body: nil, a string sent as is, or a
// value sent as JSON; header: name, value pairs), requires a JSON object
// back, and checks the answer against the contract whenever the request
// resolves to an operation.
func call(t *testing.T, base, method, path, key string, body any, header ...string) result {
	t.Helper()
	req := apitest.Request{Method: method, URL: base + path, Key: key, Body: body, Header: header}
	resp := apitest.Do(t, nil, req)
	out := result{status: resp.Status, header: resp.Header, raw: resp.Body}
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), "%s %s: content type %q, want JSON; body %s", method, path, resp.Header.Get("Content-Type"), resp.Body)
	require.NoError(t, json.Unmarshal(resp.Body, &out.json), "%s %s: the body is not a JSON object: %s", method, path, resp.Body)
	apitest.Conforms(t, req, resp)
	return out
}

// wantError asserts an error response's status, code and the shared fields.
func wantError(t *testing.T, r result, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.status, "body %s", r.raw)
	assert.Equal(t, code, r.json["code"], "body %s", r.raw)
	assert.EqualValues(t, status, r.json["statusCode"])
	assert.NotEmpty(t, r.json["requestId"])
	assert.Equal(t, r.header.Get("X-Request-Id"), r.json["requestId"], "requestId is the X-Request-Id")
	assert.NotEmpty(t, r.json["message"], "body %s", r.raw)
}

// eachStore runs test once per store, as parallel subtests named after the
// stores: the suites that prove what every store must do run through the
// HTTP API on each. Without a PostgreSQL server its subtest is skipped
// with one line (a failure in CI; see package pgtest).
func eachStore(t *testing.T, test func(t *testing.T, kind testserver.StoreKind)) {
	t.Helper()
	for _, kind := range testserver.Stores() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			test(t, kind)
		})
	}
}
