package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

// TestCheckOurServerPassesEveryReadOnlyCheck: our server, at the default
// settings with a read-only key and another company's key, breaks no
// rule, and every check but the write checks runs.
func TestCheckOurServerPassesEveryReadOnlyCheck(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	start := time.Now()
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, ReadToken: e.Keys.ReadOnly, OtherToken: e.Keys.OtherCompany, Logger: quiet(),
	})
	require.NoError(t, err)
	require.True(t, report.Passed(), text(report))
	assert.Less(t, time.Since(start), 30*time.Second)
	for _, c := range report.Checks {
		if strings.HasPrefix(c.Name, "write.") {
			assert.Equal(t, "skip", c.Outcome(), c.Name)
			continue
		}
		assert.Equal(t, "pass", c.Outcome(), "%s: %+v", c.Name, c.Skips)
	}
	for _, name := range []string{"filter.clientType", "filter.connectionId", "filter.q"} {
		assert.NotNil(t, report.Check(name), "the document's filters are checks")
	}
	assert.Equal(t, "read-only", report.Mode)
	assert.NotContains(t, text(report), e.Keys.ReadWrite)
}

// TestCheckOurServerPassesTheWriteChecksAndRestores: with write targets,
// every PUT is checked and undone; the targets read back as before but
// for the timestamps the API sets, which the report lists, and no other
// identity changes.
func TestCheckOurServerPassesTheWriteChecksAndRestores(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	tg := targets(e)
	before := snapshot(t, e)
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, ReadToken: e.Keys.ReadOnly, Targets: tg, Logger: quiet(),
		Only: []string{"write", "auth.read-only-key", "auth.missing-token"},
	})
	require.NoError(t, err)
	require.True(t, report.Passed(), text(report))
	for _, name := range []string{"write.read-your-writes", "write.isolated", "write.idempotent", "write.restored", "auth.read-only-key"} {
		assert.Equal(t, "pass", report.Check(name).Outcome(), name)
	}
	// Two toggles, a mark and a link per family.
	assert.Equal(t, 8, report.Check("write.read-your-writes").Passed)
	after := snapshot(t, e)
	for id, b := range before {
		a := after[id]
		for k := range b {
			switch {
			case k == "updatedAt" || k == "connectedAt" || k == "disconnectedAt":
				if id != tg["infrastructure"] && id != tg["version-control"] {
					assert.Equal(t, b[k], a[k], "identity %d %s", id, k)
				}
			default:
				assert.Equal(t, b[k], a[k], "identity %d %s", id, k)
			}
		}
	}
	notes := strings.Join(report.Check("write.restored").Notes, "\n")
	assert.Contains(t, notes, fmt.Sprintf("infrastructure identity %d: set by the API, so not restorable: connectedAt was", tg["infrastructure"]))
	assert.Contains(t, notes, "updatedAt was")
	assert.NotContains(t, notes, "adminAccess")
}

// TestCheckSkipsWhatCannotBeRestored: a set flag and a service account
// are left alone (clearing and setting them again would change their
// times), with a skip saying why.
func TestCheckSkipsWhatCannotBeRestored(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	ids := map[string]int64{}
	for name, f := range map[string]store.Family{"infrastructure": store.Infrastructure, "version-control": store.VersionControl} {
		ids[name] = e.Identities(e.CompanyA, f)[0]
		for _, change := range []store.Change{
			store.SetAccess{Access: store.AccessA, On: true},
			store.MarkServiceAccount{Mark: true, Reason: "deploys", ActorID: e.OtherUserA},
		} {
			_, err := e.Store.UpdateIdentity(context.Background(), e.CompanyA, f, ids[name], change, time.Now())
			require.NoError(t, err)
		}
	}
	before := snapshot(t, e)
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, Targets: ids, Only: []string{"write"}, Logger: quiet()})
	require.NoError(t, err)
	require.True(t, report.Passed(), text(report))
	var reasons []string
	for _, s := range report.Check("write.read-your-writes").Skips {
		reasons = append(reasons, s.Reason)
	}
	all := strings.Join(reasons, "\n")
	for _, want := range []string{"adminAccess is set", "writeAccess is set", "serviceAccount is set"} {
		assert.Contains(t, all, want)
	}
	after := snapshot(t, e)
	for _, id := range ids {
		for _, k := range []string{"adminAccess", "writeAccess", "serviceAccount", "serviceAccountDesignator", "serviceAccountReason"} {
			assert.Equal(t, before[id][k], after[id][k], "identity %d %s", id, k)
		}
	}
}

// TestCheckRestoresWhenInterrupted: cancelling the run right after its
// first change still undoes it.
func TestCheckRestoresWhenInterrupted(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	infra := targets(e)["infrastructure"]
	before := snapshot(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var puts []string
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && r.Method == http.MethodPut && resp.StatusCode == http.StatusOK {
			mu.Lock()
			puts = append(puts, r.URL.Path)
			if len(puts) == 1 {
				cancel() // Ctrl-C right after the first change
			}
			mu.Unlock()
		}
		return resp, err
	})
	_, err := conformance.Run(ctx, conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, Targets: map[string]int64{"infrastructure": infra},
		Only: []string{"write"}, Logger: quiet(), HTTPClient: &http.Client{Transport: rt},
	})
	require.ErrorIs(t, err, context.Canceled)
	mu.Lock()
	assert.Len(t, puts, 2, "the change and its undo: %v", puts)
	mu.Unlock()
	after := snapshot(t, e)
	for k, v := range before[infra] {
		if k != "updatedAt" && k != "connectedAt" && k != "disconnectedAt" {
			assert.Equal(t, v, after[infra][k], k)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recorder notes every request a client sends: method, URL and body.
type recorder struct {
	mu   sync.Mutex
	sent []string
}

func (rec *recorder) client() *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec.mu.Lock()
		rec.sent = append(rec.sent, r.Method+" "+r.URL.String()+" "+string(body))
		rec.mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.sent...)
}

// TestCheckSameSeedSendsTheSameRequests: a run is repeated exactly with
// the same seed; another seed generates other inputs.
func TestCheckSameSeedSendsTheSameRequests(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	runWith := func(seed uint64) []string {
		rec := &recorder{}
		report, err := conformance.Run(context.Background(), conformance.Config{
			BaseURL: e.URL, Token: e.Keys.ReadWrite, Seed: seed, Budget: 40, HTTPClient: rec.client(),
			Only: []string{"input.negative", "input.positive"}, Logger: quiet(),
		})
		require.NoError(t, err)
		require.True(t, report.Passed(), text(report))
		require.Equal(t, 40, report.Check("input.negative").Passed+report.Check("input.positive").Passed)
		return rec.requests()
	}
	first, again, other := runWith(1), runWith(1), runWith(2)
	require.Equal(t, first, again, "the same seed sent other requests")
	assert.NotEqual(t, first, other, "another seed sent the same requests")
	// What is not generated is the same whatever the seed.
	common := 0
	for common < len(first) && common < len(other) && first[common] == other[common] {
		common++
	}
	assert.Positive(t, common, "the requests before the generated ones differ")
}

// TestCheckFailsFastOnARejectedKey: a 401 on the first request stops the
// run with one line.
func TestCheckFailsFastOnARejectedKey(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: "not-a-key", Logger: quiet()})
	require.ErrorIs(t, err, conformance.ErrTokenRejected)
	assert.NotContains(t, err.Error(), "\n")
	assert.Contains(t, err.Error(), "401")
	assert.Equal(t, 1, report.Requests)
}

// TestCheckSuggestsTheBasePath: a base URL without the document's base
// path says where the API answers.
func TestCheckSuggestsTheBasePath(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	_, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.Server.URL, Token: e.Keys.ReadWrite, Logger: quiet()})
	require.ErrorIs(t, err, conformance.ErrNoAPI)
	assert.Contains(t, err.Error(), "try --base-url "+e.Server.URL+"/public")
	assert.NotContains(t, err.Error(), "\n")
}

// TestCheckGivesUpFastWhenNothingListens: no server, no crawl.
func TestCheckGivesUpFastWhenNothingListens(t *testing.T) {
	t.Parallel()
	addr := apitest.RefusingAddr(t)
	start := time.Now()
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: "http://" + addr + "/public", Token: "x", Logger: quiet()})
	require.ErrorIs(t, err, conformance.ErrUnreachable)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Equal(t, 1, report.Requests)
}

// TestCheckRejectsABadConfig: a relative base URL, a write target of a
// family the document does not have.
func TestCheckRejectsABadConfig(t *testing.T) {
	t.Parallel()
	_, err := conformance.Run(context.Background(), conformance.Config{BaseURL: "/public", Token: "x"})
	require.ErrorIs(t, err, conformance.ErrConfig)
	_, err = conformance.Run(context.Background(), conformance.Config{BaseURL: "http://127.0.0.1:1/public", Token: "x", Targets: map[string]int64{"nope": 1}})
	require.ErrorIs(t, err, conformance.ErrConfig)
	_, err = conformance.NewProxy(conformance.ProxyConfig{Upstream: "nope"})
	require.Error(t, err)
}

// TestCheckWaitsOutRateLimits: 429s with Retry-After are sent again, not
// reported.
func TestCheckWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	real := e.Server.Config.Handler
	var mu sync.Mutex
	n, limited := 0, 0
	e.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		hit := n%7 == 0
		if hit {
			limited++
		}
		mu.Unlock()
		if hit {
			w.Header().Set("Retry-After", "0")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "0")
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"statusCode": 429, "code": "RATE_LIMITED", "message": "slow down", "requestId": "x"})
			return
		}
		real.ServeHTTP(w, r)
	})
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, Only: []string{"paging", "sort"}, Logger: quiet()})
	require.NoError(t, err)
	require.True(t, report.Passed(), text(report))
	mu.Lock()
	defer mu.Unlock()
	assert.Positive(t, limited)
	assert.Equal(t, n, report.Requests, "every 429 was sent again")
}

// TestCheckUsesTheDocumentInUse: a document with a new sort and a new
// client type makes the checker send them; our server, which does not
// know them, fails the checks that do.
func TestCheckUsesTheDocumentInUse(t *testing.T) {
	t.Parallel()
	doc := string(api.Spec)
	for old, new := range map[string]string{
		"        - CONNECTION_STATUS\n    VersionControlSort:": "        - CONNECTION_STATUS\n        - RISK_SCORE\n    VersionControlSort:",
		"        - AWS_ORG_UNITS\n":                            "        - AWS_ORG_UNITS\n        - ORACLE_CLOUD\n",
	} {
		require.Contains(t, doc, old, "the document changed; update this test")
		doc = strings.Replace(doc, old, new, 1)
	}
	checks, err := conformance.Checks([]byte(doc))
	require.NoError(t, err)
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	assert.Contains(t, names, "filter.clientType")

	e := testserver.Start(t, testserver.ForChecker())
	rec := &recorder{}
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, Spec: []byte(doc), SpecName: "newer.yaml",
		HTTPClient: rec.client(), Only: []string{"sort.order", "filter.clientType"}, Budget: -1, Logger: quiet(),
	})
	require.NoError(t, err)
	sent := strings.Join(rec.requests(), "\n")
	assert.Contains(t, sent, "sort=RISK_SCORE")
	assert.Contains(t, sent, "clientType=ORACLE_CLOUD")
	assert.Equal(t, "newer.yaml", report.Spec)
	findings := func(name string) string {
		var b strings.Builder
		for _, f := range report.Check(name).Findings {
			b.WriteString(f.Subject + ": " + f.Message + "\n")
		}
		return b.String()
	}
	assert.Contains(t, findings("sort.order"), "sort=RISK_SCORE")
	assert.Contains(t, findings("filter.clientType"), "clientType=ORACLE_CLOUD")
	assert.Contains(t, findings("sort.order"), "answered 400")
}

// TestCheckReportFormats: text groups by check with counts, JSON decodes,
// JUnit has a suite per check and a failure per finding.
func TestCheckReportFormats(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	e.Server.Config.Handler = dropParam("clientType")(e, e.Server.Config.Handler)
	report, err := conformance.Run(context.Background(), conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, Only: []string{"paging.walk", "filter.clientType"}, Logger: quiet()})
	require.NoError(t, err)
	require.False(t, report.Passed())

	txt := text(report)
	assert.Contains(t, txt, "PASS  paging.walk")
	assert.Regexp(t, `FAIL  filter.clientType +\d+ failed`, txt)
	assert.Contains(t, txt, "rule: `clientType` returns only, and all")
	assert.Contains(t, txt, "        curl -sS -g -H \"Authorization: Bearer $DRATA_API_TOKEN\" ")

	var js bytes.Buffer
	require.NoError(t, report.WriteJSON(&js))
	var decoded struct {
		Passed   bool
		Problems int
		Checks   []struct {
			Name     string
			Failed   int
			Findings []struct{ Subject, Message, Curl string }
		}
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
	assert.False(t, decoded.Passed)
	assert.Equal(t, report.Problems(), decoded.Problems)
	require.Len(t, decoded.Checks, 2)
	assert.Equal(t, "filter.clientType", decoded.Checks[1].Name)
	assert.NotEmpty(t, decoded.Checks[1].Findings[0].Curl)

	var junit bytes.Buffer
	require.NoError(t, report.WriteJUnit(&junit))
	var suites struct {
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(junit.Bytes(), &suites))
	require.Len(t, suites.Suites, 2)
	assert.Equal(t, "filter.clientType", suites.Suites[1].Name)
	assert.Equal(t, len(report.Check("filter.clientType").Findings), suites.Suites[1].Failures)
}

// TestCheckReportsEveryPlantedFaultInOneDefaultRun: one server with a
// fault for each check that can see it without writing; one read-only
// run (with the extra keys) reports each under its name.
func TestCheckReportsEveryPlantedFaultInOneDefaultRun(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	faults := map[string]plant{
		"paging.limit":            pageOverflow,
		"paging.total-stable":     driftingTotal,
		"sort.order":              dropParam("sortDir"),
		"filter.clientType":       dropParam("clientType"),
		"filter.connectionId":     dropParam("connectionId"),
		"auth.missing-token":      putWithoutKey,
		"auth.malformed-token":    keyPrefixMatch,
		"auth.wrong-scheme":       anyScheme,
		"auth.read-only-key":      readKeyWrites,
		"auth.tenant-isolation":   leaksIntoSearch,
		"http.method-not-allowed": noAllow,
		"input.invalid-id":        crashesOnExponent,
		"input.negative":          laxQuery,
		"input.positive":          requiresToggleField,
	}
	h := e.Server.Config.Handler
	for _, name := range slices.Sorted(maps.Keys(faults)) {
		h = faults[name](e, h)
	}
	e.Server.Config.Handler = h
	report, err := conformance.Run(context.Background(), conformance.Config{
		BaseURL: e.URL, Token: e.Keys.ReadWrite, ReadToken: e.Keys.ReadOnly, OtherToken: e.Keys.OtherCompany, Logger: quiet(),
		Budget: 30, // the default is 100; 30 generated requests keep the test short and still meet both input faults
	})
	require.NoError(t, err)
	for name := range faults {
		assert.Positive(t, report.Check(name).Failed, "%s does not report its fault", name)
	}
}

// snapshot reads every identity of company A through the API.
func snapshot(t *testing.T, e *testserver.Env) map[int64]map[string]any {
	t.Helper()
	out := map[int64]map[string]any{}
	for _, family := range []string{"infrastructure", "version-control"} {
		for page := 1; ; page++ {
			var body struct{ Data []map[string]any }
			resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: fmt.Sprintf("%s/user-identities/%s?limit=50&page=%d", e.URL, family, page), Key: e.Keys.ReadWrite})
			require.NoError(t, json.Unmarshal(resp.Body, &body))
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
