// Package clienttest runs the real User Identities server in-process, so that
// tests of code built on package client talk to a real API instead of mocks.
//
// Start seeds a temporary SQLite database with deterministic data (the same
// options always give the same ids and values), starts the server on a local
// port and returns a ready *client.Client with response checking on: every
// answer your code receives has been checked against the API's contract.
// Everything is torn down when the test ends.
//
//	func TestStaleAccounts(t *testing.T) {
//		env := clienttest.Start(t)
//		ctx := t.Context()
//		id := env.InfrastructureIDs[0]
//		if _, _, err := env.Client.Infrastructure.SetServiceAccount(ctx, id, true, "deploys"); err != nil {
//			t.Fatal(err)
//		}
//		got, err := mypkg.ServiceAccounts(ctx, env.Client) // the code under test
//		...
//	}
//
// The server is the one "identities serve" runs, with its authentication,
// validation, paging, sorting and error bodies, so errors such as
// client.ErrNotFound arrive exactly as they would from Drata. Each call of
// Start gets its own database: tests that write do not see each other.
package clienttest

import (
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/checking"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// Defaults of Start.
const (
	// DefaultIdentities is how many identities of each family the company
	// has: two full pages at the API's default limit of 20.
	DefaultIdentities = 40
	// DefaultSeed drives the generator of the data.
	DefaultSeed uint64 = 7
)

// Env is a running server and what a test needs to know about its data.
// The ids are those of the company the token acts for.
type Env struct {
	// Client is ready to use: it reaches URL with Token, checks every
	// response against the contract, and has no client-side rate limit.
	Client *client.Client
	// URL is the API's base URL, base path included, for example
	// "http://127.0.0.1:41234/public"; pass it to client.WithBaseURL.
	URL string
	// Token is an API key of the company with every scope.
	Token string

	// CompanyID is the company the token acts for.
	CompanyID int64
	// UserID is the user the token acts for; OtherUserID is another user of
	// the same company. Both can be linked to the company's identities.
	UserID, OtherUserID int64
	// ForeignUserID is a user of another company: linking to it is a 404.
	ForeignUserID int64

	// InfrastructureIDs and VersionControlIDs are the ids of every identity
	// of the company, in ascending order.
	InfrastructureIDs, VersionControlIDs []int64
	// InfrastructureTotal and VersionControlTotal are how many identities
	// of each family the company has: the total a list without filters
	// reports.
	InfrastructureTotal, VersionControlTotal int64

	clientOpts []client.Option
}

// Option tunes Start.
type Option func(*options)

type options struct {
	identities int
	seed       uint64
	clientOpts []client.Option
	// store is SQLite for users; this package's own tests run on every
	// store (see export_test.go).
	store testserver.StoreKind
}

// WithIdentities sets how many identities of each family the company has
// (DefaultIdentities); n must not be negative.
func WithIdentities(n int) Option { return func(o *options) { o.identities = n } }

// WithSeed sets the seed of the data generator (DefaultSeed). The same seed
// and size always give the same data.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// WithClientOptions adds options to those Env.Client is built with, after
// the defaults, so that they can replace them (a logger, a retry policy, a
// timeout).
func WithClientOptions(opts ...client.Option) Option {
	return func(o *options) { o.clientOpts = append(o.clientOpts, opts...) }
}

// Start seeds a temporary database, starts the server and builds Env.Client.
// It stops the test with tb.Fatal when any of that fails, and registers the
// teardown with tb.Cleanup. The data holds three companies (one of them the
// token's); only the token's company's ids are in Env.
func Start(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	o := options{identities: DefaultIdentities, seed: DefaultSeed}
	for _, opt := range opts {
		opt(&o)
	}
	if o.identities < 0 {
		tb.Fatalf("clienttest: WithIdentities(%d): must not be negative", o.identities)
	}
	ts := testserver.Start(tb, testserver.Options{Store: o.store, Seed: &seed.Options{Companies: 3, Identities: o.identities, Seed: o.seed}})
	infra := ts.Identities(ts.CompanyA, store.Infrastructure)
	vc := ts.Identities(ts.CompanyA, store.VersionControl)
	env := &Env{
		URL:               ts.URL,
		Token:             ts.Keys.ReadWrite,
		CompanyID:         ts.CompanyA,
		UserID:            ts.UserA,
		OtherUserID:       ts.OtherUserA,
		ForeignUserID:     ts.UserB,
		InfrastructureIDs: infra, VersionControlIDs: vc,
		InfrastructureTotal: int64(len(infra)), VersionControlTotal: int64(len(vc)),
		clientOpts: o.clientOpts,
	}
	env.Client = env.NewClient(tb)
	return env
}

// NewClient builds another client of the server, configured as Env.Client
// (base URL, token, response checking, no client-side rate limit, and the
// options of WithClientOptions) and then with opts, which may replace any of
// these: client.WithToken("wrong") gives a client whose calls fail with
// client.ErrUnauthorized.
func (e *Env) NewClient(tb testing.TB, opts ...client.Option) *client.Client {
	tb.Helper()
	all := append([]client.Option{
		client.WithBaseURL(e.URL),
		client.WithToken(e.Token),
		checking.WithResponseChecking(),
		client.WithRateLimit(0),
	}, e.clientOpts...)
	c, err := client.New(append(all, opts...)...)
	if err != nil {
		tb.Fatalf("clienttest: %v", err)
	}
	return c
}
