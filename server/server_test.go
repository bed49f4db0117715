package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/sqlite"
)

// operation is one of the eight, with a request that succeeds.
type operation struct {
	name, method, family, suffix string
	body                         any
}

func (o operation) path(id int64) string {
	if o.method == http.MethodGet {
		return "/user-identities/" + o.family
	}
	return fmt.Sprintf("/user-identities/%s/%d/%s", o.family, id, o.suffix)
}

func operations(userID int64) []operation {
	var ops []operation
	for _, f := range []struct{ family, field string }{{"infrastructure", "INFRASTRUCTURE_DB_ACCESS"}, {"version-control", "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"}} {
		ops = append(ops,
			operation{"list " + f.family, http.MethodGet, f.family, "", nil},
			operation{"connect " + f.family, http.MethodPut, f.family, "connect", map[string]any{"userId": userID}},
			operation{"toggle " + f.family, http.MethodPut, f.family, "toggle", map[string]any{"toggle": true, "toggleField": f.field}},
			operation{"service-account " + f.family, http.MethodPut, f.family, "service-account", map[string]any{"serviceAccount": true, "serviceAccountReason": "deploys"}},
		)
	}
	return ops
}

// declaredHeaders are the headers the document declares for the status of
// the operation that answers method and path (under the base path).
func declaredHeaders(t *testing.T, method, path, status string) []string {
	t.Helper()
	v := apitest.Validator(t)
	rt, err := v.FindRoute(httptest.NewRequest(method, apitest.BasePath+path, nil))
	require.NoError(t, err)
	for _, item := range v.Document().Paths.Map() {
		for _, o := range item.Operations() {
			if o.OperationID != rt.OperationID() {
				continue
			}
			resp := o.Responses.Value(status)
			require.NotNil(t, resp, "%s documents no %s", rt.OperationID(), status)
			return slices.Collect(maps.Keys(resp.Value.Headers))
		}
	}
	t.Fatalf("no operation %s in the document", rt.OperationID())
	return nil
}

func firstIdentity(e *testserver.Env, family string) int64 {
	return e.Identities(e.CompanyA, store.Family(family))[0]
}

// TestEveryDocumentedStatus drives each operation into each status it
// documents and checks the JSON body (call also validates it against the
// document).
func TestEveryDocumentedStatus(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	limited := testserver.Start(t, testserver.Options{RateLimit: 1})
	broken := startWithStore(t, failingStore{})
	for _, op := range operations(e.OtherUserA) {
		t.Run(op.name, func(t *testing.T) {
			id := firstIdentity(e, op.family)
			ok := call(t, e.URL, op.method, op.path(id), e.Keys.ReadWrite, op.body)
			if ok.status != http.StatusOK {
				t.Fatalf("200 case: status %d: %s", ok.status, ok.raw)
			}

			badPath := op.path(id)
			var badBody any = op.body
			if op.method == http.MethodGet {
				badPath += "?limit=51"
			} else {
				badBody = map[string]any{"unexpected": true}
			}
			r := call(t, e.URL, op.method, badPath, e.Keys.ReadWrite, badBody)
			wantError(t, r, http.StatusBadRequest, "VALIDATION_FAILED")
			if errs, _ := r.json["errors"].([]any); len(errs) == 0 {
				t.Fatalf("400 without field errors: %s", r.raw)
			}

			r = call(t, e.URL, op.method, op.path(id), "", op.body)
			wantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: Bearer: %q", r.header.Get("WWW-Authenticate"))
			}
			assert.Contains(t, declaredHeaders(t, op.method, op.path(id), "401"), "WWW-Authenticate", "the 401 sends a header the document does not declare")

			cID := e.Identities(e.CompanyC, store.Family(op.family))[0]
			wantError(t, call(t, e.URL, op.method, op.path(cID), e.Keys.NoPlan, op.body), http.StatusPaymentRequired, "PAYMENT_REQUIRED")

			scopeKey := e.Keys.ReadOnly
			if op.method == http.MethodGet {
				scopeKey = e.Keys.Infrastructure
				if op.family == "infrastructure" {
					scopeKey = e.Keys.AllowListed // wrong address instead of wrong scope
				}
			}
			wantError(t, call(t, e.URL, op.method, op.path(id), scopeKey, op.body), http.StatusForbidden, "FORBIDDEN")

			if op.method == http.MethodPut {
				wantError(t, call(t, e.URL, op.method, op.path(987654321), e.Keys.ReadWrite, op.body), http.StatusNotFound, "NOT_FOUND")
			}

			wantError(t, call(t, e.URL, op.method, op.path(id), e.Keys.NoTerms, op.body), http.StatusPreconditionFailed, "TERMS_NOT_ACCEPTED")

			first := call(t, limited.URL, op.method, op.path(firstIdentity(limited, op.family)), limited.Keys.ReadWrite, op.body)
			if first.status != http.StatusOK && first.status != http.StatusTooManyRequests {
				t.Fatalf("first limited request: %d %s", first.status, first.raw)
			}
			r = call(t, limited.URL, op.method, op.path(firstIdentity(limited, op.family)), limited.Keys.ReadWrite, op.body)
			wantError(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
			if r.header.Get("Retry-After") == "" || r.header.Get("X-RateLimit-Limit") != "1" || r.header.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("429 headers: %v", r.header)
			}
			declared := declaredHeaders(t, op.method, op.path(id), "429")
			for _, h := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				assert.Contains(t, declared, h, "the 429 sends a header the document does not declare")
			}

			r = call(t, broken.URL, op.method, op.path(id), broken.key, op.body)
			wantError(t, r, http.StatusInternalServerError, "INTERNAL_ERROR")
			if strings.Contains(string(r.raw), "disk on fire") {
				t.Fatalf("500 leaks the cause: %s", r.raw)
			}
		})
	}
}

// TestCheckOrder: rate → auth → terms → plan → scope → validation → lookup.
// Each case fails every check from its own onwards, and must be answered
// by the first.
func TestCheckOrder(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	limited := testserver.Start(t, testserver.Options{RateLimit: 1})
	badBody := map[string]any{"userId": "not a number"}
	missing := "/user-identities/infrastructure/987654321/connect"
	cases := []struct {
		name   string
		base   string
		key    string
		status int
		code   string
	}{
		{"rate before auth", limited.URL, "", http.StatusTooManyRequests, "RATE_LIMITED"},
		{"auth before terms", e.URL, "idk_unknown", http.StatusUnauthorized, "UNAUTHORIZED"},
		{"terms before plan", e.URL, e.Keys.NoPlanNoTerms, http.StatusPreconditionFailed, "TERMS_NOT_ACCEPTED"},
		{"plan before scope", e.URL, e.Keys.NoPlan, http.StatusPaymentRequired, "PAYMENT_REQUIRED"},
		{"scope before validation", e.URL, e.Keys.ReadOnly, http.StatusForbidden, "FORBIDDEN"},
		{"validation before lookup", e.URL, e.Keys.ReadWrite, http.StatusBadRequest, "VALIDATION_FAILED"},
	}
	// Use up the limited server's only token.
	call(t, limited.URL, http.MethodPut, missing, "", badBody)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, call(t, c.base, http.MethodPut, missing, c.key, badBody), c.status, c.code)
		})
	}
	t.Run("lookup last", func(t *testing.T) {
		wantError(t, call(t, e.URL, http.MethodPut, missing, e.Keys.ReadWrite, map[string]any{"userId": nil}), http.StatusNotFound, "NOT_FOUND")
	})
}

func TestUnauthorizedBodiesAreIdentical(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	path := "/user-identities/infrastructure"
	var first string
	for name, auth := range map[string]string{
		"missing": "", "malformed": "Basic abc", "unknown": "Bearer idk_nope",
		"expired": "Bearer " + e.Keys.Expired, "revoked": "Bearer " + e.Keys.Revoked, "empty bearer": "Bearer ",
	} {
		r := call(t, e.URL, http.MethodGet, path, "", nil, "Authorization", auth)
		wantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED")
		msg := fmt.Sprint(r.json["code"], r.json["message"])
		if first == "" {
			first = msg
		} else if msg != first {
			t.Fatalf("%s: body differs: %q vs %q", name, msg, first)
		}
	}
}

func TestValidationErrorsNameTheField(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	id := firstIdentity(e, "infrastructure")
	cases := []struct {
		name, method, path string
		body               any
		field, location    string
	}{
		{"limit above 50", "GET", "/user-identities/infrastructure?limit=51", nil, "limit", "query"},
		{"page zero", "GET", "/user-identities/infrastructure?page=0", nil, "page", "query"},
		{"bad enum", "GET", "/user-identities/version-control?clientType=AWS", nil, "clientType", "query"},
		{"bad sort", "GET", "/user-identities/version-control?sort=CLIENT_ALIAS", nil, "sort", "query"},
		{"q over 255 characters", "GET", "/user-identities/version-control?q=" + strings.Repeat("a", 256), nil, "q", "query"},
		{"connectionId zero", "GET", "/user-identities/infrastructure?connectionId=0", nil, "connectionId", "query"},
		{"id zero", "PUT", "/user-identities/infrastructure/0/toggle", map[string]any{"toggle": true}, "id", "path"},
		{"id not a number", "PUT", "/user-identities/infrastructure/abc/toggle", map[string]any{"toggle": true}, "id", "path"},
		{"connect without userId", "PUT", fmt.Sprintf("/user-identities/infrastructure/%d/connect", id), map[string]any{}, "/userId", "body"},
		{"toggle not boolean", "PUT", fmt.Sprintf("/user-identities/infrastructure/%d/toggle", id), map[string]any{"toggle": "yes"}, "/toggle", "body"},
		{"toggleField of the other family", "PUT", fmt.Sprintf("/user-identities/infrastructure/%d/toggle", id), map[string]any{"toggle": true, "toggleField": "VERSION_CONTROL_WRITE_ACCESS"}, "/toggleField", "body"},
		{"reason too long", "PUT", fmt.Sprintf("/user-identities/infrastructure/%d/service-account", id), map[string]any{"serviceAccount": true, "serviceAccountReason": strings.Repeat("é", 30001)}, "/serviceAccountReason", "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, e.URL, c.method, c.path, e.Keys.ReadWrite, c.body)
			wantError(t, r, http.StatusBadRequest, "VALIDATION_FAILED")
			errs, _ := r.json["errors"].([]any)
			for _, x := range errs {
				f := x.(map[string]any)
				if f["field"] == c.field && f["location"] == c.location {
					return
				}
			}
			t.Fatalf("no error names %s %s: %s", c.location, c.field, r.raw)
		})
	}
}

func TestBodyLimitsAndMediaType(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	path := fmt.Sprintf("/user-identities/version-control/%d/service-account", firstIdentity(e, "version-control"))
	// 30000 four-byte characters fit, even escaped.
	emoji := strings.Repeat("😀", 30000)
	r := call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, map[string]any{"serviceAccount": true, "serviceAccountReason": emoji})
	if r.status != http.StatusOK || r.json["serviceAccountReason"] != emoji {
		t.Fatalf("30000 emoji: status %d", r.status)
	}
	escaped := `{"serviceAccount":true,"serviceAccountReason":"` + strings.Repeat(`\ud83d\ude00`, 30000) + `"}`
	if r := call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, escaped); r.status != http.StatusOK {
		t.Fatalf("30000 escaped emoji: status %d: %s", r.status, r.raw)
	}
	huge := `{"serviceAccount":true,"serviceAccountReason":"` + strings.Repeat("x", server.DefaultMaxBodyBytes) + `"}`
	wantError(t, call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, huge), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	wantError(t, call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, `{"serviceAccount":true,"serviceAccountReason":"x"}`, "Content-Type", "text/plain"),
		http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE")
	wantError(t, call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, `{"serviceAccount":`), http.StatusBadRequest, "VALIDATION_FAILED")
}

func TestUnknownPathsAndMethods(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	wantError(t, call(t, e.URL, http.MethodGet, "/user-identities/nope", e.Keys.ReadWrite, nil), http.StatusNotFound, "NOT_FOUND")
	wantError(t, call(t, e.Server.URL, http.MethodGet, "/user-identities/infrastructure", e.Keys.ReadWrite, nil), http.StatusNotFound, "NOT_FOUND")
	r := call(t, e.URL, http.MethodDelete, "/user-identities/infrastructure/1/connect", e.Keys.ReadWrite, nil)
	wantError(t, r, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	if r.header.Get("Allow") != "PUT, OPTIONS" {
		t.Fatalf("Allow %q, want PUT, OPTIONS", r.header.Get("Allow"))
	}
	// Unclean paths get the JSON 404, not the mux's HTML redirect.
	for _, p := range []string{"//user-identities/infrastructure", "/./user-identities/infrastructure", "/user-identities/infrastructure/"} {
		wantError(t, call(t, e.URL, http.MethodGet, p, e.Keys.ReadWrite, nil), http.StatusNotFound, "NOT_FOUND")
	}
}

func TestHeadAndOptions(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	do := func(method, path string) apitest.Response {
		return apitest.Do(t, nil, apitest.Request{Method: method, URL: e.URL + path, Key: e.Keys.ReadWrite})
	}
	resp := do(http.MethodHead, "/user-identities/infrastructure?limit=2")
	assert.Equal(t, http.StatusOK, resp.Status, "HEAD")
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"), "HEAD")
	assert.Empty(t, resp.Body, "HEAD")
	assert.Equal(t, http.StatusBadRequest, do(http.MethodHead, "/user-identities/infrastructure?limit=99").Status, "HEAD with a bad limit")
	resp = do(http.MethodOptions, "/user-identities/version-control")
	assert.Equal(t, http.StatusNoContent, resp.Status, "OPTIONS")
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"), "OPTIONS")
	assert.Equal(t, http.StatusNotFound, do(http.MethodOptions, "/user-identities/nope").Status, "OPTIONS on an unknown path")
}

func TestBodiesTheDecoderCannotTakeAre400s(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	path := fmt.Sprintf("/user-identities/infrastructure/%d/connect", firstIdentity(e, "infrastructure"))
	for _, body := range []string{`{"userId":1e3}`, `{"userId":1.0}`} {
		r := call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, body)
		wantError(t, r, http.StatusBadRequest, "VALIDATION_FAILED")
		if strings.Contains(string(r.raw), "Go struct") || strings.Contains(string(r.raw), "unmarshal") {
			t.Fatalf("%s: decoder internals in the body: %s", body, r.raw)
		}
		if errs, _ := r.json["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["field"] != "/userId" {
			t.Fatalf("%s: errors %v", body, r.json["errors"])
		}
	}
	for _, body := range []string{`{"userId":null} garbage`, `{"userId":null} {"x":1}`} {
		r := call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, body)
		wantError(t, r, http.StatusBadRequest, "VALIDATION_FAILED")
	}
	if r := call(t, e.URL, http.MethodPut, path, e.Keys.ReadWrite, "{\"userId\":null}\n\t "); r.status != http.StatusOK {
		t.Fatalf("trailing white space refused: %d %s", r.status, r.raw)
	}
	// A body on an operation that takes none is not read: no 413, no 500.
	big := strings.Repeat("x", 2*server.DefaultMaxBodyBytes)
	if r := call(t, e.URL, http.MethodGet, "/user-identities/infrastructure?limit=1", e.Keys.ReadWrite, big); r.status != http.StatusOK {
		t.Fatalf("GET with a large body: %d %s", r.status, r.raw)
	}
}

func TestRequestIDIsEchoed(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	r := call(t, e.URL, http.MethodGet, "/user-identities/infrastructure?limit=1", e.Keys.ReadWrite, nil, "X-Request-Id", "trace-123")
	assert.Equal(t, "trace-123", r.header.Get("X-Request-Id"))
	r = call(t, e.URL, http.MethodGet, "/user-identities/infrastructure?limit=1", e.Keys.ReadWrite, nil, "X-Request-Id", "bad id\twith spaces")
	assert.Regexp(t, `^[0-9a-f]+$`, r.header.Get("X-Request-Id"), "an unsafe request id is replaced")
}

func TestRateLimitIgnoresForgedForwardedFor(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{RateLimit: 2})
	path := "/user-identities/infrastructure?limit=1"
	for i := range 2 {
		if r := call(t, e.URL, http.MethodGet, path, e.Keys.ReadWrite, nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := call(t, e.URL, http.MethodGet, path, e.Keys.ReadWrite, nil, "X-Forwarded-For", "203.0.113.99")
	wantError(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
}

func TestRateLimitTrustsConfiguredProxy(t *testing.T) {
	t.Parallel()
	st := openSeeded(t)
	srv, err := server.New(server.Config{Store: st, RateLimit: 1, Logger: quiet(),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	for i := range 3 {
		r := call(t, ts.URL+"/public", http.MethodGet, "/user-identities/infrastructure", "", nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		wantError(t, r, http.StatusUnauthorized, "UNAUTHORIZED") // each client has its own bucket
	}
	r := call(t, ts.URL+"/public", http.MethodGet, "/user-identities/infrastructure", "", nil, "X-Forwarded-For", "203.0.113.0")
	wantError(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	for _, p := range []string{"/healthz", "/readyz"} {
		assert.Equal(t, http.StatusOK, apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.Server.URL + p}).Status, p)
	}
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.Server.URL + "/openapi.yaml"})
	assert.Equal(t, string(api.Spec), string(resp.Body), "/openapi.yaml is not the committed document")
}

func TestReadyzFailsWhenStoreIsDown(t *testing.T) {
	t.Parallel()
	st := openSeeded(t)
	srv, err := server.New(server.Config{Store: st, Logger: quiet()})
	require.NoError(t, err)
	st.Close()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, rec.Body.String(), "SERVICE_UNAVAILABLE")
}

func TestNonConformingResponseBecomes500InStrictMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []server.ValidationMode{server.ValidationStrict, server.ValidationLog, server.ValidationOff} {
		t.Run(string(mode), func(t *testing.T) {
			b := startWithStoreMode(t, lyingStore{}, mode)
			resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: b.URL + "/user-identities/infrastructure", Key: b.key})
			want := http.StatusOK
			if mode == server.ValidationStrict {
				want = http.StatusInternalServerError
			}
			assert.Equal(t, want, resp.Status, "%s", resp.Body)
		})
	}
}

func TestPanicsBecomeJSON500(t *testing.T) {
	t.Parallel()
	b := startWithStore(t, panickingStore{})
	r := call(t, b.URL, http.MethodGet, "/user-identities/infrastructure", b.key, nil)
	wantError(t, r, http.StatusInternalServerError, "INTERNAL_ERROR")
	if strings.Contains(string(r.raw), "goroutine") || strings.Contains(string(r.raw), "boom") {
		t.Fatalf("500 leaks internals: %s", r.raw)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, err := server.New(server.Config{})
	assert.Error(t, err, "no store")
	st := openSeeded(t)
	_, err = server.New(server.Config{Store: st, ResponseValidation: "sometimes"})
	assert.Error(t, err, "unknown validation mode")
	_, err = server.New(server.Config{Store: st, RateLimit: -1})
	assert.Error(t, err, "negative rate limit")
}

// --- stores that misbehave, over a real one for authentication ---

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openSeeded(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 3, Seed: 1})
	require.NoError(t, err)
	require.NoError(t, st.Load(context.Background(), store.Whole(d)))
	return st
}

type brokenEnv struct {
	URL string
	key string
}

// wrapped is a real store whose identity operations are replaced.
type wrapped struct {
	store.Store
	ops store.Identities
}

func (w wrapped) ListIdentities(ctx context.Context, q store.ListQuery) (store.Page, error) {
	return w.ops.ListIdentities(ctx, q)
}
func (w wrapped) UpdateIdentity(ctx context.Context, c int64, f store.Family, id int64, ch store.Change, now timeT) (store.IdentityView, error) {
	return w.ops.UpdateIdentity(ctx, c, f, id, ch, now)
}

func startWithStore(t *testing.T, ops store.Identities) brokenEnv {
	return startWithStoreMode(t, ops, server.ValidationStrict)
}

func startWithStoreMode(t *testing.T, ops store.Identities, mode server.ValidationMode) brokenEnv {
	t.Helper()
	e := testserver.Start(t, testserver.Options{})
	srv, err := server.New(server.Config{Store: wrapped{Store: e.Store, ops: ops}, Logger: quiet(), ResponseValidation: mode})
	require.NoError(t, err)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return brokenEnv{URL: ts.URL + "/public", key: e.Keys.ReadWrite}
}

var errDisk = errors.New("disk on fire")

// failingStore fails every identity operation.
type failingStore struct{ store.Identities }

func (failingStore) ListIdentities(context.Context, store.ListQuery) (store.Page, error) {
	return store.Page{}, errDisk
}
func (failingStore) UpdateIdentity(context.Context, int64, store.Family, int64, store.Change, timeT) (store.IdentityView, error) {
	return store.IdentityView{}, errDisk
}

// lyingStore returns a page that breaks the contract (a negative total).
type lyingStore struct{ failingStore }

func (lyingStore) ListIdentities(context.Context, store.ListQuery) (store.Page, error) {
	return store.Page{Total: -1}, nil
}

// panickingStore panics on list.
type panickingStore struct{ failingStore }

func (panickingStore) ListIdentities(context.Context, store.ListQuery) (store.Page, error) {
	panic("boom")
}

type timeT = time.Time
