package client

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		method: (*InfrastructureService).All, label: "limit and search",
		call: func(ctx context.Context, c *Client) error {
			return drain(c.Infrastructure.All(ctx, &InfrastructureListOptions{Limit: 5, Q: "x"}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/infrastructure",
		query: url.Values{"page": {"1"}, "limit": {"5"}, "q": {"x"}},
		resp:  infraPage(infraIdentity(1)),
	},
	{
		method: (*InfrastructureService).All, label: "from a page, sorted",
		call: func(ctx context.Context, c *Client) error {
			return drain(c.Infrastructure.All(ctx, &InfrastructureListOptions{Page: 3, Sort: gen.InfrastructureSortEMAIL}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/infrastructure",
		query: url.Values{"page": {"3"}, "sort": {"EMAIL"}},
		resp:  infraPage(),
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
		method: (*InfrastructureService).SetServiceAccount, label: "mark",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.SetServiceAccount(ctx, 5, true, "deploys"))
		},
		httpMethod: http.MethodPut, path: "/user-identities/infrastructure/5/service-account",
		body: `{"serviceAccount":true,"serviceAccountReason":"deploys"}`, resp: infraIdentity(5),
	},
	{
		method: (*InfrastructureService).SetServiceAccount, label: "unmark",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.Infrastructure.SetServiceAccount(ctx, 5, false, "a person now"))
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
		method: (*VersionControlService).All, label: "from a page, one client type",
		call: func(ctx context.Context, c *Client) error {
			return drain(c.VersionControl.All(ctx, &VersionControlListOptions{Page: 2, ClientType: gen.VersionControlClientTypeGITHUB}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/version-control",
		query: url.Values{"page": {"2"}, "clientType": {"GITHUB"}},
		resp:  vcPage(vcIdentity(1)),
	},
	{
		method: (*VersionControlService).All, label: "limit",
		call: func(ctx context.Context, c *Client) error {
			return drain(c.VersionControl.All(ctx, &VersionControlListOptions{Limit: 50}))
		},
		httpMethod: http.MethodGet, path: "/user-identities/version-control",
		query: url.Values{"page": {"1"}, "limit": {"50"}},
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
		method: (*VersionControlService).SetServiceAccount, label: "unmark without a reason",
		call: func(ctx context.Context, c *Client) error {
			return ignore(c.VersionControl.SetServiceAccount(ctx, 6, false, ""))
		},
		httpMethod: http.MethodPut, path: "/user-identities/version-control/6/service-account",
		body: `{"serviceAccount":false,"serviceAccountReason":""}`, resp: vcIdentity(6),
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
			c, mux := setup(t, checking(true))
			srv := &counted{serve: func(_ int, w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, tc.httpMethod)
				assert.Equal(t, tc.path, r.URL.Path, "path")
				testQuery(t, r, tc.query)
				testHeader(t, r, "Authorization", "Bearer "+testToken)
				testHeader(t, r, "User-Agent", DefaultUserAgent)
				testHeader(t, r, "Accept", "application/json")
				checkOperation(t, r, wantOp)
				if tc.body != "" {
					testJSONBody(t, r, tc.body)
				} else {
					assert.LessOrEqual(t, r.ContentLength, int64(0), "request body")
				}
				writeJSON(t, w, http.StatusOK, tc.resp)
			}}
			mux.Handle("/", srv)
			require.NoError(t, tc.call(context.Background(), c))
			assert.Equal(t, 1, srv.requests())
		})
	}
	for _, m := range operationMethods {
		assert.True(t, covered[methodName(m)], "no request case for %s", methodName(m))
	}
	for name := range shorthandMethods {
		assert.True(t, covered[name], "no request case for %s", name)
	}
}

// checkOperation resolves r (seen under the base path) with the contract
// validator, and checks that it is a valid request of operation want.
func checkOperation(t *testing.T, r *http.Request, want string) {
	t.Helper()
	full := r.Clone(r.Context())
	full.URL.Path = basePath + r.URL.Path
	full.Body = r.Body
	v := validator()
	route, err := v.FindRoute(full)
	if !assert.NoError(t, err, "request matches no operation") {
		return
	}
	assert.Equal(t, want, route.OperationID(), "operation")
	assert.NoError(t, v.ValidateRequest(r.Context(), full, route), "request does not conform")
	r.Body = full.Body // ValidateRequest puts the body back for reading
}

// TestInvalidArguments checks that the client refuses ids and fields the
// contract would reject, without sending anything.
func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := reply(t, http.StatusOK, infraIdentity(1))
	mux.Handle("/", srv)
	ctx := context.Background()
	for name, err := range map[string]error{
		"connect id 0":         ignore(c.Infrastructure.Connect(ctx, 0, 1)),
		"connect user 0":       ignore(c.VersionControl.Connect(ctx, 1, 0)),
		"disconnect id -1":     ignore(c.Infrastructure.Disconnect(ctx, -1)),
		"unknown toggle field": ignore(c.Infrastructure.SetAccess(ctx, 1, "ROOT", true)),
		"vc unknown field":     ignore(c.VersionControl.SetAccess(ctx, 1, "INFRASTRUCTURE_DB_ACCESS", true)),
		"service account id 0": ignore(c.VersionControl.SetServiceAccount(ctx, 0, true, "x")),
		"unmark negative id":   ignore(c.Infrastructure.SetServiceAccount(ctx, -3, false, "x")),
		"set access negative":  ignore(c.VersionControl.SetAccess(ctx, -1, "", true)),
	} {
		assert.Error(t, err, name)
		assert.NotErrorAs(t, err, new(*APIError), "%s: want a client-side error", name)
	}
	assert.Zero(t, srv.requests(), "requests sent")
}
