package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
)

// searchBuild fills a copy of the search index in a scratch database of its
// own, on its own connection and goroutine, while a bulk load writes rows
// and builds the sort indexes: the two take a core each. The load then
// copies the finished index's tables into its transaction (see copyInto),
// which costs a fraction of building it there.
//
// The scratch index is created from the main index's own definition by the
// same SQLite library, so its tables hold exactly what the main index's
// would after the same inserts.
type searchBuild struct {
	path  string
	db    *sql.DB
	rows  chan []searchRow
	done  chan error
	ended bool
	// attached is whether the load's connection has the scratch database
	// attached.
	attached bool
}

// searchQueue is how many batches of rows the load may be ahead of the
// scratch index. The load never waits on it in practice: the rows share
// their text with the load's own inserts, and the sort indexes keep the
// load busy while the scratch index catches up.
const searchQueue = 1 << 14

// searchRow is what the search index needs of one identity.
type searchRow struct {
	id, companyID, family int64
	search                string
}

// searchShadows are the tables that hold an FTS5 index's entries: its
// segments, their leaf index and each row's sizes. The configuration table
// stays the main index's own.
var searchShadows = []string{"identities_search_data", "identities_search_idx", "identities_search_docsize"}

// startSearchBuild creates the scratch database beside the database at
// dbPath and starts filling it.
func startSearchBuild(ctx context.Context, dbPath, ddl string) (*searchBuild, error) {
	f, err := os.CreateTemp(filepath.Dir(dbPath), filepath.Base(dbPath)+"-load-*")
	if err != nil {
		return nil, fmt.Errorf("sqlite: scratch database for the search index: %w", err)
	}
	path := f.Name()
	_ = f.Close()
	// The scratch file is thrown away after the load, or on a failure:
	// neither a journal nor syncs protect anything.
	db, err := sql.Open("sqlite", "file:"+uriPath.Replace(path)+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")
	if err != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("sqlite: scratch database for the search index: %w", err)
	}
	db.SetMaxOpenConns(1)
	b := &searchBuild{path: path, db: db, rows: make(chan []searchRow, searchQueue), done: make(chan error, 1)}
	for _, stmt := range []string{
		ddl,
		fmt.Sprintf("INSERT INTO identities_search (identities_search, rank) VALUES ('hashsize', %d)", bulkSearchBuffer),
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			b.ended = true // no goroutine to stop
			b.discard()
			return nil, fmt.Errorf("sqlite: scratch search index: %w", err)
		}
	}
	go func() { b.done <- b.fill(ctx) }()
	return b, nil
}

// fill writes every batch it receives into the scratch index, in one
// transaction, until the batches end.
func (b *searchBuild) fill(ctx context.Context) (err error) {
	defer func() {
		// Whatever happens, take every batch the load sends.
		for range b.rows {
		}
	}()
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: scratch search index: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// One row a statement: FTS5 writes its pending entries out as a new
	// segment at every statement that inserts several rows (the statement
	// opens a savepoint), which would make thousands of small segments to
	// merge. One row at a time, they stay in memory until the buffer fills.
	st, err := tx.PrepareContext(ctx, "INSERT INTO identities_search (rowid, tokens) VALUES (?, ?)")
	if err != nil {
		return fmt.Errorf("sqlite: scratch search index: %w", err)
	}
	for batch := range b.rows {
		for _, r := range batch {
			if _, err := st.ExecContext(ctx, r.id, searchTokens(r.companyID, r.family, r.search)); err != nil {
				return fmt.Errorf("sqlite: scratch search index: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: scratch search index: %w", err)
	}
	return nil
}

// send hands a batch of rows to the builder.
func (b *searchBuild) send(batch []searchRow) { b.rows <- batch }

// wait ends the batches and waits until the scratch index holds them.
func (b *searchBuild) wait() error {
	if !b.ended {
		b.ended = true
		close(b.rows)
	}
	return <-b.done
}

// scratchSchema is the name the scratch database is attached under while
// the load copies its index.
const scratchSchema = "load_search"

// copyInto replaces the main index's entries, in tx, with the scratch
// index's. The scratch database is attached to tx's connection, and each
// table copied by an INSERT … SELECT * between tables of one definition,
// which SQLite carries out by moving the stored records as they are. The
// caller detaches it (see detach) once tx has ended: a database cannot be
// detached inside a transaction that read it.
func (b *searchBuild) copyInto(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `ATTACH DATABASE ? AS `+scratchSchema, "file:"+uriPath.Replace(b.path)); err != nil {
		return fmt.Errorf("sqlite: attach the search index's scratch database: %w", err)
	}
	b.attached = true
	for _, table := range searchShadows {
		for _, stmt := range []string{
			`DELETE FROM main."` + table + `"`,
			`INSERT INTO main."` + table + `" SELECT * FROM ` + scratchSchema + `."` + table + `"`,
		} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite: copy search index: %w", err)
			}
		}
	}
	return nil
}

// detach detaches the scratch database from conn, the load's connection,
// if copyInto attached it.
func (b *searchBuild) detach(ctx context.Context, conn *sql.Conn) error {
	if !b.attached {
		return nil
	}
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE `+scratchSchema); err != nil {
		return fmt.Errorf("sqlite: detach the search index's scratch database: %w", err)
	}
	b.attached = false
	return nil
}

// discard stops the builder, if it runs, and removes the scratch database.
// It runs after the load has its outcome: what it fails to remove, a file
// named after the database and "-load-", holds nothing the store needs.
func (b *searchBuild) discard() {
	if !b.ended {
		b.ended = true
		close(b.rows)
		<-b.done
	}
	_ = b.db.Close()
	_ = os.Remove(b.path)
}
