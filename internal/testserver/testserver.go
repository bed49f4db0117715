// Package testserver starts the real identities server for tests: a
// temporary SQLite store with deterministic seed data (seeded once per test
// binary and copied for each test), API keys for every policy case, and an
// httptest server mounted under the default base path.
package testserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/metrics"
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
	// ResponseValidation defaults to strict. Tests whose client validates
	// every answer itself, such as the conformance checker, may turn it off
	// rather than pay for the check twice.
	ResponseValidation server.ValidationMode
	// Metrics, when set, is the server's (served at /metrics).
	Metrics *metrics.Metrics
}

// ForChecker are the options of a server that a client checking every
// answer itself (the conformance checker, the check command) runs against:
// a small seed, eight identities of each family a company, since such tests
// prove what the client does with the answers rather than how much data
// there is; and no response validation in the server, which would check
// every answer a second time.
func ForChecker() Options {
	return Options{Seed: &seed.Options{Companies: 3, Identities: 8, Seed: 7}, ResponseValidation: server.ValidationOff}
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

// Start gives the test its own copy of a seeded database with the keys, and
// starts a server over it (with strict response validation unless o says
// otherwise). Everything is torn down with tb. The database is seeded and
// its keys issued once per process for each seed: later calls copy the
// file, which is what makes a server per test cheap. Env.Data is shared
// between those copies: treat it as read-only.
func Start(tb testing.TB, o Options) *Env {
	tb.Helper()
	so := seed.Options{Companies: 3, Identities: 40, Seed: 7}
	if o.Seed != nil {
		so = *o.Seed
	}
	tpl, err := templateFor(so)
	if err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "identities.db")
	if err := os.WriteFile(path, tpl.db, 0o600); err != nil {
		tb.Fatalf("testserver: %v", err)
	}
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("testserver: open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	e := tpl.env
	e.Store = st

	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mode := o.ResponseValidation
	if mode == "" {
		mode = server.ValidationStrict
	}
	srv, err := server.New(server.Config{Store: st, BasePath: o.BasePath, RateLimit: o.RateLimit, Logger: logger, Now: o.Now, ResponseValidation: mode, Metrics: o.Metrics})
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
	return &e
}

// template is a seeded database file with its keys, and what Env says of it.
type template struct {
	db  []byte
	env Env // without Store, Server and URL
}

var (
	templatesMu sync.Mutex
	templates   = map[seed.Options]func() (*template, error){}
)

// templateFor returns the template of so, making it on first use; calls
// for other seeds do not wait for it.
func templateFor(so seed.Options) (*template, error) {
	templatesMu.Lock()
	get, ok := templates[so]
	if !ok {
		get = sync.OnceValues(func() (*template, error) { return makeTemplate(so) })
		templates[so] = get
	}
	templatesMu.Unlock()
	return get()
}

// makeTemplate seeds a database in a directory of its own, issues the keys,
// closes it (which folds the write-ahead log into the file) and keeps the
// file's bytes. Keys are issued by the wall clock; Options.Now is the
// server's clock.
func makeTemplate(so seed.Options) (_ *template, err error) {
	ctx := context.Background()
	d, err := seed.Generate(so)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	dir, err := os.MkdirTemp("", "testserver-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "identities.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if st != nil {
			_ = st.Close()
		}
	}()
	if err := st.Load(ctx, store.Whole(d)); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	t := &template{env: Env{Data: d}}
	e := &t.env
	if err := e.pickUsers(); err != nil {
		return nil, err
	}
	if err := e.issueKeys(ctx, st, time.Now()); err != nil {
		return nil, err
	}
	closeErr := st.Close()
	st = nil
	if closeErr != nil {
		return nil, fmt.Errorf("close store: %w", closeErr)
	}
	if t.db, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	return t, nil
}

// issueKeys issues a key for each case the policy distinguishes.
func (e *Env) issueKeys(ctx context.Context, st *sqlite.Store, now time.Time) error {
	var err error
	issue := func(g apikey.Grant) (string, int64) {
		secret, id, ierr := apikey.Issue(ctx, st, g, now)
		err = errors.Join(err, ierr)
		return secret, id
	}
	all := []string{apikey.AllReadWrite}
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // expired whatever clock a test sets
	var noTermsUser, userC, noTermsC int64
	for _, u := range e.Data.Users {
		switch {
		case u.CompanyID == e.CompanyA && u.TermsAgreedAt == nil && noTermsUser == 0:
			noTermsUser = u.ID
		case u.CompanyID == e.CompanyC && u.TermsAgreedAt != nil && userC == 0:
			userC = u.ID
		case u.CompanyID == e.CompanyC && u.TermsAgreedAt == nil && noTermsC == 0:
			noTermsC = u.ID
		}
	}
	k := &e.Keys
	k.ReadWrite, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: all})
	k.ReadOnly, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: []string{apikey.AllRead}})
	k.Infrastructure, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: []string{apikey.InfrastructureRead, apikey.InfrastructureWrite}})
	k.NoTerms, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: noTermsUser, Scopes: all})
	k.NoPlan, _ = issue(apikey.Grant{CompanyID: e.CompanyC, UserID: userC, Scopes: []string{apikey.AllRead}})
	k.NoPlanNoTerms, _ = issue(apikey.Grant{CompanyID: e.CompanyC, UserID: noTermsC, Scopes: all})
	k.OtherCompany, _ = issue(apikey.Grant{CompanyID: e.CompanyB, UserID: e.UserB, Scopes: all})
	k.Expired, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: all, ExpiresAt: &past})
	k.AllowListed, _ = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: all, AllowedNets: []string{"192.0.2.0/24"}})
	var revoked int64
	k.Revoked, revoked = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: all})
	if err != nil {
		return err
	}
	return st.RevokeAPIKey(ctx, revoked, now)
}

func (e *Env) pickUsers() error {
	if len(e.Data.Companies) < 3 {
		return fmt.Errorf("need at least 3 companies, have %d", len(e.Data.Companies))
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
	return nil
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
