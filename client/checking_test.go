package client

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResponseChecking: with checking on, a response that breaks the
// contract is a *ResponseViolationError naming the operation, status, JSON
// paths and reasons; a conforming one passes.
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
			c, mux := setup(t, checking(true))
			body := tc.body(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeRaw(w, tc.status, body) })
			got, resp, err := c.Infrastructure.SetAccess(context.Background(), 1, "", true)
			if tc.wantOK {
				require.NoError(t, err)
				assert.EqualValues(t, 1, got.Id)
				return
			}
			var ve *ResponseViolationError
			require.ErrorAs(t, err, &ve)
			assert.Nil(t, got, "no identity")
			require.NotNil(t, resp, "the response")
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, opToggleInfrastructure, ve.Operation)
			assert.Equal(t, tc.status, ve.StatusCode)
			var paths []string
			for _, v := range ve.Violations {
				assert.NotEmpty(t, v.Reason, "violation at %q", v.Path)
				paths = append(paths, v.Path)
			}
			assert.Contains(t, paths, tc.wantPath, "violations: %v", err)
			if tc.wantIsAPI != nil {
				assert.ErrorIs(t, err, tc.wantIsAPI)
			}
			if tc.status < 300 {
				assert.NotErrorAs(t, err, new(*APIError), "a 2xx violation must not be an *APIError")
			}
		})
	}
}

// TestResponseCheckingOff: without checking the same wrong-typed body is a
// decoding error, not a violation, and a legacy timestamp decodes.
func TestResponseCheckingOff(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, checking(false))
	mux.HandleFunc("PUT /user-identities/infrastructure/1/toggle", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, mutate(t, infraIdentity(1), func(m map[string]any) { m["id"] = "one" }))
	})
	mux.HandleFunc("PUT /user-identities/infrastructure/2/toggle", func(w http.ResponseWriter, r *http.Request) {
		writeRaw(w, http.StatusOK, mutate(t, infraIdentity(2), func(m map[string]any) { m["createdAt"] = "2020-07-06 12:00:00.000000" }))
	})
	_, _, err := c.Infrastructure.SetAccess(context.Background(), 1, "", true)
	assert.ErrorContains(t, err, "decode response")
	assert.NotErrorAs(t, err, new(*ResponseViolationError))
	got, _, err := c.Infrastructure.SetAccess(context.Background(), 2, "", true)
	require.NoError(t, err)
	assert.Equal(t, 2020, got.CreatedAt.Year(), "legacy timestamp")
}
