package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/conformance"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

// A planted fault wraps our real server and breaks one documented
// behaviour; each test checks that the checker reports it under the
// name of the check that enforces that behaviour.

// plant is a fault: given the environment and the real handler, the
// broken handler.
type plant func(e *testserver.Env, real http.Handler) http.Handler

// option adds keys or write targets to a run.
type option func(e *testserver.Env, c *conformance.Config)

func withReadKey(e *testserver.Env, c *conformance.Config)  { c.ReadToken = e.Keys.ReadOnly }
func withOtherKey(e *testserver.Env, c *conformance.Config) { c.OtherToken = e.Keys.OtherCompany }
func withTargets(e *testserver.Env, c *conformance.Config)  { c.Targets = targets(e) }

// only runs the named checks alone, to keep each test short; one test
// runs every fault at once at the default settings.
func only(names ...string) option {
	return func(_ *testserver.Env, c *conformance.Config) { c.Only = names }
}

// findsFault runs the checker against e's server with the fault planted
// and requires a finding under check, with a curl line that names the key
// by its variable.
func findsFault(t *testing.T, check string, p plant, opts ...option) *conformance.Report {
	t.Helper()
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	e.Server.Config.Handler = p(e, e.Server.Config.Handler)
	cfg := conformance.Config{BaseURL: e.URL, Token: e.Keys.ReadWrite, Logger: quiet()}
	for _, o := range opts {
		o(e, &cfg)
	}
	report, err := conformance.Run(context.Background(), cfg)
	require.NoError(t, err)
	res := report.Check(check)
	require.NotNil(t, res, "no check %s in the report", check)
	require.Positive(t, res.Failed, "the fault is not reported under %s:\n%s", check, text(report))
	f := res.Findings[0]
	assert.True(t, strings.HasPrefix(f.Curl, "curl "), "finding without a curl line: %+v", f)
	for _, key := range []string{e.Keys.ReadWrite, e.Keys.ReadOnly, e.Keys.OtherCompany} {
		assert.NotContains(t, text(report), key, "a key is in the report")
	}
	return report
}

func text(r *conformance.Report) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

// targets are identities of company A the write checks can restore: one
// linked (infrastructure), one not (version control), neither flagged nor
// marked.
func targets(e *testserver.Env) map[string]int64 {
	out := map[string]int64{}
	for _, it := range e.Data.Identities {
		name := map[store.Family]string{store.Infrastructure: "infrastructure", store.VersionControl: "version-control"}[it.Family]
		if _, ok := out[name]; ok || it.CompanyID != e.CompanyA || it.AccessA != nil || it.AccessB != nil || it.ServiceAccountAt != nil {
			continue
		}
		if (it.UserID != nil) == (it.Family == store.Infrastructure) {
			out[name] = it.ID
		}
	}
	return out
}

// isList reports a GET of a list.
func isList(r *http.Request) bool {
	return r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, "/infrastructure") || strings.HasSuffix(r.URL.Path, "/version-control"))
}

// withQuery is r with its query edited.
func withQuery(r *http.Request, edit func(url.Values)) *http.Request {
	r2 := r.Clone(r.Context())
	q := r2.URL.Query()
	edit(q)
	r2.URL.RawQuery = q.Encode()
	r2.RequestURI = r2.URL.RequestURI()
	return r2
}

func record(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// reply sends a recorded answer, its JSON object body edited.
func reply(w http.ResponseWriter, rec *httptest.ResponseRecorder, edit func(body map[string]any)) {
	body := rec.Body.Bytes()
	var obj map[string]any
	if edit != nil && json.Unmarshal(body, &obj) == nil {
		edit(obj)
		body, _ = json.Marshal(obj)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

func limitOf(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil {
		return n
	}
	return 20
}

func pageOf(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		return n
	}
	return 1
}

// onLists applies fault to list GETs and serves the rest as it is.
func onLists(fault func(w http.ResponseWriter, r *http.Request, real http.Handler)) plant {
	return func(_ *testserver.Env, real http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isList(r) {
				fault(w, r, real)
				return
			}
			real.ServeHTTP(w, r)
		})
	}
}

// dropParam ignores a list parameter.
func dropParam(names ...string) plant {
	return onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		real.ServeHTTP(w, withQuery(r, func(q url.Values) {
			for _, n := range names {
				q.Del(n)
			}
		}))
	})
}

var (
	// pageOverflow serves limit+1 items a page, saying limit.
	pageOverflow = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		asked := limitOf(r)
		if asked >= 50 {
			real.ServeHTTP(w, r)
			return
		}
		rec := record(real, withQuery(r, func(q url.Values) { q.Set("limit", strconv.Itoa(asked+1)) }))
		reply(w, rec, func(b map[string]any) { b["limit"] = asked })
	})
	// ignoredLimit serves pages of the default size whatever the limit.
	ignoredLimit = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		asked := limitOf(r)
		rec := record(real, withQuery(r, func(q url.Values) { q.Del("limit") }))
		reply(w, rec, func(b map[string]any) { b["limit"] = asked })
	})
	// driftingTotal counts one more identity on each later page.
	driftingTotal = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		if pageOf(r) < 2 {
			real.ServeHTTP(w, r)
			return
		}
		reply(w, record(real, r), func(b map[string]any) {
			if t, ok := b["total"].(float64); ok {
				b["total"] = t + float64(pageOf(r)-1)
			}
		})
	})
	// repeatsLastPage serves the last page again past the end.
	repeatsLastPage = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		rec := record(real, r)
		var b struct {
			Data  []any
			Total int
		}
		if pageOf(r) > 1 && json.Unmarshal(rec.Body.Bytes(), &b) == nil && len(b.Data) == 0 && b.Total > 0 {
			last := (b.Total + limitOf(r) - 1) / limitOf(r)
			rec = record(real, withQuery(r, func(q url.Values) { q.Set("page", strconv.Itoa(last)) }))
		}
		reply(w, rec, nil)
	})
	// defaultLimitTooSmall pages by 2 when no limit is given, saying 20.
	defaultLimitTooSmall = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		if r.URL.Query().Has("limit") {
			real.ServeHTTP(w, r)
			return
		}
		rec := record(real, withQuery(r, func(q url.Values) { q.Set("limit", "2") }))
		reply(w, rec, func(b map[string]any) { b["limit"] = 20 })
	})
	// repeatsAcrossPages starts every later page with the previous page's
	// last identity (an offset off by one).
	repeatsAcrossPages = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		p := pageOf(r)
		if p < 2 {
			real.ServeHTTP(w, r)
			return
		}
		var prev struct{ Data []any }
		_ = json.Unmarshal(record(real, withQuery(r, func(q url.Values) { q.Set("page", strconv.Itoa(p-1)) })).Body.Bytes(), &prev)
		reply(w, record(real, r), func(b map[string]any) {
			if data, _ := b["data"].([]any); len(data) > 0 && len(prev.Data) > 0 {
				data[0] = prev.Data[len(prev.Data)-1]
			}
		})
	})
)

// onPuts applies fault to PUTs and serves the rest as it is.
func onPuts(fault func(e *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler)) plant {
	return func(e *testserver.Env, real http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				fault(e, w, r, real)
				return
			}
			real.ServeHTTP(w, r)
		})
	}
}

// authAs serves r as if it carried key.
func authAs(r *http.Request, key string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Set("Authorization", "Bearer "+key)
	return r2
}

// rewriteAuth serves requests whose Authorization header match matches
// as if they carried the read-write key.
func rewriteAuth(match func(e *testserver.Env, r *http.Request) bool) plant {
	return func(e *testserver.Env, real http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if match(e, r) {
				r = authAs(r, e.Keys.ReadWrite)
			}
			real.ServeHTTP(w, r)
		})
	}
}

var (
	putWithoutKey = rewriteAuth(func(_ *testserver.Env, r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("Authorization") == ""
	})
	keyPrefixMatch = rewriteAuth(func(e *testserver.Env, r *http.Request) bool {
		h := r.Header.Get("Authorization")
		return strings.HasPrefix(h, "Bearer "+e.Keys.ReadWrite) && h != "Bearer "+e.Keys.ReadWrite
	})
	anyScheme = rewriteAuth(func(e *testserver.Env, r *http.Request) bool {
		_, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		return key == e.Keys.ReadWrite
	})
	readKeyWrites = rewriteAuth(func(e *testserver.Env, r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("Authorization") == "Bearer "+e.Keys.ReadOnly
	})
)

// leaksIntoSearch adds one of company B's identities to every search.
func leaksIntoSearch(e *testserver.Env, real http.Handler) http.Handler {
	var once sync.Once
	var theirs any
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isList(r) || !r.URL.Query().Has("q") || r.Header.Get("Authorization") != "Bearer "+e.Keys.ReadWrite {
			real.ServeHTTP(w, r)
			return
		}
		once.Do(func() {
			var b struct{ Data []any }
			_ = json.Unmarshal(record(real, authAs(withQuery(r, func(q url.Values) { q.Del("q") }), e.Keys.OtherCompany)).Body.Bytes(), &b)
			if len(b.Data) > 0 {
				theirs = b.Data[0]
			}
		})
		reply(w, record(real, r), func(b map[string]any) {
			if data, ok := b["data"].([]any); ok && theirs != nil {
				b["data"] = append(data, theirs)
			}
		})
	})
}

// admitsOtherCompany answers 403 instead of 404 for another company's
// identities, telling that they exist.
func admitsOtherCompany(e *testserver.Env, real http.Handler) http.Handler {
	theirs := map[string]bool{}
	for _, it := range e.Data.Identities {
		if it.CompanyID != e.CompanyA {
			theirs[strconv.FormatInt(it.ID, 10)] = true
		}
	}
	return onPuts(func(e *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
		parts := strings.Split(r.URL.Path, "/")
		if len(parts) > 2 && theirs[parts[len(parts)-2]] {
			writeJSON(w, http.StatusForbidden, map[string]any{"statusCode": 403, "code": "FORBIDDEN", "message": "this identity belongs to another company", "requestId": "x"})
			return
		}
		real.ServeHTTP(w, r)
	})(e, real)
}

// noAllow answers 405 without Allow.
func noAllow(_ *testserver.Env, real http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := record(real, r)
		if rec.Code == http.StatusMethodNotAllowed {
			rec.Header().Del("Allow")
		}
		reply(w, rec, nil)
	})
}

// crashesOnExponent answers 500 to an id written 1e3.
func crashesOnExponent(_ *testserver.Env, real http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/1e3/") {
			writeJSON(w, http.StatusInternalServerError, map[string]any{"statusCode": 500, "code": "INTERNAL_ERROR", "message": "strconv.ParseInt: invalid syntax", "requestId": "x"})
			return
		}
		real.ServeHTTP(w, r)
	})
}

// laxQuery answers a list whose parameters are invalid as if it had none.
var laxQuery = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
	rec := record(real, r)
	if rec.Code == http.StatusBadRequest {
		rec = record(real, withQuery(r, func(q url.Values) {
			for k := range q {
				q.Del(k)
			}
		}))
	}
	reply(w, rec, nil)
})

// requiresToggleField refuses a toggle without toggleField, which the
// document says is optional.
var requiresToggleField = onPuts(func(_ *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var b map[string]any
	if strings.HasSuffix(r.URL.Path, "/toggle") && json.Unmarshal(body, &b) == nil && b != nil && b["toggleField"] == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"statusCode": 400, "code": "VALIDATION_FAILED", "message": "toggleField is required", "requestId": "x"})
		return
	}
	real.ServeHTTP(w, r)
})

// readBody reads r's body and puts it back.
func readBody(r *http.Request) []byte {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body
}

// resend serves r again with another JSON body.
func resend(real http.Handler, r *http.Request, body map[string]any) *httptest.ResponseRecorder {
	b, _ := json.Marshal(body)
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(b))
	r2.ContentLength = int64(len(b))
	return record(real, r2)
}

var (
	// forgetsToggles answers a toggle as done, then undoes it.
	forgetsToggles = onPuts(func(_ *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
		body := readBody(r)
		var b map[string]any
		rec := record(real, r)
		if strings.HasSuffix(r.URL.Path, "/toggle") && rec.Code == 200 && json.Unmarshal(body, &b) == nil {
			b["toggle"] = b["toggle"] != true
			resend(real, r, b)
		}
		reply(w, rec, nil)
	})
	// touchesUpdatedAtAgain answers a repeated PUT with a newer updatedAt.
	touchesUpdatedAtAgain = func() plant {
		var mu sync.Mutex
		last := ""
		return onPuts(func(_ *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
			key := r.URL.Path + string(readBody(r))
			mu.Lock()
			repeated := key == last
			last = key
			mu.Unlock()
			reply(w, record(real, r), func(b map[string]any) {
				if repeated {
					b["updatedAt"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
				}
			})
		})
	}()
	// togglesTheNextOneToo applies a toggle to the next identity as well.
	togglesTheNextOneToo = onPuts(func(_ *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
		body := readBody(r)
		rec := record(real, r)
		parts := strings.Split(r.URL.Path, "/")
		if id, err := strconv.Atoi(parts[len(parts)-2]); err == nil && strings.HasSuffix(r.URL.Path, "/toggle") && rec.Code == 200 {
			parts[len(parts)-2] = strconv.Itoa(id + 1)
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.Join(parts, "/")
			r2.Body = io.NopCloser(bytes.NewReader(body))
			record(real, r2)
		}
		reply(w, rec, nil)
	})
	// ignoresUnmark answers an unmark without doing it.
	ignoresUnmark = onPuts(func(_ *testserver.Env, w http.ResponseWriter, r *http.Request, real http.Handler) {
		body := readBody(r)
		var b map[string]any
		if strings.HasSuffix(r.URL.Path, "/service-account") && json.Unmarshal(body, &b) == nil && b["serviceAccount"] == false {
			// Answer with the identity as it is: a repeat of the last mark.
			b["serviceAccount"] = true
			reply(w, resend(real, r, b), func(m map[string]any) { m["serviceAccount"] = nil })
			return
		}
		real.ServeHTTP(w, r)
	})
	// idAsString writes the first identity's id as a string.
	idAsString = onLists(func(w http.ResponseWriter, r *http.Request, real http.Handler) {
		reply(w, record(real, r), func(b map[string]any) {
			if data, _ := b["data"].([]any); len(data) > 0 {
				it := data[0].(map[string]any)
				it["id"] = strconv.Quote(text2(it["id"]))
			}
		})
	})
)

func text2(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCheckFindsAPageOverflow(t *testing.T) {
	findsFault(t, "paging.limit", pageOverflow, only("paging"))
}

func TestCheckFindsAnIgnoredLimit(t *testing.T) {
	findsFault(t, "paging.limit", ignoredLimit, only("paging"))
}

func TestCheckFindsADriftingTotal(t *testing.T) {
	findsFault(t, "paging.total-stable", driftingTotal, only("paging"))
}

func TestCheckFindsAPagePastTheEndThatIsNotEmpty(t *testing.T) {
	findsFault(t, "paging.past-end", repeatsLastPage, only("paging"))
}

func TestCheckFindsAWrongDefaultLimit(t *testing.T) {
	findsFault(t, "paging.default-limit", defaultLimitTooSmall, only("paging"))
}

func TestCheckFindsPagesThatRepeatIdentities(t *testing.T) {
	findsFault(t, "paging.walk", repeatsAcrossPages, only("paging"))
}

func TestCheckFindsAnIgnoredSort(t *testing.T) {
	r := findsFault(t, "sort.order", dropParam("sort"), only("sort"))
	assert.Contains(t, r.Check("sort.order").Findings[0].Curl, "sort=", "the curl line keeps the sort it is about")
}

func TestCheckFindsAnIgnoredSortDirection(t *testing.T) {
	findsFault(t, "sort.order", dropParam("sortDir"), only("sort"))
}

func TestCheckFindsAnIgnoredClientTypeFilter(t *testing.T) {
	r := findsFault(t, "filter.clientType", dropParam("clientType"), only("filter"))
	assert.Contains(t, r.Check("filter.clientType").Findings[0].Curl, "clientType=")
}

func TestCheckFindsAnIgnoredConnectionFilter(t *testing.T) {
	findsFault(t, "filter.connectionId", dropParam("connectionId"), only("filter"))
}

func TestCheckFindsAnIgnoredSearch(t *testing.T) {
	findsFault(t, "filter.q", dropParam("q"), only("filter"))
}

func TestCheckFindsAPutAcceptedWithoutAKey(t *testing.T) {
	r := findsFault(t, "auth.missing-token", putWithoutKey, only("auth"))
	assert.NotContains(t, r.Check("auth.missing-token").Findings[0].Curl, "Authorization", "the curl line sends no key")
}

func TestCheckFindsAKeyMatchedByItsPrefix(t *testing.T) {
	r := findsFault(t, "auth.malformed-token", keyPrefixMatch, only("auth"))
	assert.Contains(t, r.Check("auth.malformed-token").Findings[0].Curl, `"Authorization: Bearer $DRATA_API_TOKENx"`)
}

func TestCheckFindsAKeyAcceptedUnderAnotherScheme(t *testing.T) {
	findsFault(t, "auth.wrong-scheme", anyScheme, only("auth"))
}

func TestCheckFindsAReadOnlyKeyThatWrites(t *testing.T) {
	r := findsFault(t, "auth.read-only-key", readKeyWrites, only("auth.read-only-key"), withReadKey)
	assert.Contains(t, r.Check("auth.read-only-key").Findings[0].Curl, "$DRATA_READ_API_TOKEN")
}

func TestCheckFindsAnotherCompanysIdentityInASearch(t *testing.T) {
	findsFault(t, "auth.tenant-isolation", leaksIntoSearch, only("auth.tenant-isolation"), withOtherKey)
}

func TestCheckFindsAnotherCompanysIdentityAnsweredUnlikeAMissingOne(t *testing.T) {
	findsFault(t, "auth.tenant-isolation", admitsOtherCompany, only("auth.tenant-isolation"), withOtherKey)
}

func TestCheckFinds405WithoutAllow(t *testing.T) {
	findsFault(t, "http.method-not-allowed", noAllow, only("http"))
}

func TestCheckFindsACrashOnAnInvalidID(t *testing.T) {
	findsFault(t, "input.invalid-id", crashesOnExponent, only("input.invalid-id"))
}

func TestCheckFindsInvalidParametersAccepted(t *testing.T) {
	r := findsFault(t, "input.negative", laxQuery, only("input.negative"))
	// Reduced: the curl line holds the invalid parameter alone.
	f := r.Check("input.negative").Findings[0]
	u := f.Curl[strings.LastIndex(f.Curl, "'http")+1 : len(f.Curl)-1]
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	assert.Len(t, parsed.Query(), 1, "not reduced to the one invalid parameter: %s", f.Curl)
}

func TestCheckFindsAValidBodyRefused(t *testing.T) {
	findsFault(t, "input.positive", requiresToggleField, only("input.positive"))
}

func TestCheckFindsAWriteAnsweredButNotStored(t *testing.T) {
	findsFault(t, "write.read-your-writes", forgetsToggles, only("write"), withTargets)
}

func TestCheckFindsANonIdempotentPut(t *testing.T) {
	findsFault(t, "write.idempotent", touchesUpdatedAtAgain, only("write"), withTargets)
}

func TestCheckFindsAPutThatChangesAnotherIdentity(t *testing.T) {
	findsFault(t, "write.isolated", togglesTheNextOneToo, only("write"), withTargets)
}

func TestCheckFindsAChangeThatCannotBeUndone(t *testing.T) {
	findsFault(t, "write.restored", ignoresUnmark, only("write"), withTargets)
}

func TestCheckFindsAWrongType(t *testing.T) {
	r := findsFault(t, "contract.response", idAsString, only("contract"))
	assert.Equal(t, "/data/0/id", strings.SplitN(r.Check("contract.response").Findings[0].Message, ":", 2)[0])
}
