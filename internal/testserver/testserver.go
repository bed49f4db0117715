// Package testserver starts the real identities server for tests: a
// temporary SQLite store with deterministic seed data, API keys for every
// policy case, and an httptest server mounted under the default base path.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/sqlite"
)

// Options tune Start. The zero value is a good default.
type Options struct {
	// Seed overrides the seed options (default: 3 companies, 40 identities
	// of each family each, seed 7).
	Seed *seed.Options
	// RateLimit per minute per address; 0 disables it.
	RateLimit int
	// BasePath defaults to "/public".
	BasePath string
	// Logger defaults to a discarding logger.
	Logger *slog.Logger
	// Now overrides the server's clock.
	Now func() time.Time
}

// Keys are API keys for each case the policy distinguishes.
type Keys struct {
	ReadWrite      string // company A, a user who accepted the terms, every scope
	ReadOnly       string // company A, both read scopes
	Infrastructure string // company A, infrastructure read and write only
	NoTerms        string // company A, a user who has not accepted the terms
	NoPlan         string // company C, whose plan lacks the API; read scopes only
	NoPlanNoTerms  string // company C, a user who has not accepted the terms
	OtherCompany   string // company B, every scope
	Expired        string // company A, expired
	Revoked        string // company A, revoked
	AllowListed    string // company A, usable only from 192.0.2.0/24
}

// Env is a running server and what a test needs to know about its data.
type Env struct {
	// URL is the API's base URL, base path included (http://127.0.0.1:N/public).
	URL    string
	Server *httptest.Server
	Store  *sqlite.Store
	Data   *store.Dataset
	Keys   Keys
	// CompanyA and CompanyB have the API in their plans; CompanyC does not.
	CompanyA, CompanyB, CompanyC int64
	// UserA is the acting user of the ReadWrite key; OtherUserA is another
	// user of company A; UserB is a user of company B.
	UserA, OtherUserA, UserB int64
}

// Start seeds a temporary database, creates the keys and starts a server
// with strict response validation. Everything is torn down with tb.
func Start(tb testing.TB, o Options) *Env {
	tb.Helper()
	ctx := context.Background()
	so := seed.Options{Companies: 3, Identities: 40, Seed: 7}
	if o.Seed != nil {
		so = *o.Seed
	}
	d, err := seed.Generate(so)
	if err != nil {
		tb.Fatalf("testserver: seed: %v", err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "identities.db"))
	if err != nil {
		tb.Fatalf("testserver: open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if err := st.Load(ctx, store.Whole(d)); err != nil {
		tb.Fatalf("testserver: load: %v", err)
	}
	e := &Env{Store: st, Data: d}
	e.pickUsers(tb)
	now := o.Now
	if now == nil {
		now = time.Now
	}

	mk := func(company, user int64, scopes []string, nets []string, expires *time.Time) string {
		secret, prefix, digest, err := apikey.New()
		if err != nil {
			tb.Fatalf("testserver: key: %v", err)
		}
		id, err := st.CreateAPIKey(ctx, store.NewAPIKey{CompanyID: company, UserID: user, Prefix: prefix, Hash: digest, Scopes: scopes, AllowedNets: nets, ExpiresAt: expires}, now())
		if err != nil {
			tb.Fatalf("testserver: create key: %v", err)
		}
		if scopes == nil { // the revoked key
			if err := st.RevokeAPIKey(ctx, id, now()); err != nil {
				tb.Fatalf("testserver: revoke: %v", err)
			}
		}
		return secret
	}
	all := []string{apikey.AllReadWrite}
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // expired whatever clock a test sets
	var noTermsUser, userC, noTermsC int64
	for _, u := range d.Users {
		switch {
		case u.CompanyID == e.CompanyA && u.TermsAgreedAt == nil && noTermsUser == 0:
			noTermsUser = u.ID
		case u.CompanyID == e.CompanyC && u.TermsAgreedAt != nil && userC == 0:
			userC = u.ID
		case u.CompanyID == e.CompanyC && u.TermsAgreedAt == nil && noTermsC == 0:
			noTermsC = u.ID
		}
	}
	e.Keys = Keys{
		ReadWrite:      mk(e.CompanyA, e.UserA, all, nil, nil),
		ReadOnly:       mk(e.CompanyA, e.UserA, []string{apikey.AllRead}, nil, nil),
		Infrastructure: mk(e.CompanyA, e.UserA, []string{apikey.InfrastructureRead, apikey.InfrastructureWrite}, nil, nil),
		NoTerms:        mk(e.CompanyA, noTermsUser, all, nil, nil),
		NoPlan:         mk(e.CompanyC, userC, []string{apikey.AllRead}, nil, nil),
		NoPlanNoTerms:  mk(e.CompanyC, noTermsC, all, nil, nil),
		OtherCompany:   mk(e.CompanyB, e.UserB, all, nil, nil),
		Expired:        mk(e.CompanyA, e.UserA, all, nil, &past),
		Revoked:        mk(e.CompanyA, e.UserA, nil, nil, nil),
		AllowListed:    mk(e.CompanyA, e.UserA, all, []string{"192.0.2.0/24"}, nil),
	}

	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := server.New(server.Config{Store: st, BasePath: o.BasePath, RateLimit: o.RateLimit, Logger: logger, Now: o.Now, ResponseValidation: server.ValidationStrict})
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	e.Server = httptest.NewServer(srv)
	tb.Cleanup(e.Server.Close)
	base := o.BasePath
	if base == "" {
		base = "/public"
	}
	e.URL = e.Server.URL + base
	return e
}

func (e *Env) pickUsers(tb testing.TB) {
	tb.Helper()
	if len(e.Data.Companies) < 3 {
		tb.Fatalf("testserver: need at least 3 companies, have %d", len(e.Data.Companies))
	}
	e.CompanyA, e.CompanyB, e.CompanyC = e.Data.Companies[0].ID, e.Data.Companies[1].ID, e.Data.Companies[2].ID
	for _, u := range e.Data.Users {
		switch {
		case u.CompanyID == e.CompanyA && u.TermsAgreedAt != nil && e.UserA == 0:
			e.UserA = u.ID
		case u.CompanyID == e.CompanyA && e.OtherUserA == 0 && e.UserA != 0:
			e.OtherUserA = u.ID
		case u.CompanyID == e.CompanyB && u.TermsAgreedAt != nil && e.UserB == 0:
			e.UserB = u.ID
		}
	}
}

// Identities returns the ids of a company's identities of one family, in id order.
func (e *Env) Identities(company int64, family store.Family) []int64 {
	var ids []int64
	for _, it := range e.Data.Identities {
		if it.CompanyID == company && it.Family == family {
			ids = append(ids, it.ID)
		}
	}
	return ids
}
