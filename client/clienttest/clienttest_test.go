package clienttest_test

import (
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/testserver"
)

// countingTransport counts the requests a client sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// countingClient is a client of env that counts its requests.
func countingClient(t *testing.T, env *clienttest.Env) (*client.Client, *countingTransport) {
	counter := &countingTransport{}
	return env.NewClient(t, client.WithHTTPClient(&http.Client{Transport: counter})), counter
}

// starter is clienttest.Start on one store.
type starter func(testing.TB, ...clienttest.Option) *clienttest.Env

// eachStore runs test once per store, as parallel subtests named after the
// stores; start starts a server on the subtest's store.
func eachStore(t *testing.T, test func(t *testing.T, start starter)) {
	for _, kind := range testserver.Stores() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			test(t, func(tb testing.TB, opts ...clienttest.Option) *clienttest.Env {
				return clienttest.Start(tb, append([]clienttest.Option{clienttest.WithStore(kind)}, opts...)...)
			})
		})
	}
}

// TestStart checks, on one server with the default data, what Start promises,
// on each store. Its subtests only read (a write that fails writes
// nothing), so they share the server.
func TestStart(t *testing.T) {
	t.Parallel()
	eachStore(t, testStart)
}

func testStart(t *testing.T, start starter) {
	env := start(t)

	t.Run("serves the seeded company", func(t *testing.T) {
		t.Parallel()
		require.EqualValues(t, clienttest.DefaultIdentities, env.InfrastructureTotal)
		require.EqualValues(t, clienttest.DefaultIdentities, env.VersionControlTotal)
		page, resp, err := env.Client.Infrastructure.List(t.Context(), &client.InfrastructureListOptions{Limit: 50})
		require.NoError(t, err)
		assert.Equal(t, env.InfrastructureTotal, resp.Total)
		var ids []int64
		for _, it := range page.Data {
			ids = append(ids, it.Id)
		}
		slices.Sort(ids)
		assert.Equal(t, env.InfrastructureIDs, ids)
	})

	t.Run("All walks every identity once", func(t *testing.T) {
		t.Parallel()
		c, counter := countingClient(t, env)
		opts := &client.InfrastructureListOptions{Limit: 15, Sort: gen.InfrastructureSortEMAIL, SortDir: gen.SortDirDESC}
		before := *opts
		var ids []int64
		for it, err := range c.Infrastructure.All(t.Context(), opts) {
			require.NoError(t, err)
			ids = append(ids, it.Identity.Id)
		}
		slices.Sort(ids)
		assert.Equal(t, env.InfrastructureIDs, ids, "each identity exactly once")
		assert.EqualValues(t, 3, counter.n.Load(), "one request a page: ceil(40/15)")
		assert.Equal(t, before, *opts, "All changed the caller's options")
	})

	t.Run("each identity carries its page's response", func(t *testing.T) {
		t.Parallel()
		var ids, pages []int64
		var last *client.Response
		for it, err := range env.Client.VersionControl.All(t.Context(), &client.VersionControlListOptions{Limit: 15}) {
			require.NoError(t, err)
			ids = append(ids, it.Identity.Id)
			if r := it.Response; r != last {
				assert.Equal(t, env.VersionControlTotal, r.Total)
				assert.NotEmpty(t, r.RequestID)
				pages = append(pages, r.Page, r.NextPage)
				last = r
			}
		}
		assert.Equal(t, []int64{1, 2, 2, 3, 3, 0}, pages, "page, next page of each")
		slices.Sort(ids)
		assert.Equal(t, env.VersionControlIDs, ids, "each identity exactly once")
	})

	t.Run("stopping the walk stops the requests", func(t *testing.T) {
		t.Parallel()
		c, counter := countingClient(t, env)
		n := 0
		for _, err := range c.VersionControl.All(t.Context(), &client.VersionControlListOptions{Limit: 5}) {
			require.NoError(t, err)
			if n++; n == 8 {
				break
			}
		}
		assert.EqualValues(t, 2, counter.n.Load())
	})

	t.Run("errors arrive as from the API", func(t *testing.T) {
		t.Parallel()
		_, _, err := env.Client.Infrastructure.Connect(t.Context(), env.InfrastructureIDs[0], env.ForeignUserID)
		assert.ErrorIs(t, err, client.ErrNotFound, "linking a user of another company")
		_, _, err = env.NewClient(t, client.WithToken("idk_wrong")).Infrastructure.List(t.Context(), nil)
		assert.ErrorIs(t, err, client.ErrUnauthorized, "a wrong token")
	})

	t.Run("the same options give the same data, in a database of its own", func(t *testing.T) {
		t.Parallel()
		// WithClientOptions comes after the defaults, so it can replace them.
		other := start(t, clienttest.WithClientOptions(client.WithToken("idk_wrong")))
		_, _, err := other.Client.VersionControl.List(t.Context(), nil)
		assert.ErrorIs(t, err, client.ErrUnauthorized, "WithClientOptions(WithToken(wrong))")

		assert.Equal(t, env.InfrastructureIDs, other.InfrastructureIDs)
		assert.Equal(t, env.UserID, other.UserID)
		c := other.NewClient(t, client.WithToken(other.Token))
		want, _, err := env.Client.Infrastructure.List(t.Context(), nil)
		require.NoError(t, err)
		got, _, err := c.Infrastructure.List(t.Context(), nil)
		require.NoError(t, err)
		assert.Equal(t, want, got)

		// A write to the other server's database does not reach env's.
		_, _, err = c.Infrastructure.Connect(t.Context(), other.InfrastructureIDs[0], other.OtherUserID)
		require.NoError(t, err)
		after, _, err := env.Client.Infrastructure.List(t.Context(), nil)
		require.NoError(t, err)
		assert.Equal(t, want, after)
	})
}

func TestWritesAreReadBack(t *testing.T) {
	t.Parallel()
	eachStore(t, testWritesAreReadBack)
}

func testWritesAreReadBack(t *testing.T, start starter) {
	env := start(t, clienttest.WithIdentities(5))
	ctx := t.Context()
	id := env.VersionControlIDs[3]

	_, _, err := env.Client.VersionControl.Connect(ctx, id, env.OtherUserID)
	require.NoError(t, err)
	_, _, err = env.Client.VersionControl.SetServiceAccount(ctx, id, true, "runs CI")
	require.NoError(t, err)
	// A second client, as the code under test would build it, sees the writes.
	var got *gen.VersionControlIdentity
	for it, err := range env.NewClient(t).VersionControl.All(ctx, nil) {
		require.NoError(t, err)
		if it.Identity.Id == id {
			got = it.Identity
		}
	}
	require.NotNil(t, got, "identity %d not listed", id)
	require.NotNil(t, got.User)
	assert.Equal(t, env.OtherUserID, got.User.Id)
	assert.NotNil(t, got.ServiceAccount, "marked as a service account")
	assert.Equal(t, "runs CI", *got.ServiceAccountReason)
	require.NotNil(t, got.ServiceAccountDesignator)
	assert.Equal(t, env.UserID, got.ServiceAccountDesignator.Id, "designated by the token's user")

	_, _, err = env.Client.VersionControl.SetServiceAccount(ctx, id, false, "a person after all")
	require.NoError(t, err)
	page, _, err := env.Client.VersionControl.List(ctx, &client.VersionControlListOptions{Q: got.IdentityId})
	require.NoError(t, err)
	require.NotEmpty(t, page.Data)
	assert.Nil(t, page.Data[0].ServiceAccount, "unmarked")
}

func TestWithIdentitiesZero(t *testing.T) {
	t.Parallel()
	eachStore(t, testWithIdentitiesZero)
}

func testWithIdentitiesZero(t *testing.T, start starter) {
	env := start(t, clienttest.WithIdentities(0))
	assert.Empty(t, env.InfrastructureIDs)
	assert.Zero(t, env.VersionControlTotal)
	page, _, err := env.Client.Infrastructure.List(t.Context(), nil)
	require.NoError(t, err)
	assert.Empty(t, page.Data)
}
