package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestCheckOurServerHasNoViolationsAndWritesAreRestored(t *testing.T) {
	e := testserver.Start(t, testserver.Options{})
	infra := e.Identities(e.CompanyA, store.Infrastructure)
	vcs := e.Identities(e.CompanyA, store.VersionControl)
	before := snapshot(t, e)

	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, RatePerMinute: 1 << 20, MaxPages: 5,
		InfrastructureID: infra[3], VersionControlID: vcs[5], Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if report.Failed() {
		var b strings.Builder
		_ = report.WriteText(&b)
		t.Fatalf("violations against our own server:\n%s", b.String())
	}
	ops := map[string]int{}
	for _, c := range report.Checks {
		ops[c.Operation]++
		if strings.Contains(c.Request, e.Keys.ReadWrite) {
			t.Fatal("the token appears in the report")
		}
	}
	if len(ops) != 8 {
		t.Fatalf("checked %d operations, want all 8: %v", len(ops), ops)
	}

	after := snapshot(t, e)
	for _, id := range []int64{infra[3], vcs[5]} {
		b, a := before[id], after[id]
		for _, field := range []string{"adminAccess", "dbAccess", "writeAccess", "pushProductionCodeAccess", "serviceAccountReason", "user"} {
			if !sameJSON(b[field], a[field]) {
				t.Errorf("identity %d: %s was %v, is %v after --write", id, field, b[field], a[field])
			}
		}
		if (b["serviceAccount"] == nil) != (a["serviceAccount"] == nil) {
			t.Errorf("identity %d: service account state not restored", id)
		}
	}
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
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
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
	e := testserver.Start(t, testserver.Options{})
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
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if r.Method == http.MethodGet && rec.Code == 200 {
			var page map[string]any
			if json.Unmarshal(body, &page) == nil {
				if items, _ := page["data"].([]any); len(items) > 0 {
					first := items[0].(map[string]any)
					if strings.HasSuffix(path, "/infrastructure") {
						first["id"] = fmt.Sprint(first["id"])
					} else {
						delete(first, "hasMfa")
					}
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
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestCheckFindsEveryPlantedFault(t *testing.T) {
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
	e := brokenServer(t)
	proxy, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: e.URL, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(proxy)
	defer front.Close()

	get := func(base, path, key string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	// Bytes through the proxy equal bytes from the upstream.
	path := "/user-identities/version-control?limit=50&sort=IDENTITY_ID"
	s1, direct := get(e.URL, path, e.Keys.ReadWrite)
	s2, proxied := get(front.URL, path, e.Keys.ReadWrite)
	if s1 != s2 || !bytes.Equal(direct, proxied) {
		t.Fatalf("proxy altered the response: %d/%d, %d vs %d bytes", s1, s2, len(direct), len(proxied))
	}

	// Drive each planted fault once more, through our client (no retries,
	// so each fault is sent once).
	newClient := func(opts ...client.Option) *client.Client {
		c, err := client.New(append([]client.Option{client.WithBaseURL(front.URL), client.WithMaxRetries(0)}, opts...)...)
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
	big := bytes.Repeat([]byte("x"), 3<<20)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(big)
	}))
	defer up.Close()
	proxy, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: up.URL + "/public", MaxCapture: 1 << 20, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(proxy)
	defer front.Close()
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
	if _, err := conformance.Run(context.Background(), conformance.Config{BaseURL: "/public"}); err == nil {
		t.Fatal("relative base URL accepted")
	}
	if _, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: "nope"}); err == nil {
		t.Fatal("relative upstream accepted")
	}
	_ = url.Values{}
}
