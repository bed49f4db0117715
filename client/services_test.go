package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/identities-go/identities/gen"
)

// requestCase is one call of a service method and the request it must send.
type requestCase struct {
	method     any // the method expression: names the case and its operation
	label      string
	call       func(context.Context, *Client) error
	httpMethod string
	path       string // relative to the base path
	query      url.Values
	body       string // "" when the request has none
	resp       any
}

func ignore[T any](_ T, _ *Response, err error) error { return err }

func drain[T any](seq func(func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

var requestCases = []requestCase{
	{
		method: (*InfrastructureService).List, label: "every option",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.List(ctx, &InfrastructureListOptions{
				Page: 2, Limit: 50, Q: "a b&c", ClientType: gen.InfrastructureClientTypeAWSGOVCLOUD,
				ConnectionID: 9, Sort: gen.InfrastructureSortCLIENTALIAS, SortDir: gen.SortDirDESC,
			}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/infrastructure",
		query: url.Values{"page": {"2"}, "limit": {"50"}, "q": {"a b&c"}, "clientType": {"AWS_GOV_CLOUD"},
			"connectionId": {"9"}, "sort": {"CLIENT_ALIAS"}, "sortDir": {"DESC"}},
		resp: infraPage(infraIdentity(1)),
	},
	{
		method: (*InfrastructureService).List, label: "nil options",
		call:       func(ctx context.Context, c *Client) error { return ignore(c.Infrastructure.List(ctx, nil)) },
		httpMethod: http.MethodGet, path: "/user-identities/infrastructure", query: url.Values{},
		resp: infraPage(),
	},
	{
		method: (*InfrastructureService).All,
		call: func(ctx context.Context, c *Client) error {
			return drain(c.Infrastructure.All(ctx, &InfrastructureListOptions{Limit: 5, Q: "x"}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/infrastructure",
		query: url.Values{"page": {"1"}, "limit": {"5"}, "q": {"x"}},
		resp:  infraPage(infraIdentity(1)),
	},
	{
		method:     (*InfrastructureService).Connect,
		call:       func(ctx context.Context, c *Client) error { return ignore(c.Infrastructure.Connect(ctx, 5, 7)) },
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/connect",
		body: `{"userId":7}`, resp: infraIdentity(5),
	},
	{
		method:     (*InfrastructureService).Disconnect,
		call:       func(ctx context.Context, c *Client) error { return ignore(c.Infrastructure.Disconnect(ctx, 5)) },
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/connect",
		body: `{"userId":null}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).SetAccess, label: "db access on",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.SetAccess(ctx, 5, gen.InfrastructureToggleFieldINFRASTRUCTUREDBACCESS, true))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/toggle",
		body: `{"toggle":true,"toggleField":"INFRASTRUCTURE_DB_ACCESS"}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).SetAccess, label: "default field off",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.SetAccess(ctx, 5, "", false))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/toggle",
		body: `{"toggle":false}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).SetServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.SetServiceAccount(ctx, 5, true, "deploys"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/service-account",
		body: `{"serviceAccount":true,"serviceAccountReason":"deploys"}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).MarkServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.MarkServiceAccount(ctx, 5, "deploys"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/service-account",
		body: `{"serviceAccount":true,"serviceAccountReason":"deploys"}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).UnmarkServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.UnmarkServiceAccount(ctx, 5, "a person now"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/service-account",
		body: `{"serviceAccount":false,"serviceAccountReason":"a person now"}`, resp: infraIdentity(5),
	},
	{
		method: (*VersionControlService).List, label: "every option",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.List(ctx, &VersionControlListOptions{
				Page: 3, Limit: 10, Q: "octo", ClientType: gen.VersionControlClientTypeGITLABONPREM,
				ConnectionID: 4, Sort: gen.VersionControlSortPUSHPRODCODEACCESS, SortDir: gen.SortDirASC,
			}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/version-control",
		query: url.Values{"page": {"3"}, "limit": {"10"}, "q": {"octo"}, "clientType": {"GITLAB_ON_PREM"},
			"connectionId": {"4"}, "sort": {"PUSH_PROD_CODE_ACCESS"}, "sortDir": {"ASC"}},
		resp: vcPage(vcIdentity(1)),
	},
	{
		method: (*VersionControlService).All,
		call: func(ctx context.Context, c *Client) error {
			return drain(c.VersionControl.All(ctx, &VersionControlListOptions{Page: 2, ClientType: gen.VersionControlClientTypeGITHUB}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/version-control",
		query: url.Values{"page": {"2"}, "clientType": {"GITHUB"}},
		resp:  vcPage(vcIdentity(1)),
	},
	{
		method:     (*VersionControlService).Connect,
		call:       func(ctx context.Context, c *Client) error { return ignore(c.VersionControl.Connect(ctx, 6, 8)) },
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/connect",
		body: `{"userId":8}`, resp: vcIdentity(6),
	},
	{
		method:     (*VersionControlService).Disconnect,
		call:       func(ctx context.Context, c *Client) error { return ignore(c.VersionControl.Disconnect(ctx, 6)) },
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/connect",
		body: `{"userId":null}`, resp: vcIdentity(6),
	},
	{
		method: (*VersionControlService).SetAccess,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.SetAccess(ctx, 6, gen.VersionControlToggleFieldVERSIONCONTROLPUSHPRODCODEACCESS, true))
		},
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/toggle",
		body: `{"toggle":true,"toggleField":"VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"}`, resp: vcIdentity(6),
	},
	{
		method: (*VersionControlService).SetServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.SetServiceAccount(ctx, 6, false, ""))
		},
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/service-account",
		body: `{"serviceAccount":false,"serviceAccountReason":""}`, resp: vcIdentity(6),
	},
	{
		method: (*VersionControlService).MarkServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.MarkServiceAccount(ctx, 6, "bot"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/service-account",
		body: `{"serviceAccount":true,"serviceAccountReason":"bot"}`, resp: vcIdentity(6),
	},
	{
		method: (*VersionControlService).UnmarkServiceAccount,
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.UnmarkServiceAccount(ctx, 6, "human"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/service-account",
		body: `{"serviceAccount":false,"serviceAccountReason":"human"}`, resp: vcIdentity(6),
	},
}

// TestRequests checks the method, path, query, headers and body each service
// method sends; that the request is a valid request of the method's operation
// (per the contract validator); and, with response checking on, that the
// fixtures it gets back conform.
func TestRequests(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, tc := range requestCases {
		name := methodName(tc.method)
		covered[name] = true
		t.Run(name+"/"+tc.label, func(t *testing.T) {
			t.Parallel()
			wantOp := operationOf(name)
			c, mux := setup(t, WithValidator(validator(t)))
			calls := 0
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				calls++
				testMethod(t, r, tc.httpMethod)
				if r.URL.Path != tc.path {
					t.Errorf("path = %s, want %s", r.URL.Path, tc.path)
				}
				testQuery(t, r, tc.query)
				testHeader(t, r, "Authorization", "Bearer "+testToken)
				testHeader(t, r, "User-Agent", DefaultUserAgent)
				testHeader(t, r, "Accept", "application/json")
				checkOperation(t, r, wantOp)
				if tc.body != "" {
					testJSONBody(t, r, tc.body)
				} else if r.ContentLength > 0 {
					t.Errorf("unexpected request body of %d bytes", r.ContentLength)
				}
				writeJSON(t, w, http.StatusOK, tc.resp)
			})
			if err := tc.call(context.Background(), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if calls != 1 {
				t.Errorf("server saw %d requests, want 1", calls)
			}
		})
	}
	for _, m := range operationMethods {
		if !covered[methodName(m)] {
			t.Errorf("no request case for %s", methodName(m))
		}
	}
	for name := range shorthandMethods {
		if !covered[name] {
			t.Errorf("no request case for %s", name)
		}
	}
}

// checkOperation resolves r (seen under the base path) with the contract
// validator, and checks that it is a valid request of operation want.
func checkOperation(t *testing.T, r *http.Request, want string) {
	t.Helper()
	full := r.Clone(r.Context())
	full.URL.Path = basePath + r.URL.Path
	full.Body = r.Body
	v := validator(t)
	route, err := v.FindRoute(full)
	if err != nil {
		t.Errorf("request matches no operation: %v", err)
		return
	}
	if got := route.OperationID(); got != want {
		t.Errorf("operation = %s, want %s", got, want)
	}
	if err := v.ValidateRequest(r.Context(), full, route); err != nil {
		t.Errorf("request does not conform: %v", err)
	}
	r.Body = full.Body // ValidateRequest puts the body back for reading
}

// TestInvalidArguments checks that the client refuses ids and fields the
// contract would reject, without sending anything.
func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	})
	ctx := context.Background()
	for name, err := range map[string]error{
		"connect id 0":          ignore(c.Infrastructure.Connect(ctx, 0, 1)),
		"connect user 0":        ignore(c.VersionControl.Connect(ctx, 1, 0)),
		"disconnect id -1":      ignore(c.Infrastructure.Disconnect(ctx, -1)),
		"unknown toggle field":  ignore(c.Infrastructure.SetAccess(ctx, 1, "ROOT", true)),
		"vc unknown field":      ignore(c.VersionControl.SetAccess(ctx, 1, "INFRASTRUCTURE_DB_ACCESS", true)),
		"service account id 0":  ignore(c.VersionControl.MarkServiceAccount(ctx, 0, "x")),
		"unmark negative id":    ignore(c.Infrastructure.UnmarkServiceAccount(ctx, -3, "x")),
		"set access negative":   ignore(c.VersionControl.SetAccess(ctx, -1, "", true)),
		"set service account 0": ignore(c.Infrastructure.SetServiceAccount(ctx, 0, true, "x")),
	} {
		var apiErr *APIError
		if err == nil || errors.As(err, &apiErr) {
			t.Errorf("%s: err = %v, want a client-side error", name, err)
		}
	}
}
