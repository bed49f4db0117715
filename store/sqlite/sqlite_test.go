package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// countingConn counts the statements run on a connection, whether directly
// or through prepared statements. It forwards every optional interface the
// driver's connections implement, so database/sql treats it like them.
type countingConn struct {
	driver.Conn
	n *atomic.Int64
}

func (c *countingConn) Unwrap() driver.Conn { return c.Conn }

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.n.Add(1)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.n.Add(1)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &countingStmt{st, c.n}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *countingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

type countingStmt struct {
	driver.Stmt
	n *atomic.Int64
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.n.Add(1)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

type countingConnector struct {
	driver.Connector
	n *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{conn, c.n}, nil
}

// openCounting opens a store whose statements are counted in n.
func openCounting(t *testing.T, n *atomic.Int64) *Store {
	t.Helper()
	s, err := open(context.Background(), filepath.Join(t.TempDir(), "count.db"), func(dsn string) (*sql.DB, error) {
		base, err := msqlite.NewConnector(dsn)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(countingConnector{base, n}), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// openSeeded opens a fresh store holding the seed data of o.
func openSeeded(t testing.TB, o seed.Options) (*Store, *store.Dataset) {
	t.Helper()
	d, err := seed.Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "identities.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Load(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return s, d
}

func TestListLoadsAPageInAFixedNumberOfQueries(t *testing.T) {
	ctx := context.Background()
	var n atomic.Int64
	s := openCounting(t, &n)
	d, err := seed.Generate(seed.Options{Companies: 2, Identities: 60, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, limit := range []int64{1, 7, 50} {
		for _, sort := range []store.Sort{store.SortUsername, store.SortUser, store.SortClientAlias} {
			before := n.Load()
			page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: 1, Family: store.Infrastructure, Page: 1, Limit: limit, Sort: sort})
			if err != nil {
				t.Fatal(err)
			}
			queries := n.Load() - before
			if int64(len(page.Items)) != limit {
				t.Fatalf("limit %d: %d items", limit, len(page.Items))
			}
			// The count only means something if the nested records are there.
			var users, docs, owners int
			for _, v := range page.Items {
				if v.Connection == nil || v.Connection.ID != v.ConnectionID {
					t.Fatalf("identity %d: connection %+v", v.ID, v.Connection)
				}
				if v.ConnectionOwner != nil {
					owners++
				}
				if v.User != nil {
					users++
					if len(v.User.BackgroundChecks) > 0 && len(v.User.Identities) > 0 && v.User.Identities[0].Connection != nil {
						docs += len(v.User.Documents)
					}
				}
			}
			if limit == 50 && (users == 0 || docs == 0 || owners == 0) {
				t.Fatalf("a page of 50 holds %d linked users, %d of their documents and %d connection owners", users, docs, owners)
			}
			if want == 0 {
				want = queries
				t.Logf("a page costs %d queries", queries)
			}
			if queries != want {
				t.Errorf("a page of %d sorted by %s took %d queries; a page of 1 took %d", limit, sort, queries, want)
			}
		}
	}
}

// at is a clock for the change tests, after every seeded time.
func at(minute int) time.Time {
	return time.Date(2030, 1, 1, 0, minute, 0, 0, time.UTC)
}

func sameTime(a *time.Time, b time.Time) bool { return a != nil && a.Equal(b) }

// changeFixture finds, in seed data, what the change tests need.
type changeFixture struct {
	s                  *Store
	companyA, companyB int64
	unlinked           int64 // infrastructure identity of A with no user, no access A, no service account
	withAccess         int64 // infrastructure identity of A with access A set
	otherCompany       int64 // infrastructure identity of B
	userA1, userA2     int64
	userB              int64
}

func newChangeFixture(t *testing.T) changeFixture {
	s, d := openSeeded(t, seed.Options{Companies: 2, Identities: 30, Seed: 4})
	f := changeFixture{s: s, companyA: d.Companies[0].ID, companyB: d.Companies[1].ID}
	for _, it := range d.Identities {
		switch {
		case it.Family != store.Infrastructure:
		case it.CompanyID == f.companyA && f.unlinked == 0 && it.UserID == nil && it.AccessA == nil && it.AccessB == nil && it.ServiceAccountAt == nil:
			f.unlinked = it.ID
		case it.CompanyID == f.companyA && f.withAccess == 0 && it.AccessA != nil:
			f.withAccess = it.ID
		case it.CompanyID == f.companyB && f.otherCompany == 0:
			f.otherCompany = it.ID
		}
	}
	for _, u := range d.Users {
		switch {
		case u.CompanyID == f.companyA && f.userA1 == 0:
			f.userA1 = u.ID
		case u.CompanyID == f.companyA && f.userA2 == 0:
			f.userA2 = u.ID
		case u.CompanyID == f.companyB && f.userB == 0:
			f.userB = u.ID
		}
	}
	if f.unlinked == 0 || f.withAccess == 0 || f.otherCompany == 0 || f.userA2 == 0 || f.userB == 0 {
		t.Fatalf("seed data lacks a case: %+v", f)
	}
	return f
}

// must returns a function that fails the test on err and returns v.
func must(t *testing.T) func(v store.IdentityView, err error) store.IdentityView {
	return func(v store.IdentityView, err error) store.IdentityView {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// same asserts that a repeated change returned the record unchanged, and
// that it is what the store holds.
func (f changeFixture) same(t *testing.T, what string, want, got store.IdentityView) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%s changed the record:\nbefore %+v\nafter  %+v", what, want.Identity, got.Identity)
	}
	stored := must(t)(f.s.GetIdentity(context.Background(), want.CompanyID, want.Family, want.ID))
	if !reflect.DeepEqual(stored, got) {
		t.Fatalf("%s returned %+v, but the store holds %+v", what, got.Identity, stored.Identity)
	}
}

func TestConnect(t *testing.T) {
	ctx := context.Background()
	f := newChangeFixture(t)
	connect := func(user *int64, minute int) store.IdentityView {
		t.Helper()
		return must(t)(f.s.Connect(ctx, f.companyA, store.Infrastructure, f.unlinked, user, at(minute)))
	}

	v := connect(&f.userA1, 1)
	if v.UserID == nil || *v.UserID != f.userA1 || v.User == nil || v.User.ID != f.userA1 {
		t.Fatalf("linked to %d, got user %v (%+v)", f.userA1, v.UserID, v.User)
	}
	if !sameTime(v.ConnectedAt, at(1)) || v.DisconnectedAt != nil || !v.UpdatedAt.Equal(at(1)) {
		t.Fatalf("link: connectedAt %v, disconnectedAt %v, updatedAt %v", v.ConnectedAt, v.DisconnectedAt, v.UpdatedAt)
	}
	f.same(t, "linking to the same user again", v, connect(&f.userA1, 2))

	v = connect(&f.userA2, 3)
	if *v.UserID != f.userA2 || !sameTime(v.ConnectedAt, at(3)) || !v.UpdatedAt.Equal(at(3)) {
		t.Fatalf("relink: user %d, connectedAt %v, updatedAt %v", *v.UserID, v.ConnectedAt, v.UpdatedAt)
	}

	v = connect(nil, 4)
	if v.UserID != nil || v.User != nil || !sameTime(v.DisconnectedAt, at(4)) || !sameTime(v.ConnectedAt, at(3)) || !v.UpdatedAt.Equal(at(4)) {
		t.Fatalf("unlink: user %v, connectedAt %v (want kept), disconnectedAt %v, updatedAt %v", v.UserID, v.ConnectedAt, v.DisconnectedAt, v.UpdatedAt)
	}
	f.same(t, "unlinking again", v, connect(nil, 5))

	v = connect(&f.userA1, 6)
	if v.DisconnectedAt != nil || !sameTime(v.ConnectedAt, at(6)) {
		t.Fatalf("link after unlink: connectedAt %v, disconnectedAt %v (want cleared)", v.ConnectedAt, v.DisconnectedAt)
	}

	for _, c := range []struct {
		name    string
		company int64
		family  store.Family
		id      int64
		user    *int64
		want    error
	}{
		{"another company's user", f.companyA, store.Infrastructure, f.unlinked, &f.userB, store.ErrUserNotFound},
		{"no such user", f.companyA, store.Infrastructure, f.unlinked, new(int64(987654)), store.ErrUserNotFound},
		{"another company's identity", f.companyA, store.Infrastructure, f.otherCompany, &f.userA1, store.ErrNotFound},
		{"seen from another company", f.companyB, store.Infrastructure, f.unlinked, &f.userB, store.ErrNotFound},
		{"the other family", f.companyA, store.VersionControl, f.unlinked, nil, store.ErrNotFound},
		{"no such identity", f.companyA, store.Infrastructure, 987654, nil, store.ErrNotFound},
	} {
		if _, err := f.s.Connect(ctx, c.company, c.family, c.id, c.user, at(7)); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
	f.same(t, "refused links", v, must(t)(f.s.GetIdentity(ctx, f.companyA, store.Infrastructure, f.unlinked)))
}

func TestSetAccess(t *testing.T) {
	ctx := context.Background()
	f := newChangeFixture(t)
	set := func(id int64, a store.Access, on bool, minute int) store.IdentityView {
		t.Helper()
		return must(t)(f.s.SetAccess(ctx, f.companyA, store.Infrastructure, id, a, on, at(minute)))
	}

	v := set(f.unlinked, store.AccessA, true, 1)
	if !sameTime(v.AccessA, at(1)) || v.AccessB != nil || !v.UpdatedAt.Equal(at(1)) {
		t.Fatalf("set A: A %v, B %v, updatedAt %v", v.AccessA, v.AccessB, v.UpdatedAt)
	}
	f.same(t, "setting A again", v, set(f.unlinked, store.AccessA, true, 2))

	v = set(f.unlinked, store.AccessB, true, 3)
	if !sameTime(v.AccessA, at(1)) || !sameTime(v.AccessB, at(3)) || !v.UpdatedAt.Equal(at(3)) {
		t.Fatalf("set B: A %v (want kept), B %v, updatedAt %v", v.AccessA, v.AccessB, v.UpdatedAt)
	}
	v = set(f.unlinked, store.AccessA, false, 4)
	if v.AccessA != nil || !sameTime(v.AccessB, at(3)) || !v.UpdatedAt.Equal(at(4)) {
		t.Fatalf("clear A: A %v, B %v (want kept), updatedAt %v", v.AccessA, v.AccessB, v.UpdatedAt)
	}
	f.same(t, "clearing A again", v, set(f.unlinked, store.AccessA, false, 5))

	seeded := must(t)(f.s.GetIdentity(ctx, f.companyA, store.Infrastructure, f.withAccess))
	f.same(t, "setting an access that was already set", seeded, set(f.withAccess, store.AccessA, true, 6))

	if _, err := f.s.SetAccess(ctx, f.companyA, store.Infrastructure, f.otherCompany, store.AccessA, true, at(7)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another company's identity: error %v, want ErrNotFound", err)
	}
	if _, err := f.s.SetAccess(ctx, f.companyA, store.Infrastructure, f.unlinked, store.Access(9), true, at(7)); err == nil {
		t.Error("an unknown access flag was accepted")
	}
}

func TestSetServiceAccount(t *testing.T) {
	ctx := context.Background()
	f := newChangeFixture(t)
	set := func(mark bool, reason string, actor int64, minute int) store.IdentityView {
		t.Helper()
		return must(t)(f.s.SetServiceAccount(ctx, f.companyA, store.Infrastructure, f.unlinked, store.ServiceAccountChange{Mark: mark, Reason: reason, ActorID: actor}, at(minute)))
	}
	marked := func(v store.IdentityView, since time.Time, reason string, actor int64, updated time.Time) {
		t.Helper()
		if !sameTime(v.ServiceAccountAt, since) || v.ServiceAccountReason == nil || *v.ServiceAccountReason != reason ||
			v.DesignatorID == nil || *v.DesignatorID != actor || v.Designator == nil || v.Designator.ID != actor || !v.UpdatedAt.Equal(updated) {
			t.Fatalf("got since %v, reason %v, designator %v, updatedAt %v; want %v, %q, %d, %v",
				v.ServiceAccountAt, v.ServiceAccountReason, v.DesignatorID, v.UpdatedAt, since, reason, actor, updated)
		}
	}

	v := set(true, "deploys", f.userA1, 1)
	marked(v, at(1), "deploys", f.userA1, at(1))
	f.same(t, "marking again alike", v, set(true, "deploys", f.userA1, 2))
	marked(set(true, "runs CI", f.userA1, 3), at(1), "runs CI", f.userA1, at(3))
	marked(set(true, "runs CI", f.userA2, 4), at(1), "runs CI", f.userA2, at(4))

	v = set(false, "a person after all", f.userA2, 5)
	if v.ServiceAccountAt != nil || v.ServiceAccountReason != nil || v.DesignatorID != nil || v.Designator != nil || !v.UpdatedAt.Equal(at(5)) {
		t.Fatalf("unmark: %v, %v, %v, updatedAt %v", v.ServiceAccountAt, v.ServiceAccountReason, v.DesignatorID, v.UpdatedAt)
	}
	f.same(t, "unmarking again", v, set(false, "still a person", f.userA1, 6))

	change := store.ServiceAccountChange{Mark: true, Reason: "x", ActorID: f.userA1}
	if _, err := f.s.SetServiceAccount(ctx, f.companyA, store.Infrastructure, f.otherCompany, change, at(7)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another company's identity: error %v, want ErrNotFound", err)
	}
}

func TestMigrationsApplyOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "identities.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s.Close()
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v, %v", files, err)
	}
	var version int
	if err := s.read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(files) {
		t.Errorf("user_version %d, want %d", version, len(files))
	}
	page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: 1, Family: store.VersionControl, Page: 1, Limit: 1, Sort: store.SortUsername})
	if err != nil || page.Total != 5 {
		t.Fatalf("after reopening: total %d, %v; want the 5 loaded", page.Total, err)
	}
	if err := s.Load(ctx, d); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("loading into a full store: %v, want ErrNotEmpty", err)
	}
	if res, err := s.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Errorf("integrity check: %q, %v", res, err)
	}
}

// BenchmarkSeed100k generates and loads 100 000 identities of each family
// for one company. Run it with -benchtime=1x.
func BenchmarkSeed100k(b *testing.B) {
	ctx := context.Background()
	var generate, load time.Duration
	for b.Loop() {
		start := time.Now()
		d, err := seed.Generate(seed.Options{Companies: 1, Identities: 100_000, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		generate += time.Since(start)
		s, err := Open(ctx, filepath.Join(b.TempDir(), "seed.db"))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := s.Load(ctx, d); err != nil {
			b.Fatal(err)
		}
		load += time.Since(start)
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(generate.Seconds()/float64(b.N), "generate-s/op")
	b.ReportMetric(load.Seconds()/float64(b.N), "load-s/op")
}
