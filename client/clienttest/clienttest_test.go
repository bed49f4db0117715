package clienttest_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
)

func TestStartServesTheSeededCompany(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t)
	ctx := t.Context()

	if env.InfrastructureTotal != clienttest.DefaultIdentities || env.VersionControlTotal != clienttest.DefaultIdentities {
		t.Fatalf("totals %d and %d, want %d each", env.InfrastructureTotal, env.VersionControlTotal, clienttest.DefaultIdentities)
	}
	page, resp, err := env.Client.Infrastructure.List(ctx, &client.InfrastructureListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Total != env.InfrastructureTotal || int64(len(page.Data)) != env.InfrastructureTotal {
		t.Fatalf("list: total %d with %d items, want %d", resp.Total, len(page.Data), env.InfrastructureTotal)
	}
	var ids []int64
	for _, it := range page.Data {
		ids = append(ids, it.Id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, env.InfrastructureIDs) {
		t.Fatalf("listed ids %v, want %v", ids, env.InfrastructureIDs)
	}

	var vc []int64
	for it, err := range env.Client.VersionControl.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		vc = append(vc, it.Id)
	}
	slices.Sort(vc)
	if !slices.Equal(vc, env.VersionControlIDs) {
		t.Fatalf("All yielded %v, want %v", vc, env.VersionControlIDs)
	}
}

func TestWritesAreReadBack(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t)
	ctx := t.Context()
	id := env.VersionControlIDs[3]

	if _, _, err := env.Client.VersionControl.Connect(ctx, id, env.OtherUserID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Client.VersionControl.MarkServiceAccount(ctx, id, "runs CI"); err != nil {
		t.Fatal(err)
	}
	// A second client, as the code under test would build it, sees the writes.
	other := env.NewClient(t)
	var found bool
	for it, err := range other.VersionControl.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if it.Id != id {
			continue
		}
		found = true
		if it.User == nil || it.User.Id != env.OtherUserID {
			t.Errorf("user %+v, want %d", it.User, env.OtherUserID)
		}
		if it.ServiceAccount == nil || it.ServiceAccountReason == nil || *it.ServiceAccountReason != "runs CI" {
			t.Errorf("service account %v reason %v, want marked with %q", it.ServiceAccount, it.ServiceAccountReason, "runs CI")
		}
		if it.ServiceAccountDesignator == nil || it.ServiceAccountDesignator.Id != env.UserID {
			t.Errorf("designator %+v, want the token's user %d", it.ServiceAccountDesignator, env.UserID)
		}
	}
	if !found {
		t.Fatalf("identity %d not listed", id)
	}
}

func TestErrorsArriveAsFromTheAPI(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(3))
	ctx := t.Context()

	_, _, err := env.Client.Infrastructure.Connect(ctx, env.InfrastructureIDs[0], env.ForeignUserID)
	if !errors.Is(err, client.ErrNotFound) {
		t.Errorf("linking a user of another company: %v, want ErrNotFound", err)
	}
	_, _, err = env.NewClient(t, client.WithToken("idk_wrong")).Infrastructure.List(ctx, nil)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("wrong token: %v, want ErrUnauthorized", err)
	}

	// WithClientOptions comes after the defaults, so it can replace them.
	wrong := clienttest.Start(t, clienttest.WithIdentities(1), clienttest.WithClientOptions(client.WithToken("idk_wrong")))
	if _, _, err := wrong.Client.VersionControl.List(ctx, nil); !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("WithClientOptions(WithToken(wrong)): %v, want ErrUnauthorized", err)
	}
}

func TestOptionsShapeTheData(t *testing.T) {
	t.Parallel()
	a := clienttest.Start(t, clienttest.WithIdentities(5), clienttest.WithSeed(42))
	b := clienttest.Start(t, clienttest.WithIdentities(5), clienttest.WithSeed(42))
	if a.InfrastructureTotal != 5 || a.VersionControlTotal != 5 {
		t.Fatalf("totals %d and %d, want 5", a.InfrastructureTotal, a.VersionControlTotal)
	}
	pa, _, err := a.Client.Infrastructure.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, _, err := b.Client.Infrastructure.List(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Token == b.Token {
		t.Error("two servers share a token")
	}
	for i := range pa.Data {
		if pa.Data[i].Id != pb.Data[i].Id || pa.Data[i].Username != pb.Data[i].Username {
			t.Fatalf("same seed, different data: %+v and %+v", pa.Data[i], pb.Data[i])
		}
	}

	empty := clienttest.Start(t, clienttest.WithIdentities(0))
	if len(empty.InfrastructureIDs) != 0 || empty.VersionControlTotal != 0 {
		t.Fatalf("WithIdentities(0): %d and %d identities", len(empty.InfrastructureIDs), empty.VersionControlTotal)
	}
}
