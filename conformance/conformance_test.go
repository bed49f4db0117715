package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestCheckOurServerHasNoViolationsAndWritesAreRestored(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	restorable := func(it store.Identity) bool {
		return it.AccessA == nil && it.AccessB == nil && it.ServiceAccountAt == nil
	}
	// One linked and one unlinked identity, so both ways of the connect
	// check run.
	infra := pick(t, e, store.Infrastructure, func(it store.Identity) bool { return restorable(it) && it.UserID != nil })
	vcs := pick(t, e, store.VersionControl, func(it store.Identity) bool { return restorable(it) && it.UserID == nil })
	before := snapshot(t, e)

	report := passWrites(t, e, 5, infra, vcs)
	ops := map[string]int{}
	for _, c := range report.Checks {
		ops[c.Operation]++
		if strings.Contains(c.Request, e.Keys.ReadWrite) {
			t.Fatal("the token appears in the report")
		}
		if strings.Contains(c.Name, "skipped") {
			t.Errorf("identities without flags that are not service accounts: %q", c.Name)
		}
	}
	if len(ops) != 8 {
		t.Fatalf("checked %d operations, want all 8: %v", len(ops), ops)
	}
	for _, name := range []string{"toggle INFRASTRUCTURE_DB_ACCESS on", "toggle VERSION_CONTROL_PUSH_PROD_CODE_ACCESS on", "mark as service account", "unlink", "link a user", notRestorable} {
		if !hasCheck(report, name) {
			t.Errorf("no check %q:\n%s", name, text(report))
		}
	}
	sameButUnrestorable(t, before, snapshot(t, e), infra, vcs)
}

// passWrites runs the checker with write targets against e and fails
// unless it passes.
func passWrites(t *testing.T, e *testserver.Env, maxPages int, infra, vcs int64) *conformance.Report {
	t.Helper()
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: maxPages,
		InfrastructureID: infra, VersionControlID: vcs, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if report.Failed() {
		t.Fatalf("violations against our own server:\n%s", text(report))
	}
	return report
}

// notRestorable is the note the write checks leave in the report.
const notRestorable = "note: connectedAt/disconnectedAt and updatedAt are set by the API and cannot be restored"

// TestWriteSkipsWhatCannotBeRestored: a set access flag and a service
// account are left alone (toggling or re-marking would change their times
// and the designator), with a check saying why.
func TestWriteSkipsWhatCannotBeRestored(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	// An identity of each family with its first flag set, marked as a
	// service account by another user than the key's.
	ids := map[store.Family]int64{}
	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		ids[f] = e.Identities(e.CompanyA, f)[0]
		for _, change := range []store.Change{
			store.SetAccess{Access: store.AccessA, On: true},
			store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: e.OtherUserA},
		} {
			_, err := e.Store.UpdateIdentity(context.Background(), e.CompanyA, f, ids[f], change, time.Now())
			require.NoError(t, err)
		}
	}
	infra, vcs := ids[store.Infrastructure], ids[store.VersionControl]
	before := snapshot(t, e)

	report := passWrites(t, e, 1, infra, vcs)
	for name, want := range map[string]int{
		"toggle INFRASTRUCTURE_ADMIN_ACCESS skipped": 1, "toggle VERSION_CONTROL_WRITE_ACCESS skipped": 1,
		"service account skipped": 2, notRestorable: 2, // one per family
	} {
		n := 0
		for _, c := range report.Checks {
			if strings.HasPrefix(c.Name, name) {
				n++
			}
		}
		if n != want {
			t.Errorf("%d checks %q, want %d:\n%s", n, name, want, text(report))
		}
	}
	sameButUnrestorable(t, before, snapshot(t, e), infra, vcs)
}

// TestWriteRestoresWhenInterrupted: cancelling the run right after its
// first change still restores the identity.
func TestWriteRestoresWhenInterrupted(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	restorable := func(it store.Identity) bool {
		return it.AccessA == nil && it.AccessB == nil && it.ServiceAccountAt == nil
	}
	infra := pick(t, e, store.Infrastructure, restorable)
	before := snapshot(t, e)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var puts []string
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && r.Method == http.MethodPut && resp.StatusCode == http.StatusOK {
			puts = append(puts, r.URL.Path)
			if len(puts) == 1 {
				cancel() // Ctrl-C right after the first change
			}
		}
		return resp, err
	})
	_, err := conformance.Run(ctx, conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: 1,
		InfrastructureID: infra, Logger: quiet(), HTTPClient: &http.Client{Transport: rt},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run: %v, want it cancelled", err)
	}
	if len(puts) != 2 {
		t.Fatalf("successful PUTs %v, want the change and its undo", puts)
	}
	sameButUnrestorable(t, before, snapshot(t, e), infra)
}

// TestWriteReportsAListThatHidesTheChange: a server whose list never shows
// dbAccess fails read-your-writes, and the report says so on the PUT.
func TestWriteReportsAListThatHidesTheChange(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	e.Server.Config.Handler = editLists(e.Server.Config.Handler, func(items []map[string]any) {
		for _, it := range items {
			if _, ok := it["dbAccess"]; ok {
				it["dbAccess"] = nil
			}
		}
	})
	infra := pick(t, e, store.Infrastructure, func(it store.Identity) bool { return it.AccessB == nil })
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: 1,
		InfrastructureID: infra, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, c := range report.Checks {
		for _, v := range c.Violations {
			if v.Path == "/dbAccess" {
				found = append(found, c.Name+": "+v.Reason)
			}
		}
	}
	if want := "toggle INFRASTRUCTURE_DB_ACCESS on: after toggle INFRASTRUCTURE_DB_ACCESS on the list does not show the change (read-your-writes)"; len(found) != 1 || found[0] != want {
		t.Fatalf("dbAccess violations %q, want [%q]:\n%s", found, want, text(report))
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pick returns the first identity of company A of the family that ok accepts.
func pick(t *testing.T, e *testserver.Env, family store.Family, ok func(store.Identity) bool) int64 {
	t.Helper()
	for _, it := range e.Data.Identities {
		if it.CompanyID == e.CompanyA && it.Family == family && ok(it) {
			return it.ID
		}
	}
	t.Fatalf("the seed has no %v identity of company A that fits", family)
	return 0
}

// sameButUnrestorable fails unless each identity reads back as before in
// every field but those the API sets itself.
func sameButUnrestorable(t *testing.T, before, after map[int64]map[string]any, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		b, a := before[id], after[id]
		if b == nil || a == nil {
			t.Fatalf("identity %d is not listed", id)
		}
		for k := range a {
			if _, ok := b[k]; !ok {
				t.Errorf("identity %d: %s appeared", id, k)
			}
		}
		for k, v := range b {
			switch k {
			case "updatedAt", "connectedAt", "disconnectedAt":
				continue
			}
			if !sameJSON(v, a[k]) {
				t.Errorf("identity %d: %s was %s, is %s", id, k, js(v), js(a[k]))
			}
		}
	}
}

// js shows a value briefly: a nested record by its id.
func js(v any) string {
	if m, ok := v.(map[string]any); ok && m["id"] != nil {
		return fmt.Sprintf("{id: %v …}", m["id"])
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func text(r *conformance.Report) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

func hasCheck(r *conformance.Report, name string) bool {
	for _, c := range r.Checks {
		if c.Name == name && c.Passed() {
			return true
		}
	}
	return false
}

// snapshot reads every identity of company A through the API.
func snapshot(t *testing.T, e *testserver.Env) map[int64]map[string]any {
	t.Helper()
	out := map[int64]map[string]any{}
	for _, family := range []string{"infrastructure", "version-control"} {
		for page := 1; ; page++ {
			var body struct{ Data []map[string]any }
			getJSON(t, fmt.Sprintf("%s/user-identities/%s?limit=50&page=%d", e.URL, family, page), e.Keys.ReadWrite, &body)
			for _, it := range body.Data {
				out[int64(it["id"].(float64))] = it
			}
			if len(body.Data) < 50 {
				break
			}
		}
	}
	return out
}

func getJSON(t *testing.T, u, key string, v any) {
	t.Helper()
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: u, Key: key})
	require.NoError(t, json.Unmarshal(resp.Body, v), "GET %s: %s", u, resp.Body)
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// fault is a planted defect: what the broken server does and where the
// checker must find it.
type fault struct {
	name      string
	operation string
	pointer   string // JSON pointer the violation names ("" for the response as a whole)
	reason    string // a piece of the violation's reason
}

var planted = []fault{
	{"wrong type", "listInfrastructureIdentities", "/data/0/id", "integer"},
	{"missing required field", "listVersionControlIdentities", "/data/0/hasMfa", "missing"},
	{"undocumented status", "connectInfrastructureIdentity", "", "418"},
	{"text/plain error", "listInfrastructureIdentities", "", "Content-Type"},
	{"wrong enum", "connectVersionControlIdentity", "/code", "allowed values"},
	{"extra 5xx", "toggleInfrastructureIdentity", "", "503"},
}

// brokenServer wraps the real server and plants each fault.
func brokenServer(t *testing.T) *testserver.Env {
	t.Helper()
	e := testserver.Start(t, testserver.ForChecker())
	real := e.Server.Config.Handler
	e.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case r.Header.Get("Authorization") == "" && strings.HasSuffix(path, "/user-identities/infrastructure"):
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "unauthorized")
			return
		case r.Method == http.MethodPut && strings.HasSuffix(path, "/infrastructure/9007199254740991/connect"):
			writeJSON(w, 418, map[string]any{"statusCode": 418, "code": "NOT_FOUND", "message": "teapot", "requestId": "x"})
			return
		case r.Method == http.MethodPut && strings.HasSuffix(path, "/version-control/9007199254740991/connect"):
			writeJSON(w, 404, map[string]any{"statusCode": 404, "code": "WHATEVER", "message": "gone", "requestId": "x"})
			return
		case r.Method == http.MethodPut && strings.HasSuffix(path, "/infrastructure/9007199254740991/toggle"):
			writeJSON(w, 503, map[string]any{"statusCode": 503, "code": "SERVICE_UNAVAILABLE", "message": "down", "requestId": "x"})
			return
		}
		editLists(real, func(items []map[string]any) {
			if strings.HasSuffix(path, "/infrastructure") {
				items[0]["id"] = fmt.Sprint(items[0]["id"])
			} else {
				delete(items[0], "hasMfa")
			}
		}).ServeHTTP(w, r)
	})
	return e
}

// editLists serves what real does, but passes the items of each non-empty
// page of a list through edit first.
func editLists(real http.Handler, edit func(items []map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if r.Method == http.MethodGet && rec.Code == 200 {
			var page map[string]any
			if json.Unmarshal(body, &page) == nil {
				if raw, _ := page["data"].([]any); len(raw) > 0 {
					items := make([]map[string]any, len(raw))
					for i, x := range raw {
						items[i] = x.(map[string]any)
					}
					edit(items)
					body, _ = json.Marshal(page)
				}
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestCheckFindsEveryPlantedFault(t *testing.T) {
	t.Parallel()
	e := brokenServer(t)
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: 2, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if !report.Failed() {
		t.Fatal("a broken server passed")
	}
	var js bytes.Buffer
	if err := report.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Passed bool
		Checks []conformance.Check
	}
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Passed {
		t.Fatal("JSON report says passed")
	}
	for _, f := range planted {
		if !reported(decoded.Checks, f) {
			t.Errorf("planted fault %q (%s %s) is not in the JSON report", f.name, f.operation, f.pointer)
		}
	}
	var junit bytes.Buffer
	if err := report.WriteJUnit(&junit); err != nil || !strings.Contains(junit.String(), "<failure") {
		t.Fatalf("junit report has no failure: %v", err)
	}
}

func reported(checks []conformance.Check, f fault) bool {
	for _, c := range checks {
		if c.Operation != f.operation {
			continue
		}
		for _, v := range c.Violations {
			if v.Path == f.pointer && strings.Contains(v.Reason, f.reason) {
				return true
			}
		}
	}
	return false
}

func TestProxyForwardsBytesUnchangedAndRecordsEachViolationOnce(t *testing.T) {
	t.Parallel()
	e := brokenServer(t)
	proxy, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: e.URL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	// Bytes through the proxy equal bytes from the upstream.
	path := "/user-identities/version-control?limit=50&sort=IDENTITY_ID"
	direct := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.URL + path, Key: e.Keys.ReadWrite})
	proxied := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: front.URL + path, Key: e.Keys.ReadWrite})
	require.Equal(t, direct.Status, proxied.Status)
	require.Equal(t, string(direct.Body), string(proxied.Body), "the proxy altered the response")

	// Drive each planted fault once more, through our client (no retries,
	// so each fault is sent once).
	newClient := func(opts ...client.Option) *client.Client {
		c, err := client.New(append([]client.Option{client.WithBaseURL(front.URL), client.WithRetry(client.RetryPolicy{})}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newClient(client.WithToken(e.Keys.ReadWrite))
	anonymous := newClient()
	ctx := context.Background()
	missing := int64(9007199254740991)
	_, _, _ = c.Infrastructure.List(ctx, &client.InfrastructureListOptions{Limit: 5})
	if _, _, err := anonymous.Infrastructure.List(ctx, nil); err == nil { // text/plain 401
		t.Fatal("the planted 401 did not reach the client")
	}
	_, _, _ = c.Infrastructure.Disconnect(ctx, missing)
	_, _, _ = c.VersionControl.Disconnect(ctx, missing)
	_, _, _ = c.Infrastructure.SetAccess(ctx, missing, gen.InfrastructureToggleFieldINFRASTRUCTUREADMINACCESS, false)

	s := proxy.Summary()
	want := map[string]int{ // operation|pointer → times
		"listVersionControlIdentities|/data/0/hasMfa": 1,
		"listInfrastructureIdentities|/data/0/id":     1,
		"listInfrastructureIdentities|":               1, // text/plain 401
		"connectInfrastructureIdentity|":              1, // 418
		"connectVersionControlIdentity|/code":         1,
		"toggleInfrastructureIdentity|":               1, // 503
	}
	got := map[string]int{}
	for _, r := range s.Violations {
		if r.Direction == "response" {
			got[r.Operation+"|"+r.Pointer]++
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s recorded %d times, want %d; all: %v", k, got[k], n, got)
		}
	}
	if s.Exchanges != 6 {
		t.Errorf("exchanges %d, want 6", s.Exchanges)
	}

	var report bytes.Buffer
	if err := s.WriteJSON(&report); err != nil || !strings.Contains(report.String(), "hasMfa") {
		t.Fatalf("summary: %v %s", err, report.String())
	}
}

func TestProxyStreamsLargeBodies(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), 3<<20)
	proxy, front := proxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(big)
	}), conformance.ProxyConfig{MaxCapture: 1 << 20})
	resp, err := http.Get(front.URL + "/user-identities/infrastructure")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(b, big) {
		t.Fatalf("large body altered: %d bytes", len(b))
	}
	s := proxy.Summary()
	if s.Unchecked != 1 {
		t.Fatalf("unchecked %d, want 1", s.Unchecked)
	}
	var report bytes.Buffer
	if err := s.WriteJSON(&report); err != nil || !strings.Contains(report.String(), `"violations": []`) {
		t.Fatalf("a summary without violations must list none, not null: %v %s", err, report.String())
	}
}

func TestRunRejectsRelativeBaseURL(t *testing.T) {
	t.Parallel()
	if _, err := conformance.Run(context.Background(), conformance.Config{BaseURL: "/public"}); err == nil {
		t.Fatal("relative base URL accepted")
	}
	if _, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: "nope"}); err == nil {
		t.Fatal("relative upstream accepted")
	}
	_ = url.Values{}
}

// TestProxyPassesForwardingHeadersOn: the client's X-Forwarded-* and
// Forwarded reach the upstream as sent, and the proxy adds none.
func TestProxyPassesForwardingHeadersOn(t *testing.T) {
	t.Parallel()
	seen := make(chan http.Header, 2)
	_, front := proxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401, "code": "UNAUTHORIZED", "message": "no", "requestId": "x"})
	}), conformance.ProxyConfig{})

	sent := http.Header{
		"X-Forwarded-For":   {"203.0.113.7, 198.51.100.2"},
		"X-Forwarded-Host":  {"api.example.com"},
		"X-Forwarded-Proto": {"https"},
		"Forwarded":         {"for=203.0.113.7;proto=https", "for=198.51.100.2"},
	}
	for _, h := range []http.Header{sent, {}} {
		req, _ := http.NewRequest(http.MethodGet, front.URL+"/user-identities/infrastructure", nil)
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := <-seen
		for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"} {
			if !sameJSON(got[k], h[k]) {
				t.Errorf("sent %s %q, upstream saw %q", k, h[k], got[k])
			}
		}
	}
}

// proxyTo starts an upstream serving h under /public and a proxy to it
// configured by cfg, with its front server; all are closed with t.
func proxyTo(t *testing.T, h http.Handler, cfg conformance.ProxyConfig) (*conformance.Proxy, *httptest.Server) {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	cfg.Upstream, cfg.Logger = up.URL+"/public", quiet()
	proxy, err := conformance.NewProxy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	return proxy, front
}

// flakyBody yields its parts, failing once between the first and the rest.
type flakyBody struct {
	parts  [][]byte
	failed bool
}

func (b *flakyBody) Read(p []byte) (int, error) {
	if len(b.parts) == 0 {
		return 0, io.EOF
	}
	if len(b.parts) == 1 && !b.failed {
		b.failed = true
		return 0, errors.New("connection hiccup")
	}
	n := copy(p, b.parts[0])
	if b.parts[0] = b.parts[0][n:]; len(b.parts[0]) == 0 {
		b.parts = b.parts[1:]
	}
	return n, nil
}

// TestProxyForwardsTheWholeBodyWhenCaptureFails: a request body whose
// reading fails part-way reaches the upstream whole, and is neither
// validated (it was not captured whole) nor reported as missing.
func TestProxyForwardsTheWholeBodyWhenCaptureFails(t *testing.T) {
	t.Parallel()
	received := make(chan string, 2)
	proxy, _ := proxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received <- string(b)
		writeJSON(w, http.StatusNotFound, map[string]any{"statusCode": 404, "code": "NOT_FOUND", "message": "no", "requestId": "x"})
	}), conformance.ProxyConfig{})
	send := func(body io.Reader) {
		req := httptest.NewRequest(http.MethodPut, "/user-identities/infrastructure/1/toggle", body)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer x")
		proxy.ServeHTTP(httptest.NewRecorder(), req)
	}
	send(&flakyBody{parts: [][]byte{[]byte(`{"toggle": `), []byte(`true}`)}})
	if got := <-received; got != `{"toggle": true}` {
		t.Fatalf("upstream got %q", got)
	}
	s := proxy.Summary()
	if len(s.Violations) != 0 || s.Unchecked != 1 {
		t.Fatalf("violations %v, unchecked %d; want none and 1", s.Violations, s.Unchecked)
	}
	// A body read whole is still validated.
	send(strings.NewReader(`{"toggle": "yes"}`))
	<-received
	if s := proxy.Summary(); len(s.Violations) != 1 || s.Violations[0].Direction != "request" {
		t.Fatalf("a malformed body: violations %v", s.Violations)
	}
}

// TestProxyDoesNotHoldLargeUploads: a request body larger than
// MaxRequestCapture (default 1 MiB) starts reaching the upstream before
// the client has sent it all, and is counted as unchecked.
func TestProxyDoesNotHoldLargeUploads(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	received := make(chan int64, 1)
	proxy, front := proxyTo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var first [1]byte
		n, _ := io.ReadFull(r.Body, first[:])
		close(started)
		rest, _ := io.Copy(io.Discard, r.Body)
		received <- int64(n) + rest
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"statusCode": 413, "code": "PAYLOAD_TOO_LARGE", "message": "no", "requestId": "x"})
	}), conformance.ProxyConfig{})

	pr, pw := io.Pipe()
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	const head = 17 // chunks sent before the upstream must have started: just over 1 MiB
	go func() {
		for range head {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		select {
		case <-started:
			pw.Write(chunk)
			pw.Close()
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("the proxy holds the upload"))
		}
	}()
	req, _ := http.NewRequest(http.MethodPut, front.URL+"/user-identities/infrastructure/1/toggle", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case n := <-received:
		if want := int64((head + 1) * len(chunk)); n != want {
			t.Fatalf("upstream got %d bytes, want %d", n, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the upload never reached the upstream whole")
	}
	s := proxy.Summary()
	for _, v := range s.Violations {
		if v.Direction == "request" {
			t.Errorf("an unread body was validated: %+v", v)
		}
	}
	if s.Unchecked != 1 {
		t.Errorf("unchecked %d, want 1", s.Unchecked)
	}
}

// TestReportsNameWhatFailed: a check that could not be sent fails in JUnit
// with its error (not "0 violations"), and a skip shows no status.
func TestReportsNameWhatFailed(t *testing.T) {
	t.Parallel()
	r := &conformance.Report{BaseURL: "http://x/public", Checks: []conformance.Check{
		{Operation: "listInfrastructureIdentities", Name: "page 1", Request: "GET http://x/public/user-identities/infrastructure", Error: "connection refused"},
		{Operation: "setInfrastructureServiceAccount", Name: "service account skipped: the identity is one", Request: "-"},
	}}
	var junit, txt strings.Builder
	if err := r.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), `message="error: connection refused"`) {
		t.Errorf("junit:\n%s", junit.String())
	}
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(txt.String(), "  ok   service account skipped: the identity is one\n") {
		t.Errorf("text:\n%s", txt.String())
	}
}

// TestCheckReportsAFailedSearchOnce: a q search the server refuses is one
// violation (its status), not also "found nothing".
func TestCheckReportsAFailedSearchOnce(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	real := e.Server.Config.Handler
	e.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("q") {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"statusCode": 500, "code": "INTERNAL_ERROR", "message": "down", "requestId": "x"})
			return
		}
		real.ServeHTTP(w, r)
	})
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: 1, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range report.Checks {
		if strings.HasPrefix(c.Name, "q=") {
			n++
			if len(c.Violations) != 1 || !strings.Contains(c.Violations[0].Reason, "expected status 200, got 500") {
				t.Errorf("%s: %+v", c.Name, c.Violations)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d q checks, want one per family", n)
	}
}
