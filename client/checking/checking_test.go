package checking

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/client"
)

// TestViolationsReachTheCaller: a response that breaks the contract fails
// the call with a *client.ResponseViolationError naming each path; a
// request outside the document is an error of its own.
func TestViolationsReachTheCaller(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[],"page":"one","limit":20,"total":0}`))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(client.WithBaseURL(srv.URL+"/public"), client.WithToken("t"), client.WithRateLimit(0), WithResponseChecking())
	require.NoError(t, err)
	_, _, err = c.Infrastructure.List(context.Background(), nil)
	var ve *client.ResponseViolationError
	require.ErrorAs(t, err, &ve)
	require.NotEmpty(t, ve.Violations)
	assert.Equal(t, "/page", ve.Violations[0].Path)
	assert.Equal(t, "listInfrastructureIdentities", ve.Operation)
}

// TestClientLinksNoValidator: a program that imports only the client links
// no OpenAPI validator, router or YAML parser.
func TestClientLinksNoValidator(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "github.com/identities-go/identities/client").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/identities-go/identities/gen", "the list is the client's")
	for _, d := range deps {
		for _, banned := range []string{"kin-openapi", "gorilla/mux", "yaml", "identities/contract"} {
			assert.NotContains(t, d, banned, "the client links %s", d)
		}
	}
}
