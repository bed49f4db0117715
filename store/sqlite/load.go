package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/identities-go/identities/store"
)

// Load bulk-inserts every part into an empty database in one transaction.
// It refuses a dataset whose records refer to another company's users or
// connections, or to ones not loaded yet.
//
// A load into a database that no other connection has open writes its
// pages straight into the database file (see leaveLog); one that starts
// meanwhile waits for the load, up to the busy timeout.
func (s *Store) Load(ctx context.Context, parts iter.Seq2[*store.Dataset, error]) (err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	}
	defer conn.Close()
	left, err := leaveLog(ctx, conn)
	if err != nil {
		return err
	}
	if left {
		defer func() {
			if rerr := returnToLog(ctx, conn); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	var search *searchBuild
	defer func() {
		if search == nil {
			return
		}
		// The scratch database goes once the load's transaction has
		// ended and its connection has let go of it.
		if derr := search.detach(ctx, conn); derr != nil && err == nil {
			err = derr
		}
		search.discard()
	}()
	return inTx(ctx, conn, func(tx *sql.Tx) error {
		if full, err := holdsData(ctx, tx); err != nil || full {
			return cmp.Or(err, store.ErrNotEmpty)
		}
		var cache int64
		if err := tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
			return fmt.Errorf("sqlite: read cache size: %w", err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", bulkCache)); err != nil {
			return fmt.Errorf("sqlite: grow cache: %w", err)
		}
		// The connection outlives the load: give it back its cache.
		defer func() {
			_, _ = tx.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cache))
		}()
		var ddl string
		if err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'identities_search'").Scan(&ddl); err != nil {
			return fmt.Errorf("sqlite: read schema: %w", err)
		}
		var err error
		if search, err = startSearchBuild(ctx, s.path, ddl); err != nil {
			return err
		}
		restore, err := setAside(ctx, tx, func() error {
			if err := search.wait(); err != nil {
				return err
			}
			return search.copyInto(ctx, tx)
		})
		if err != nil {
			return err
		}
		l := loader{ctx: ctx, tx: tx, refs: store.NewRefs(), search: search}
		defer l.close()
		for d, err := range parts {
			if err != nil {
				return fmt.Errorf("sqlite: load: %w", err)
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sqlite: load: %w", err)
			}
			if err := l.refs.Add(d); err != nil {
				return err
			}
			for _, c := range d.Companies {
				l.exec("INSERT INTO companies (id, name, plan_includes_api, created_at) VALUES (?, ?, ?, ?)",
					c.ID, c.Name, boolInt(c.PlanIncludesAPI), ms(c.CreatedAt))
			}
			for i := range d.Users {
				l.user(&d.Users[i])
			}
			for i := range d.Connections {
				l.connection(&d.Connections[i])
			}
			for i := range d.Users {
				l.personIdentities(&d.Users[i])
			}
			for i := range d.Identities {
				l.identity(&d.Identities[i])
			}
			l.flushIdentities()
			if l.err != nil {
				return l.err
			}
		}
		return restore()
	})
}

// leaveLog takes an empty database out of write-ahead logging for a load,
// when no other connection has it open, and reports whether it did. In the
// log, each page a load writes is written twice: into the log, then into
// the database file at the checkpoint, a second pass over a file as large
// as the data. Out of it, the load writes each page once, straight into
// the file; the rollback journal keeps the load atomic and durable, and
// pages past the file's end, nearly all of a load's, need no journal.
//
// It does not wait: a database other connections have open, or one that
// holds data, stays in the log, and the load goes through it as any
// transaction would.
func leaveLog(ctx context.Context, conn *sql.Conn) (bool, error) {
	if full, err := holdsData(ctx, conn); err != nil || full {
		return false, err // a store that holds data, the load refuses
	}
	var timeout int
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		return false, fmt.Errorf("sqlite: read busy timeout: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return false, fmt.Errorf("sqlite: set busy timeout: %w", err)
	}
	// Another connection holding the database makes the change fail at
	// once: the load then stays in the log.
	var mode string
	err := conn.QueryRowContext(ctx, "PRAGMA journal_mode = DELETE").Scan(&mode)
	left := err == nil && mode == "delete"
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", timeout)); err != nil {
		if left {
			err = errors.Join(err, returnToLog(ctx, conn))
		}
		return false, fmt.Errorf("sqlite: restore busy timeout: %w", err)
	}
	return left, nil
}

// holdsData reports whether the database holds a company, which a load
// refuses.
func holdsData(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM companies").Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: count companies: %w", err)
	}
	return n > 0, nil
}

// returnToLog puts the database back into write-ahead logging after a load
// that left it.
func returnToLog(ctx context.Context, conn *sql.Conn) error {
	var mode string
	if err := conn.QueryRowContext(context.WithoutCancel(ctx), "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: return to write-ahead logging: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("sqlite: return to write-ahead logging: the journal mode is still %q", mode)
	}
	return nil
}

// bulkCache is the page cache, in KiB, of a bulk load: index builds sort in
// it. bulkSearchBuffer is the search index's buffer of pending entries, in
// bytes, while a bulk load fills it: a larger buffer writes fewer, larger
// segments, which need fewer merges.
const (
	bulkCache        = 96 << 10
	bulkSearchBuffer = 32 << 20
)

// setAside drops the identities table's indexes and triggers, whose upkeep
// row by row would make a bulk load many times slower, and returns the
// function that puts them back from their own definitions, rebuilds the
// counts and fills the search index (fillSearch). It runs in the load's transaction: if the
// load fails, the rollback restores them too.
func setAside(ctx context.Context, tx *sql.Tx, fillSearch func() error) (restore func() error, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_schema
		WHERE tbl_name = 'identities' AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read schema: %w", err)
	}
	type object struct{ kind, name, sql string }
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: read schema: %w", err)
		}
		objects = append(objects, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read schema: %w", err)
	}
	for _, o := range objects {
		if _, err := tx.ExecContext(ctx, `DROP `+strings.ToUpper(o.kind)+` "`+o.name+`"`); err != nil {
			return nil, fmt.Errorf("sqlite: set aside %s: %w", o.name, err)
		}
	}
	return func() error {
		var steps []string
		for _, o := range objects {
			steps = append(steps, o.sql)
		}
		steps = append(steps,
			`INSERT INTO identity_counts (company_id, family, connection_id, n)
			 SELECT company_id, family, connection_id, count(*) FROM identities GROUP BY company_id, family, connection_id`)
		for _, step := range steps {
			if _, err := tx.ExecContext(ctx, step); err != nil {
				return fmt.Errorf("sqlite: restore after load: %w", err)
			}
		}
		return fillSearch()
	}, nil
}

// loader prepares each statement once and keeps the first error.
type loader struct {
	ctx   context.Context
	tx    *sql.Tx
	refs  *store.Refs
	stmts map[string]*sql.Stmt
	err   error
	// pending holds the values of identities not written yet, pendingRows
	// of them.
	pending     []any
	pendingRows int
	search      *searchBuild
}

func (l *loader) exec(query string, args ...any) {
	if l.err != nil {
		return
	}
	if l.stmts == nil {
		l.stmts = make(map[string]*sql.Stmt)
	}
	st, ok := l.stmts[query]
	if !ok {
		var err error
		if st, err = l.tx.PrepareContext(l.ctx, query); err != nil {
			l.err = fmt.Errorf("sqlite: prepare load: %w", err)
			return
		}
		l.stmts[query] = st
	}
	if _, err := st.ExecContext(l.ctx, args...); err != nil {
		l.err = fmt.Errorf("sqlite: load: %w", err)
	}
}

func (l *loader) close() {
	for _, st := range l.stmts {
		_ = st.Close()
	}
}

func (l *loader) json(v any) string {
	s, err := jsonArg(v)
	if err != nil && l.err == nil {
		l.err = err
	}
	return s
}

func (l *loader) user(u *store.User) {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	l.exec(`INSERT INTO users (id, company_id, entry_id, email, first_name, last_name, job_title, terms_agreed_at, roles, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.CompanyID, u.EntryID, u.Email, u.FirstName, u.LastName, u.JobTitle, msp(u.TermsAgreedAt), l.json(roles), ms(u.CreatedAt), ms(u.UpdatedAt))
	for _, b := range u.BackgroundChecks {
		l.exec(`INSERT INTO background_checks (id, user_id, status, case_id, case_invitation_id, manual_check_date, manually_check_url,
			type, source, report_data, out_of_scope_reason, out_of_scope_at, invitation_email, linked_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			b.ID, u.ID, b.Status, b.CaseID, b.CaseInvitationID, msp(b.ManualCheckDate), b.ManuallyCheckURL,
			b.Type, b.Source, b.ReportData, b.OutOfScopeReason, msp(b.OutOfScopeAt), b.InvitationEmail, msp(b.LinkedAt), ms(b.CreatedAt), ms(b.UpdatedAt))
	}
	for _, d := range u.Documents {
		l.exec(`INSERT INTO documents (id, user_id, name, type, file_url, renewal_date, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			d.ID, u.ID, d.Name, d.Type, d.FileURL, msp(d.RenewalDate), ms(d.CreatedAt), ms(d.UpdatedAt))
	}
}

// personIdentities runs after connections, which they refer to.
func (l *loader) personIdentities(u *store.User) {
	for _, p := range u.Identities {
		var connID *int64
		if p.Connection != nil {
			connID = &p.Connection.ID
		}
		l.exec(`INSERT INTO person_identities (id, user_id, connection_id, identity_id, username, connected_at, disconnected_at, has_mfa, has_idp,
			secondary_email, first_name, last_name, started_at, separated_at, is_contractor, job_title, manager_id, manager_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, u.ID, connID, p.IdentityID, p.Username, msp(p.ConnectedAt), msp(p.DisconnectedAt), boolInt(p.HasMFA), boolInt(p.HasIDP),
			p.SecondaryEmail, p.FirstName, p.LastName, msp(p.StartedAt), msp(p.SeparatedAt), boolInt(p.IsContractor), p.JobTitle, p.ManagerID, p.ManagerName)
	}
}

func (l *loader) connection(c *store.Connection) {
	var product any
	if c.Product != nil {
		product = l.json(c.Product)
	}
	types := c.ProviderTypes
	if types == nil {
		types = []int64{}
	}
	l.exec(`INSERT INTO connections (`+connectionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.CompanyID, c.ClientType, c.State, boolInt(c.Connected), msp(c.ConnectedAt), msp(c.FailedAt), c.AssignmentID,
		c.OwnerUserID, c.AccountID, c.ClientID, c.ClientAlias, msp(c.ManuallyUpdatedAt), msp(c.AliasUpdatedAt), msp(c.DeletedAt),
		c.RequestorID, product, boolInt(c.WriteAccessEnabled), c.SourcePreference, c.SecurityLabel, c.JQLQuery, boolInt(c.Authorized),
		l.json(types), c.Code, c.GroupLabel)
}

// loadedIdentityCols are the identities columns a load writes, with the copies
// the sorts and the search need.
const loadedIdentityCols = `id, company_id, family, connection_id, identity_id, username, email, connected_at, disconnected_at,
	service_account_at, service_account_reason, user_id, designator_id, has_mfa, last_checked_at, created_at, updated_at, access_a_at, access_b_at,
	user_name, client_id, client_alias, connection_state, search`

// identityBatch is how many identities one INSERT writes: fewer statements
// cost less than one per row, and 256 rows of 24 values stay far below
// SQLite's limit of bound values.
const identityBatch = 256

// identityWidth is how many values an identity's row has.
var identityWidth = strings.Count(loadedIdentityCols, ",") + 1

// identityInsert is the INSERT of n identities.
func identityInsert(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", identityWidth), ", ") + ")"
	return "INSERT INTO identities (" + loadedIdentityCols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// identity queues i, with the copies the sorts and the search need, and
// writes the queue when it holds a batch.
func (l *loader) identity(i *store.Identity) {
	var userName *string
	if i.UserID != nil {
		name := l.refs.UserName(*i.UserID)
		userName = &name
	}
	c := l.refs.Connection(i.ConnectionID)
	l.pending = append(l.pending,
		i.ID, i.CompanyID, i.Family.Code(), i.ConnectionID, i.IdentityID, i.Username, i.Email, msp(i.ConnectedAt), msp(i.DisconnectedAt),
		msp(i.ServiceAccountAt), i.ServiceAccountReason, i.UserID, i.DesignatorID, boolInt(i.HasMFA), msp(i.LastCheckedAt),
		ms(i.CreatedAt), ms(i.UpdatedAt), msp(i.AccessA), msp(i.AccessB),
		userName, c.ClientID, c.ClientAlias, c.State, searchText(i.IdentityID, i.Username, i.Email))
	if l.pendingRows++; l.pendingRows == identityBatch {
		l.flushIdentities()
	}
}

// flushIdentities writes the queued identities.
func (l *loader) flushIdentities() {
	if l.pendingRows == 0 {
		return
	}
	l.exec(identityInsert(l.pendingRows), l.pending...)
	batch := make([]searchRow, l.pendingRows)
	for i := range batch {
		v := l.pending[i*identityWidth:]
		batch[i] = searchRow{id: v[0].(int64), companyID: v[1].(int64), family: v[2].(int64), search: v[identityWidth-1].(string)}
	}
	l.search.send(batch)
	l.pending, l.pendingRows = l.pending[:0], 0
}
