package server_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/testserver"
)

// TestDocsPage: the server serves the interactive reference at /docs, with
// its files, from the binary, and the document it reads.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	for path, want := range map[string]string{"/docs": "text/html", "/docs/swagger-ui-bundle.js": "javascript", "/openapi.yaml": "yaml"} {
		resp, err := http.Get(e.Server.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), want, path)
		assert.NotEmpty(t, body, path)
	}
}
