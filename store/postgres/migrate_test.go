package postgres

import (
	"context"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/pgtest"
)

// TestReplicasMigrateOnce: replicas that open one new database at the same
// moment all succeed, and each migration is applied exactly once.
func TestReplicasMigrateOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := context.Background()
	const replicas = 4
	stores := make([]*Store, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(ctx, url)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "replica %d", i)
		defer stores[i].Close()
	}
	var applied, versions int
	err := stores[0].pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT version_id) FROM "+versionTable+" WHERE version_id > 0").Scan(&applied, &versions)
	require.NoError(t, err)
	require.Equal(t, versions, applied, "a migration was applied more than once")
	require.Positive(t, versions)

	// A later start finds nothing to do.
	again, err := Open(ctx, url)
	require.NoError(t, err)
	defer again.Close()
	var after int
	require.NoError(t, again.pool.QueryRow(ctx, "SELECT count(*) FROM "+versionTable+" WHERE version_id > 0").Scan(&after))
	require.Equal(t, applied, after)
}

// TestOpenWithOneConnection: a pool of one connection migrates and serves.
func TestOpenWithOneConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(pgtest.NewDatabase(t))
	require.NoError(t, err)
	v := u.Query()
	v.Set("pool_max_conns", "1")
	u.RawQuery = v.Encode()
	s, err := Open(ctx, u.String())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Ping(ctx))
	keys, err := s.ListAPIKeys(ctx, 0)
	require.NoError(t, err)
	require.Empty(t, keys)
}
