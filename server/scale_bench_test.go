package server_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/scaledb"
	"github.com/identities-go/identities/server"
	"github.com/identities-go/identities/store"
)

// scaleSizes are the store sizes, in identities of each family, that the
// scale benchmarks run at. make bench-scale sets 10000,100000,1000000.
var scaleSizes = flag.String("scale", "10000", "comma-separated store sizes (identities of each family) for the scale benchmarks")

// BenchmarkScaleHandler serves page 1 (50 items) of every sort, direction
// and filter of both families through the real handler, with response
// validation off and strict, from stores of each -scale size.
func BenchmarkScaleHandler(b *testing.B) {
	for _, field := range strings.Split(*scaleSizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1000 {
			b.Fatalf("-scale: %q is not a size of at least 1000", field)
		}
		st := scaledb.Open(b, n)
		key := scaleKey(b, st)
		for _, mode := range []server.ValidationMode{server.ValidationOff, server.ValidationStrict} {
			h, err := server.New(server.Config{Store: st, ResponseValidation: mode, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range families {
				first, err := st.ListIdentities(context.Background(), store.ListQuery{CompanyID: 1, Family: f.store, Page: 1, Limit: 1, Sort: store.SortIdentityID})
				if err != nil || len(first.Items) == 0 {
					b.Fatalf("no %s identity: %v", f.store, err)
				}
				it := first.Items[0]
				filters := []struct {
					name  string
					query url.Values
				}{
					{"none", url.Values{}},
					{"clientType", url.Values{"clientType": {it.Connection.ClientType}}},
					{"connectionId", url.Values{"connectionId": {strconv.FormatInt(it.ConnectionID, 10)}}},
					{"q=name", url.Values{"q": {"lovelace"}}},
				}
				for _, sort := range sortValues(b, f.sortSchema) {
					for _, dir := range []string{"ASC", "DESC"} {
						for _, fl := range filters {
							q := url.Values{"limit": {"50"}, "sort": {sort}, "sortDir": {dir}}
							for k, v := range fl.query {
								q[k] = v
							}
							target := "/public/user-identities/" + string(f.store) + "?" + q.Encode()
							name := fmt.Sprintf("validation=%s/family=%s/sort=%s/dir=%s/filter=%s/size=%d", mode, f.store, sort, dir, fl.name, n)
							b.Run(name, func(b *testing.B) {
								b.ReportAllocs()
								for b.Loop() {
									serveBench(b, h, http.MethodGet, target, key, "")
								}
							})
						}
					}
				}
			}
		}
	}
}

// sortValues lists the values of a sort schema, as the document has them.
func sortValues(b *testing.B, schema string) []string {
	doc, err := gen.GetSpec()
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, v := range doc.Components.Schemas[schema].Value.Enum {
		out = append(out, v.(string))
	}
	return out
}

// scaleKey issues a read-write key of company 1's first user.
func scaleKey(b *testing.B, st store.Admin) string {
	ctx := context.Background()
	user, err := st.FirstUser(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	secret, prefix, digest, err := apikey.New()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.CreateAPIKey(ctx, store.NewAPIKey{CompanyID: 1, UserID: user, Prefix: prefix, Hash: digest, Scopes: []string{apikey.AllReadWrite}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	return secret
}
