package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

func TestContainsPattern(t *testing.T) {
	for term, want := range map[string]string{
		"abc":      "%abc%",
		"100%_x":   `%100\%\_x%`,
		`a\b`:      `%a\\b%`,
		"":         "%%",
		"élodie.ø": "%élodie.ø%",
	} {
		require.Equal(t, want, containsPattern(term), term)
	}
}

func TestASCIILowerLeavesTheRest(t *testing.T) {
	require.Equal(t, "élodie.Øster abc", asciiLower("éLODIE.Øster ABC"))
}

func TestRetryIsBounded(t *testing.T) {
	ctx := context.Background()
	runs := 0
	serialization := &pgconn.PgError{Code: "40001"}
	err := retry(ctx, func() error { runs++; return fmt.Errorf("wrapped: %w", serialization) })
	require.ErrorIs(t, err, serialization)
	require.Equal(t, maxAttempts, runs)

	runs = 0
	require.NoError(t, retry(ctx, func() error {
		runs++
		if runs < 3 {
			return &pgconn.PgError{Code: "40P01"}
		}
		return nil
	}))
	require.Equal(t, 3, runs)

	runs = 0
	other := errors.New("not retried")
	require.ErrorIs(t, retry(ctx, func() error { runs++; return other }), other)
	require.Equal(t, 1, runs)
}
