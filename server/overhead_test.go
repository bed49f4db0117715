package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/store"
)

// stubStore authenticates every key as a read-write key of company 1 and
// answers every change with a bare identity, so that what is measured is
// the server's own work.
type stubStore struct{ spyStore }

func (*stubStore) Authenticate(context.Context, []byte, time.Time) (store.Principal, error) {
	agreed := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return store.Principal{
		KeyID:   1,
		Company: store.Company{ID: 1, PlanIncludesAPI: true},
		User:    store.User{ID: 2, CompanyID: 1, TermsAgreedAt: &agreed},
		Scopes:  []string{apikey.AllReadWrite},
	}, nil
}

func (*stubStore) UpdateIdentity(_ context.Context, company int64, f store.Family, id int64, _ store.Change, now time.Time) (store.IdentityView, error) {
	return store.IdentityView{
		Identity:   store.Identity{ID: id, CompanyID: company, Family: f, IdentityID: "i-1", Username: "u", CreatedAt: now, UpdatedAt: now},
		Connection: &store.Connection{ID: 1, CompanyID: company, ClientType: "AWS", State: "ACTIVE"},
	}, nil
}

// BenchmarkServerOverhead is one authenticated PUT with a body through the
// whole server (routing, rate limiting, authentication, request validation,
// the handler, response validation off) over a store that does no work.
func BenchmarkServerOverhead(b *testing.B) {
	s, err := New(Config{Store: &stubStore{}, Logger: slog.New(slog.DiscardHandler), ResponseValidation: ValidationOff, RateLimit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPut, "/public/user-identities/infrastructure/7/connect", strings.NewReader(`{"userId":null}`))
		req.Header.Set("Authorization", "Bearer idk_x")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
