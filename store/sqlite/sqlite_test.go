package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
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

// openCounting opens a new store in a temporary directory whose statements
// are counted in n. The caller closes it.
func openCounting(t testing.TB, n *atomic.Int64) *Store {
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
	if err := s.Load(context.Background(), store.Whole(d)); err != nil {
		t.Fatal(err)
	}
	return s, d
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
	if err := s.Load(ctx, store.Whole(d)); err != nil {
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
	if version := schemaVersion(t, s); version != int64(len(files)) {
		t.Errorf("schema version %d, want %d", version, len(files))
	}
	page, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: 1, Family: store.VersionControl, Page: 1, Limit: 1, Sort: store.SortUsername})
	if err != nil || page.Total != 5 {
		t.Fatalf("after reopening: total %d, %v; want the 5 loaded", page.Total, err)
	}
	if err := s.Load(ctx, store.Whole(d)); !errors.Is(err, store.ErrNotEmpty) {
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
		if err := s.Load(ctx, store.Whole(d)); err != nil {
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

// schemaVersion is the newest migration goose's record says was applied.
func schemaVersion(t *testing.T, s *Store) int64 {
	t.Helper()
	var v int64
	err := s.read.QueryRowContext(context.Background(), "SELECT max(version_id) FROM "+versionTable+" WHERE is_applied").Scan(&v)
	if err != nil {
		t.Fatalf("schema version: %v", err)
	}
	return v
}

// TestOpenAtOnce: stores that open one new database at the same moment
// (replicas starting together) all open it, and each migration is applied
// once.
func TestOpenAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "once.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*Store, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), path) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	var applied, distinct int
	err := stores[0].read.QueryRowContext(context.Background(),
		"SELECT count(*), count(DISTINCT version_id) FROM "+versionTable+" WHERE version_id > 0").Scan(&applied, &distinct)
	if err != nil || applied != distinct {
		t.Fatalf("%d migrations recorded, %d distinct (%v)", applied, distinct, err)
	}
}
