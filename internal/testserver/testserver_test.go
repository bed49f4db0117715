package testserver_test

import (
	"net/http"
	"testing"

	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

func TestStartServesSeededData(t *testing.T) {
	e := testserver.Start(t, testserver.Options{})
	if len(e.Identities(e.CompanyA, store.Infrastructure)) != 40 {
		t.Fatalf("company A has %d infrastructure identities, want 40", len(e.Identities(e.CompanyA, store.Infrastructure)))
	}
	for name, key := range map[string]string{"ReadWrite": e.Keys.ReadWrite, "NoPlanNoTerms": e.Keys.NoPlanNoTerms, "NoTerms": e.Keys.NoTerms} {
		if key == "" {
			t.Fatalf("key %s is empty", name)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/user-identities/infrastructure", nil)
	req.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
}
