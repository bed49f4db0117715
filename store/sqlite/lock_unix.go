//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"syscall"
)

// lockMigrations holds an exclusive lock, across processes, on a file
// beside the database while it migrates, so that stores opening one
// database at once apply each migration once: the first migrates, the
// others wait and then find nothing to do. The database file itself is
// never opened here: closing a descriptor of it would drop SQLite's own
// locks.
func lockMigrations(dbPath string) (unlock func(), err error) {
	f, err := os.OpenFile(dbPath+"-migrate.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: lock for migrations: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sqlite: lock for migrations: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
