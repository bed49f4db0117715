package server_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
)

// TestKeyExpiryFollowsConfigNow: a key stops working when Config.Now, not
// the wall clock, passes its expiry. The clock is set years ahead, so a
// server that read the wall clock would keep taking the key.
func TestKeyExpiryFollowsConfigNow(t *testing.T) {
	t.Parallel()
	start := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	set := func(at time.Time) { clock.Store(&at) }
	set(start)
	e := testserver.Start(t, testserver.Options{Now: func() time.Time { return *clock.Load() }})
	keys, ok := e.Store.(apikey.Store)
	require.True(t, ok, "the store records no keys")
	expires := start.Add(time.Hour)
	secret, _, err := apikey.Issue(t.Context(), keys, apikey.Grant{
		CompanyID: e.CompanyA, UserID: e.UserA, Scopes: []string{apikey.AllRead}, ExpiresAt: &expires,
	}, start)
	require.NoError(t, err)
	list := func() int {
		return apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.URL + "/user-identities/infrastructure?limit=1", Key: secret}).Status
	}

	assert.Equal(t, http.StatusOK, list(), "when issued")
	set(expires.Add(-time.Second))
	assert.Equal(t, http.StatusOK, list(), "a second before it expires")
	set(expires.Add(time.Second))
	assert.Equal(t, http.StatusUnauthorized, list(), "a second after it expires, by Config.Now")
}
