package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxStatements bounds a pool's statement cache. Lists write their SQL from
// a few hundred shapes; past the bound, statements are compiled per use.
const maxStatements = 1024

// stmtCache keeps one pool's prepared statements by their text, so that a
// query is compiled once per connection rather than on every use.
//
// A statement is prepared on the pool only between transactions (fill):
// preparing needs a free connection, and a transaction that waited for one
// while holding its own could wait forever on a small pool. Inside a
// transaction a cached statement is bound to the transaction's connection
// (database/sql compiles it there once); a missing one runs unprepared and
// is noted for the next fill.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt), wanted: make(map[string]bool)}
}

// lookup returns the cached statement for query, or nil after noting that
// query is wanted.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[query]
	if st == nil && len(c.m)+len(c.wanted) < maxStatements {
		c.wanted[query] = true
	}
	return st
}

// fill prepares the wanted statements. Callers hold no connection of the
// pool. A statement that fails to prepare is left out; its query still runs
// unprepared.
func (c *stmtCache) fill(ctx context.Context) {
	c.mu.Lock()
	wanted := c.wanted
	c.wanted = make(map[string]bool)
	c.mu.Unlock()
	for query := range wanted {
		st, err := c.db.PrepareContext(ctx, query)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m[query] == nil {
			c.m[query] = st
			st = nil
		}
		c.mu.Unlock()
		if st != nil {
			_ = st.Close()
		}
	}
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for query, st := range c.m {
		_ = st.Close()
		delete(c.m, query)
	}
}

// cachedTx runs a transaction's statements through its pool's cache. It is
// a querier.
type cachedTx struct {
	tx    *sql.Tx
	cache *stmtCache
}

func (c cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.cache.lookup(query); st != nil {
		return c.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return c.tx.QueryContext(ctx, query, args...)
}

func (c cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.cache.lookup(query); st != nil {
		return c.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return c.tx.QueryRowContext(ctx, query, args...)
}

func (c cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.cache.lookup(query); st != nil {
		return c.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return c.tx.ExecContext(ctx, query, args...)
}
