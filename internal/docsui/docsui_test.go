package docsui_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/docsui"
	"github.com/identities-go/identities/internal/testserver"
)

// docsServer serves the docs at /docs next to the API, as the program
// mounts them, and returns its URL and the API's seeded server.
func docsServer(t *testing.T) (url string, env *testserver.Env) {
	t.Helper()
	env = testserver.Start(t, testserver.Options{})
	docs := docsui.Handler(docsui.Config{Prefix: "/docs", SpecURL: "/openapi.yaml", APIBase: "/public"})
	mux := http.NewServeMux()
	mux.Handle("GET /docs", docs)
	mux.Handle("GET /docs/", docs)
	mux.Handle("/", env.Server.Config.Handler) // the server.New handler
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL, env
}

// asSent is a client that leaves the encoding of a response as it was sent.
var asSent = &http.Client{Transport: &http.Transport{DisableCompression: true}}

func get(t *testing.T, url string, header ...string) (apitest.Response, []byte) {
	t.Helper()
	resp := apitest.Do(t, asSent, apitest.Request{Method: http.MethodGet, URL: url, Header: header})
	return resp, resp.Body
}

func TestPage(t *testing.T) {
	t.Parallel()
	url, _ := docsServer(t)
	resp, page := get(t, url+"/docs")
	require.Equal(t, http.StatusOK, resp.Status)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, docsui.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	assert.Contains(t, docsui.ContentSecurityPolicy, "default-src 'self'")
	assert.NotContains(t, docsui.ContentSecurityPolicy, "'unsafe-", "nothing inline, nothing eval'd")
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Contains(t, string(page), `data-spec-url="/openapi.yaml"`)
	assert.Contains(t, string(page), `data-api-base="/public"`)
	assert.NotRegexp(t, `https?://`, string(page), "the page names no other host")
	assert.NotRegexp(t, `<script>|<style>|\sstyle=|\son[a-z]+=`, string(page), "nothing inline")

	// Every file the page names is served, with its type.
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	require.Len(t, refs, 4)
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png"}
	for _, ref := range refs {
		p := ref[1]
		require.True(t, strings.HasPrefix(p, "/docs/"), p)
		resp, body := get(t, url+p)
		require.Equal(t, http.StatusOK, resp.Status, p)
		assert.NotEmpty(t, body, p)
		assert.Equal(t, types[p[strings.LastIndex(p, "."):]], resp.Header.Get("Content-Type"), p)
	}

	// The document the page loads is the server's.
	resp, spec := get(t, url+"/openapi.yaml")
	require.Equal(t, http.StatusOK, resp.Status)
	assert.Equal(t, api.Spec, spec)
}

func TestAssetsAreCompressedAndRevalidated(t *testing.T) {
	t.Parallel()
	url, _ := docsServer(t)
	// The vendored gzip twins (make docs-assets) hold the files they stand for.
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css"} {
		_, plain := get(t, url+"/docs/"+name)
		resp, zipped := get(t, url+"/docs/"+name, "Accept-Encoding", "br, gzip")
		require.Equal(t, http.StatusOK, resp.Status, name)
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), name)
		assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding", name)
		assert.Less(t, len(zipped), len(plain)/2, name)
		zr, err := gzip.NewReader(bytes.NewReader(zipped))
		require.NoError(t, err, name)
		unzipped, err := io.ReadAll(zr)
		require.NoError(t, err, name)
		assert.Equal(t, plain, unzipped, "%s.gz is not %s: run make docs-assets", name, name)
	}

	resp, _ := get(t, url+"/docs/swagger-ui-bundle.js", "Accept-Encoding", "gzip")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	resp, body := get(t, url+"/docs/swagger-ui-bundle.js", "Accept-Encoding", "gzip", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, resp.Status)
	assert.Empty(t, body)
	resp, _ = get(t, url+"/docs/swagger-ui-bundle.js", "If-None-Match", etag)
	assert.Equal(t, http.StatusOK, resp.Status, "the plain file is another entity than its gzip form")

	resp, _ = get(t, url+"/docs/favicon-32x32.png", "Accept-Encoding", "gzip")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "a PNG is compressed already")
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	url, _ := docsServer(t)
	for _, p := range []string{"/docs/nope.js", "/docs/README.md", "/docs/assets/swagger-ui.css", "/docs/swagger-ui.css.gz"} {
		resp, _ := get(t, url+p)
		assert.Equal(t, http.StatusNotFound, resp.Status, p)
	}
	h := docsui.Handler(docsui.Config{Prefix: "docs/", SpecURL: "/openapi.yaml"})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/docs", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/docs", nil))
	assert.Equal(t, http.StatusOK, w.Code, "the prefix is cleaned")
	assert.Contains(t, w.Body.String(), `data-api-base=""`)
}

// TestVendoredVersion: the vendored files are those of the pinned package.
func TestVendoredVersion(t *testing.T) {
	t.Parallel()
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile("../../tools/docs/package.json")
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &pkg))
	version, err := os.ReadFile("assets/VERSION")
	require.NoError(t, err)
	assert.Equal(t, "swagger-ui-dist "+pkg.DevDependencies["swagger-ui-dist"], strings.TrimSpace(string(version)),
		"run make docs-assets after changing tools/docs/package.json")
}
