//go:build !unix

package sqlite

// lockMigrations does not lock where flock is missing: there, stores that
// open one new database at the same moment may race on its migrations.
func lockMigrations(string) (func(), error) { return func() {}, nil }
