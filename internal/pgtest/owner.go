package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// namePrefix begins the name of every database this package makes; the
// tag of the process that made it follows, then "_" and the rest.
const namePrefix = "identities_test_"

// lockClass is the upper half of the advisory lock keys on tags; the lower
// half is the tag, eight hex digits.
const lockClass = 0x1d3e_7e57

// owner is this process's claim on the databases it names: a connection
// that holds the advisory lock on the process's tag and is never closed.
var owner struct {
	once sync.Once
	tag  string
	conn *pgx.Conn
	err  error
}

// ownedName returns a new database name carrying this process's tag, then
// kind when it is not "".
func ownedName(kind string) (string, error) {
	owner.once.Do(func() {
		owner.tag, owner.conn, owner.err = claim()
		if owner.err == nil {
			// Housekeeping no test waits for; the connection is the
			// sweep's alone (the lock needs no statements to stay held).
			go sweep(owner.conn, owner.tag)
		}
	})
	if owner.err != nil {
		return "", owner.err
	}
	name := namePrefix + owner.tag + "_"
	if kind != "" {
		name += kind + "_"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return name + hex.EncodeToString(b), nil
}

// claim picks a tag no live process holds and locks it on a connection of
// its own, which it returns.
func claim() (string, *pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(BaseURL())
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "pgtest owner"
	// The lock lasts as long as the session: it must not time out idle.
	cfg.RuntimeParams["idle_session_timeout"] = "0"
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %w", err)
	}
	for range 4 {
		var b [4]byte
		_, _ = rand.Read(b[:])
		tag := binary.BigEndian.Uint32(b[:])
		var ok bool
		if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(tag)).Scan(&ok); err != nil {
			_ = c.Close(context.Background())
			return "", nil, fmt.Errorf("pgtest: lock this process's tag: %w", err)
		}
		if ok {
			return fmt.Sprintf("%08x", tag), c, nil
		}
	}
	_ = c.Close(context.Background())
	return "", nil, fmt.Errorf("pgtest: no free tag")
}

func lockKey(tag uint32) int64 { return lockClass<<32 | int64(tag) }

// sweep drops the databases of processes that are gone, on a best effort:
// those whose tag no session holds a lock on. It lists the databases
// before it reads the locks, so that a database it finds was made after
// its owner took the lock, which shows unless the owner has ended. Locks
// are read from pg_locks, which shows those taken in every database of the
// server, so that processes whose $IDENTITIES_TEST_POSTGRES names
// different databases see each other's.
func sweep(c *pgx.Conn, own string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := c.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", namePrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	rows, err = c.Query(ctx, "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = $1 AND objsubid = 1", lockClass)
	if err != nil {
		return
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return
	}
	live := map[string]bool{own: true}
	for _, t := range held {
		live[fmt.Sprintf("%08x", t)] = true
	}
	for _, name := range names {
		// Names of an older scheme, without a tag, are left alone.
		tag, _, ok := strings.Cut(strings.TrimPrefix(name, namePrefix), "_")
		if _, err := strconv.ParseUint(tag, 16, 32); !ok || len(tag) != 8 || err != nil || live[tag] {
			continue
		}
		_ = Drop(ctx, name)
	}
}
