package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/gen"
)

// fixtureTime is the RFC 3339 timestamp of the newer seed samples.
var fixtureTime = time.Date(2025, 7, 1, 16, 45, 55, 246_000_000, time.UTC)

// fixtureConnection is a conforming connection: every required field, the
// nullable ones null, the arrays empty.
func fixtureConnection() gen.Connection {
	return gen.Connection{
		Id:            "1",
		ClientType:    "AWS",
		State:         "ACTIVE",
		Connected:     true,
		ConnectedAt:   &fixtureTime,
		CompanyId:     "12341234",
		Workspaces:    []map[string]any{},
		ProviderTypes: []int64{},
	}
}

// fixtureUser is a conforming Drata user with no nested records.
func fixtureUser(id int64) *gen.User {
	return &gen.User{
		Id:               id,
		EntryId:          "aaaaaaaa-bbbb-0000-cccc-dddddddddddd",
		Email:            "sally@example.com",
		FirstName:        "Sally",
		LastName:         "Smith",
		CreatedAt:        fixtureTime,
		UpdatedAt:        fixtureTime,
		Roles:            []string{"EMPLOYEE"},
		BackgroundChecks: []gen.BackgroundCheck{},
		Identities:       []gen.PersonIdentity{},
		Documents:        []gen.DocumentPage{},
	}
}

// infraIdentity is a conforming, unlinked infrastructure identity.
func infraIdentity(id int64) gen.InfrastructureIdentity {
	return gen.InfrastructureIdentity{
		Id:         id,
		IdentityId: "AIDA" + string(rune('A'+id%26)),
		Username:   "user",
		Connection: fixtureConnection(),
		CreatedAt:  fixtureTime,
		UpdatedAt:  fixtureTime,
	}
}

// vcIdentity is a conforming, unlinked version control identity.
func vcIdentity(id int64) gen.VersionControlIdentity {
	conn := fixtureConnection()
	conn.ClientType = "GITHUB"
	return gen.VersionControlIdentity{
		Id:         id,
		IdentityId: "gh-" + string(rune('a'+id%26)),
		Username:   "octocat",
		Connection: conn,
		CreatedAt:  fixtureTime,
		UpdatedAt:  fixtureTime,
	}
}

func infraPage(items ...gen.InfrastructureIdentity) gen.InfrastructureIdentityPage {
	return gen.InfrastructureIdentityPage{Data: append([]gen.InfrastructureIdentity{}, items...), Page: 1, Limit: 20, Total: int64(len(items))}
}

func vcPage(items ...gen.VersionControlIdentity) gen.VersionControlIdentityPage {
	return gen.VersionControlIdentityPage{Data: append([]gen.VersionControlIdentity{}, items...), Page: 1, Limit: 20, Total: int64(len(items))}
}

// TestFixturesConform proves with the contract validator that the fixtures
// the other tests serve are conforming responses, unlinked and linked.
func TestFixturesConform(t *testing.T) {
	t.Parallel()
	linked := infraIdentity(2)
	linked.User, linked.ServiceAccountDesignator = fixtureUser(7), fixtureUser(8)
	linked.AdminAccess, linked.ServiceAccount = &fixtureTime, &fixtureTime
	reason := "deploys"
	linked.ServiceAccountReason = &reason
	linkedVC := vcIdentity(3)
	linkedVC.User = fixtureUser(7)
	linkedVC.Connection.User = fixtureUser(9)

	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"infrastructure page", http.MethodGet, "/user-identities/infrastructure", infraPage(infraIdentity(1), linked)},
		{"infrastructure identity", http.MethodPut, "/user-identities/infrastructure/1/connect", infraIdentity(1)},
		{"linked infrastructure identity", http.MethodPut, "/user-identities/infrastructure/2/service-account", linked},
		{"version control page", http.MethodGet, "/user-identities/version-control", vcPage(vcIdentity(1), linkedVC)},
		{"version control identity", http.MethodPut, "/user-identities/version-control/3/toggle", linkedVC},
		{"empty page", http.MethodGet, "/user-identities/version-control", vcPage()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := validator()
			req := httptest.NewRequest(tc.method, "http://example.test"+basePath+tc.path, nil)
			route, err := v.FindRoute(req)
			require.NoError(t, err)
			body, err := json.Marshal(tc.body)
			require.NoError(t, err)
			h := http.Header{"Content-Type": {"application/json"}}
			assert.NoError(t, v.ValidateResponse(context.Background(), req, route, http.StatusOK, h, body), "fixture does not conform:\n%s", body)
		})
	}
}
