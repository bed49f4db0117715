package clienttest_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
	"github.com/identities-go/identities/gen"
)

// countingTransport counts the requests a client sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// TestAllWalksTheRealServer: All over a few hundred identities of the real
// server yields each exactly once, in ceil(total/limit) requests, and
// stopping the loop stops the requests.
func TestAllWalksTheRealServer(t *testing.T) {
	env := clienttest.Start(t, clienttest.WithIdentities(310))
	ctx := context.Background()
	counter := &countingTransport{}
	c := env.NewClient(t, client.WithHTTPClient(&http.Client{Transport: counter}))

	opts := &client.InfrastructureListOptions{Limit: 50, Sort: gen.InfrastructureSortEMAIL, SortDir: gen.SortDirDESC}
	seen := map[int64]int{}
	for it, err := range c.Infrastructure.All(ctx, opts) {
		if err != nil {
			t.Fatal(err)
		}
		seen[it.Id]++
	}
	if int64(len(seen)) != env.InfrastructureTotal || len(seen) != 310 {
		t.Fatalf("All yielded %d identities, the company has %d", len(seen), env.InfrastructureTotal)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("identity %d yielded %d times", id, n)
		}
	}
	if got := counter.n.Load(); got != 7 { // 310 identities, 50 a page
		t.Fatalf("All sent %d requests, want 7", got)
	}
	if opts.Page != 0 || opts.Limit != 50 {
		t.Fatalf("All changed the caller's options: %+v", opts)
	}

	counter.n.Store(0)
	n := 0
	for _, err := range c.VersionControl.All(ctx, &client.VersionControlListOptions{Limit: 20}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 25 {
			break
		}
	}
	if got := counter.n.Load(); got != 2 {
		t.Fatalf("stopping after 25 of %d identities sent %d requests, want 2", env.VersionControlTotal, got)
	}
}
