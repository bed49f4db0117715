package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/ratelimit"
)

func TestLocalEmptiesAndRefills(t *testing.T) {
	t.Parallel()
	l := ratelimit.NewLocal(60) // one a second
	ctx := context.Background()
	now := time.Unix(1000, 0)
	for i := range 60 {
		require.True(t, l.Take(ctx, "a", now).Allowed, "request %d", i)
	}
	v := l.Take(ctx, "a", now)
	assert.False(t, v.Allowed)
	assert.Equal(t, 0, v.Remaining)
	assert.Equal(t, 60, v.Limit)
	assert.InDelta(t, time.Second, v.RetryAfter, float64(time.Millisecond))
	assert.InDelta(t, time.Minute, v.Reset, float64(time.Second))
	assert.True(t, l.Take(ctx, "b", now).Allowed, "another client has its own budget")
	assert.True(t, l.Take(ctx, "a", now.Add(time.Second)).Allowed, "a second later one request is allowed again")
}
