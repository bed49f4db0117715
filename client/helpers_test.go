package client

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/contract"
)

// The helpers every test of the package shares: the test server, the
// request checks and the response writers.

const (
	// basePath is where the test server mounts the API: a non-empty base
	// path catches requests built with absolute paths.
	basePath = "/api-base/public"
	// testToken must never show up in an error text or a log record.
	testToken = "tok_7f9a2b-SECRET-c41d"
)

// fastRetry keeps retry tests quick: waits of a few milliseconds at most.
var fastRetry = RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// validator is the contract validator of basePath.
var validator = sync.OnceValue(func() *contract.Validator {
	v, err := contract.New(basePath)
	if err != nil {
		panic(err)
	}
	return v
})

// checking turns response checking on or off with the contract validator,
// as client/checking does (which this package's tests cannot import).
func checking(on bool) Option {
	if !on {
		return WithResponseChecker(nil)
	}
	return WithResponseChecker(func(*url.URL) (ResponseChecker, error) { return contractChecker{}, nil })
}

type contractChecker struct{}

func (contractChecker) CheckResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) ([]Violation, error) {
	found, err := validator().CheckResponse(ctx, req, status, header, body)
	out := make([]Violation, len(found))
	for i, v := range found {
		out[i] = Violation{Path: v.Path, Reason: v.Reason}
	}
	return out, err
}

// setup starts a test server with the API under basePath and returns a client
// for it (token set, client-side rate limit off, fast retries, then opts) and
// the mux to register handlers on, with paths relative to the base path.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	root, api := testAPI(t)
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	return testClient(t, srv.URL, opts...), api
}

// setupInProcess is setup without a network: the handlers run in the calling
// goroutine, so a test can run in a synctest bubble, where the client's waits
// take no real time and synctest.Wait sees when it is blocked.
func setupInProcess(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	root, api := testAPI(t)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		root.ServeHTTP(rec, r)
		if r.Body != nil {
			_ = r.Body.Close()
		}
		if err := r.Context().Err(); err != nil {
			return nil, err // as a real transport does once the request is given up
		}
		return rec.Result(), nil
	})}
	return testClient(t, "http://api.test", append([]Option{WithHTTPClient(hc)}, opts...)...), api
}

// testAPI is the handler of a test server: the API under basePath, and a
// failure for any request outside it.
func testAPI(t *testing.T) (root http.Handler, api *http.ServeMux) {
	api = http.NewServeMux()
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", http.StripPrefix(basePath, api))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL.Path)
		http.Error(w, "outside the base path", http.StatusTeapot)
	})
	return mux, api
}

func testClient(t *testing.T, serverURL string, opts ...Option) *Client {
	t.Helper()
	defaults := []Option{WithBaseURL(serverURL + basePath), WithToken(testToken), WithRateLimit(0), WithRetry(fastRetry)}
	c, err := New(append(defaults, opts...)...)
	require.NoError(t, err)
	return c
}

// counted serves the n-th request (from 1) with serve(n, w, r), counting the
// requests.
type counted struct {
	n     atomic.Int32
	serve func(n int, w http.ResponseWriter, r *http.Request)
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.serve(int(c.n.Add(1)), w, r)
}

func (c *counted) requests() int { return int(c.n.Load()) }

// reply answers every request with status and v as JSON, counting them.
func reply(t *testing.T, status int, v any) *counted {
	return &counted{serve: func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(t, w, status, v) }}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	assert.Equal(t, want, r.Method, "method")
}

// testQuery checks the query parameters; a nil want stands for none.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	if want == nil {
		want = url.Values{}
	}
	assert.Equal(t, want, r.URL.Query(), "query")
}

func testHeader(t *testing.T, r *http.Request, key, want string) {
	t.Helper()
	assert.Equal(t, want, r.Header.Get(key), "header %s", key)
}

// testJSONBody checks that the request body is the JSON value want, sent as
// application/json.
func testJSONBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	testHeader(t, r, "Content-Type", "application/json")
	got, err := io.ReadAll(r.Body)
	require.NoError(t, err, "read request body")
	assert.JSONEq(t, want, string(got), "request body")
}

// writeJSON answers with v as JSON.
func writeJSON(t *testing.T, w http.ResponseWriter, status int, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	assert.NoError(t, err, "marshal response")
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// mutate marshals v, lets edit change the generic JSON, and returns the bytes.
func mutate(t *testing.T, v any, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	edit(m)
	b, err = json.Marshal(m)
	require.NoError(t, err)
	return b
}

// ignore keeps only the error of a call.
func ignore[T any](_ T, _ *Response, err error) error { return err }

// drain walks seq to its end and returns its first error.
func drain[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
