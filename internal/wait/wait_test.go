package wait

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999999", 0, false},
	} {
		got, ok := RetryAfter(http.Header{"Retry-After": {tc.value}}, now)
		assert.Equal(t, tc.want, got, "RetryAfter(%q)", tc.value)
		assert.Equal(t, tc.ok, ok, "RetryAfter(%q) ok", tc.value)
	}
	got, ok := RetryAfter(http.Header{"Retry-After": {"9223372036"}}, now)
	assert.True(t, ok && got > 0, "huge Retry-After = %v, %v; want a positive duration", got, ok)
}

func TestSleepEndsWithTheContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled, "an hour's sleep on an ended context")
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled, "no sleep on an ended context")
	assert.NoError(t, Sleep(context.Background(), time.Millisecond))
}
