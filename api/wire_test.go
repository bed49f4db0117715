package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
)

// Run `go test ./api -run Wire -update` to rewrite the golden files.
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The wire form of the generated types: what the server sends and the
// client reads. Golden files pin it byte for byte; the contract validator
// checks that it conforms to the document.

var (
	ts    = time.Date(2025, 7, 1, 16, 45, 55, 246_000_000, time.UTC)
	later = time.Date(2025, 7, 2, 8, 0, 0, 0, time.UTC)
)

func ref[T any](v T) *T { return &v }

// fullUser is a user with every field set; its own nested users are null, as
// the document says a server cuts the recursion.
func fullUser() *gen.User {
	return &gen.User{
		Id:                 1,
		EntryId:            "aaaaaaaa-bbbb-0000-cccc-dddddddddddd",
		Email:              "sally@example.com",
		FirstName:          "Sally",
		LastName:           "Smith",
		JobTitle:           ref("CEO"),
		DrataTermsAgreedAt: ref(ts),
		CreatedAt:          ts,
		UpdatedAt:          later,
		Roles:              []string{"ROLE", "ANOTHER_ROLE"},
		BackgroundChecks: []gen.BackgroundCheck{{
			Id: 1, UserId: 1, Status: "OK", CaseId: ref("abc123"), CaseInvitationId: ref("abc123"),
			ManualCheckDate:  &openapi_types.Date{Time: time.Date(2020, 7, 6, 0, 0, 0, 0, time.UTC)},
			ManuallyCheckUrl: ref("url.com"), Type: "CERTN", Source: "DRATA", ReportData: ref("string"),
			User: nil, OutOfScopeReason: ref("abc123"), OutOfScopeAt: ref(ts),
			InvitationEmail: ref("sally@example.com"), LinkedAt: ref(ts), CreatedAt: ts, UpdatedAt: ts,
		}},
		Identities: []gen.PersonIdentity{{
			Id: 1, IdentityId: "1a2b3c", Username: "Username", ConnectedAt: ref(ts), DisconnectedAt: nil,
			HasMfa: true, User: nil, Connection: ref(fullConnection(nil)), HasIdp: true,
			SecondaryEmail: ref("sally@example.com"), FirstName: ref("John"), LastName: ref("Doe"),
			StartedAt: ref(ts), SeparatedAt: nil, IsContractor: true, JobTitle: ref("Engineer"),
			ManagerId: ref("x00jk12-2312"), ManagerName: ref("string"),
		}},
		Documents: []gen.DocumentPage{{
			Data: []gen.Document{
				{Id: ref(int64(1)), Name: ref("Security Training"), Type: ref("SEC_TRAINING"),
					RenewalDate: &openapi_types.Date{Time: time.Date(2026, 10, 27, 0, 0, 0, 0, time.UTC)},
					CreatedAt:   ref(ts), UpdatedAt: ref(ts)},
				// Seed 000 also shows a document whose every field is null.
				{},
			},
			Page: 1, Limit: 10, Total: 100,
		}},
	}
}

func fullConnection(u *gen.User) gen.Connection {
	return gen.Connection{
		Id: "1", ClientType: "GOOGLE", State: "ACTIVE", Connected: false, ConnectedAt: ref(ts),
		FailedAt: nil, CompanyId: "12341234", AssignmentId: ref("FLk12AsS"), User: u,
		AccountId: ref("string"), ClientId: ref("abc123"), ClientAlias: ref("My-connection-alias-1"),
		ManuallyUpdatedAt: ref(ts), AliasUpdatedAt: ref(ts), DeletedAt: nil,
		RequestorId: ref("328d3016-71f3-4485-af20-06ce8044da18"), Product: &map[string]any{},
		WriteAccessEnabled: false, SourcePreference: ref("LABEL"), SecurityLabel: ref("Jira Security Label"),
		JqlQuery: ref(`project = IT AND type = "Offboarding"`), Authorized: true,
		Workspaces: []map[string]any{}, ProviderTypes: []int64{5}, Code: ref(int64(10010)), GroupLabel: ref("Everyone"),
	}
}

func fullInfrastructure() gen.InfrastructureIdentity {
	return gen.InfrastructureIdentity{
		Id: 1, IdentityId: "1a2b3c", Username: "Username", Email: ref("sally@example.com"),
		ConnectedAt: ref(ts), DisconnectedAt: ref(later), ServiceAccount: ref(ts),
		ServiceAccountReason: ref("This user is used to deploy code"),
		User:                 fullUser(), ServiceAccountDesignator: fullUser(), HasMfa: true,
		Connection: fullConnection(fullUser()), LastCheckedAt: ref(later), CreatedAt: ts, UpdatedAt: later,
		AdminAccess: ref(ts), DbAccess: ref(later),
	}
}

func fullVersionControl() gen.VersionControlIdentity {
	return gen.VersionControlIdentity{
		Id: 2, IdentityId: "octocat", Username: "octocat", Email: ref("sally@example.com"),
		ConnectedAt: ref(ts), DisconnectedAt: ref(later), ServiceAccount: ref(ts),
		ServiceAccountReason: ref("This user is used to deploy code"),
		User:                 fullUser(), ServiceAccountDesignator: fullUser(), HasMfa: true,
		Connection: fullConnection(fullUser()), LastCheckedAt: ref(later), CreatedAt: ts, UpdatedAt: later,
		WriteAccess: ref(ts), PushProductionCodeAccess: ref(later),
	}
}

// bareConnection has only what a connection cannot lack: its nullable
// fields are null and its arrays empty (not nil, which marshals as null).
func bareConnection() gen.Connection {
	return gen.Connection{
		Id: "7", ClientType: "AWS", State: "ACTIVE", Connected: true, CompanyId: "12341234",
		Authorized: true, Workspaces: []map[string]any{}, ProviderTypes: []int64{},
	}
}

func bareInfrastructure() gen.InfrastructureIdentity {
	return gen.InfrastructureIdentity{
		Id: 3, IdentityId: "AIDAEXAMPLE", Username: "deploy-bot", Connection: bareConnection(),
		CreatedAt: ts, UpdatedAt: ts,
	}
}

func bareVersionControl() gen.VersionControlIdentity {
	return gen.VersionControlIdentity{
		Id: 4, IdentityId: "12345", Username: "ci-bot", Connection: bareConnection(),
		CreatedAt: ts, UpdatedAt: ts,
	}
}

// wireJSON is the golden form: two-space indentation and a final newline.
func wireJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal %T: %v", v, err)
	}
	return append(b, '\n')
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) []byte {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return got
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\n got: %s\nwant: %s", path, got, want)
	}
	return want
}

// conforms checks body as a 200 response to method target.
func conforms(t *testing.T, method, target string, body []byte) {
	t.Helper()
	apitest.Conforms(t, apitest.Request{Method: method, URL: target},
		apitest.Response{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
}

// nullKeys lists the keys of a JSON object whose value is null.
func nullKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k, v := range m {
		if v == nil {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestWireIdentities(t *testing.T) {
	connect := map[string]string{
		"infrastructure":  "/public/user-identities/infrastructure/1/connect",
		"version-control": "/public/user-identities/version-control/1/connect",
	}
	for _, tc := range []struct {
		golden string
		family string
		value  any
		decode func([]byte) (any, error)
		// nulls are the keys that must be present with a null value.
		nulls []string
	}{
		{
			golden: "infrastructure_identity_full.json", family: "infrastructure", value: fullInfrastructure(),
			decode: decodeAs[gen.InfrastructureIdentity],
		},
		{
			golden: "infrastructure_identity_nulls.json", family: "infrastructure", value: bareInfrastructure(),
			decode: decodeAs[gen.InfrastructureIdentity],
			nulls: []string{"adminAccess", "connectedAt", "dbAccess", "disconnectedAt", "email", "lastCheckedAt",
				"serviceAccount", "serviceAccountDesignator", "serviceAccountReason", "user"},
		},
		{
			golden: "version_control_identity_full.json", family: "version-control", value: fullVersionControl(),
			decode: decodeAs[gen.VersionControlIdentity],
		},
		{
			golden: "version_control_identity_nulls.json", family: "version-control", value: bareVersionControl(),
			decode: decodeAs[gen.VersionControlIdentity],
			nulls: []string{"connectedAt", "disconnectedAt", "email", "lastCheckedAt", "pushProductionCodeAccess",
				"serviceAccount", "serviceAccountDesignator", "serviceAccountReason", "user", "writeAccess"},
		},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got := wireJSON(t, tc.value)
			want := golden(t, tc.golden, got)

			// Required nullable fields are sent as null: present, not
			// omitted, not a zero value.
			if gotNulls := nullKeys(t, got); !slices.Equal(gotNulls, tc.nulls) {
				t.Errorf("null keys = %v, want %v", gotNulls, tc.nulls)
			}
			for _, zero := range []string{"0001-01-01T00:00:00Z", `"adminAccess": 0`, `"user": {}`} {
				if bytes.Contains(got, []byte(zero)) {
					t.Errorf("the JSON contains the zero value %s", zero)
				}
			}

			// The golden file decodes to the same value and encodes to the
			// same bytes.
			decoded, err := tc.decode(want)
			if err != nil {
				t.Fatalf("decode %s: %v", tc.golden, err)
			}
			if !reflect.DeepEqual(decoded, tc.value) {
				t.Errorf("decoding %s gives\n%+v\nwant\n%+v", tc.golden, decoded, tc.value)
			}
			if again := wireJSON(t, decoded); !bytes.Equal(again, want) {
				t.Errorf("re-encoding %s differs:\n%s", tc.golden, again)
			}

			conforms(t, "PUT", connect[tc.family], got)
		})
	}
}

func decodeAs[T any](b []byte) (any, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(&v)
	return v, err
}

func TestWirePages(t *testing.T) {
	infra := gen.InfrastructureIdentityPage{
		Data: []gen.InfrastructureIdentity{fullInfrastructure(), bareInfrastructure()}, Page: 2, Limit: 2, Total: 5,
	}
	got := golden(t, "infrastructure_identity_page.json", wireJSON(t, infra))
	conforms(t, "GET", "/public/user-identities/infrastructure", got)

	empty := gen.VersionControlIdentityPage{Data: []gen.VersionControlIdentity{}, Page: 1, Limit: 20, Total: 0}
	got = golden(t, "version_control_identity_page_empty.json", wireJSON(t, empty))
	conforms(t, "GET", "/public/user-identities/version-control", got)
}

// A nil slice marshals as null, which the document does not allow for arrays:
// whoever builds these types for the wire must use empty slices. This pins
// the generator's behaviour and shows the validator catches the mistake.
func TestWireNilSlicesAreNotArrays(t *testing.T) {
	id := bareInfrastructure()
	id.Connection.Workspaces, id.Connection.ProviderTypes = nil, nil
	got := wireJSON(t, id)
	for _, key := range []string{`"workspaces": null`, `"providerTypes": null`} {
		if !bytes.Contains(got, []byte(key)) {
			t.Errorf("expected %s in %s", key, got)
		}
	}
	v := apitest.Validator(t)
	r := httptest.NewRequest("PUT", "/public/user-identities/infrastructure/1/toggle", nil)
	route, err := v.FindRoute(r)
	if err != nil {
		t.Fatal(err)
	}
	err = v.ValidateResponse(context.Background(), r, route, 200, http.Header{"Content-Type": {"application/json"}}, got)
	var re *contract.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("ValidateResponse = %v, want a *contract.ResponseError", err)
	}
	var paths []string
	for _, viol := range re.Violations {
		paths = append(paths, viol.Path)
	}
	slices.Sort(paths)
	if want := []string{"/connection/providerTypes", "/connection/workspaces"}; !slices.Equal(paths, want) {
		t.Errorf("violations at %v, want %v", paths, want)
	}
}

func TestWireRequestBodies(t *testing.T) {
	for _, tc := range []struct {
		golden string
		value  any
	}{
		{"connect_link.json", gen.ConnectRequest{UserId: ref(int64(5))}},
		// A nil UserId is sent as an explicit null (unlink), never omitted.
		{"connect_unlink.json", gen.ConnectRequest{UserId: nil}},
		{"infrastructure_toggle.json", gen.InfrastructureToggleRequest{Toggle: true, ToggleField: ref(gen.InfrastructureToggleFieldINFRASTRUCTUREDBACCESS)}},
		// Without toggleField the key is left out (the server's default applies).
		{"version_control_toggle_default.json", gen.VersionControlToggleRequest{Toggle: false}},
		{"service_account.json", gen.ServiceAccountRequest{ServiceAccount: true, ServiceAccountReason: "This account is used to deploy"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			golden(t, tc.golden, wireJSON(t, tc.value))
		})
	}
}

// `{}` and `{"userId": null}` decode to the same Go value, so the handler
// cannot tell "forgot the field" from "unlink". The request validator can,
// and the server relies on it.
func TestWireConnectBodyNeedsValidation(t *testing.T) {
	decode := func(body string) gen.ConnectRequest {
		t.Helper()
		var req gen.ConnectRequest
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		return req
	}
	if a, b := decode(`{}`), decode(`{"userId": null}`); a.UserId != nil || b.UserId != nil {
		t.Fatalf("UserId of {} = %v, of {\"userId\": null} = %v; want both nil", a.UserId, b.UserId)
	}
	if got := decode(`{"userId": 5}`).UserId; got == nil || *got != 5 {
		t.Fatalf(`UserId of {"userId": 5} = %v, want 5`, got)
	}

	v := apitest.Validator(t)
	for _, family := range []string{"infrastructure", "version-control"} {
		for _, tc := range []struct {
			body      string
			wantField string // "": accepted
		}{
			{`{}`, "/userId"},
			{`{"userId": null}`, ""},
			{`{"userId": 5}`, ""},
			{`{"userId": 1, "extra": 1}`, "/extra"},
		} {
			t.Run(family+" "+tc.body, func(t *testing.T) {
				r := httptest.NewRequest("PUT", "/public/user-identities/"+family+"/9/connect", strings.NewReader(tc.body))
				r.Header.Set("Content-Type", "application/json")
				route, err := v.FindRoute(r)
				if err != nil {
					t.Fatal(err)
				}
				err = v.ValidateRequest(context.Background(), r, route)
				if tc.wantField == "" {
					if err != nil {
						t.Fatalf("ValidateRequest(%s) = %v, want nil", tc.body, err)
					}
					return
				}
				var re *contract.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("ValidateRequest(%s) = %v, want a *contract.RequestError", tc.body, err)
				}
				if !slices.ContainsFunc(re.Fields, func(f contract.FieldError) bool {
					return f.Location == "body" && f.Field == tc.wantField
				}) {
					t.Errorf("ValidateRequest(%s) fields = %+v, want one at body %s", tc.body, re.Fields, tc.wantField)
				}
			})
		}
	}
}
