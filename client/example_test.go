package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/checking"
	"github.com/identities-go/identities/gen"
)

// fakeAPI serves a tiny in-memory User Identities API under /public, so the
// examples run offline: three infrastructure identities, user 7, and a 404
// for any other identity.
func fakeAPI() *httptest.Server {
	at := time.Date(2025, 7, 1, 16, 45, 55, 0, time.UTC)
	identity := func(id int64) gen.InfrastructureIdentity {
		return gen.InfrastructureIdentity{
			Id: id, IdentityId: "AIDA" + strconv.FormatInt(id, 10), Username: []string{"", "alice", "bob", "deploy-bot"}[id],
			CreatedAt: at, UpdatedAt: at,
			Connection: gen.Connection{Id: "1", ClientType: "AWS", State: "ACTIVE", Connected: true, CompanyId: "1",
				Workspaces: []map[string]any{}, ProviderTypes: []int64{}},
		}
	}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(status))
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	api := http.NewServeMux()
	api.HandleFunc("GET /user-identities/infrastructure", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
		limit, _ := strconv.ParseInt(r.URL.Query().Get("limit"), 10, 64)
		if limit == 0 {
			limit = 20
		}
		page = max(page, 1)
		out := gen.InfrastructureIdentityPage{Data: []gen.InfrastructureIdentity{}, Page: page, Limit: limit, Total: 3}
		for id := (page-1)*limit + 1; id <= min(page*limit, 3); id++ {
			out.Data = append(out.Data, identity(id))
		}
		reply(w, http.StatusOK, out)
	})
	api.HandleFunc("PUT /user-identities/infrastructure/{id}/connect", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		var body gen.ConnectRequest
		_ = json.NewDecoder(r.Body).Decode(&body)
		if id < 1 || id > 3 || (body.UserId != nil && *body.UserId != 7) {
			reply(w, http.StatusNotFound, gen.Error{StatusCode: 404, Code: gen.ErrorCodeNOTFOUND,
				Message: "identity or user not found", RequestId: "req-404"})
			return
		}
		out := identity(id)
		if body.UserId != nil {
			out.User = &gen.User{Id: 7, FirstName: "Sally", LastName: "Smith", Email: "sally@example.com"}
			out.ConnectedAt = &at
		}
		reply(w, http.StatusOK, out)
	})
	root := http.NewServeMux()
	root.Handle("/public/", http.StripPrefix("/public", api))
	return httptest.NewServer(root)
}

func ExampleNew() {
	srv := fakeAPI()
	defer srv.Close()

	c, err := client.New(
		client.WithBaseURL(srv.URL+"/public"), // the API's base path is kept
		client.WithToken("my-api-key"),
		client.WithTimeout(10*time.Second),
		client.WithRetry(client.RetryPolicy{MaxRetries: 2}),
		checking.WithResponseChecking(), // validate every response against the contract
	)
	if err != nil {
		log.Fatal(err)
	}
	_, resp, err := c.Infrastructure.List(context.Background(), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, resp.Total, resp.RequestID)

	_, err = client.New(client.WithTimeout(0))
	fmt.Println(err)
	// Output:
	// 200 3 req-200
	// client: invalid option: timeout must be positive, got 0s
}

func ExampleInfrastructureService_List() {
	srv := fakeAPI()
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL+"/public"), client.WithToken("my-api-key"))
	if err != nil {
		log.Fatal(err)
	}

	page, resp, err := c.Infrastructure.List(context.Background(), &client.InfrastructureListOptions{
		Limit:      2,
		ClientType: gen.InfrastructureClientTypeAWS,
		Sort:       gen.InfrastructureSortUSERNAME,
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, identity := range page.Data {
		fmt.Println(identity.Id, identity.Username)
	}
	fmt.Printf("page %d of %d identities, next page %d\n", resp.Page, resp.Total, resp.NextPage)
	// Output:
	// 1 alice
	// 2 bob
	// page 1 of 3 identities, next page 2
}

func ExampleInfrastructureService_All() {
	srv := fakeAPI()
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL+"/public"), client.WithToken("my-api-key"))
	if err != nil {
		log.Fatal(err)
	}

	// All asks for each page only when the loop reaches it, and yields a
	// pointer to each identity with the Response of the page it came in.
	for it, err := range c.Infrastructure.All(context.Background(), &client.InfrastructureListOptions{Limit: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		r := it.Response
		fmt.Printf("%d %s %s (page %d of %d identities, next page %d)\n",
			it.Identity.Id, it.Identity.Username, it.Identity.CreatedAt.Format(time.DateOnly), r.Page, r.Total, r.NextPage)
	}
	// Output:
	// 1 alice 2025-07-01 (page 1 of 3 identities, next page 2)
	// 2 bob 2025-07-01 (page 1 of 3 identities, next page 2)
	// 3 deploy-bot 2025-07-01 (page 2 of 3 identities, next page 0)
}

func ExampleInfrastructureService_Connect() {
	srv := fakeAPI()
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL+"/public"), client.WithToken("my-api-key"))
	if err != nil {
		log.Fatal(err)
	}

	identity, _, err := c.Infrastructure.Connect(context.Background(), 2, 7)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(identity.Username, "is linked to", identity.User.FirstName, identity.User.LastName)

	identity, _, err = c.Infrastructure.Disconnect(context.Background(), 2) // sends {"userId":null}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(identity.Username, "linked:", identity.User != nil)
	// Output:
	// bob is linked to Sally Smith
	// bob linked: false
}

// Errors are an *APIError, and the sentinels tell statuses apart.
func Example_errorHandling() {
	srv := fakeAPI()
	defer srv.Close()
	c, err := client.New(client.WithBaseURL(srv.URL+"/public"), client.WithToken("my-api-key"))
	if err != nil {
		log.Fatal(err)
	}

	_, _, err = c.Infrastructure.Connect(context.Background(), 99, 7)
	switch {
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("not found")
	case errors.Is(err, client.ErrRateLimited):
		fmt.Println("slow down")
	}
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message, apiErr.RequestID)
	}
	fmt.Println(err)
	// Output:
	// not found
	// 404 NOT_FOUND identity or user not found req-404
	// client: connectInfrastructureIdentity: 404 NOT_FOUND: identity or user not found [request req-404]
}
