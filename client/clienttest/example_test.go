package clienttest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
)

// linkedTo is the code under test: the ids of the infrastructure identities
// linked to a user.
func linkedTo(ctx context.Context, c *client.Client, userID int64) ([]int64, error) {
	var ids []int64
	for identity, err := range c.Infrastructure.All(ctx, nil) {
		if err != nil {
			return nil, err
		}
		if identity.User != nil && identity.User.Id == userID {
			ids = append(ids, identity.Id)
		}
	}
	return ids, nil
}

// A test of your own code starts a server, changes its data through the
// returned client and checks what the code under test makes of it. Start
// needs the test's *testing.T, which an Example is not given: this example is
// compiled but not run (the package's tests run the same calls).
func ExampleStart() {
	t := &testing.T{} // in your test: the *testing.T it is given
	env := clienttest.Start(t, clienttest.WithIdentities(10))
	ctx := context.Background()

	id := env.InfrastructureIDs[0]
	if _, _, err := env.Client.Infrastructure.Connect(ctx, id, env.OtherUserID); err != nil {
		t.Fatal(err)
	}
	ids, err := linkedTo(ctx, env.Client, env.OtherUserID)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(slices.Contains(ids, id))

	// Errors arrive as they would from Drata.
	_, _, err = env.Client.Infrastructure.Connect(ctx, id, env.ForeignUserID)
	fmt.Println(errors.Is(err, client.ErrNotFound))
}
