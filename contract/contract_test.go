package contract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
)

// newValidator builds a validator of the embedded document served under base.
func newValidator(t *testing.T, base string) *Validator {
	t.Helper()
	v, err := New(base)
	if err != nil {
		t.Fatalf("New(%q): %v", base, err)
	}
	return v
}

// publicValidator is the validator of the embedded document served under
// /public, which New shares between the tests.
func publicValidator(t *testing.T) *Validator { return newValidator(t, "/public") }

func request(method, target, contentType, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// operations lists every operation of the document, as the seeds name them.
var operations = []struct {
	method, path, id, permission, scope string
}{
	{"GET", "/user-identities/infrastructure", "listInfrastructureIdentities", "Manage Infrastructure User Identities", "infrastructure:read"},
	{"PUT", "/user-identities/infrastructure/42/connect", "connectInfrastructureIdentity", "Manage Infrastructure User Identities", "infrastructure:write"},
	{"PUT", "/user-identities/infrastructure/42/toggle", "toggleInfrastructureIdentity", "Manage Infrastructure User Identities", "infrastructure:write"},
	{"PUT", "/user-identities/infrastructure/42/service-account", "setInfrastructureServiceAccount", "Manage Infrastructure User Identities", "infrastructure:write"},
	{"GET", "/user-identities/version-control", "listVersionControlIdentities", "Manage Version Control User Identities", "version-control:read"},
	{"PUT", "/user-identities/version-control/42/connect", "connectVersionControlIdentity", "Manage Version Control User Identities", "version-control:write"},
	{"PUT", "/user-identities/version-control/42/toggle", "toggleVersionControlIdentity", "Manage Version Control User Identities", "version-control:write"},
	{"PUT", "/user-identities/version-control/42/service-account", "setVersionControlServiceAccount", "Manage Version Control User Identities", "version-control:write"},
}

func TestFindRoute(t *testing.T) {
	t.Parallel()
	for _, base := range []struct{ arg, prefix string }{
		{"/public", "/public"},
		{"", ""},
		{"/", ""},
		{"/v1/public/", "/v1/public"},
	} {
		v := newValidator(t, base.arg)
		if got := v.BasePath(); got != base.prefix {
			t.Errorf("New(%q).BasePath() = %q, want %q", base.arg, got, base.prefix)
		}
		for _, op := range operations {
			t.Run(base.arg+" "+op.id, func(t *testing.T) {
				t.Parallel()
				route, err := v.FindRoute(request(op.method, base.prefix+op.path+"?page=2", "", ""))
				if err != nil {
					t.Fatalf("FindRoute(%s %s): %v", op.method, base.prefix+op.path, err)
				}
				if got := route.OperationID(); got != op.id {
					t.Errorf("OperationID() = %q, want %q", got, op.id)
				}
				if got := route.Extension("x-drata-permission"); got != op.permission {
					t.Errorf("Extension(x-drata-permission) = %q, want %q", got, op.permission)
				}
				if got := route.Extension("x-drata-scope"); got != op.scope {
					t.Errorf("Extension(x-drata-scope) = %q, want %q", got, op.scope)
				}
				if got := route.Extension("x-not-there"); got != "" {
					t.Errorf("Extension(x-not-there) = %q, want empty", got)
				}
				wantID := ""
				if op.method == "PUT" {
					wantID = "42"
				}
				if got := route.PathParam("id"); got != wantID {
					t.Errorf("PathParam(id) = %q, want %q", got, wantID)
				}
			})
		}
	}
}

func TestBasePathNormalised(t *testing.T) {
	t.Parallel()
	for arg, want := range map[string]string{
		"public": "/public", "/public": "/public", "/public/": "/public", "//public//": "/public",
		"": "", "/": "",
	} {
		if got := newValidator(t, arg).BasePath(); got != want {
			t.Errorf("New(%q).BasePath() = %q, want %q", arg, got, want)
		}
	}
}

func TestFindRouteNoRoute(t *testing.T) {
	t.Parallel()
	public, root := publicValidator(t), newValidator(t, "")
	for _, tc := range []struct {
		name   string
		v      *Validator
		method string
		target string
	}{
		{"unknown path", public, "GET", "/public/user-identities/nope"},
		{"missing base path", public, "GET", "/user-identities/infrastructure"},
		{"other base path", public, "GET", "/private/user-identities/infrastructure"},
		{"base path prefix only", public, "GET", "/publicx/user-identities/infrastructure"},
		{"trailing slash", public, "GET", "/public/user-identities/infrastructure/"},
		{"missing id", public, "PUT", "/public/user-identities/infrastructure//connect"},
		{"unknown action", public, "PUT", "/public/user-identities/infrastructure/1/disconnect"},
		{"extra segment", public, "PUT", "/public/user-identities/infrastructure/1/connect/now"},
		{"root validator, base-path request", root, "GET", "/public/user-identities/infrastructure"},
		{"root validator, root", root, "GET", "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			route, err := tc.v.FindRoute(request(tc.method, tc.target, "", ""))
			if route != nil {
				t.Fatalf("FindRoute(%s %s) = %q, want no route", tc.method, tc.target, route.OperationID())
			}
			if !errors.Is(err, ErrNoRoute) {
				t.Fatalf("FindRoute(%s %s) error = %v, want ErrNoRoute", tc.method, tc.target, err)
			}
			if errors.Is(err, ErrMethodNotAllowed) {
				t.Errorf("error %v also reports ErrMethodNotAllowed", err)
			}
			var me *MethodError
			if errors.As(err, &me) {
				t.Errorf("error %v is a *MethodError", err)
			}
		})
	}
}

func TestFindRouteMethodNotAllowed(t *testing.T) {
	t.Parallel()
	public, root := publicValidator(t), newValidator(t, "")
	for _, tc := range []struct {
		v      *Validator
		method string
		target string
		want   []string
	}{
		{public, "DELETE", "/public/user-identities/infrastructure", []string{"GET"}},
		{public, "POST", "/public/user-identities/version-control", []string{"GET"}},
		{public, "GET", "/public/user-identities/infrastructure/1/connect", []string{"PUT"}},
		{public, "PATCH", "/public/user-identities/version-control/1/toggle", []string{"PUT"}},
		// The id is not checked by routing: validation rejects it later.
		{public, "POST", "/public/user-identities/version-control/abc/service-account", []string{"PUT"}},
		{root, "DELETE", "/user-identities/infrastructure/7/service-account", []string{"PUT"}},
		{root, "PUT", "/user-identities/version-control", []string{"GET"}},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			t.Parallel()
			route, err := tc.v.FindRoute(request(tc.method, tc.target, "", ""))
			if route != nil {
				t.Fatalf("got route %q, want an error", route.OperationID())
			}
			if !errors.Is(err, ErrMethodNotAllowed) {
				t.Fatalf("error = %v, want ErrMethodNotAllowed", err)
			}
			if errors.Is(err, ErrNoRoute) {
				t.Errorf("error %v also reports ErrNoRoute", err)
			}
			var me *MethodError
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *MethodError", err)
			}
			if !slices.Equal(me.Allowed, tc.want) {
				t.Errorf("Allowed = %v, want %v", me.Allowed, tc.want)
			}
			if !strings.Contains(me.Error(), strings.Join(tc.want, ", ")) {
				t.Errorf("Error() = %q does not list %v", me.Error(), tc.want)
			}
			// The caller owns Allowed: changing it must not change the validator.
			me.Allowed[0] = "BROKEN"
			_, err = tc.v.FindRoute(request(tc.method, tc.target, "", ""))
			if !errors.As(err, &me) || !slices.Equal(me.Allowed, tc.want) {
				t.Errorf("after changing Allowed, the next error has Allowed = %v, want %v", me.Allowed, tc.want)
			}
		})
	}
}

// wantField is an expected FieldError: Field and Location exactly, Message
// containing the given text.
type wantField struct{ location, field, message string }

func TestValidateRequest(t *testing.T) {
	t.Parallel()
	const (
		infra = "/public/user-identities/infrastructure"
		vc    = "/public/user-identities/version-control"
		js    = "application/json"
	)
	reason := func(chars int) string {
		b, _ := json.Marshal(map[string]any{"serviceAccount": true, "serviceAccountReason": strings.Repeat("😀", chars)})
		return string(b)
	}
	for _, tc := range []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		want        []wantField // nil: the request conforms
		mediaType   bool
		trailing    bool // data after the JSON value, which kin-openapi does not refuse
	}{
		// Conforming requests.
		{name: "list, no parameters", method: "GET", target: infra},
		{name: "list, every parameter", method: "GET", target: infra + "?page=3&limit=50&q=1a2b3c&clientType=AWS_ORG_UNITS&connectionId=9&sort=CONNECTION_STATUS&sortDir=DESC"},
		{name: "list, limit at its minimum", method: "GET", target: infra + "?limit=1&page=1"},
		{name: "list, unknown parameter ignored", method: "GET", target: infra + "?unknown=1"},
		{name: "version control list, its own enums", method: "GET", target: vc + "?clientType=AWS_CODECOMMIT&sort=PUSH_PROD_CODE_ACCESS&sortDir=ASC"},
		{name: "connect a user", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": 5}`},
		{name: "unlink with null", method: "PUT", target: vc + "/5/connect", contentType: js, body: `{"userId": null}`},
		{name: "json with charset", method: "PUT", target: infra + "/5/connect", contentType: "application/json; charset=utf-8", body: `{"userId": 1}`},
		{name: "largest int64 id", method: "PUT", target: infra + "/9223372036854775807/connect", contentType: js, body: `{"userId": 9223372036854775807}`},
		{name: "toggle without field", method: "PUT", target: infra + "/5/toggle", contentType: js, body: `{"toggle": true}`},
		{name: "toggle db access", method: "PUT", target: infra + "/5/toggle", contentType: js, body: `{"toggle": false, "toggleField": "INFRASTRUCTURE_DB_ACCESS"}`},
		{name: "toggle push access", method: "PUT", target: vc + "/5/toggle", contentType: js, body: `{"toggle": true, "toggleField": "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"}`},
		{name: "reason of 30000 four-byte characters", method: "PUT", target: infra + "/5/service-account", contentType: js, body: reason(30000)},
		{name: "empty reason", method: "PUT", target: vc + "/5/service-account", contentType: js, body: `{"serviceAccount": false, "serviceAccountReason": ""}`},

		// Parameters.
		{name: "limit above 50", method: "GET", target: infra + "?limit=51",
			want: []wantField{{"query", "limit", "at most 50"}}},
		{name: "limit 0", method: "GET", target: vc + "?limit=0",
			want: []wantField{{"query", "limit", "at least 1"}}},
		{name: "page 0", method: "GET", target: infra + "?page=0",
			want: []wantField{{"query", "page", "at least 1"}}},
		{name: "page and limit both wrong", method: "GET", target: infra + "?page=0&limit=51",
			want: []wantField{{"query", "page", "at least 1"}, {"query", "limit", "at most 50"}}},
		{name: "limit not a number", method: "GET", target: infra + "?limit=abc",
			want: []wantField{{"query", "limit", "integer"}}},
		{name: "limit not an integer", method: "GET", target: infra + "?limit=1.5",
			want: []wantField{{"query", "limit", "integer"}}},
		{name: "empty page", method: "GET", target: infra + "?page=",
			want: []wantField{{"query", "page", "empty"}}},
		{name: "connectionId 0", method: "GET", target: infra + "?connectionId=0",
			want: []wantField{{"query", "connectionId", "at least 1"}}},
		{name: "q too long", method: "GET", target: infra + "?q=" + strings.Repeat("a", 256),
			want: []wantField{{"query", "q", "255"}}},
		{name: "version control client type on infrastructure", method: "GET", target: infra + "?clientType=GITHUB",
			want: []wantField{{"query", "clientType", "allowed values"}}},
		{name: "infrastructure client type on version control", method: "GET", target: vc + "?clientType=AWS",
			want: []wantField{{"query", "clientType", "allowed values"}}},
		{name: "version control sort on infrastructure", method: "GET", target: infra + "?sort=WRITE_ACCESS",
			want: []wantField{{"query", "sort", "allowed values"}}},
		{name: "infrastructure sort on version control", method: "GET", target: vc + "?sort=CLIENT_ALIAS",
			want: []wantField{{"query", "sort", "allowed values"}}},
		{name: "lower-case sort direction", method: "GET", target: vc + "?sortDir=asc",
			want: []wantField{{"query", "sortDir", "allowed values"}}},
		{name: "id not a number", method: "PUT", target: infra + "/abc/connect", contentType: js, body: `{"userId": 1}`,
			want: []wantField{{"path", "id", "integer"}}},
		{name: "id 0", method: "PUT", target: vc + "/0/toggle", contentType: js, body: `{"toggle": true}`,
			want: []wantField{{"path", "id", "at least 1"}}},
		{name: "id above int64", method: "PUT", target: vc + "/9223372036854775808/toggle", contentType: js, body: `{"toggle": true}`,
			want: []wantField{{"path", "id", "integer"}}},

		// Bodies.
		{name: "connect with {}", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{}`,
			want: []wantField{{"body", "/userId", "missing"}}},
		{name: "version control connect with {}", method: "PUT", target: vc + "/5/connect", contentType: js, body: `{}`,
			want: []wantField{{"body", "/userId", "missing"}}},
		{name: "unknown body property", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": 1, "extra": 1}`,
			want: []wantField{{"body", "/extra", "unsupported"}}},
		{name: "userId a string", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": "5"}`,
			want: []wantField{{"body", "/userId", "integer"}}},
		{name: "userId 0", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": 0}`,
			want: []wantField{{"body", "/userId", "at least 1"}}},
		{name: "toggle missing", method: "PUT", target: infra + "/5/toggle", contentType: js, body: `{"toggleField": "INFRASTRUCTURE_ADMIN_ACCESS"}`,
			want: []wantField{{"body", "/toggle", "missing"}}},
		{name: "version control toggle field on infrastructure", method: "PUT", target: infra + "/5/toggle", contentType: js, body: `{"toggle": true, "toggleField": "VERSION_CONTROL_WRITE_ACCESS"}`,
			want: []wantField{{"body", "/toggleField", "allowed values"}}},
		{name: "infrastructure toggle field on version control", method: "PUT", target: vc + "/5/toggle", contentType: js, body: `{"toggle": true, "toggleField": "INFRASTRUCTURE_DB_ACCESS"}`,
			want: []wantField{{"body", "/toggleField", "allowed values"}}},
		{name: "toggle a string", method: "PUT", target: vc + "/5/toggle", contentType: js, body: `{"toggle": "true"}`,
			want: []wantField{{"body", "/toggle", "boolean"}}},
		{name: "reason of 30001 four-byte characters", method: "PUT", target: infra + "/5/service-account", contentType: js, body: reason(30001),
			want: []wantField{{"body", "/serviceAccountReason", "30000"}}},
		{name: "reason missing", method: "PUT", target: vc + "/5/service-account", contentType: js, body: `{"serviceAccount": true}`,
			want: []wantField{{"body", "/serviceAccountReason", "missing"}}},
		{name: "reason null", method: "PUT", target: vc + "/5/service-account", contentType: js, body: `{"serviceAccount": true, "serviceAccountReason": null}`,
			want: []wantField{{"body", "/serviceAccountReason", "nullable"}}},
		{name: "two body errors", method: "PUT", target: vc + "/5/service-account", contentType: js, body: `{"serviceAccount": 1, "serviceAccountReason": 2}`,
			want: []wantField{{"body", "/serviceAccount", "boolean"}, {"body", "/serviceAccountReason", "string"}}},
		{name: "body an array", method: "PUT", target: infra + "/5/connect", contentType: js, body: `[]`,
			want: []wantField{{"body", "", "object"}}},
		{name: "body null", method: "PUT", target: infra + "/5/connect", contentType: js, body: `null`,
			want: []wantField{{"body", "", "nullable"}}},
		{name: "invalid JSON", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId":`,
			want: []wantField{{"body", "", "not valid JSON"}}},
		{name: "empty body", method: "PUT", target: infra + "/5/connect", contentType: js,
			want: []wantField{{"body", "", "required"}}},
		{name: "path and body errors together", method: "PUT", target: infra + "/abc/connect", contentType: js, body: `{}`,
			want: []wantField{{"path", "id", "integer"}, {"body", "/userId", "missing"}}},
		{name: "a second value after the body", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": 1} {"userId": 2}`,
			want: []wantField{{"body", "", "unexpected data after the JSON value"}}, trailing: true},
		{name: "a stray brace after the body", method: "PUT", target: infra + "/5/connect", contentType: js, body: `{"userId": 1}}`,
			want: []wantField{{"body", "", "unexpected data after the JSON value"}}, trailing: true},
		{name: "white space after the body", method: "PUT", target: infra + "/5/connect", contentType: js, body: "{\"userId\": 1}\n\t "},

		// Media types.
		{name: "text/plain body", method: "PUT", target: infra + "/5/connect", contentType: "text/plain", body: `{"userId": 1}`, mediaType: true},
		{name: "no content type", method: "PUT", target: vc + "/5/toggle", body: `{"toggle": true}`, mediaType: true},
		{name: "two values as text/plain", method: "PUT", target: infra + "/5/connect", contentType: "text/plain", body: `{"userId": 1} {}`, mediaType: true},
		{name: "form body", method: "PUT", target: vc + "/5/service-account", contentType: "application/x-www-form-urlencoded", body: `serviceAccount=true`, mediaType: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := publicValidator(t)
			r := request(tc.method, tc.target, tc.contentType, tc.body)
			route, err := v.FindRoute(r)
			if err != nil {
				t.Fatalf("FindRoute: %v", err)
			}
			err = v.ValidateRequest(context.Background(), r, route)
			if !tc.trailing {
				// The body is checked in one decoding of the bytes read,
				// with kin-openapi's schema checks and errors: what kin's
				// own reading and checking of the body finds, exactly.
				ref := request(tc.method, tc.target, tc.contentType, tc.body)
				assert.Equal(t, kinVerdict(t, v, ref, route), err)
			}
			if tc.want == nil && !tc.mediaType {
				if err != nil {
					t.Fatalf("ValidateRequest = %v, want nil", err)
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("ValidateRequest = %v (%T), want a *RequestError", err, err)
			}
			if re.Operation != route.OperationID() {
				t.Errorf("Operation = %q, want %q", re.Operation, route.OperationID())
			}
			if re.MediaType != tc.mediaType {
				t.Errorf("MediaType = %v, want %v (fields %+v)", re.MediaType, tc.mediaType, re.Fields)
			}
			if len(re.Fields) != len(tc.want) {
				t.Fatalf("Fields = %+v, want %d: %+v", re.Fields, len(tc.want), tc.want)
			}
			for _, w := range tc.want {
				i := slices.IndexFunc(re.Fields, func(f FieldError) bool { return f.Location == w.location && f.Field == w.field })
				if i < 0 {
					t.Errorf("no field error at %s %q in %+v", w.location, w.field, re.Fields)
					continue
				}
				if f := re.Fields[i]; !strings.Contains(f.Message, w.message) {
					t.Errorf("%s %q: Message = %q, want it to contain %q", w.location, w.field, f.Message, w.message)
				}
			}
			msg := re.Error()
			if !strings.HasPrefix(msg, "invalid request") {
				t.Errorf("Error() = %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, strings.TrimSpace(w.location+" "+w.field)+": ") {
					t.Errorf("Error() = %q does not name %s %s", msg, w.location, w.field)
				}
			}
			if tc.mediaType && !strings.Contains(msg, "content type") {
				t.Errorf("Error() = %q does not mention the content type", msg)
			}
		})
	}
}

// kinVerdict is what ValidateRequest would answer with kin-openapi reading
// and checking the body itself.
func kinVerdict(t *testing.T, v *Validator, r *http.Request, route *Route) error {
	t.Helper()
	err := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: route.pathParams, Route: route.route, Options: requestOptions(),
	})
	if err == nil {
		return nil
	}
	out := &RequestError{Operation: route.OperationID()}
	collectRequestErrors(err, out)
	return out
}

// A long invalid value must not be echoed back in the error.
func TestValidateRequestDoesNotEchoValues(t *testing.T) {
	t.Parallel()
	v := publicValidator(t)
	const secret = "sEcReT-VaLuE"
	for _, target := range []string{
		"/public/user-identities/infrastructure?sort=" + secret,
		"/public/user-identities/infrastructure?limit=" + secret,
		"/public/user-identities/infrastructure/" + secret + "/toggle",
	} {
		r := request("PUT", target, "application/json", `{"toggle": "`+secret+`"}`)
		if strings.Contains(target, "?") {
			r = request("GET", target, "", "")
		}
		route, err := v.FindRoute(r)
		if err != nil {
			t.Fatalf("FindRoute(%s): %v", target, err)
		}
		err = v.ValidateRequest(context.Background(), r, route)
		if err == nil {
			t.Fatalf("%s: ValidateRequest = nil, want an error", target)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error echoes the value: %v", target, err)
		}
	}
}

func TestValidateRequestPutsBodyBack(t *testing.T) {
	t.Parallel()
	v := publicValidator(t)
	for _, body := range []string{`{"userId": 7}`, `{}`} {
		r := request("PUT", "/public/user-identities/version-control/3/connect", "application/json", body)
		route, err := v.FindRoute(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = v.ValidateRequest(context.Background(), r, route)
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != body {
			t.Errorf("body after validation = %q, want %q", got, body)
		}
	}
}

// Validation sets no defaults: the handler sees the query the client sent.
func TestValidateRequestLeavesQueryAlone(t *testing.T) {
	t.Parallel()
	v := publicValidator(t)
	r := request("GET", "/public/user-identities/infrastructure?q=x", "", "")
	route, err := v.FindRoute(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateRequest(context.Background(), r, route); err != nil {
		t.Fatal(err)
	}
	if got := r.URL.RawQuery; got != "q=x" {
		t.Errorf("query after validation = %q, want q=x", got)
	}
}

// user is a fully populated user whose own nested users are cut with null,
// as the document's description says a server does.
func user() map[string]any {
	return map[string]any{
		"id": 1, "entryId": "aaaaaaaa-bbbb-0000-cccc-dddddddddddd", "email": "sally@example.com",
		"firstName": "Sally", "lastName": "Smith", "jobTitle": "CEO",
		"drataTermsAgreedAt": "2025-07-01T16:45:55.246Z", "createdAt": "2025-07-01T16:45:55.246Z", "updatedAt": "2025-07-01T16:45:55.246Z",
		"roles": []any{"ROLE", "ANOTHER_ROLE"},
		"backgroundChecks": []any{map[string]any{
			"id": 1, "userId": 1, "status": "OK", "caseId": "abc123", "caseInvitationId": "abc123",
			"manualCheckDate": "2020-07-06", "manuallyCheckUrl": "url.com", "type": "CERTN", "source": "DRATA",
			"reportData": "string", "user": nil, "outOfScopeReason": "abc123", "outOfScopeAt": "2025-07-01T16:45:55.246Z",
			"invitationEmail": "sally@example.com", "linkedAt": "2025-07-01T16:45:55.246Z",
			"createdAt": "2025-07-01T16:45:55.246Z", "updatedAt": "2025-07-01T16:45:55.246Z",
		}},
		"identities": []any{map[string]any{
			"id": 1, "identityId": "1a2b3c", "username": "Username",
			"connectedAt": "2025-07-01T16:45:55.246Z", "disconnectedAt": nil, "hasMfa": true, "user": nil,
			"connection": connection(nil), "hasIdp": true, "secondaryEmail": "sally@example.com",
			"firstName": "John", "lastName": "Doe", "startedAt": "2025-07-01T16:45:55.246Z", "separatedAt": nil,
			"isContractor": true, "jobTitle": "Engineer", "managerId": "x00jk12-2312", "managerName": "string",
		}},
		"documents": []any{map[string]any{
			"data": []any{map[string]any{
				"id": 1, "name": "Security Training", "type": "SEC_TRAINING", "renewalDate": "2026-10-27",
				"createdAt": "2025-07-01T16:45:55.246Z", "updatedAt": "2025-07-01T16:45:55.246Z",
			}},
			"page": 1, "limit": 10, "total": 100,
		}},
	}
}

func connection(u any) map[string]any {
	return map[string]any{
		"id": "1", "clientType": "GOOGLE", "state": "ACTIVE", "connected": false,
		"connectedAt": "2025-07-01T16:45:55.246Z", "failedAt": nil, "companyId": "12341234",
		"assignmentId": "FLk12AsS", "user": u, "accountId": "string", "clientId": "abc123",
		"clientAlias": "My-connection-alias-1", "manuallyUpdatedAt": nil, "aliasUpdatedAt": nil, "deletedAt": nil,
		"requestorId": "328d3016-71f3-4485-af20-06ce8044da18", "product": map[string]any{},
		"writeAccessEnabled": false, "sourcePreference": "LABEL", "securityLabel": "Jira Security Label",
		"jqlQuery": `project = IT AND type = "Offboarding"`, "authorized": true, "workspaces": []any{},
		"providerTypes": []any{5}, "code": 10010, "groupLabel": "Everyone",
	}
}

// identity is a fully populated identity of the family ("infrastructure" or
// "version-control"), shaped like the seed's response samples.
func identity(family string) map[string]any {
	id := map[string]any{
		"id": 1, "identityId": "1a2b3c", "username": "Username", "email": "sally@example.com",
		"connectedAt": "2025-07-01T16:45:55.246Z", "disconnectedAt": "2025-07-01T16:45:55.246Z",
		"serviceAccount": "2025-07-01T16:45:55.246Z", "serviceAccountReason": "This user is used to deploy code",
		"user": user(), "serviceAccountDesignator": user(), "hasMfa": true, "connection": connection(user()),
		"lastCheckedAt": "2025-07-01T16:45:55.246Z", "createdAt": "2025-07-01T16:45:55.246Z", "updatedAt": "2025-07-01T16:45:55.246Z",
	}
	if family == "infrastructure" {
		id["adminAccess"], id["dbAccess"] = "2025-07-01T16:45:55.246Z", nil
	} else {
		id["writeAccess"], id["pushProductionCodeAccess"] = nil, "2025-07-01T16:45:55.246Z"
	}
	return id
}

// bare is an identity with every nullable field null.
func bare(family string) map[string]any {
	id := identity(family)
	for _, k := range []string{"email", "connectedAt", "disconnectedAt", "serviceAccount", "serviceAccountReason", "user", "serviceAccountDesignator", "lastCheckedAt"} {
		id[k] = nil
	}
	id["connection"] = connection(nil)
	return id
}

func page(items ...map[string]any) map[string]any {
	data := make([]any, len(items))
	for i, it := range items {
		data[i] = it
	}
	return map[string]any{"data": data, "page": 1, "limit": 20, "total": len(items)}
}

func errorBody(status int, code string) map[string]any {
	return map[string]any{"statusCode": status, "code": code, "message": "something", "requestId": "req-1"}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestValidateResponseConforming(t *testing.T) {
	t.Parallel()
	v := publicValidator(t)
	validation := errorBody(400, "VALIDATION_FAILED")
	validation["errors"] = []any{map[string]any{"field": "/userId", "location": "body", "message": "property \"userId\" is missing"}}
	rateLimited := jsonHeader()
	rateLimited.Set("Retry-After", "3")
	rateLimited.Set("X-RateLimit-Limit", "100")
	rateLimited.Set("X-RateLimit-Remaining", "0")
	rateLimited.Set("X-RateLimit-Reset", "3")
	for _, tc := range []struct {
		name   string
		method string
		target string
		status int
		header http.Header
		body   any
	}{
		{"infrastructure page", "GET", "/public/user-identities/infrastructure", 200, nil, page(identity("infrastructure"), bare("infrastructure"))},
		{"version control page", "GET", "/public/user-identities/version-control", 200, nil, page(identity("version-control"), bare("version-control"))},
		{"empty page", "GET", "/public/user-identities/version-control", 200, nil, page()},
		{"infrastructure identity", "PUT", "/public/user-identities/infrastructure/1/connect", 200, nil, identity("infrastructure")},
		{"bare infrastructure identity", "PUT", "/public/user-identities/infrastructure/1/toggle", 200, nil, bare("infrastructure")},
		{"version control identity", "PUT", "/public/user-identities/version-control/1/service-account", 200, nil, identity("version-control")},
		{"json with charset", "PUT", "/public/user-identities/version-control/1/toggle", 200, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, bare("version-control")},
		{"validation error", "GET", "/public/user-identities/infrastructure", 400, nil, validation},
		{"401", "GET", "/public/user-identities/infrastructure", 401, http.Header{"Content-Type": {"application/json"}, "Www-Authenticate": {"Bearer"}}, errorBody(401, "UNAUTHORIZED")},
		{"402", "PUT", "/public/user-identities/version-control/1/connect", 402, nil, errorBody(402, "PAYMENT_REQUIRED")},
		{"403", "PUT", "/public/user-identities/version-control/1/connect", 403, nil, errorBody(403, "FORBIDDEN")},
		{"404 on a PUT", "PUT", "/public/user-identities/infrastructure/1/connect", 404, nil, errorBody(404, "NOT_FOUND")},
		{"412", "GET", "/public/user-identities/version-control", 412, nil, errorBody(412, "TERMS_NOT_ACCEPTED")},
		{"413 on a PUT", "PUT", "/public/user-identities/infrastructure/1/service-account", 413, nil, errorBody(413, "PAYLOAD_TOO_LARGE")},
		{"415 on a PUT", "PUT", "/public/user-identities/infrastructure/1/toggle", 415, nil, errorBody(415, "UNSUPPORTED_MEDIA_TYPE")},
		{"429 with rate-limit headers", "GET", "/public/user-identities/infrastructure", 429, rateLimited, errorBody(429, "RATE_LIMITED")},
		{"500", "GET", "/public/user-identities/infrastructure", 500, nil, errorBody(500, "INTERNAL_ERROR")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := request(tc.method, tc.target, "", "")
			route, err := v.FindRoute(r)
			if err != nil {
				t.Fatal(err)
			}
			h := tc.header
			if h == nil {
				h = jsonHeader()
			}
			if err := v.ValidateResponse(context.Background(), r, route, tc.status, h, mustJSON(t, tc.body)); err != nil {
				t.Errorf("ValidateResponse = %v, want nil", err)
			}
		})
	}
}

// wantViolation is an expected Violation: Path exactly, Reason containing the text.
type wantViolation struct{ path, reason string }

func TestValidateResponseViolations(t *testing.T) {
	t.Parallel()
	const (
		list    = "/public/user-identities/infrastructure"
		vcList  = "/public/user-identities/version-control"
		connect = "/public/user-identities/infrastructure/1/connect"
	)
	mutate := func(base map[string]any, f func(map[string]any)) map[string]any { f(base); return base }
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	for _, tc := range []struct {
		name   string
		method string
		target string
		status int
		header http.Header
		body   any
		want   []wantViolation
	}{
		{name: "total is a string", method: "GET", target: list, status: 200,
			body: mutate(page(bare("infrastructure")), func(p map[string]any) { p["total"] = "1" }),
			want: []wantViolation{{"/total", "integer"}}},
		{name: "required field missing", method: "GET", target: list, status: 200,
			body: page(mutate(bare("infrastructure"), func(i map[string]any) { delete(i, "hasMfa") })),
			want: []wantViolation{{"/data/0/hasMfa", "missing"}}},
		{name: "required nullable field omitted instead of null", method: "PUT", target: connect, status: 200,
			body: mutate(bare("infrastructure"), func(i map[string]any) { delete(i, "serviceAccountDesignator") }),
			want: []wantViolation{{"/serviceAccountDesignator", "missing"}}},
		{name: "other family's access field", method: "GET", target: vcList, status: 200,
			body: page(mutate(bare("version-control"), func(i map[string]any) { delete(i, "writeAccess"); i["adminAccess"] = nil })),
			want: []wantViolation{{"/data/0/writeAccess", "missing"}}},
		{name: "non-nullable field null", method: "PUT", target: connect, status: 200,
			body: mutate(bare("infrastructure"), func(i map[string]any) { i["createdAt"] = nil }),
			want: []wantViolation{{"/createdAt", "nullable"}}},
		{name: "id is a float", method: "PUT", target: connect, status: 200,
			body: mutate(bare("infrastructure"), func(i map[string]any) { i["id"] = 1.5 }),
			want: []wantViolation{{"/id", "integer"}}},
		{name: "connection id a number", method: "GET", target: list, status: 200,
			body: page(mutate(bare("infrastructure"), func(i map[string]any) { i["connection"].(map[string]any)["id"] = 1 })),
			want: []wantViolation{{"/data/0/connection/id", "string"}}},
		{name: "old timestamp form", method: "PUT", target: connect, status: 200,
			body: mutate(bare("infrastructure"), func(i map[string]any) { i["updatedAt"] = "2020-07-06 12:00:00.000000" }),
			want: []wantViolation{{"/updatedAt", "date-time"}}},
		{name: "nested user incomplete", method: "PUT", target: connect, status: 200,
			body: mutate(bare("infrastructure"), func(i map[string]any) {
				u := user()
				delete(u, "entryId")
				i["user"] = u
			}),
			want: []wantViolation{{"/user/entryId", "missing"}}},
		{name: "deeply nested connection wrong", method: "PUT", target: connect, status: 200,
			body: mutate(identity("infrastructure"), func(i map[string]any) {
				u := i["serviceAccountDesignator"].(map[string]any)
				u["identities"].([]any)[0].(map[string]any)["connection"].(map[string]any)["clientType"] = 5
			}),
			want: []wantViolation{{"/serviceAccountDesignator/identities/0/connection/clientType", "string"}}},
		{name: "two violations", method: "GET", target: list, status: 200,
			body: mutate(page(mutate(bare("infrastructure"), func(i map[string]any) { i["hasMfa"] = "yes" })), func(p map[string]any) { delete(p, "limit") }),
			want: []wantViolation{{"/data/0/hasMfa", "boolean"}, {"/limit", "missing"}}},
		{name: "undocumented status", method: "GET", target: list, status: 404,
			body: errorBody(404, "NOT_FOUND"),
			want: []wantViolation{{"", "status 404 is not documented"}}},
		{name: "413 on a GET", method: "GET", target: vcList, status: 413,
			body: errorBody(413, "PAYLOAD_TOO_LARGE"),
			want: []wantViolation{{"", "status 413 is not documented"}}},
		{name: "201 instead of 200", method: "PUT", target: connect, status: 201,
			body: bare("infrastructure"),
			want: []wantViolation{{"", "status 201 is not documented"}}},
		{name: "text/plain error body", method: "GET", target: list, status: 400,
			header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: raw(`"bad request"`),
			want: []wantViolation{{"", "Content-Type"}}},
		{name: "no content type", method: "GET", target: list, status: 500,
			header: http.Header{}, body: errorBody(500, "INTERNAL_ERROR"),
			want: []wantViolation{{"", "Content-Type"}}},
		{name: "error code not in the enum", method: "PUT", target: connect, status: 404,
			body: errorBody(404, "RECORD_NOT_FOUND"),
			want: []wantViolation{{"/code", "allowed values"}}},
		{name: "field error location not in the enum", method: "GET", target: list, status: 400,
			body: mutate(errorBody(400, "VALIDATION_FAILED"), func(e map[string]any) {
				e["errors"] = []any{map[string]any{"field": "limit", "location": "cookie", "message": "m"}}
			}),
			want: []wantViolation{{"/errors/0/location", "allowed values"}}},
		{name: "error body missing requestId", method: "GET", target: list, status: 401,
			body: mutate(errorBody(401, "UNAUTHORIZED"), func(e map[string]any) { delete(e, "requestId") }),
			want: []wantViolation{{"/requestId", "missing"}}},
		{name: "body is not JSON", method: "GET", target: list, status: 200,
			body: raw(`{"data": [`),
			want: []wantViolation{{"", "decode"}}},
		{name: "Retry-After negative", method: "GET", target: list, status: 429,
			header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"-1"}}, body: errorBody(429, "RATE_LIMITED"),
			want: []wantViolation{{"", `"Retry-After"`}}},
		{name: "Retry-After not a number", method: "GET", target: list, status: 429,
			header: http.Header{"Content-Type": {"application/json"}, "Retry-After": {"soon"}}, body: errorBody(429, "RATE_LIMITED"),
			want: []wantViolation{{"", `"Retry-After"`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := publicValidator(t)
			r := request(tc.method, tc.target, "", "")
			route, err := v.FindRoute(r)
			if err != nil {
				t.Fatal(err)
			}
			h := tc.header
			if h == nil {
				h = jsonHeader()
			}
			var body []byte
			if rm, ok := tc.body.(json.RawMessage); ok {
				body = rm
			} else {
				body = mustJSON(t, tc.body)
			}
			err = v.ValidateResponse(context.Background(), r, route, tc.status, h, body)
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("ValidateResponse = %v (%T), want a *ResponseError", err, err)
			}
			if len(re.Violations) != len(tc.want) {
				t.Fatalf("Violations = %v, want %d: %+v", re.Violations, len(tc.want), tc.want)
			}
			for _, got := range re.Violations {
				if got.Operation != route.OperationID() || got.Status != tc.status {
					t.Errorf("violation %v: Operation, Status = %q, %d; want %q, %d", got, got.Operation, got.Status, route.OperationID(), tc.status)
				}
			}
			for _, w := range tc.want {
				i := slices.IndexFunc(re.Violations, func(v *Violation) bool { return v.Path == w.path && strings.Contains(v.Reason, w.reason) })
				if i < 0 {
					t.Errorf("no violation at %q with reason containing %q in %v", w.path, w.reason, re.Violations)
				}
			}
			// Each violation is reachable with errors.As, and the message names it.
			var one *Violation
			if !errors.As(err, &one) || one != re.Violations[0] {
				t.Errorf("errors.As(*Violation) did not find the first violation")
			}
			msg := err.Error()
			for _, got := range re.Violations {
				if !strings.Contains(msg, got.Error()) {
					t.Errorf("Error() = %q does not contain %q", msg, got.Error())
				}
			}
			if !strings.Contains(msg, route.OperationID()) {
				t.Errorf("Error() = %q does not name the operation", msg)
			}
		})
	}
}

func TestViolationError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    Violation
		want string
	}{
		{Violation{Operation: "op", Status: 200, Path: "/a/0", Reason: "bad"}, "op 200: /a/0: bad"},
		{Violation{Operation: "op", Status: 404, Reason: "undocumented"}, "op 404: response: undocumented"},
	} {
		if got := tc.v.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	v, err := Load(api.Spec, "/public")
	if err != nil {
		t.Fatalf("Load(api.Spec): %v", err)
	}
	if got := len(v.Document().Paths.Map()); got != 8 {
		t.Errorf("Document() has %d paths, want 8", got)
	}
	if got := v.Document().Servers; len(got) != 1 || got[0].URL != "/public" {
		t.Errorf("Document().Servers = %v, want only /public (hosts are never matched)", got)
	}
	for name, spec := range map[string]string{
		"not YAML":       "{",
		"broken ref":     strings.Replace(string(api.Spec), "$ref: '#/components/schemas/ConnectRequest'", "$ref: '#/components/schemas/Missing'", 1),
		"invalid schema": strings.Replace(string(api.Spec), "maximum: 50", "maximum: fifty", 1),
	} {
		if spec == string(api.Spec) {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if _, err := Load([]byte(spec), ""); err == nil {
			t.Errorf("Load(%s) = nil error, want one", name)
		}
	}
}

// TestOneValidatorPerDocumentAndBasePath: the embedded document is loaded
// once per base path, however the path is spelled and whether it comes
// through New or Load; another path, or another document, gets its own.
func TestOneValidatorPerDocumentAndBasePath(t *testing.T) {
	t.Parallel()
	a := newValidator(t, "/api/public")
	assert.Same(t, a, newValidator(t, "api/public/"))
	viaLoad, err := Load(api.Spec, "/api/public")
	require.NoError(t, err)
	assert.Same(t, a, viaLoad)
	assert.NotSame(t, a, newValidator(t, "/public"))

	other := strings.Replace(string(api.Spec), "maximum: 50", "maximum: 49", 1)
	require.NotEqual(t, string(api.Spec), other)
	b, err := Load([]byte(other), "/api/public")
	require.NoError(t, err)
	assert.NotSame(t, a, b)
	again, err := Load([]byte(other), "/api/public")
	require.NoError(t, err)
	assert.NotSame(t, b, again, "only the embedded document is shared")
}

// TestServersAreTheDocuments: the validator matches paths under its base
// path alone, and still tells the servers the document lists.
func TestServersAreTheDocuments(t *testing.T) {
	t.Parallel()
	raw, err := openapi3.NewLoader().LoadFromData(api.Spec)
	require.NoError(t, err)
	require.NotEmpty(t, raw.Servers)
	got := publicValidator(t).Servers()
	require.Len(t, got, len(raw.Servers))
	for i := range got {
		assert.Equal(t, raw.Servers[i].URL, got[i].URL)
	}
}

// The validator is shared by every request of a server: hammer it from many
// goroutines (run with -race).
func TestValidatorConcurrentUse(t *testing.T) {
	t.Parallel()
	v := publicValidator(t)
	good := mustJSON(t, bare("infrastructure"))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				body := `{"userId": 1}`
				if (g+i)%2 == 0 {
					body = `{}`
				}
				r := request("PUT", "/public/user-identities/infrastructure/5/connect", "application/json", body)
				route, err := v.FindRoute(r)
				if err != nil {
					t.Error(err)
					return
				}
				err = v.ValidateRequest(context.Background(), r, route)
				if (body == `{}`) != (err != nil) {
					t.Errorf("body %s: ValidateRequest = %v", body, err)
				}
				if err := v.ValidateResponse(context.Background(), r, route, 200, jsonHeader(), good); err != nil {
					t.Error(err)
				}
				_, err = v.FindRoute(request("GET", "/public/user-identities/infrastructure/5/connect", "", ""))
				var me *MethodError
				if !errors.As(err, &me) {
					t.Errorf("FindRoute(GET connect) = %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkValidateRequest checks a PUT's parameters and body: a small body,
// and the largest reason the document allows.
func BenchmarkValidateRequest(b *testing.B) {
	long, err := json.Marshal(map[string]any{"serviceAccount": true, "serviceAccountReason": strings.Repeat("é", 30000)})
	require.NoError(b, err)
	for _, bc := range []struct{ name, target, body string }{
		{"connect", "/public/user-identities/infrastructure/7/connect", `{"userId":12}`},
		{"reason=30000", "/public/user-identities/version-control/7/service-account", string(long)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v, err := New("/public")
			require.NoError(b, err)
			route, err := v.FindRoute(request(http.MethodPut, bc.target, "application/json", bc.body))
			require.NoError(b, err)
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.body)))
			for b.Loop() {
				r := request(http.MethodPut, bc.target, "application/json", bc.body)
				if err := v.ValidateRequest(context.Background(), r, route); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestValidateRequestBodyAsKinOnOtherDocuments holds the one decoding of a
// request body to kin-openapi's own verdicts on documents the server does
// not serve but check and proxy may be given: OpenAPI 3.1 (JSON Schema
// 2020-12), a +json media type, a media type without a schema, and a body
// without declared content. Data after a JSON value is refused whatever the
// document.
func TestValidateRequestBodyAsKinOnOtherDocuments(t *testing.T) {
	t.Parallel()
	const paths = `
paths:
  /typed:
    put:
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [a], additionalProperties: false, properties: {a: {type: integer, minimum: 1, maximum: 5}}}
          application/merge-patch+json:
            schema: {type: object, properties: {a: {type: integer, maximum: 5}}}
      responses: {'204': {description: done}}
  /untyped:
    put:
      requestBody:
        content:
          application/json: {}
      responses: {'204': {description: done}}
  /anything:
    put:
      requestBody:
        content: {}
      responses: {'204': {description: done}}
`
	docs := map[string]string{
		"3.0": "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n" + paths,
		"3.1": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n" + strings.Replace(paths,
			"a: {type: integer, minimum: 1, maximum: 5}", "a: {type: [integer, 'null'], const: 5}", 1),
	}
	for name, doc := range docs {
		v, err := Load([]byte(doc), "")
		require.NoError(t, err, name)
		for _, c := range []struct{ path, contentType, body string }{
			{"/typed", "application/json", `{"a":5}`},
			{"/typed", "application/json", `{"a":6}`},
			{"/typed", "application/json", `{"a":null}`},
			{"/typed", "application/json", `{"a":"5","b":1}`},
			{"/typed", "application/json", `{}`},
			{"/typed", "application/json", `{"a":`},
			{"/typed", "application/json", ``},
			{"/typed", "application/json; charset=utf-8", `{"a":2}`},
			{"/typed", "application/merge-patch+json", `{"a":9}`},
			{"/typed", "application/merge-patch+json", `{"a":3}`},
			{"/typed", "text/plain", `{"a":2}`},
			{"/typed", "", `{"a":2}`},
			{"/untyped", "application/json", `{"anything":[1,2]}`},
			{"/untyped", "application/json", `[`},
			{"/anything", "text/plain", `whatever`},
		} {
			r := request(http.MethodPut, c.path, c.contentType, c.body)
			route, err := v.FindRoute(r)
			require.NoError(t, err)
			got := v.ValidateRequest(context.Background(), r, route)
			want := kinVerdict(t, v, request(http.MethodPut, c.path, c.contentType, c.body), route)
			assert.Equal(t, want, got, "%s: PUT %s %s %s", name, c.path, c.contentType, c.body)
		}
		for _, c := range []struct{ path, contentType string }{
			{"/typed", "application/json"}, {"/typed", "application/merge-patch+json"}, {"/untyped", "application/json"},
		} {
			r := request(http.MethodPut, c.path, c.contentType, `{"a":2} {"a":3}`)
			route, err := v.FindRoute(r)
			require.NoError(t, err)
			var re *RequestError
			require.ErrorAs(t, v.ValidateRequest(context.Background(), r, route), &re, "%s: two values to %s as %s", name, c.path, c.contentType)
			assert.Equal(t, []FieldError{{Location: "body", Message: "unexpected data after the JSON value"}}, re.Fields)
		}
	}
}
