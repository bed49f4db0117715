package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/store"
)

// spyStore counts the identity operations it is asked for and answers each
// with nothing.
type spyStore struct{ calls int }

func (s *spyStore) ListIdentities(context.Context, store.ListQuery) (store.Page, error) {
	s.calls++
	return store.Page{Items: []store.IdentityView{}}, nil
}

func (s *spyStore) GetIdentity(context.Context, int64, store.Family, int64) (store.IdentityView, error) {
	s.calls++
	return store.IdentityView{}, store.ErrNotFound
}

func (s *spyStore) UpdateIdentity(context.Context, int64, store.Family, int64, store.Change, time.Time) (store.IdentityView, error) {
	s.calls++
	return store.IdentityView{}, store.ErrNotFound
}

func (s *spyStore) Authenticate(context.Context, []byte, time.Time) (store.Principal, error) {
	return store.Principal{}, store.ErrKeyNotFound
}

func (s *spyStore) Ping(context.Context) error { return nil }

// TestHandlersFailClosedWithoutAPrincipal: a handler reached without an
// authenticated caller (a wiring defect) answers the logged JSON 500 and
// never asks the store, rather than answering an empty 200 as company 0.
func TestHandlersFailClosedWithoutAPrincipal(t *testing.T) {
	t.Parallel()
	spy := &spyStore{}
	var logs bytes.Buffer
	s, err := New(Config{Store: spy, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	bodies := map[string]string{
		"connect":         `{"userId":null}`,
		"toggle":          `{"toggle":true}`,
		"service-account": `{"serviceAccount":false,"serviceAccountReason":"x"}`,
	}
	for _, target := range []string{
		"GET /public/user-identities/infrastructure",
		"GET /public/user-identities/version-control",
		"PUT /public/user-identities/infrastructure/1/connect",
		"PUT /public/user-identities/infrastructure/1/toggle",
		"PUT /public/user-identities/infrastructure/1/service-account",
		"PUT /public/user-identities/version-control/1/connect",
		"PUT /public/user-identities/version-control/1/toggle",
		"PUT /public/user-identities/version-control/1/service-account",
	} {
		method, path, _ := strings.Cut(target, " ")
		body := bodies[path[strings.LastIndex(path, "/")+1:]]
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.serveUnauthenticated(rec, req)

		assert.Equal(t, http.StatusInternalServerError, rec.Code, "%s: %s", target, rec.Body)
		var e struct{ Code string }
		if assert.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), target) {
			assert.Equal(t, "INTERNAL_ERROR", e.Code, target)
		}
	}
	assert.Zero(t, spy.calls, "the store was asked for data without a caller")
	assert.Equal(t, 8, strings.Count(logs.String(), errNoPrincipal.Error()), "each 500 is logged with its cause:\n%s", logs.String())
}

// serveUnauthenticated runs r's operation as the server wires it (request
// id, logger, routing, path values), but calls its handler directly, with
// no authentication in front.
func (s *Server) serveUnauthenticated(w http.ResponseWriter, r *http.Request) {
	s.observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, err := s.validator.FindRoute(r)
		if err != nil {
			panic(err)
		}
		s.bind(r, rt).handle(w, r)
	})).ServeHTTP(w, r)
}
