// Package testserver starts the real identities server for tests: a store
// of its own with deterministic seed data (seeded once per test binary and
// copied for each test), API keys for every policy case, and an httptest
// server mounted under the default base path.
//
// The store is SQLite unless Options.Store says PostgreSQL, whose server
// package pgtest finds; a test that means to prove a claim of every store
// runs once per member of Stores. Without a PostgreSQL server such a run
// is skipped with one line, or fails when $IDENTITIES_REQUIRE_POSTGRES is
// 1 (as in CI).
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

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/metrics"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/postgres"
	"github.com/identities-go/identities/store/sqlite"
)

// StoreKind names a store a server can run on.
type StoreKind int

// The stores. The zero value is SQLite.
const (
	// SQLite is the embedded store, in a file of the test's own.
	SQLite StoreKind = iota
	// Postgres is the PostgreSQL store, in a database of the test's own
	// on the server package pgtest names.
	Postgres
)

// Stores lists every kind of store, for tests that run once per store:
//
//	for _, kind := range testserver.Stores() {
//		t.Run(kind.String(), func(t *testing.T) { … testserver.Options{Store: kind} … })
//	}
func Stores() []StoreKind { return []StoreKind{SQLite, Postgres} }

// String returns "sqlite" or "postgres".
func (k StoreKind) String() string {
	switch k {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	default:
		return fmt.Sprintf("StoreKind(%d)", int(k))
	}
}

// Options tune Start. The zero value is a good default.
type Options struct {
	// Store is the kind of store the server runs on (default SQLite).
	Store StoreKind
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
	// Store is the server's store, of the kind Options.Store named.
	Store store.Store
	Data  *store.Dataset
	Keys  Keys
	// CompanyA and CompanyB have the API in their plans; CompanyC does not.
	CompanyA, CompanyB, CompanyC int64
	// UserA is the acting user of the ReadWrite key; OtherUserA is another
	// user of company A; UserB is a user of company B.
	UserA, OtherUserA, UserB int64
}

// Start gives the test its own copy of a seeded database with the keys, and
// starts a server over it (with strict response validation unless o says
// otherwise). Everything is torn down with tb. The data is generated and
// its keys issued once per process for each seed, and loaded once per kind
// of store into a template: later calls copy the template (a file for
// SQLite, CREATE DATABASE … TEMPLATE for PostgreSQL), which is what makes
// a server per test cheap. Servers of the same seed have the same data and
// the same keys whatever their store. Env.Data is shared between them:
// treat it as read-only.
func Start(tb testing.TB, o Options) *Env {
	tb.Helper()
	so := seed.Options{Companies: 3, Identities: 40, Seed: 7}
	if o.Seed != nil {
		so = *o.Seed
	}
	st, e := open(tb, o.Store, so)
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

// NewStore opens an empty store of kind for tests that load data of their
// own: a new SQLite file or PostgreSQL database, closed (and dropped) with
// tb.
func NewStore(tb testing.TB, kind StoreKind) store.Store {
	tb.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch kind {
	case SQLite:
		st, err = sqlite.Open(ctx, filepath.Join(tb.TempDir(), "identities.db"))
	case Postgres:
		st, err = openPostgres(ctx, pgtest.NewDatabase(tb))
	default:
		err = fmt.Errorf("unknown %v", kind)
	}
	if err != nil {
		tb.Fatalf("testserver: open store: %v", err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// open opens a copy of the template of kind and so, and returns it with
// the Env of its data.
func open(tb testing.TB, kind StoreKind, so seed.Options) (store.Store, Env) {
	tb.Helper()
	ctx := context.Background()
	switch kind {
	case SQLite:
		tpl, err := sqliteTemplates.get(so)
		if err != nil {
			tb.Fatalf("testserver: %v", err)
		}
		path := filepath.Join(tb.TempDir(), "identities.db")
		if err := os.WriteFile(path, tpl.db, 0o600); err != nil {
			tb.Fatalf("testserver: %v", err)
		}
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			tb.Fatalf("testserver: open store: %v", err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st, tpl.fx.env
	case Postgres:
		// Skip (or fail, in CI) before making a template there is no
		// server for.
		pgtest.Require(tb)
		tpl, err := pgTemplates.get(so)
		if err != nil {
			tb.Fatalf("testserver: %v", err)
		}
		st, err := openPostgres(ctx, pgtest.Copy(tb, tpl.name))
		if err != nil {
			tb.Fatalf("testserver: open store: %v", err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st, tpl.fx.env
	default:
		tb.Fatalf("testserver: unknown %v", kind)
		return nil, Env{}
	}
}

// openPostgres opens the store of a throwaway database, whose commits do
// not wait for the disk: such a database need not outlive a crash, and
// what transactions see of each other and the order they commit in are as
// with the default.
func openPostgres(ctx context.Context, url string) (*postgres.Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	return postgres.OpenConfig(ctx, cfg)
}

// onceEach makes the value of each key once, on first use; gets of other
// keys do not wait for it.
type onceEach[K comparable, V any] struct {
	make func(K) (V, error)
	mu   sync.Mutex
	m    map[K]func() (V, error)
}

func (o *onceEach[K, V]) get(k K) (V, error) {
	o.mu.Lock()
	get, ok := o.m[k]
	if !ok {
		get = sync.OnceValues(func() (V, error) { return o.make(k) })
		if o.m == nil {
			o.m = map[K]func() (V, error){}
		}
		o.m[k] = get
	}
	o.mu.Unlock()
	return get()
}

var (
	fixtures        = &onceEach[seed.Options, *fixture]{make: makeFixture}
	sqliteTemplates = &onceEach[seed.Options, *sqliteTemplate]{make: makeSQLiteTemplate}
	pgTemplates     = &onceEach[seed.Options, *pgTemplate]{make: makePGTemplate}
)

// fixture is what every store of one seed holds: the data, the keys, and
// what Env says of them (without Store, Server and URL).
type fixture struct {
	env Env
	// keys are the records of Env.Keys, in the order they were issued;
	// revoked is the index of the revoked one.
	keys    []store.NewAPIKey
	revoked int
	// issuedAt is when the keys were issued and revoked, by the wall clock
	// (Options.Now is the server's clock).
	issuedAt time.Time
}

// makeFixture generates the data of so and issues the keys, recording
// them rather than storing them, so that every store gets the same ones.
func makeFixture(so seed.Options) (*fixture, error) {
	d, err := seed.Generate(so)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	fx := &fixture{env: Env{Data: d}, issuedAt: time.Now()}
	if err := fx.env.pickUsers(); err != nil {
		return nil, err
	}
	var rec keyRecorder
	revoked, err := fx.env.issueKeys(context.Background(), &rec, fx.issuedAt)
	if err != nil {
		return nil, err
	}
	fx.keys, fx.revoked = rec.keys, int(revoked-1)
	return fx, nil
}

// fill loads the fixture's data and keys into an empty store.
func (fx *fixture) fill(ctx context.Context, st store.Store) error {
	if err := st.Load(ctx, store.Whole(fx.env.Data)); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	for i, k := range fx.keys {
		id, err := st.CreateAPIKey(ctx, k, fx.issuedAt)
		if err != nil {
			return fmt.Errorf("record key: %w", err)
		}
		if i == fx.revoked {
			if err := st.RevokeAPIKey(ctx, id, fx.issuedAt); err != nil {
				return fmt.Errorf("revoke key: %w", err)
			}
		}
	}
	return nil
}

// keyRecorder is where makeFixture issues the keys: it keeps each record,
// and numbers them from 1.
type keyRecorder struct{ keys []store.NewAPIKey }

func (r *keyRecorder) CreateAPIKey(_ context.Context, k store.NewAPIKey, _ time.Time) (int64, error) {
	r.keys = append(r.keys, k)
	return int64(len(r.keys)), nil
}

// sqliteTemplate is a database file holding a fixture.
type sqliteTemplate struct {
	db []byte
	fx *fixture
}

// makeSQLiteTemplate fills a database in a directory of its own, closes it
// (which folds the write-ahead log into the file) and keeps the file's
// bytes.
func makeSQLiteTemplate(so seed.Options) (_ *sqliteTemplate, err error) {
	fx, err := fixtures.get(so)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
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
	if err := errors.Join(fx.fill(ctx, st), st.Close()); err != nil {
		return nil, err
	}
	t := &sqliteTemplate{fx: fx}
	if t.db, err = os.ReadFile(path); err != nil {
		return nil, err
	}
	return t, nil
}

// pgTemplate is a PostgreSQL database holding a fixture, which lives as
// long as the process (see pgtest.NewTemplate).
type pgTemplate struct {
	name string
	fx   *fixture
}

func makePGTemplate(so seed.Options) (*pgTemplate, error) {
	fx, err := fixtures.get(so)
	if err != nil {
		return nil, err
	}
	name, err := pgtest.NewTemplate(context.Background(), func(ctx context.Context, url string) error {
		st, err := openPostgres(ctx, url)
		if err != nil {
			return fmt.Errorf("open store: %w", err)
		}
		return errors.Join(fx.fill(ctx, st), st.Close())
	})
	if err != nil {
		return nil, err
	}
	return &pgTemplate{name: name, fx: fx}, nil
}

// issueKeys issues a key for each case the policy distinguishes into st,
// and returns the id of the one that is to be revoked.
func (e *Env) issueKeys(ctx context.Context, st apikey.Store, now time.Time) (revoked int64, err error) {
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
	k.Revoked, revoked = issue(apikey.Grant{CompanyID: e.CompanyA, UserID: e.UserA, Scopes: all})
	return revoked, err
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
