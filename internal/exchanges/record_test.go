package exchanges_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/internal/exchanges"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
)

var record = flag.Bool("record", false, "TestRecord: write "+exchanges.File+" instead of comparing it with what the server answers")

// clock is the servers' clock while recording: every timestamp the server
// sets, and every rate-limit header, follows from it.
var clock = time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)

// seedOptions keep the corpus small: a page of every family fits in a few
// identities.
var seedOptions = seed.Options{Companies: 3, Identities: 6, Seed: 7}

// TestRecord records the corpus from in-process servers and fails when the
// committed file differs; with -record it writes the file instead. Nothing
// in the file depends on the wall clock or on randomness: the servers run
// on a fixed clock over seeded data, each request sends its name as
// X-Request-Id, and keys are written by name.
func TestRecord(t *testing.T) {
	got := recordCorpus(t)
	raw, err := got.Encode()
	require.NoError(t, err)
	if *record {
		require.NoError(t, os.WriteFile(exchanges.File, raw, 0o644))
		t.Logf("wrote %d exchanges to %s", len(got.Exchanges), exchanges.File)
		return
	}
	committed, err := os.ReadFile(exchanges.File)
	require.NoError(t, err)
	want, err := exchanges.Decode(committed)
	require.NoError(t, err)
	const stale = "the committed corpus is stale: run go test ./internal/exchanges -run TestRecord -args -record"
	for i := range min(len(want.Exchanges), len(got.Exchanges)) {
		w, g := want.Exchanges[i], got.Exchanges[i]
		wb, err := json.MarshalIndent(w, "", "  ")
		require.NoError(t, err)
		gb, err := json.MarshalIndent(g, "", "  ")
		require.NoError(t, err)
		require.Equal(t, string(wb), string(gb), "exchange %d (%s): %s", i, w.Name, stale)
	}
	require.Len(t, got.Exchanges, len(want.Exchanges), stale)
	require.Equal(t, string(committed), string(raw), stale)
}

// env is what the recording sends requests to.
type env struct {
	*testserver.Env
	keys map[string]string // key name to secret
	// main serves most exchanges; limited allows one request a minute;
	// small caps request bodies at smallBody bytes; failing has a store
	// whose identity reads and writes fail.
	main, limited, small, failing string
	family                        map[store.Family]*family
}

const smallBody = 64

// family is what the steps of one family need to know.
type family struct {
	name                           store.Family
	short                          string // infra, vc
	list, connect, toggle, account string // operationIds
	ids                            []int64
	otherCompanyID                 int64
	clientType, otherClientType    string
	connectionID                   int64
	q                              string
	familySort                     string
	otherField, wrongField         string // toggleField values: this family's second flag, the other family's
}

func start(t *testing.T) *env {
	t.Helper()
	now := func() time.Time { return clock }
	ts := testserver.Start(t, testserver.Options{Seed: &seedOptions, Now: now, RateLimit: 1000})
	e := &env{Env: ts, main: ts.Server.URL, family: map[store.Family]*family{}}

	vcOnly, _, err := apikey.Issue(context.Background(), ts.Store, apikey.Grant{CompanyID: ts.CompanyA, UserID: ts.UserA,
		Scopes: []string{apikey.VersionControlRead, apikey.VersionControlWrite}}, clock)
	require.NoError(t, err)
	k := ts.Keys
	e.keys = map[string]string{
		"ReadWrite": k.ReadWrite, "ReadOnly": k.ReadOnly, "Infrastructure": k.Infrastructure, "VersionControl": vcOnly,
		"NoTerms": k.NoTerms, "NoPlan": k.NoPlan, "NoPlanNoTerms": k.NoPlanNoTerms, "OtherCompany": k.OtherCompany,
		"Expired": k.Expired, "Revoked": k.Revoked, "AllowListed": k.AllowListed,
		"Unknown": "idk_" + strings.Repeat("0", 43),
	}

	serve := func(cfg server.Config) string {
		cfg.Now, cfg.Logger = now, slog.New(slog.DiscardHandler)
		if cfg.Store == nil {
			cfg.Store = ts.Store
		}
		h, err := server.New(cfg)
		require.NoError(t, err)
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	e.limited = serve(server.Config{RateLimit: 1})
	e.small = serve(server.Config{MaxBodyBytes: smallBody})
	e.failing = serve(server.Config{Store: failingStore{ts.Store}})

	for _, f := range []*family{
		{name: store.Infrastructure, short: "infra", list: "listInfrastructureIdentities", connect: "connectInfrastructureIdentity",
			toggle: "toggleInfrastructureIdentity", account: "setInfrastructureServiceAccount", otherClientType: "GITHUB",
			familySort: "ADMIN_ACCESS", otherField: "INFRASTRUCTURE_DB_ACCESS", wrongField: "VERSION_CONTROL_WRITE_ACCESS"},
		{name: store.VersionControl, short: "vc", list: "listVersionControlIdentities", connect: "connectVersionControlIdentity",
			toggle: "toggleVersionControlIdentity", account: "setVersionControlServiceAccount", otherClientType: "AWS",
			familySort: "WRITE_ACCESS", otherField: "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS", wrongField: "INFRASTRUCTURE_ADMIN_ACCESS"},
	} {
		f.ids = ts.Identities(ts.CompanyA, f.name)
		require.NotEmpty(t, f.ids)
		f.otherCompanyID = ts.Identities(ts.CompanyB, f.name)[0]
		first := seeded(t, ts.Data, f.ids[0])
		f.connectionID = first.ConnectionID
		for _, c := range ts.Data.Connections {
			if c.ID == first.ConnectionID {
				f.clientType = c.ClientType
			}
		}
		f.q = strings.ToUpper(first.Username[1:5]) // matching ignores case
		e.family[f.name] = f
	}
	return e
}

func seeded(t *testing.T, d *store.Dataset, id int64) store.Identity {
	t.Helper()
	for _, it := range d.Identities {
		if it.ID == id {
			return it
		}
	}
	t.Fatalf("no identity %d", id)
	return store.Identity{}
}

// failingStore fails every read and write of identities, as a store whose
// database is gone would; keys still authenticate.
type failingStore struct{ store.Identities }

var errDown = errors.New("exchanges: the store is down")

func (failingStore) ListIdentities(context.Context, store.ListQuery) (store.Page, error) {
	return store.Page{}, errDown
}

func (failingStore) UpdateIdentity(context.Context, int64, store.Family, int64, store.Change, time.Time) (store.IdentityView, error) {
	return store.IdentityView{}, errDown
}

var client = &http.Client{Timeout: 30 * time.Second}

// step is one request to record and the status it must get.
type step struct {
	name, op     string
	server       string // base URL; the main server when empty
	method, path string // path under BasePath, query included
	key          string // key name; "" sends no Authorization
	auth         string // a literal Authorization header, instead of key
	body         *string
	contentType  string // default application/json when there is a body
	invalid      bool
	want         int
}

func body(s string) *string { return &s }

func jsonBody(v any) *string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return body(string(b))
}

func recordCorpus(t *testing.T) *exchanges.Corpus {
	e := start(t)
	c := &exchanges.Corpus{
		Note:  "Recorded from the server by `go test ./internal/exchanges -run TestRecord -args -record`; do not edit.",
		Clock: clock.Format(time.RFC3339),
	}
	seen := map[string]bool{}
	for _, s := range e.steps() {
		require.False(t, seen[s.name], "step %s repeated", s.name)
		seen[s.name] = true
		c.Exchanges = append(c.Exchanges, e.send(t, s))
	}
	return c
}

// send sends s and records the exchange; it fails t unless the status is
// the one s wants.
func (e *env) send(t *testing.T, s step) exchanges.Exchange {
	t.Helper()
	x := exchanges.Exchange{Name: s.name, Operation: s.op, InvalidRequest: s.invalid, Request: exchanges.Request{
		Method: s.method, Path: exchanges.BasePath + s.path, Header: map[string]string{"X-Request-Id": s.name}, Body: s.body,
	}}
	switch {
	case s.auth != "":
		x.Request.Header["Authorization"] = s.auth
	case s.key != "":
		require.Contains(t, e.keys, s.key)
		x.Request.Header["Authorization"] = "Bearer {" + s.key + "}"
	}
	if s.body != nil {
		x.Request.Header["Content-Type"] = cmpOr(s.contentType, "application/json")
	}
	base := cmpOr(s.server, e.main)
	req, err := x.HTTPRequest(base, "")
	require.NoError(t, err)
	if s.key != "" && s.auth == "" {
		req.Header.Set("Authorization", "Bearer "+e.keys[s.key])
	}
	resp, err := client.Do(req)
	require.NoError(t, err, s.name)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, s.want, resp.StatusCode, "%s: %s %s: %s", s.name, s.method, s.path, raw)
	require.True(t, json.Valid(raw), "%s: the body is not JSON: %s", s.name, raw)
	x.Response = exchanges.Response{Status: resp.StatusCode, Header: map[string]string{}, Body: bytes.TrimSpace(raw)}
	for _, h := range exchanges.RecordedResponseHeaders {
		if v := resp.Header.Get(h); v != "" {
			x.Response.Header[h] = v
		}
	}
	return x
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// steps are every exchange of the corpus, in order.
func (e *env) steps() []step {
	var out []step
	for _, name := range []store.Family{store.Infrastructure, store.VersionControl} {
		out = append(out, e.familySteps(e.family[name])...)
	}
	// The rate-limited server allows one request, then answers 429 to each.
	first := true
	for _, name := range []store.Family{store.Infrastructure, store.VersionControl} {
		f := e.family[name]
		for _, o := range f.operations() {
			if first {
				out = append(out, step{name: f.short + "-" + o.short + "-rate-limit-last-allowed", op: o.id, server: e.limited,
					method: o.method, path: o.path(f.ids[0]), key: "ReadWrite", body: o.body, want: http.StatusOK})
				first = false
			}
			out = append(out, step{name: f.short + "-" + o.short + "-rate-limited", op: o.id, server: e.limited,
				method: o.method, path: o.path(f.ids[0]), key: "ReadWrite", body: o.body, want: http.StatusTooManyRequests})
		}
	}
	return out
}

// operation is one of a family's operations with a request it accepts.
type operation struct {
	id, short, method string
	path              func(id int64) string
	body              *string
}

func (f *family) operations() []operation {
	base := "/user-identities/" + string(f.name)
	put := func(suffix string) func(int64) string {
		return func(id int64) string { return base + "/" + strconv.FormatInt(id, 10) + "/" + suffix }
	}
	return []operation{
		{id: f.list, short: "list", method: http.MethodGet, path: func(int64) string { return base + "?limit=2" }},
		{id: f.connect, short: "connect", method: http.MethodPut, path: put("connect"), body: body(`{"userId":null}`)},
		{id: f.toggle, short: "toggle", method: http.MethodPut, path: put("toggle"), body: body(`{"toggle":false}`)},
		{id: f.account, short: "service-account", method: http.MethodPut, path: put("service-account"),
			body: body(`{"serviceAccount":false,"serviceAccountReason":"not a service account"}`)},
	}
}

// familySteps are the exchanges of one family on the main, small and
// failing servers: what each operation answers when it works, and each
// documented error status it can produce.
func (e *env) familySteps(f *family) []step {
	ops := f.operations()
	list, connect, toggle, account := ops[0], ops[1], ops[2], ops[3]
	base := "/user-identities/" + string(f.name)
	n := func(s string) string { return f.short + "-" + s }
	id, second, third := f.ids[0], f.ids[1], f.ids[2]
	var out []step

	// Lists that work.
	get := func(name, query string) step {
		return step{name: n("list-" + name), op: list.id, method: http.MethodGet, path: base + query, key: "ReadWrite", want: http.StatusOK}
	}
	out = append(out,
		get("default", ""),
		get("page-2-by-user-desc", "?page=2&limit=2&sort=USER&sortDir=DESC"),
		get("client-type", "?clientType="+f.clientType+"&limit=3&sort=CLIENT_ID"),
		get("connection", fmt.Sprintf("?connectionId=%d&limit=3&sort=CONNECTION_STATUS&sortDir=DESC", f.connectionID)),
		get("q", "?q="+f.q),
		get("family-sort", "?sort="+f.familySort+"&sortDir=ASC&limit=3"),
		get("service-accounts-first", "?sort=SERVICE_ACCOUNT&sortDir=DESC&limit=3"),
		get("no-match", "?q=no-such-identity"),
		get("past-the-end", "?page=99&limit=50"),
	)
	// Lists the document refuses.
	for _, bad := range []struct{ name, query string }{
		{"limit-0", "?limit=0"},
		{"limit-51", "?limit=51"},
		{"page-0", "?page=0"},
		{"page-not-a-number", "?page=two"},
		{"sort-unknown", "?sort=NAME"},
		{"sort-dir-lowercase", "?sortDir=asc"},
		{"client-type-of-other-family", "?clientType=" + f.otherClientType},
		{"connection-0", "?connectionId=0"},
		{"q-too-long", "?q=" + strings.Repeat("a", 256)},
	} {
		s := get(bad.name, bad.query)
		s.invalid, s.want = true, http.StatusBadRequest
		out = append(out, s)
	}
	scopeKey := "VersionControl" // a key without this family's scopes
	if f.name == store.VersionControl {
		scopeKey = "Infrastructure"
	}
	out = append(out, e.policySteps(f, list, id, scopeKey)...)

	// Writes that work, leaving identities linked, unlinked, flagged and
	// marked as service accounts.
	put := func(o operation, name string, id int64, b *string) step {
		return step{name: n(o.short + "-" + name), op: o.id, method: http.MethodPut, path: o.path(id), key: "ReadWrite", body: b, want: http.StatusOK}
	}
	out = append(out,
		put(connect, "link", id, jsonBody(map[string]any{"userId": e.OtherUserA})),
		put(connect, "link-again", id, jsonBody(map[string]any{"userId": e.OtherUserA})),
		put(connect, "unlink", second, body(`{"userId":null}`)),
		put(connect, "link-acting-user", third, jsonBody(map[string]any{"userId": e.UserA})),
		put(toggle, "set-default-flag", id, body(`{"toggle":true}`)),
		put(toggle, "set-other-flag", id, jsonBody(map[string]any{"toggle": true, "toggleField": f.otherField})),
		put(toggle, "clear-other-flag", second, jsonBody(map[string]any{"toggle": false, "toggleField": f.otherField})),
		put(account, "mark", id, body(`{"serviceAccount":true,"serviceAccountReason":"Deploys from CI"}`)),
		put(account, "mark-again", id, body(`{"serviceAccount":true,"serviceAccountReason":"Deploys from CI"}`)),
		put(account, "unmark", second, body(`{"serviceAccount":false,"serviceAccountReason":"A person after all"}`)),
	)
	// Writes the document refuses.
	bad := func(o operation, name string, path string, b *string) step {
		return step{name: n(o.short + "-" + name), op: o.id, method: http.MethodPut, path: path, key: "ReadWrite", body: b,
			invalid: true, want: http.StatusBadRequest}
	}
	out = append(out,
		bad(connect, "empty-object", connect.path(id), body(`{}`)),
		bad(connect, "user-id-string", connect.path(id), body(`{"userId":"7"}`)),
		bad(connect, "user-id-0", connect.path(id), body(`{"userId":0}`)),
		bad(connect, "extra-property", connect.path(id), jsonBody(map[string]any{"userId": e.UserA, "note": "x"})),
		bad(connect, "malformed-json", connect.path(id), body(`{"userId":`)),
		bad(connect, "no-body", connect.path(id), nil),
		bad(connect, "id-0", connect.path(0), body(`{"userId":null}`)),
		bad(connect, "id-not-a-number", base+"/abc/connect", body(`{"userId":null}`)),
		bad(toggle, "missing-toggle", toggle.path(id), body(`{"toggleField":"`+f.otherField+`"}`)),
		bad(toggle, "toggle-string", toggle.path(id), body(`{"toggle":"yes"}`)),
		bad(toggle, "field-of-other-family", toggle.path(id), jsonBody(map[string]any{"toggle": true, "toggleField": f.wrongField})),
		bad(account, "missing-reason", account.path(id), body(`{"serviceAccount":true}`)),
		bad(account, "service-account-timestamp", account.path(id), body(`{"serviceAccount":"2025-01-01T00:00:00Z","serviceAccountReason":"x"}`)),
		bad(account, "reason-too-long", account.path(id), jsonBody(map[string]any{"serviceAccount": true, "serviceAccountReason": strings.Repeat("r", 30001)})),
	)
	for _, o := range ops[1:] {
		out = append(out, e.policySteps(f, o, id, scopeKey)...)
		out = append(out,
			step{name: n(o.short + "-unknown-identity"), op: o.id, method: http.MethodPut, path: o.path(999999), key: "ReadWrite", body: o.body, want: http.StatusNotFound},
			step{name: n(o.short + "-other-company-identity"), op: o.id, method: http.MethodPut, path: o.path(f.otherCompanyID), key: "ReadWrite", body: o.body, want: http.StatusNotFound},
			step{name: n(o.short + "-too-large"), op: o.id, server: e.small, method: http.MethodPut, path: o.path(id), key: "ReadWrite",
				body: body(*o.body + strings.Repeat(" ", smallBody)), want: http.StatusRequestEntityTooLarge},
			step{name: n(o.short + "-text-plain"), op: o.id, method: http.MethodPut, path: o.path(id), key: "ReadWrite", body: o.body,
				contentType: "text/plain", invalid: true, want: http.StatusUnsupportedMediaType},
		)
	}
	out = append(out, step{name: n("connect-other-company-user"), op: connect.id, method: http.MethodPut, path: connect.path(id), key: "ReadWrite",
		body: jsonBody(map[string]any{"userId": e.UserB}), want: http.StatusNotFound})

	// The lists again, after the writes.
	out = append(out,
		get("after-writes", "?sort=IDENTITY_ID&limit=3"),
		get("after-writes-service-accounts-first", "?sort=SERVICE_ACCOUNT&sortDir=DESC&limit=3"),
	)
	return out
}

// policySteps are o's answers to credentials the server refuses before it
// reads the request: 401, 402, 403, 412, and the 500 of a failing store.
func (e *env) policySteps(f *family, o operation, id int64, scopeKey string) []step {
	s := func(name, key string, want int) step {
		return step{name: f.short + "-" + o.short + "-" + name, op: o.id, method: o.method, path: o.path(id), key: key, body: o.body, want: want}
	}
	noKey := s("no-key", "", http.StatusUnauthorized)
	noKey.invalid = true
	basic := s("basic-auth", "", http.StatusUnauthorized)
	basic.auth, basic.invalid = "Basic dXNlcjpwYXNz", true
	failing := s("store-down", "ReadWrite", http.StatusInternalServerError)
	failing.server = e.failing
	out := []step{
		noKey, basic,
		s("unknown-key", "Unknown", http.StatusUnauthorized),
		s("expired-key", "Expired", http.StatusUnauthorized),
		s("revoked-key", "Revoked", http.StatusUnauthorized),
		s("no-terms", "NoTerms", http.StatusPreconditionFailed),
		s("no-plan-no-terms", "NoPlanNoTerms", http.StatusPreconditionFailed),
		s("no-plan", "NoPlan", http.StatusPaymentRequired),
		s("out-of-scope", scopeKey, http.StatusForbidden),
		s("not-allow-listed", "AllowListed", http.StatusForbidden),
		failing,
	}
	if o.method == http.MethodPut {
		out = append(out, s("read-only-key", "ReadOnly", http.StatusForbidden))
	}
	return out
}

// TestCorpusCovers: the committed corpus holds every documented status of
// every operation, and nested users, designators and connections both as
// objects and as null, in both families.
func TestCorpusCovers(t *testing.T) {
	t.Parallel()
	c := load(t)
	got := map[string]map[int]int{}
	for _, x := range c.Exchanges {
		if got[x.Operation] == nil {
			got[x.Operation] = map[int]int{}
		}
		got[x.Operation][x.Response.Status]++
	}
	doc := documentStatuses(t)
	require.Len(t, doc, 8)
	for op, statuses := range doc {
		for _, st := range statuses {
			assert.Positive(t, got[op][st], "%s %d has no exchange", op, st)
		}
		for st := range got[op] {
			assert.Contains(t, statuses, st, "%s answered %d, which it does not document", op, st)
		}
	}

	// Where a nested object may be null, the corpus shows both.
	slots := nullSlots(t, c)
	for _, fam := range []string{"infrastructure", "version-control"} {
		for _, slot := range []string{"user", "serviceAccountDesignator", "connection.user",
			"user.identities.connection.user", "user.backgroundChecks.user", "user.identities.user"} {
			seen := slots[fam+" "+slot]
			if strings.HasPrefix(slot, "user.") || slot == "connection.user" {
				// Fixed by the server: an identity's connection has its
				// owner; a user's own records cut the recursion with null.
				assert.NotZero(t, seen.object+seen.null, "%s %s never seen", fam, slot)
				continue
			}
			assert.Positive(t, seen.null, "%s %s is never null", fam, slot)
			assert.Positive(t, seen.object, "%s %s is never an object", fam, slot)
		}
		assert.Zero(t, slots[fam+" connection"].null, "an identity's connection is never null")
		assert.Positive(t, slots[fam+" connection"].object)
	}
	for _, slot := range slices.Sorted(maps.Keys(slots)) {
		t.Logf("%-70s object %4d  null %4d", slot, slots[slot].object, slots[slot].null)
	}
}

type seen struct{ object, null int }

// nullSlots counts, in every 200 body, how often each nested object of an
// identity is an object and how often null, by family and dotted path.
func nullSlots(t *testing.T, c *exchanges.Corpus) map[string]seen {
	out := map[string]seen{}
	var walk func(prefix, path string, v any)
	walk = func(prefix, path string, v any) {
		switch v := v.(type) {
		case []any:
			for _, it := range v {
				walk(prefix, path, it)
			}
		case map[string]any:
			for k, child := range v {
				p := strings.TrimPrefix(path+"."+k, ".")
				if k == "identities" || k == "backgroundChecks" {
					walk(prefix, p, child)
				}
				if k != "user" && k != "serviceAccountDesignator" && k != "connection" {
					continue
				}
				s := out[prefix+" "+p]
				if child == nil {
					s.null++
				} else {
					s.object++
				}
				out[prefix+" "+p] = s
				walk(prefix, p, child)
			}
		}
	}
	for _, x := range c.Exchanges {
		if x.Response.Status != http.StatusOK {
			continue
		}
		fam := "infrastructure"
		if strings.Contains(x.Request.Path, "/version-control") {
			fam = "version-control"
		}
		var b map[string]any
		require.NoError(t, json.Unmarshal(x.Response.Body, &b))
		if data, ok := b["data"]; ok {
			walk(fam, "", data)
		} else {
			walk(fam, "", b)
		}
	}
	return out
}
