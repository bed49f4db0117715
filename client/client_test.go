package client

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/identities-go/identities/contract"
)

const (
	// basePath is where the test server mounts the API: a non-empty base
	// path catches requests built with absolute paths.
	basePath = "/api-base/public"
	// testToken must never show up in an error text or a log record.
	testToken = "tok_7f9a2b-SECRET-c41d"
)

// fastRetry keeps retry tests quick: waits of a few milliseconds at most.
var fastRetry = RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// testValidator is built once: loading the document is the slowest part of
// a checking client.
var testValidator = sync.OnceValues(func() (*contract.Validator, error) { return contract.New(basePath) })

func validator(t *testing.T) *contract.Validator {
	t.Helper()
	v, err := testValidator()
	if err != nil {
		t.Fatalf("contract.New: %v", err)
	}
	return v
}

// setup starts a test server with the API under basePath and returns a client
// for it (token set, client-side rate limit off, fast retries) and the mux
// to register handlers on, with paths relative to the base path.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	api := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle(basePath+"/", http.StripPrefix(basePath, api))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside the base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	defaults := []Option{WithBaseURL(srv.URL + basePath), WithToken(testToken), WithRateLimit(0), WithRetry(fastRetry)}
	c, err := New(append(defaults, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, api
}

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if got := r.URL.Query(); !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Errorf("query = %v, want %v", got, want)
	}
}

func testHeader(t *testing.T, r *http.Request, key, want string) {
	t.Helper()
	if got := r.Header.Get(key); got != want {
		t.Errorf("header %s = %q, want %q", key, got, want)
	}
}

// testJSONBody checks that the request body is exactly want, once both are
// compacted, and is sent as application/json.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	testHeader(t, r, "Content-Type", "application/json")
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("read request body: %v", err)
	}
	var g, w bytes.Buffer
	if err := json.Compact(&g, got); err != nil {
		t.Fatalf("request body is not JSON: %v: %s", err, got)
	}
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if g.String() != w.String() {
		t.Errorf("request body = %s, want %s", g.String(), w.String())
	}
}

// writeJSON answers with v as JSON.
func writeJSON(t *testing.T, w http.ResponseWriter, status int, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("marshal response: %v", err)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
