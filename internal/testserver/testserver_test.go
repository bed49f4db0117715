package testserver_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/postgres"
	"github.com/identities-go/identities/store/sqlite"
)

// listed is what a list answer says, as the tests read it.
type listed struct {
	Data []struct {
		ID   int64 `json:"id"`
		User *struct {
			ID int64 `json:"id"`
		} `json:"user"`
	} `json:"data"`
	Total int64 `json:"total"`
}

func list(t *testing.T, e *testserver.Env, f store.Family, key string) (int, []int64) {
	t.Helper()
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.URL + "/user-identities/" + string(f) + "?limit=50&sort=IDENTITY_ID", Key: key})
	var page listed
	require.NoError(t, json.Unmarshal(resp.Body, &page))
	var ids []int64
	for _, it := range page.Data {
		ids = append(ids, it.ID)
	}
	if resp.Status == http.StatusOK {
		assert.EqualValues(t, len(ids), page.Total, "one page holds them all")
	}
	return resp.Status, ids
}

// TestStartServesWhatEnvSays: the server answers with the identities Env
// lists, each key is treated as its name says, and the users are who Env
// says they are.
func TestStartServesWhatEnvSays(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Stores() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			testServesWhatEnvSays(t, testserver.Start(t, testserver.Options{Store: kind}))
		})
	}
}

func testServesWhatEnvSays(t *testing.T, e *testserver.Env) {

	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		status, ids := list(t, e, f, e.Keys.ReadWrite)
		require.Equal(t, http.StatusOK, status)
		assert.Len(t, ids, 40, "the default seed's company A has 40 %s identities", f)
		assert.ElementsMatch(t, e.Identities(e.CompanyA, f), ids, "company A's %s identities", f)
		_, ids = list(t, e, f, e.Keys.OtherCompany)
		assert.ElementsMatch(t, e.Identities(e.CompanyB, f), ids, "company B's %s identities", f)
	}

	for name, c := range map[string]struct {
		key    string
		family store.Family
		want   int
	}{
		"ReadWrite":                     {e.Keys.ReadWrite, store.VersionControl, http.StatusOK},
		"ReadOnly":                      {e.Keys.ReadOnly, store.VersionControl, http.StatusOK},
		"Infrastructure":                {e.Keys.Infrastructure, store.Infrastructure, http.StatusOK},
		"Infrastructure on the other":   {e.Keys.Infrastructure, store.VersionControl, http.StatusForbidden},
		"NoTerms":                       {e.Keys.NoTerms, store.Infrastructure, http.StatusPreconditionFailed},
		"NoPlan":                        {e.Keys.NoPlan, store.Infrastructure, http.StatusPaymentRequired},
		"NoPlanNoTerms":                 {e.Keys.NoPlanNoTerms, store.Infrastructure, http.StatusPreconditionFailed},
		"OtherCompany":                  {e.Keys.OtherCompany, store.Infrastructure, http.StatusOK},
		"Expired":                       {e.Keys.Expired, store.Infrastructure, http.StatusUnauthorized},
		"Revoked":                       {e.Keys.Revoked, store.Infrastructure, http.StatusUnauthorized},
		"AllowListed, from 127.0.0.1":   {e.Keys.AllowListed, store.Infrastructure, http.StatusForbidden},
		"no key":                        {"", store.Infrastructure, http.StatusUnauthorized},
		"ReadOnly, a key of company A":  {e.Keys.ReadOnly, store.Infrastructure, http.StatusOK},
		"ReadWrite, a key of company A": {e.Keys.ReadWrite, store.Infrastructure, http.StatusOK},
	} {
		status, _ := list(t, e, c.family, c.key)
		assert.Equal(t, c.want, status, name)
	}
	// A read-only key cannot write.
	id := e.Identities(e.CompanyA, store.Infrastructure)[0]
	connect := func(env *testserver.Env, key string, user int64) apitest.Response {
		return apitest.Do(t, nil, apitest.Request{Method: http.MethodPut, URL: fmt.Sprintf("%s/user-identities/infrastructure/%d/connect", env.URL, id), Key: key, Body: map[string]any{"userId": user}})
	}
	assert.Equal(t, http.StatusForbidden, connect(e, e.Keys.ReadOnly, e.OtherUserA).Status)

	// OtherUserA is a user of company A, UserB is not.
	assert.Equal(t, http.StatusOK, connect(e, e.Keys.ReadWrite, e.OtherUserA).Status)
	assert.Equal(t, http.StatusNotFound, connect(e, e.Keys.ReadWrite, e.UserB).Status)
	// The ReadWrite key acts as UserA: marking records UserA as designator.
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodPut, URL: fmt.Sprintf("%s/user-identities/infrastructure/%d/service-account", e.URL, id), Key: e.Keys.ReadWrite,
		Body: map[string]any{"serviceAccount": true, "serviceAccountReason": "test"}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var marked struct {
		Designator struct {
			ID int64 `json:"id"`
		} `json:"serviceAccountDesignator"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &marked))
	assert.Equal(t, e.UserA, marked.Designator.ID)
}

// TestStartGivesEachTestItsOwnDatabase: servers of the same seed share the
// seeding, not the data: a write to one does not show in the other.
func TestStartGivesEachTestItsOwnDatabase(t *testing.T) {
	t.Parallel()
	for _, kind := range testserver.Stores() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			testOwnDatabase(t, kind)
		})
	}
}

func testOwnDatabase(t *testing.T, kind testserver.StoreKind) {
	a, b := testserver.Start(t, testserver.Options{Store: kind}), testserver.Start(t, testserver.Options{Store: kind})
	require.Equal(t, a.Keys, b.Keys, "the same seed, the same keys")
	// A linked identity of company A, to unlink through a.
	var id, user int64
	for _, it := range b.Data.Identities {
		if it.CompanyID == b.CompanyA && it.Family == store.VersionControl && it.UserID != nil {
			id, user = it.ID, *it.UserID
			break
		}
	}
	require.NotZero(t, id, "company A has no linked version control identity")
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodPut, URL: fmt.Sprintf("%s/user-identities/version-control/%d/connect", a.URL, id), Key: a.Keys.ReadWrite, Body: map[string]any{"userId": nil}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	for name, e := range map[string]*testserver.Env{"the written one": a, "the other": b} {
		r := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.URL + "/user-identities/version-control?limit=50", Key: e.Keys.ReadWrite})
		var page listed
		require.NoError(t, json.Unmarshal(r.Body, &page))
		found := false
		for _, it := range page.Data {
			if it.ID != id {
				continue
			}
			found = true
			if e == a {
				assert.Nil(t, it.User, name)
			} else if assert.NotNil(t, it.User, name) {
				assert.Equal(t, user, it.User.ID, name)
			}
		}
		assert.True(t, found, "%s does not list identity %d", name, id)
	}
}

// TestStoresHoldTheSameFixture: servers of one seed on different stores
// have the same data, users and keys, and the keys work on each.
func TestStoresHoldTheSameFixture(t *testing.T) {
	t.Parallel()
	lite := testserver.Start(t, testserver.Options{})
	pg := testserver.Start(t, testserver.Options{Store: testserver.Postgres})
	assert.Same(t, lite.Data, pg.Data, "one dataset")
	assert.Equal(t, lite.Keys, pg.Keys)
	assert.Equal(t, []int64{lite.CompanyA, lite.CompanyB, lite.CompanyC, lite.UserA, lite.OtherUserA, lite.UserB},
		[]int64{pg.CompanyA, pg.CompanyB, pg.CompanyC, pg.UserA, pg.OtherUserA, pg.UserB})
	for _, e := range []*testserver.Env{lite, pg} {
		status, ids := list(t, e, store.VersionControl, e.Keys.ReadWrite)
		assert.Equal(t, http.StatusOK, status)
		assert.ElementsMatch(t, e.Identities(e.CompanyA, store.VersionControl), ids)
		status, _ = list(t, e, store.VersionControl, e.Keys.Revoked)
		assert.Equal(t, http.StatusUnauthorized, status, "the revoked key")
	}
	assert.IsType(t, (*sqlite.Store)(nil), lite.Store)
	assert.IsType(t, (*postgres.Store)(nil), pg.Store)
}
