package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
)

// benchServer is the real handler, with the given response validation,
// over a seeded store whose company A has 100 identities of each family.
func benchServer(b *testing.B, mode server.ValidationMode) (http.Handler, *testserver.Env) {
	b.Helper()
	e := testserver.Start(b, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 100, Seed: 7}})
	srv, err := server.New(server.Config{Store: e.Store, ResponseValidation: mode, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	return srv, e
}

// serveBench sends one request to h and requires a 200.
func serveBench(b *testing.B, h http.Handler, method, target, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", method, target, rec.Code, rec.Body)
	}
	return rec
}

func benchmarkListPage50(b *testing.B, mode server.ValidationMode) {
	h, e := benchServer(b, mode)
	const target = "/public/user-identities/infrastructure?limit=50&sort=USER"
	var page struct{ Data []json.RawMessage }
	if err := json.Unmarshal(serveBench(b, h, http.MethodGet, target, e.Keys.ReadWrite, "").Body.Bytes(), &page); err != nil || len(page.Data) != 50 {
		b.Fatalf("the page holds %d identities (%v), want 50", len(page.Data), err)
	}
	b.ReportAllocs()
	size := 0
	for b.Loop() {
		size = serveBench(b, h, http.MethodGet, target, e.Keys.ReadWrite, "").Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkListPage50 serves a full page as production does, with every
// response checked against the contract.
func BenchmarkListPage50(b *testing.B) { benchmarkListPage50(b, server.ValidationStrict) }

// BenchmarkListPage50NoValidation is the same without response validation,
// to show what the check costs.
func BenchmarkListPage50NoValidation(b *testing.B) { benchmarkListPage50(b, server.ValidationOff) }

// BenchmarkConnect links one identity to two users in turn, so that every
// request is a change.
func BenchmarkConnect(b *testing.B) {
	h, e := benchServer(b, server.ValidationStrict)
	users := companyUsers(e, e.CompanyA, 2)
	target := fmt.Sprintf("/public/user-identities/infrastructure/%d/connect", e.Identities(e.CompanyA, store.Infrastructure)[0])
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		serveBench(b, h, http.MethodPut, target, e.Keys.ReadWrite, fmt.Sprintf(`{"userId":%d}`, users[i%2]))
		i++
	}
}
