package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/identities-go/identities/contract"
)

// result is one response, decoded.
type result struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

var specValidator = func() *contract.Validator {
	v, err := contract.New("/public")
	if err != nil {
		panic(err)
	}
	return v
}()

// call sends a request to base+path and checks the response against the
// contract whenever the request resolves to an operation.
func call(t *testing.T, base, method, path, key string, body any, header ...string) result {
	t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := result{status: resp.StatusCode, header: resp.Header}
	if out.raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q, want JSON; body %s", method, path, ct, out.raw)
	}
	if err := json.Unmarshal(out.raw, &out.json); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, out.raw)
	}
	checkConforms(t, method, req.URL.RequestURI(), raw, out)
	return out
}

// checkConforms validates a response of the server against the document;
// uri is the request's path and query, base path included.
func checkConforms(t *testing.T, method, path string, reqBody []byte, out result) {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(reqBody))
	rt, err := specValidator.FindRoute(req)
	if errors.Is(err, contract.ErrNoRoute) || errors.Is(err, contract.ErrMethodNotAllowed) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := specValidator.ValidateResponse(context.Background(), req, rt, out.status, out.header, out.raw); err != nil {
		t.Fatalf("%s %s: response does not conform: %v", method, path, err)
	}
}

// wantError asserts an error response's status, code and the shared fields.
func wantError(t *testing.T, r result, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if got := r.json["code"]; got != code {
		t.Fatalf("code %v, want %s; body %s", got, code, r.raw)
	}
	if got, _ := r.json["statusCode"].(float64); int(got) != status {
		t.Fatalf("statusCode %v, want %d", r.json["statusCode"], status)
	}
	if id, _ := r.json["requestId"].(string); id == "" || id != r.header.Get("X-Request-Id") {
		t.Fatalf("requestId %q does not match X-Request-Id %q", id, r.header.Get("X-Request-Id"))
	}
	if msg, _ := r.json["message"].(string); msg == "" {
		t.Fatalf("empty message: %s", r.raw)
	}
}
