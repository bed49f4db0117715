package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/identities-go/identities/internal/wait"
)

// maxAttempts bounds how many times a transaction is tried.
const maxAttempts = 8

// retryable reports whether err is a failure that running the transaction
// again may not meet: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// retry runs fn until it succeeds, fails otherwise than retryable, or has
// run maxAttempts times, waiting a growing, jittered while between runs.
func retry(ctx context.Context, fn func() error) error {
	pause := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		if werr := wait.Sleep(ctx, pause/2+rand.N(pause)); werr != nil {
			return errors.Join(err, werr)
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}
