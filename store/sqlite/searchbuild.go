package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	stmts := map[int]*sql.Stmt{}
	var args []any
	for batch := range b.rows {
		st, ok := stmts[len(batch)]
		if !ok {
			row := "(?, ?)"
			q := "INSERT INTO identities_search (rowid, tokens) VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", len(batch)), ", ")
			if st, err = tx.PrepareContext(ctx, q); err != nil {
				return fmt.Errorf("sqlite: scratch search index: %w", err)
			}
			stmts[len(batch)] = st
		}
		args = args[:0]
		for _, r := range batch {
			args = append(args, r.id, searchTokens(r.companyID, r.family, r.search))
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("sqlite: scratch search index: %w", err)
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

// copyInto replaces the main index's entries, in tx, with the scratch
// index's.
func (b *searchBuild) copyInto(ctx context.Context, tx *sql.Tx) error {
	for _, table := range searchShadows {
		if _, err := tx.ExecContext(ctx, `DELETE FROM "`+table+`"`); err != nil {
			return fmt.Errorf("sqlite: copy search index: %w", err)
		}
		if err := b.copyTable(ctx, tx, table); err != nil {
			return fmt.Errorf("sqlite: copy search index: %w", err)
		}
	}
	return nil
}

// copyBatch is how many rows one INSERT of copyTable writes.
const copyBatch = 256

func (b *searchBuild) copyTable(ctx context.Context, tx *sql.Tx, table string) error {
	var cols []string
	info, err := b.db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return err
	}
	for info.Next() {
		var c string
		if err := info.Scan(&c); err != nil {
			info.Close()
			return err
		}
		cols = append(cols, `"`+c+`"`)
	}
	info.Close()
	if err := info.Err(); err != nil {
		return err
	}
	// Each value comes with whether it is NULL, and goes back through
	// iif(null, NULL, coalesce(value, x'')): the driver reads an empty blob
	// as nil and binds it as NULL, and an index's terms may be empty.
	var list []string
	for _, c := range cols {
		list = append(list, c, c+" IS NULL")
	}
	rows, err := b.db.QueryContext(ctx, `SELECT `+strings.Join(list, ", ")+` FROM "`+table+`"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	row := "(" + strings.TrimSuffix(strings.Repeat("iif(?, NULL, coalesce(?, x'')), ", len(cols)), ", ") + ")"
	insert := func(n int) string {
		return `INSERT INTO "` + table + `" (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
	}
	full, err := tx.PrepareContext(ctx, insert(copyBatch))
	if err != nil {
		return err
	}
	defer full.Close()
	vals := make([]any, 2*len(cols)) // each value, then whether it is NULL
	args := make([]any, 0, copyBatch*len(vals))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i := 0; i < len(vals); i += 2 {
			args = append(args, vals[i+1], vals[i])
		}
		if len(args) == cap(args) {
			if _, err := full.ExecContext(ctx, args...); err != nil {
				return err
			}
			args = args[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(args) > 0 {
		if _, err := tx.ExecContext(ctx, insert(len(args)/len(vals)), args...); err != nil {
			return err
		}
	}
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
