package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/scaledb"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/sqlite"
)

// BenchmarkScaleHandler serves page 1 (50 items) of every sort, direction
// and filter of both families through the real handler, with response
// validation off and strict, from stores of each -scale size. The sizes
// are the innermost loop, so each shape's runs at every size stand next to
// each other in time.
func BenchmarkScaleHandler(b *testing.B) {
	type target struct {
		handler http.Handler
		key     string
		store   *sqlite.Store
	}
	var sizes []int
	targets := map[server.ValidationMode]map[int]target{}
	modes := []server.ValidationMode{server.ValidationOff, server.ValidationStrict}
	for _, n := range scaledb.Sizes(b) {
		sizes = append(sizes, n)
		st := scaledb.Open(b, n)
		key := scaleKey(b, st)
		for _, mode := range modes {
			h, err := server.New(server.Config{Store: st, ResponseValidation: mode, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			if targets[mode] == nil {
				targets[mode] = map[int]target{}
			}
			targets[mode][n] = target{h, key, st}
		}
	}
	// filter returns the query of a named filter on one store.
	filter := func(name string, st *sqlite.Store, f store.Family) url.Values {
		first, err := st.ListIdentities(context.Background(), store.ListQuery{CompanyID: 1, Family: f, Page: 1, Limit: 1, Sort: store.SortIdentityID})
		if err != nil || len(first.Items) == 0 {
			b.Fatalf("no %s identity: %v", f, err)
		}
		it := first.Items[0]
		return map[string]url.Values{
			"none":         {},
			"clientType":   {"clientType": {it.Connection.ClientType}},
			"connectionId": {"connectionId": {strconv.FormatInt(it.ConnectionID, 10)}},
			"q=name":       {"q": {"lovelace"}},
		}[name]
	}
	for _, mode := range modes {
		for _, f := range families {
			for _, sort := range apitest.Enum(b, f.sortSchema) {
				for _, dir := range []string{"ASC", "DESC"} {
					for _, fl := range []string{"none", "clientType", "connectionId", "q=name"} {
						for _, n := range sizes {
							t := targets[mode][n]
							q := url.Values{"limit": {"50"}, "sort": {sort}, "sortDir": {dir}}
							for k, v := range filter(fl, t.store, f.store) {
								q[k] = v
							}
							path := "/public/user-identities/" + string(f.store) + "?" + q.Encode()
							name := fmt.Sprintf("validation=%s/family=%s/sort=%s/dir=%s/filter=%s/size=%d", mode, f.store, sort, dir, fl, n)
							b.Run(name, func(b *testing.B) {
								b.ReportAllocs()
								for b.Loop() {
									serveBench(b, t.handler, http.MethodGet, path, t.key, "")
								}
							})
						}
					}
				}
			}
		}
	}
}

// scaleKey issues a read-write key of company 1's first user.
func scaleKey(b *testing.B, st store.Admin) string {
	ctx := context.Background()
	user, err := st.FirstUser(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := apikey.Issue(ctx, st, apikey.Grant{CompanyID: 1, UserID: user, Scopes: []string{apikey.AllReadWrite}}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return secret
}
