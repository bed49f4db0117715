package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/storetest"
)

// pagingLimit is small so that every walk crosses several pages: sorts with
// few distinct values then have ties across page boundaries.
const pagingLimit = 7

// pagingSeed gives company A 15 identities of each family: three pages (7,
// 7, 1), the last one partial. Every page costs tens of milliseconds under
// -race and the sort matrix walks 50 times, so the data is small; seed 12
// gives each nullable value of company A both nulls and at least two
// distinct times (checkOrder requires two).
var pagingSeed = seed.Options{Companies: 3, Identities: 15, Seed: 12}

// startPaging starts a server of the paging seed on a store of kind.
func startPaging(t *testing.T, kind testserver.StoreKind) *testserver.Env {
	return testserver.Start(t, testserver.Options{Store: kind, Seed: &pagingSeed})
}

// identityFields is what the tests look at in an identity of either
// family, as the JSON carries it.
type identityFields struct {
	ID             int64      `json:"id"`
	IdentityID     string     `json:"identityId"`
	Username       string     `json:"username"`
	Email          *string    `json:"email"`
	ConnectedAt    *time.Time `json:"connectedAt"`
	DisconnectedAt *time.Time `json:"disconnectedAt"`
	ServiceAccount *time.Time `json:"serviceAccount"`
	SAReason       *string    `json:"serviceAccountReason"`
	SADesignator   *struct {
		ID int64 `json:"id"`
	} `json:"serviceAccountDesignator"`
	HasMfa         bool       `json:"hasMfa"`
	AdminAccess    *time.Time `json:"adminAccess"`
	DbAccess       *time.Time `json:"dbAccess"`
	WriteAccess    *time.Time `json:"writeAccess"`
	PushProdAccess *time.Time `json:"pushProductionCodeAccess"`
	User           *struct {
		ID        int64  `json:"id"`
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"user"`
	Connection struct {
		ID          string  `json:"id"`
		ClientType  string  `json:"clientType"`
		ClientID    *string `json:"clientId"`
		ClientAlias *string `json:"clientAlias"`
		State       string  `json:"state"`
	} `json:"connection"`
}

type pagingPage struct {
	Data  []identityFields `json:"data"`
	Page  int64            `json:"page"`
	Limit int64            `json:"limit"`
	Total int64            `json:"total"`
}

// sortKeys says, for every documented sort value, what the API promises to
// order by, computed from the fields of the returned JSON.
var sortKeys = map[string]func(*identityFields) storetest.SortKey{
	"IDENTITY_ID":           func(it *identityFields) storetest.SortKey { return storetest.TextKey(&it.IdentityID) },
	"USERNAME":              func(it *identityFields) storetest.SortKey { return storetest.TextKey(&it.Username) },
	"EMAIL":                 func(it *identityFields) storetest.SortKey { return storetest.TextKey(it.Email) },
	"CONNECTED_AT":          func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.ConnectedAt) },
	"DISCONNECTED_AT":       func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.DisconnectedAt) },
	"SERVICE_ACCOUNT":       func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.ServiceAccount) },
	"HAS_MFA":               func(it *identityFields) storetest.SortKey { return storetest.FlagKey(it.HasMfa) },
	"ADMIN_ACCESS":          func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.AdminAccess) },
	"DB_ACCESS":             func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.DbAccess) },
	"WRITE_ACCESS":          func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.WriteAccess) },
	"PUSH_PROD_CODE_ACCESS": func(it *identityFields) storetest.SortKey { return storetest.TimeKey(it.PushProdAccess) },
	"CLIENT_ID":             func(it *identityFields) storetest.SortKey { return storetest.TextKey(it.Connection.ClientID) },
	"CLIENT_ALIAS":          func(it *identityFields) storetest.SortKey { return storetest.TextKey(it.Connection.ClientAlias) },
	"CONNECTION_STATUS":     func(it *identityFields) storetest.SortKey { return storetest.TextKey(&it.Connection.State) },
	"USER": func(it *identityFields) storetest.SortKey {
		if it.User == nil {
			return storetest.NullKey
		}
		name := it.User.FirstName + " " + it.User.LastName
		return storetest.TextKey(&name)
	},
}

// familyInfo names one identity family in URLs, the store and the document.
type familyInfo struct {
	store      store.Family
	sortSchema string
	typeSchema string
}

var families = []familyInfo{
	{store.Infrastructure, "InfrastructureSort", "InfrastructureClientType"},
	{store.VersionControl, "VersionControlSort", "VersionControlClientType"},
}

// fetchJSON GETs rawURL with key and decodes a 200 response into out. It
// does not fail the test, so goroutines may call it.
func fetchJSON(c *http.Client, rawURL, key string, out any) error {
	resp, err := apitest.Send(c, apitest.Request{Method: http.MethodGet, URL: rawURL, Key: key})
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d: %s", rawURL, resp.Status, resp.Body)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("GET %s: %v: %s", rawURL, err, resp.Body)
	}
	return nil
}

func getJSONPage(t testing.TB, c *http.Client, rawURL, key string, out any) {
	t.Helper()
	if err := fetchJSON(c, rawURL, key, out); err != nil {
		t.Fatal(err)
	}
}

// listPage fetches one page of a family's list.
func listPage(t testing.TB, c *http.Client, base, key string, f store.Family, query url.Values, page int64) pagingPage {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("page", strconv.FormatInt(page, 10))
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(pagingLimit))
	}
	var p pagingPage
	getJSONPage(t, c, base+"/user-identities/"+string(f)+"?"+q.Encode(), key, &p)
	if p.Data == nil {
		t.Fatalf("page %d of %s?%s: data is null, want an array", page, f, query.Encode())
	}
	if p.Page != page || strconv.FormatInt(p.Limit, 10) != q.Get("limit") {
		t.Fatalf("page %d of %s?%s: echoes page %d, limit %d", page, f, query.Encode(), p.Page, p.Limit)
	}
	return p
}

// walk reads every page of a list (pagingLimit items a page unless query
// sets limit) and checks that each page is full but the last, and that
// every page reports the same total.
func walk(t testing.TB, c *http.Client, base, key string, f store.Family, query url.Values) (items []identityFields, total int64) {
	t.Helper()
	limit := int64(pagingLimit)
	if l := query.Get("limit"); l != "" {
		limit, _ = strconv.ParseInt(l, 10, 64)
	}
	for page := int64(1); ; page++ {
		p := listPage(t, c, base, key, f, query, page)
		if page == 1 {
			total = p.Total
		} else if p.Total != total {
			t.Fatalf("%s?%s: page %d says total %d, page 1 said %d", f, query.Encode(), page, p.Total, total)
		}
		want := min(limit, max(0, total-int64(len(items))))
		if int64(len(p.Data)) != want {
			t.Fatalf("%s?%s: page %d holds %d items, want %d (total %d)", f, query.Encode(), page, len(p.Data), want, total)
		}
		items = append(items, p.Data...)
		if int64(len(items)) >= total {
			return items, total
		}
	}
}

// wantIDs checks that items are exactly the identities want, each once.
func wantIDs(t testing.TB, what string, items []identityFields, want []int64) {
	t.Helper()
	got := make([]int64, len(items))
	for i, it := range items {
		got[i] = it.ID
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s: got ids %v, want each of %v exactly once", what, got, want)
	}
}

// The paging tests are independent and each starts its own copy of the
// paging seed's database, so they run in parallel; each runs on every
// store.

func TestPagingSortsInfrastructure(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, kind testserver.StoreKind) {
		testEverySortOrder(t, startPaging(t, kind), families[0])
	})
}

func TestPagingSortsVersionControl(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, kind testserver.StoreKind) {
		testEverySortOrder(t, startPaging(t, kind), families[1])
	})
}

func TestPagingFilters(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, kind testserver.StoreKind) { testListFilters(t, startPaging(t, kind)) })
}

func TestPagingPastTheEnd(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, kind testserver.StoreKind) { testPagePastTheEnd(t, startPaging(t, kind)) })
}

// testEverySortOrder walks every sort value of a family in both directions
// and checks that each identity comes exactly once, in the documented order.
// Every documented value must have a sort key here.
func testEverySortOrder(t *testing.T, e *testserver.Env, f familyInfo) {
	c := e.Server.Client()
	all := e.Identities(e.CompanyA, f.store)
	if len(all) <= 2*pagingLimit {
		t.Fatalf("company A has only %d %s identities", len(all), f.store)
	}
	for _, sort := range apitest.Enum(t, f.sortSchema) {
		if sortKeys[sort] == nil {
			t.Fatalf("no sort key for documented %s value %s", f.sortSchema, sort)
		}
		for _, dir := range []string{"ASC", "DESC"} {
			t.Run(sort+"/"+dir, func(t *testing.T) {
				t.Parallel()
				items, total := walk(t, c, e.URL, e.Keys.ReadWrite, f.store, url.Values{"sort": {sort}, "sortDir": {dir}})
				if total != int64(len(all)) {
					t.Fatalf("total %d, want %d", total, len(all))
				}
				wantIDs(t, "walk", items, all)
				checkOrder(t, items, sort, dir)
			})
		}
	}
}

// checkOrder requires items to be ordered by the named sort value in the
// direction dir, ties broken by id in the same direction, and the value to
// differ between at least two items (else the order proves nothing).
func checkOrder(t *testing.T, items []identityFields, sort, dir string) {
	t.Helper()
	key := sortKeys[sort]
	distinct := map[storetest.SortKey]bool{}
	for i := range items {
		distinct[key(&items[i])] = true
		if i == 0 {
			continue
		}
		a, b := &items[i-1], &items[i]
		order := key(a).Compare(key(b))
		if order == 0 {
			order = cmp.Compare(a.ID, b.ID)
		}
		if dir == "DESC" {
			order = -order
		}
		if order >= 0 {
			t.Fatalf("%s %s: items %d and %d out of order: id %d (%+v) before id %d (%+v)", sort, dir, i-1, i, a.ID, key(a), b.ID, key(b))
		}
	}
	if len(distinct) < 2 {
		t.Fatalf("every identity has the same %s value; the order proves nothing", sort)
	}
}

// matchesQ is the documented q: a case-insensitive substring of the
// identity id, the username or the email, with no wildcards.
func matchesQ(it *store.Identity, q string) bool {
	q = strings.ToLower(q)
	in := func(s string) bool { return strings.Contains(strings.ToLower(s), q) }
	return in(it.IdentityID) || in(it.Username) || (it.Email != nil && in(*it.Email))
}

// expectedIDs lists a company's identities of a family that keep passes.
func expectedIDs(d *store.Dataset, company int64, f store.Family, keep func(*store.Identity) bool) []int64 {
	var ids []int64
	for i := range d.Identities {
		it := &d.Identities[i]
		if it.CompanyID == company && it.Family == f && keep(it) {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// filterCase is one filtered walk and the identities it must return.
type filterCase struct {
	name  string
	query url.Values
	want  []int64
}

func runFilterCases(t *testing.T, c *http.Client, base, key string, f store.Family, cases []filterCase) {
	t.Helper()
	for _, fc := range cases {
		items, total := walk(t, c, base, key, f, fc.query)
		if total != int64(len(fc.want)) {
			t.Errorf("%s %s (%s): total %d, want %d", f, fc.name, fc.query.Encode(), total, len(fc.want))
		}
		wantIDs(t, string(f)+" "+fc.name, items, fc.want)
	}
}

func testListFilters(t *testing.T, e *testserver.Env) {
	c := e.Server.Client()
	conns := map[int64]*store.Connection{}
	for i := range e.Data.Connections {
		conns[e.Data.Connections[i].ID] = &e.Data.Connections[i]
	}
	for _, f := range families {
		t.Run(string(f.store), func(t *testing.T) {
			all := e.Identities(e.CompanyA, f.store)
			var first *store.Identity
			for i := range e.Data.Identities {
				if it := &e.Data.Identities[i]; it.CompanyID == e.CompanyA && it.Family == f.store && it.Email != nil {
					first = it
					break
				}
			}
			if first == nil {
				t.Fatal("company A has no identity with an email")
			}
			name, _, _ := strings.Cut(first.Username, ".")
			var cases []filterCase
			for _, q := range []string{
				strings.ToUpper(first.IdentityID[2:9]), // part of one identity id, in the other case
				strings.ToUpper(name[:1]) + name[1:],   // a first name in usernames and emails
				"@EXAMPLE.COM",                         // only in emails
				"no-such-identity",
				"%", "_", // wildcards in SQL LIKE; literal here
			} {
				cases = append(cases, filterCase{"q=" + q, url.Values{"q": {q}}, expectedIDs(e.Data, e.CompanyA, f.store, func(it *store.Identity) bool { return matchesQ(it, q) })})
			}
			for _, fc := range cases[:3] {
				if len(fc.want) == 0 || len(fc.want) == len(all) {
					t.Fatalf("%s keeps %d of %d identities; pick a q that filters", fc.name, len(fc.want), len(all))
				}
			}
			if len(cases[4].want) != 0 || len(cases[5].want) != 0 {
				t.Fatal("the seed data holds % or _; the wildcard cases prove nothing")
			}

			used := 0
			for _, ct := range apitest.Enum(t, f.typeSchema) {
				want := expectedIDs(e.Data, e.CompanyA, f.store, func(it *store.Identity) bool { return conns[it.ConnectionID].ClientType == ct })
				if len(want) > 0 {
					used++
				}
				cases = append(cases, filterCase{"clientType=" + ct, url.Values{"clientType": {ct}}, want})
			}
			if used < 2 {
				t.Fatalf("company A's %s identities use %d client types; the filter proves little", f.store, used)
			}

			var foreign int64
			for _, cn := range e.Data.Connections {
				mine := expectedIDs(e.Data, cn.CompanyID, f.store, func(it *store.Identity) bool { return it.ConnectionID == cn.ID })
				switch {
				case len(mine) == 0:
				case cn.CompanyID == e.CompanyA:
					cases = append(cases, filterCase{fmt.Sprintf("connectionId=%d", cn.ID), url.Values{"connectionId": {strconv.FormatInt(cn.ID, 10)}}, mine})
				case cn.CompanyID == e.CompanyB && foreign == 0:
					foreign = cn.ID
				}
			}
			if foreign == 0 {
				t.Fatal("company B has no connection of this family")
			}
			cases = append(cases,
				filterCase{"another company's connection", url.Values{"connectionId": {strconv.FormatInt(foreign, 10)}}, nil},
				filterCase{"no such connection", url.Values{"connectionId": {"987654321"}}, nil},
			)

			mixed := cases[1].query.Get("q")
			ct := conns[first.ConnectionID].ClientType
			cases = append(cases, filterCase{"q and clientType", url.Values{"q": {mixed}, "clientType": {ct}, "sort": {"EMAIL"}, "sortDir": {"DESC"}},
				expectedIDs(e.Data, e.CompanyA, f.store, func(it *store.Identity) bool {
					return matchesQ(it, mixed) && conns[it.ConnectionID].ClientType == ct
				})})
			runFilterCases(t, c, e.URL, e.Keys.ReadWrite, f.store, cases)
		})
	}
}

func testPagePastTheEnd(t *testing.T, e *testserver.Env) {
	c := e.Server.Client()
	for _, f := range families {
		n := int64(len(e.Identities(e.CompanyA, f.store)))
		last := (n + pagingLimit - 1) / pagingLimit
		for _, page := range []int64{last + 1, last + 100, 1<<63 - 1} {
			p := listPage(t, c, e.URL, e.Keys.ReadWrite, f.store, url.Values{"limit": {"50"}}, page)
			if len(p.Data) != 0 || p.Total != n {
				t.Errorf("%s page %d: %d items, total %d; want none and total %d", f.store, page, len(p.Data), p.Total, n)
			}
		}
		if p := listPage(t, c, e.URL, e.Keys.ReadWrite, f.store, nil, last); int64(len(p.Data)) != n-(last-1)*pagingLimit || p.Total != n {
			t.Errorf("%s last page %d: %d items, total %d", f.store, last, len(p.Data), p.Total)
		}
		if p := listPage(t, c, e.URL, e.Keys.ReadWrite, f.store, url.Values{"q": {"no-such-identity"}}, 1); len(p.Data) != 0 || p.Total != 0 {
			t.Errorf("%s with no match: %d items, total %d", f.store, len(p.Data), p.Total)
		}
	}
}

// TestHandMadeData runs on data the seed never makes: the characters SQL
// LIKE treats as wildcards next to look-alikes they would match, and
// usernames whose case differs, which the text sorts must ignore.
func TestHandMadeData(t *testing.T) {
	t.Parallel()
	eachStore(t, testHandMadeData)
}

func testHandMadeData(t *testing.T, kind testserver.StoreKind) {
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 12, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	ids := expectedIDs(d, d.Companies[0].ID, store.Infrastructure, func(*store.Identity) bool { return true })
	byID := map[int64]*store.Identity{}
	for i := range d.Identities {
		byID[d.Identities[i].ID] = &d.Identities[i]
	}
	literal, lookAlike, inEmail := byID[ids[0]], byID[ids[1]], byID[ids[2]]
	literal.Username = "ci_runner%7"
	lookAlike.Username = "ciXrunnerY7"
	inEmail.Email = new("100%_sure@example.com")
	for i, name := range []string{"Zeta", "alpha", "Beta", "ALPHA2", "gamma"} {
		byID[ids[3+i]].Username = name
	}

	base, key := serveDataset(t, kind, d, server.ValidationStrict)
	for q, want := range map[string][]int64{
		"_runner%":  {literal.ID},
		"CI_RUNNER": {literal.ID},
		"%":         {literal.ID, inEmail.ID},
		"_":         {literal.ID, inEmail.ID},
		"0%_S":      {inEmail.ID},
	} {
		computed := expectedIDs(d, d.Companies[0].ID, store.Infrastructure, func(it *store.Identity) bool { return matchesQ(it, q) })
		if !slices.Equal(slices.Sorted(slices.Values(computed)), slices.Sorted(slices.Values(want))) {
			t.Fatalf("q=%s: the data yields %v, the test expects %v", q, computed, want)
		}
		runFilterCases(t, http.DefaultClient, base, key, store.Infrastructure, []filterCase{{"q=" + q, url.Values{"q": {q}}, want}})
	}
	for _, dir := range []string{"ASC", "DESC"} {
		items, _ := walk(t, http.DefaultClient, base, key, store.Infrastructure, url.Values{"sort": {"USERNAME"}, "sortDir": {dir}})
		checkOrder(t, items, "USERNAME", dir)
	}
}

// serveDataset serves d from a fresh store of kind with the given response
// validation, and returns the API's base URL and a read-write key of the
// first company's first user who accepted the terms.
func serveDataset(tb testing.TB, kind testserver.StoreKind, d *store.Dataset, mode server.ValidationMode) (base, key string) {
	tb.Helper()
	ctx := context.Background()
	st := testserver.NewStore(tb, kind)
	if err := st.Load(ctx, store.Whole(d)); err != nil {
		tb.Fatal(err)
	}
	var user int64
	for _, u := range d.Users {
		if u.CompanyID == d.Companies[0].ID && u.TermsAgreedAt != nil {
			user = u.ID
			break
		}
	}
	secret, _, err := apikey.Issue(ctx, st, apikey.Grant{CompanyID: d.Companies[0].ID, UserID: user, Scopes: []string{apikey.AllReadWrite}}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, ResponseValidation: mode, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	tb.Cleanup(hs.Close)
	return hs.URL + "/public", secret
}
