package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDBFlagMistakes: a --db that names nothing usable gets one line, without
// a password, and a non-zero exit; a keys command creates no database.
func TestDBFlagMistakes(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "missing.db")
	refusing := apitest.RefusingAddr(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing file", []string{"keys", "list", "--db", missing}, exitUsage, "no such database file"},
		{"bad URL", []string{"keys", "list", "--db", "postgres://u:hunter2@[::1"}, exitUsage, "not a PostgreSQL URL"},
		{"nothing listening", []string{"keys", "list", "--db", "postgres://u:hunter2@" + refusing + "/x?connect_timeout=2"}, exitFailure, "connect"},
		{"seed without --db", []string{"seed"}, exitUsage, "--db is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			assert.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			msg := errOut.String()
			assert.Equal(t, 1, strings.Count(msg, "\n"), "one line: %q", msg)
			assert.Contains(t, msg, tc.want)
			assert.NotContains(t, msg, "hunter2", "the password is shown")
		})
	}
	_, err := os.Stat(missing)
	require.ErrorIs(t, err, os.ErrNotExist, "keys list created the database")
}

// TestServeRateLimitFlagMistakes: a rate-limit flag serve cannot use gets one
// line and the usage exit, before serve opens a database.
func TestServeRateLimitFlagMistakes(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "never.db")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"Redis without a limit", []string{"--rate-limit", "0", "--rate-limit-redis", "redis://127.0.0.1:6379/0"}, "needs a positive --rate-limit"},
		{"not a Redis URL", []string{"--rate-limit-redis", "ftp://127.0.0.1/0"}, "--rate-limit-redis"},
		{"no time to wait for Redis", []string{"--rate-limit-redis", "redis://127.0.0.1:6379/0", "--rate-limit-redis-timeout", "0s"}, "--rate-limit-redis-timeout must be positive"},
		{"a negative wait without Redis", []string{"--rate-limit-redis-timeout", "-1s"}, "--rate-limit-redis-timeout must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, tc.args...), &out, &errOut)
			assert.Equal(t, exitUsage, code, "stderr: %s", errOut.String())
			assert.Equal(t, 1, strings.Count(errOut.String(), "\n"), "one line: %q", errOut.String())
			assert.Contains(t, errOut.String(), tc.want)
		})
	}
	_, err := os.Stat(db)
	require.ErrorIs(t, err, os.ErrNotExist, "serve created the database")
}
