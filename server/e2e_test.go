package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

func mustStatus(t *testing.T, what string, resp *http.Response, body []byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", what, resp.StatusCode, body)
	}
}

// TestEndToEndInfrastructure drives the four infrastructure operations
// through the generated client, with strict response validation on the
// server, and reads each change back through the list, on each store.
func TestEndToEndInfrastructure(t *testing.T) {
	t.Parallel()
	eachStore(t, testEndToEndInfrastructure)
}

func testEndToEndInfrastructure(t *testing.T, kind testserver.StoreKind) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	clock := start
	e := testserver.Start(t, testserver.Options{Store: kind, Now: func() time.Time { return clock }})
	c := apitest.Client(t, e.URL, e.Keys.ReadWrite, nil)
	ctx := context.Background()
	id := e.Identities(e.CompanyA, store.Infrastructure)[0]

	readBack := func() gen.InfrastructureIdentity {
		t.Helper()
		var ident string
		for _, it := range e.Data.Identities {
			if it.ID == id {
				ident = it.IdentityID
			}
		}
		resp, err := c.ListInfrastructureIdentitiesWithResponse(ctx, &gen.ListInfrastructureIdentitiesParams{Q: &ident})
		mustStatus(t, "list", resp.HTTPResponse, resp.Body, err)
		if len(resp.JSON200.Data) != 1 || resp.JSON200.Total != 1 {
			t.Fatalf("q=%s found %d (total %d)", ident, len(resp.JSON200.Data), resp.JSON200.Total)
		}
		return resp.JSON200.Data[0]
	}

	// connect
	user := e.OtherUserA
	cr, err := c.ConnectInfrastructureIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: &user})
	mustStatus(t, "connect", cr.HTTPResponse, cr.Body, err)
	got := readBack()
	if got.User == nil || got.User.Id != user || !got.ConnectedAt.Equal(clock) || got.DisconnectedAt != nil || !got.UpdatedAt.Equal(clock) {
		t.Fatalf("after connect: user %v connectedAt %v disconnectedAt %v updatedAt %v", got.User, got.ConnectedAt, got.DisconnectedAt, got.UpdatedAt)
	}
	// Repeating it changes nothing, not even updatedAt.
	clock = clock.Add(time.Minute)
	again, err := c.ConnectInfrastructureIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: &user})
	mustStatus(t, "connect again", again.HTTPResponse, again.Body, err)
	if string(again.Body) != string(cr.Body) {
		t.Fatal("repeating connect returned a different body")
	}

	// disconnect
	dr, err := c.ConnectInfrastructureIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: nil})
	mustStatus(t, "disconnect", dr.HTTPResponse, dr.Body, err)
	got = readBack()
	if got.User != nil || !got.DisconnectedAt.Equal(clock) || !got.ConnectedAt.Equal(start) {
		t.Fatalf("after disconnect: user %v connectedAt %v disconnectedAt %v", got.User, got.ConnectedAt, got.DisconnectedAt)
	}
	// Linking again clears disconnectedAt.
	clock = clock.Add(time.Minute)
	cr, err = c.ConnectInfrastructureIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: &user})
	mustStatus(t, "reconnect", cr.HTTPResponse, cr.Body, err)
	if got = readBack(); got.DisconnectedAt != nil || !got.ConnectedAt.Equal(clock) {
		t.Fatalf("after reconnect: connectedAt %v disconnectedAt %v", got.ConnectedAt, got.DisconnectedAt)
	}

	// toggle: db access on, then admin access (the default field) on and off.
	clock = clock.Add(time.Minute)
	db := gen.InfrastructureToggleFieldINFRASTRUCTUREDBACCESS
	tr, err := c.ToggleInfrastructureIdentityWithResponse(ctx, id, gen.InfrastructureToggleRequest{Toggle: true, ToggleField: &db})
	mustStatus(t, "toggle db", tr.HTTPResponse, tr.Body, err)
	tr, err = c.ToggleInfrastructureIdentityWithResponse(ctx, id, gen.InfrastructureToggleRequest{Toggle: false})
	mustStatus(t, "toggle admin off", tr.HTTPResponse, tr.Body, err)
	got = readBack()
	if got.DbAccess == nil || got.AdminAccess != nil {
		t.Fatalf("after toggles: db %v admin %v", got.DbAccess, got.AdminAccess)
	}
	before := *got.DbAccess
	clock = clock.Add(time.Minute)
	tr, err = c.ToggleInfrastructureIdentityWithResponse(ctx, id, gen.InfrastructureToggleRequest{Toggle: true, ToggleField: &db})
	mustStatus(t, "toggle db again", tr.HTTPResponse, tr.Body, err)
	if got = readBack(); !got.DbAccess.Equal(before) {
		t.Fatalf("setting a set flag moved its time from %v to %v", before, got.DbAccess)
	}
	tr, err = c.ToggleInfrastructureIdentityWithResponse(ctx, id, gen.InfrastructureToggleRequest{Toggle: true})
	mustStatus(t, "toggle admin on", tr.HTTPResponse, tr.Body, err)
	if got = readBack(); got.AdminAccess == nil || !got.AdminAccess.Equal(clock) {
		t.Fatalf("toggle without toggleField did not set admin access: %v", got.AdminAccess)
	}

	// service account: mark, then unmark.
	clock = clock.Add(time.Minute)
	sr, err := c.SetInfrastructureServiceAccountWithResponse(ctx, id, gen.ServiceAccountRequest{ServiceAccount: true, ServiceAccountReason: "runs the deploys"})
	mustStatus(t, "mark", sr.HTTPResponse, sr.Body, err)
	got = readBack()
	if got.ServiceAccount == nil || !got.ServiceAccount.Equal(clock) || got.ServiceAccountReason == nil || *got.ServiceAccountReason != "runs the deploys" ||
		got.ServiceAccountDesignator == nil || got.ServiceAccountDesignator.Id != e.UserA {
		t.Fatalf("after mark: %v %v %v", got.ServiceAccount, got.ServiceAccountReason, got.ServiceAccountDesignator)
	}
	sr, err = c.SetInfrastructureServiceAccountWithResponse(ctx, id, gen.ServiceAccountRequest{ServiceAccount: false, ServiceAccountReason: "not any more"})
	mustStatus(t, "unmark", sr.HTTPResponse, sr.Body, err)
	got = readBack()
	if got.ServiceAccount != nil || got.ServiceAccountReason != nil || got.ServiceAccountDesignator != nil {
		t.Fatalf("after unmark: %v %v %v", got.ServiceAccount, got.ServiceAccountReason, got.ServiceAccountDesignator)
	}
	if !got.UpdatedAt.Equal(clock) {
		t.Fatalf("updatedAt %v, want %v", got.UpdatedAt, clock)
	}
}

// TestEndToEndVersionControl does the same for the version control family.
func TestEndToEndVersionControl(t *testing.T) {
	t.Parallel()
	eachStore(t, testEndToEndVersionControl)
}

func testEndToEndVersionControl(t *testing.T, kind testserver.StoreKind) {
	e := testserver.Start(t, testserver.Options{Store: kind})
	c := apitest.Client(t, e.URL, e.Keys.ReadWrite, nil)
	ctx := context.Background()
	id := e.Identities(e.CompanyA, store.VersionControl)[1]
	user := e.UserA

	cr, err := c.ConnectVersionControlIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: &user})
	mustStatus(t, "connect", cr.HTTPResponse, cr.Body, err)
	push := gen.VersionControlToggleFieldVERSIONCONTROLPUSHPRODCODEACCESS
	tr, err := c.ToggleVersionControlIdentityWithResponse(ctx, id, gen.VersionControlToggleRequest{Toggle: true, ToggleField: &push})
	mustStatus(t, "toggle", tr.HTTPResponse, tr.Body, err)
	sr, err := c.SetVersionControlServiceAccountWithResponse(ctx, id, gen.ServiceAccountRequest{ServiceAccount: true, ServiceAccountReason: "ci"})
	mustStatus(t, "mark", sr.HTTPResponse, sr.Body, err)

	sortByID := gen.VersionControlSortIDENTITYID
	found := false
	for page := int64(1); !found; page++ {
		limit := int64(50)
		lr, err := c.ListVersionControlIdentitiesWithResponse(ctx, &gen.ListVersionControlIdentitiesParams{Page: &page, Limit: &limit, Sort: &sortByID})
		mustStatus(t, "list", lr.HTTPResponse, lr.Body, err)
		if len(lr.JSON200.Data) == 0 {
			t.Fatalf("identity %d not listed", id)
		}
		for _, it := range lr.JSON200.Data {
			if it.Id != id {
				continue
			}
			found = true
			if it.User == nil || it.User.Id != user || it.PushProductionCodeAccess == nil || it.ServiceAccount == nil || *it.ServiceAccountReason != "ci" {
				t.Fatalf("read back: user %v push %v sa %v", it.User, it.PushProductionCodeAccess, it.ServiceAccount)
			}
			if it.Connection.User == nil || len(it.Connection.User.Identities) == 0 {
				t.Fatal("connection owner not nested")
			}
			for _, pi := range it.User.Identities {
				if pi.User != nil || pi.Connection == nil || pi.Connection.User != nil {
					t.Fatal("recursion not cut as documented")
				}
			}
		}
	}
}

// TestTenantIsolation: another company's identities and users behave
// exactly like missing ones, on every PUT, in q and in connectionId, on
// each store.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	eachStore(t, testTenantIsolation)
}

func testTenantIsolation(t *testing.T, kind testserver.StoreKind) {
	e := testserver.Start(t, testserver.Options{Store: kind})
	for _, family := range []string{"infrastructure", "version-control"} {
		t.Run(family, func(t *testing.T) {
			foreign := e.Identities(e.CompanyB, store.Family(family))[0]
			own := e.Identities(e.CompanyA, store.Family(family))[0]
			for _, op := range operations(e.OtherUserA) {
				if op.family != family || op.method != http.MethodPut {
					continue
				}
				missing := call(t, e.URL, op.method, op.path(987654321), e.Keys.ReadWrite, op.body)
				other := call(t, e.URL, op.method, op.path(foreign), e.Keys.ReadWrite, op.body)
				wantError(t, other, http.StatusNotFound, "NOT_FOUND")
				if missing.json["message"] != other.json["message"] {
					t.Fatalf("%s: foreign id answered %q, missing id %q", op.name, other.json["message"], missing.json["message"])
				}
			}
			// A user of another company cannot be linked.
			r := call(t, e.URL, http.MethodPut, fmt.Sprintf("/user-identities/%s/%d/connect", family, own), e.Keys.ReadWrite, map[string]any{"userId": e.UserB})
			wantError(t, r, http.StatusNotFound, "NOT_FOUND")
			r2 := call(t, e.URL, http.MethodPut, fmt.Sprintf("/user-identities/%s/%d/connect", family, own), e.Keys.ReadWrite, map[string]any{"userId": 987654321})
			if r.json["message"] != r2.json["message"] {
				t.Fatalf("foreign user answered %q, missing user %q", r.json["message"], r2.json["message"])
			}

			var foreignIdent string
			var foreignConn int64
			for _, it := range e.Data.Identities {
				if it.ID == foreign {
					foreignIdent, foreignConn = it.IdentityID, it.ConnectionID
				}
			}
			for _, q := range []string{"?q=" + foreignIdent, fmt.Sprintf("?connectionId=%d", foreignConn)} {
				r := call(t, e.URL, http.MethodGet, "/user-identities/"+family+q, e.Keys.ReadWrite, nil)
				if r.status != http.StatusOK || r.json["total"].(float64) != 0 || len(r.json["data"].([]any)) != 0 {
					t.Fatalf("%s leaks another company's identity: %s", q, r.raw)
				}
			}
			r = call(t, e.URL, http.MethodGet, "/user-identities/"+family+"?limit=50", e.Keys.OtherCompany, nil)
			for _, x := range r.json["data"].([]any) {
				if int64(x.(map[string]any)["id"].(float64)) == own {
					t.Fatal("company B sees company A's identity")
				}
			}
		})
	}
}
