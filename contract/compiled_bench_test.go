package contract_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
)

// pageTarget is the page the server benchmarks serve: 50 identities with
// their users, connections and the users' own identities (about 190 KB).
const pageTarget = "/user-identities/infrastructure?limit=50&sort=USER"

// benchPage starts a server over the benchmarks' seed (100 identities of
// each family a company) and returns it with the body of pageTarget.
func benchPage(b *testing.B) (*testserver.Env, []byte) {
	b.Helper()
	e := testserver.Start(b, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 100, Seed: 7}})
	req, err := http.NewRequest(http.MethodGet, e.URL+pageTarget, nil)
	require.NoError(b, err)
	req.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
	resp, err := e.Server.Client().Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	require.Equal(b, http.StatusOK, resp.StatusCode, "%s", body)
	return e, body
}

// BenchmarkValidatePage validates one 50-identity page: impl=kin is
// kin-openapi's ValidateResponse as contract used to call it, impl=compiled
// is contract's ValidateResponse now (kin-openapi for the status and
// headers, the compiled schema for the body).
func BenchmarkValidatePage(b *testing.B) {
	v := apitest.Validator(b)
	_, body := benchPage(b)
	r := httptest.NewRequest(http.MethodGet, "/public"+pageTarget, nil)
	route, err := v.FindRoute(r)
	require.NoError(b, err)
	header := http.Header{"Content-Type": {"application/json"}}
	// distinct is the page with every object's id made unique, so that no
	// nested object repeats: the case the validator cannot memoize.
	distinct := distinctObjects(b, body)
	require.NoError(b, v.ValidateResponse(context.Background(), r, route, http.StatusOK, header, distinct))
	b.Run("impl=compiled-distinct", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(distinct)))
		for b.Loop() {
			if err := v.ValidateResponse(context.Background(), r, route, http.StatusOK, header, distinct); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, impl := range []struct {
		name string
		fn   func(context.Context, *http.Request, *contract.Route, int, http.Header, []byte) error
	}{
		{"kin", v.ValidateResponseKin},
		{"compiled", v.ValidateResponse},
	} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := impl.fn(context.Background(), r, route, http.StatusOK, header, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// distinctObjects re-encodes body with a new id for every object that has
// one.
func distinctObjects(b *testing.B, body []byte) []byte {
	b.Helper()
	var page any
	require.NoError(b, json.Unmarshal(body, &page))
	next := 1
	var renumber func(v any)
	renumber = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if _, ok := v["id"].(float64); ok {
				v["id"] = next
				next++
			}
			for _, e := range v {
				renumber(e)
			}
		case []any:
			for _, e := range v {
				renumber(e)
			}
		}
	}
	renumber(page)
	out, err := json.Marshal(page)
	require.NoError(b, err)
	return out
}

// BenchmarkProxyPage fetches the page directly and through the validating
// proxy (which checks the request and, as the body streams through, the
// response), over loopback; the difference is the proxy's overhead. The
// server itself does not validate its responses here.
func BenchmarkProxyPage(b *testing.B) {
	e := testserver.Start(b, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 100, Seed: 7}, ResponseValidation: server.ValidationOff})
	p, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: e.URL, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	proxy := httptest.NewServer(p)
	b.Cleanup(proxy.Close)
	for _, via := range []struct{ name, base string }{{"direct", e.URL}, {"proxy", proxy.URL}} {
		b.Run("via="+via.name, func(b *testing.B) {
			client := proxy.Client()
			b.ReportAllocs()
			for b.Loop() {
				req, err := http.NewRequest(http.MethodGet, via.base+pageTarget, nil)
				require.NoError(b, err)
				req.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
				resp, err := client.Do(req)
				require.NoError(b, err)
				n, err := io.Copy(io.Discard, resp.Body)
				require.NoError(b, err)
				require.NoError(b, resp.Body.Close())
				require.Equal(b, http.StatusOK, resp.StatusCode)
				b.SetBytes(n)
			}
		})
	}
	s := p.Summary()
	require.Empty(b, s.Violations)
	require.Zero(b, s.Unchecked)
}

// BenchmarkProxyPagePaired fetches the page directly and through the
// proxy in turn, every iteration, so that both see the same machine load,
// and reports each one's time per page and the proxy's overhead.
func BenchmarkProxyPagePaired(b *testing.B) {
	e := testserver.Start(b, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 100, Seed: 7}, ResponseValidation: server.ValidationOff})
	p, err := conformance.NewProxy(conformance.ProxyConfig{Upstream: e.URL, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	proxy := httptest.NewServer(p)
	b.Cleanup(proxy.Close)
	bases := []string{e.URL, proxy.URL}
	client := proxy.Client()
	var spent [2]time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for j := range 2 {
			i := (n + j) % 2 // alternate which goes first
			start := time.Now()
			req, err := http.NewRequest(http.MethodGet, bases[i]+pageTarget, nil)
			require.NoError(b, err)
			req.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
			resp, err := client.Do(req)
			require.NoError(b, err)
			_, err = io.Copy(io.Discard, resp.Body)
			require.NoError(b, err)
			require.NoError(b, resp.Body.Close())
			require.Equal(b, http.StatusOK, resp.StatusCode)
			spent[i] += time.Since(start)
		}
		n++
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "direct-ns/page")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "proxy-ns/page")
	b.ReportMetric(float64((spent[1]-spent[0]).Nanoseconds())/float64(n), "overhead-ns/page")
	s := p.Summary()
	require.Empty(b, s.Violations)
	require.Zero(b, s.Unchecked)
}
