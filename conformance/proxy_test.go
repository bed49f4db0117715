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
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
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
	b := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: front.URL + "/user-identities/infrastructure"}).Body
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
