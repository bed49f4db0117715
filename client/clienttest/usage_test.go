package clienttest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
)

// linkedTo stands for your code under test: the ids of the infrastructure
// identities linked to a user.
func linkedTo(ctx context.Context, c *client.Client, userID int64) ([]int64, error) {
	var ids []int64
	for it, err := range c.Infrastructure.All(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if u := it.Identity.User; u != nil && u.Id == userID {
			ids = append(ids, it.Identity.Id)
		}
	}
	return ids, nil
}

// TestLinkedTo shows a test of your own code: start a server, change its
// data through the returned client, and check what the code under test
// makes of it.
func TestLinkedTo(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(10))
	ctx := t.Context()

	id := env.InfrastructureIDs[0]
	_, _, err := env.Client.Infrastructure.Connect(ctx, id, env.OtherUserID)
	require.NoError(t, err)
	ids, err := linkedTo(ctx, env.Client, env.OtherUserID)
	require.NoError(t, err)
	assert.Contains(t, ids, id)

	// Errors arrive as they would from Drata.
	_, _, err = env.Client.Infrastructure.Connect(ctx, id, env.ForeignUserID)
	assert.ErrorIs(t, err, client.ErrNotFound)
}
