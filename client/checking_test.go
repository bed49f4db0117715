package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/identities-go/identities/contract"
)

// mutate marshals v, lets edit change the generic JSON, and returns the bytes.
func mutate(t *testing.T, v any, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResponseChecking: with checking on, a response that breaks the
// contract is a *ResponseViolationError naming the operation, status and JSON
// paths, wrapping the validator's *contract.ResponseError; a conforming one
// passes.
func TestResponseChecking(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		status    int
		body      func(t *testing.T) []byte
		wantPath  string // "" with wantOK: no violation
		wantOK    bool
		wantIsAPI error // the sentinel a non-2xx violation still matches
	}{
		{
			name: "conforming", status: http.StatusOK, wantOK: true,
			body: func(t *testing.T) []byte { return mutate(t, infraIdentity(1), func(map[string]any) {}) },
		},
		{
			name: "wrong type", status: http.StatusOK, wantPath: "/id",
			body: func(t *testing.T) []byte {
				return mutate(t, infraIdentity(1), func(m map[string]any) { m["id"] = "one" })
			},
		},
		{
			name: "missing required field", status: http.StatusOK, wantPath: "/username",
			body: func(t *testing.T) []byte {
				return mutate(t, infraIdentity(1), func(m map[string]any) { delete(m, "username") })
			},
		},
		{
			name: "nested wrong type", status: http.StatusOK, wantPath: "/connection/connected",
			body: func(t *testing.T) []byte {
				return mutate(t, infraIdentity(1), func(m map[string]any) { m["connection"].(map[string]any)["connected"] = "yes" })
			},
		},
		{
			name: "legacy timestamp", status: http.StatusOK, wantPath: "/createdAt",
			body: func(t *testing.T) []byte {
				return mutate(t, infraIdentity(1), func(m map[string]any) { m["createdAt"] = "2020-07-06 12:00:00.000000" })
			},
		},
		{
			name: "undocumented status", status: http.StatusTeapot, wantPath: "",
			body: func(t *testing.T) []byte {
				return []byte(`{"statusCode":418,"code":"NOT_FOUND","message":"x","requestId":"r"}`)
			},
		},
		{
			name: "error body missing code", status: http.StatusNotFound, wantPath: "/code", wantIsAPI: ErrNotFound,
			body: func(t *testing.T) []byte {
				return []byte(`{"statusCode":404,"message":"no such identity","requestId":"r"}`)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t, WithValidator(validator(t)))
			body := tc.body(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeRaw(w, tc.status, body) })
			got, resp, err := c.Infrastructure.SetAccess(context.Background(), 1, "", true)
			if tc.wantOK {
				if err != nil || got == nil || got.Id != 1 {
					t.Fatalf("SetAccess = %v, %v; want the identity", got, err)
				}
				return
			}
			var ve *ResponseViolationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want *ResponseViolationError", err, err)
			}
			if got != nil || resp == nil || resp.StatusCode != tc.status {
				t.Errorf("got %v, response %v; want no identity and the response", got, resp)
			}
			if ve.Operation != opToggleInfrastructure || ve.StatusCode != tc.status {
				t.Errorf("violation of %s %d, want %s %d", ve.Operation, ve.StatusCode, opToggleInfrastructure, tc.status)
			}
			if !slices.Contains(ve.Paths, tc.wantPath) {
				t.Errorf("paths = %q, want %q among them (%v)", ve.Paths, tc.wantPath, err)
			}
			var re *contract.ResponseError
			var v *contract.Violation
			if !errors.As(err, &re) || !errors.As(err, &v) || re != ve.Err {
				t.Errorf("err does not wrap the *contract.ResponseError and its violations")
			}
			if tc.wantIsAPI != nil && !errors.Is(err, tc.wantIsAPI) {
				t.Errorf("errors.Is(err, %v) = false", tc.wantIsAPI)
			}
			if tc.status < 300 && errors.As(err, new(*APIError)) {
				t.Errorf("a 2xx violation must not be an *APIError")
			}
		})
	}
}

// TestResponseCheckingOff: without checking the same wrong-typed body is a
// decoding error, not a violation, and a legacy timestamp decodes.
func TestResponseCheckingOff(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithResponseChecking(false))
	mux.HandleFunc("PUT /user-identities/infrastructure/1/toggle", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, mutate(t, infraIdentity(1), func(m map[string]any) { m["id"] = "one" }))
	})
	mux.HandleFunc("PUT /user-identities/infrastructure/2/toggle", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, mutate(t, infraIdentity(2), func(m map[string]any) { m["createdAt"] = "2020-07-06 12:00:00.000000" }))
	})
	_, _, err := c.Infrastructure.SetAccess(context.Background(), 1, "", true)
	if err == nil || errors.As(err, new(*ResponseViolationError)) {
		t.Errorf("err = %v, want a decoding error", err)
	}
	got, _, err := c.Infrastructure.SetAccess(context.Background(), 2, "", true)
	if err != nil || got.CreatedAt.Year() != 2020 {
		t.Errorf("legacy timestamp: %v, %v", got, err)
	}
}

// TestWithResponseCheckingBuildsValidator: WithResponseChecking(true) builds
// a validator for the base URL's path, so requests under it resolve.
func TestWithResponseCheckingBuildsValidator(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithResponseChecking(true))
	if c.validator == nil || c.validator.BasePath() != basePath {
		t.Fatalf("validator = %v, want one for %s", c.validator, basePath)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeJSON(t, w, http.StatusOK, vcPage(vcIdentity(1))) })
	if _, _, err := c.VersionControl.List(context.Background(), nil); err != nil {
		t.Errorf("List: %v", err)
	}
}
