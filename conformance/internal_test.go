package conformance

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	embedded "github.com/identities-go/identities/api"
)

// fakeClock records the waits it is asked for and lets no time pass but
// theirs.
type fakeClock struct {
	now   time.Time
	waits []time.Duration
}

func (f *fakeClock) Now() time.Time { return f.now }

func (f *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return nil
}

func rateHeaders(limit, remaining, reset string, extra ...string) http.Header {
	h := http.Header{"X-Ratelimit-Limit": {limit}, "X-Ratelimit-Remaining": {remaining}, "X-Ratelimit-Reset": {reset}}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	return h
}

func TestCheckPacerFollowsTheServersHeaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fc := &fakeClock{now: time.Unix(1_000_000, 0)}
	p := newPacer(fc, 0)

	// Room left: no wait.
	_, again := p.observe(rateHeaders("500", "120", "45"), 200, 0)
	require.False(t, again)
	require.NoError(t, p.wait(ctx))
	assert.Empty(t, fc.waits)

	// The budget is spent: the next request waits for one to come back,
	// the reset time over the requests spent.
	p.observe(rateHeaders("500", "0", "60"), 200, 0)
	require.NoError(t, p.wait(ctx))
	require.Len(t, fc.waits, 1)
	assert.Equal(t, 60*time.Second/500, fc.waits[0])

	// A 429 waits its Retry-After, and is sent again.
	wait, again := p.observe(rateHeaders("500", "0", "60", "Retry-After", "7"), http.StatusTooManyRequests, 0)
	assert.True(t, again)
	assert.Equal(t, 7*time.Second, wait)
	require.NoError(t, p.wait(ctx))
	assert.Equal(t, 7*time.Second, fc.waits[1])

	// Retry-After as a date; none at all backs off; not for ever.
	_, _ = p.observe(http.Header{"Retry-After": {fc.now.Add(3 * time.Second).UTC().Format(http.TimeFormat)}}, http.StatusTooManyRequests, 1)
	require.NoError(t, p.wait(ctx))
	assert.InDelta(t, 3*time.Second, fc.waits[2], float64(time.Second), "an HTTP date counts whole seconds")
	wait, again = p.observe(http.Header{}, http.StatusTooManyRequests, 2)
	assert.True(t, again)
	assert.Equal(t, 4*time.Second, wait)
	_, again = p.observe(http.Header{}, http.StatusTooManyRequests, maxRetries)
	assert.False(t, again)
}

func TestCheckPacerCapsTheRate(t *testing.T) {
	t.Parallel()
	fc := &fakeClock{now: time.Unix(1_000_000, 0)}
	p := newPacer(fc, 120) // two a second
	for range 3 {
		require.NoError(t, p.wait(context.Background()))
	}
	assert.Equal(t, []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}, fc.waits)
}

// TestCheckModelComesFromTheDocument: operations, parameters, enum
// members, bounds, sort keys, filters and PUT semantics are read from
// the document, and follow it when it changes.
func TestCheckModelComesFromTheDocument(t *testing.T) {
	t.Parallel()
	a, err := loadAPI(embedded.Spec, "/public")
	require.NoError(t, err)
	require.Len(t, a.families, 2)
	infra := a.family("infrastructure")
	require.NotNil(t, infra)
	assert.Equal(t, "listInfrastructureIdentities", infra.listOp)
	assert.EqualValues(t, 20, *infra.limit.def)
	assert.EqualValues(t, 50, *infra.limit.max)
	assert.Equal(t, "USERNAME", infra.defaultSort)
	assert.Equal(t, []string{"/public"}, a.serverPaths)
	assert.True(t, a.emptyFirst)
	assert.Equal(t, map[string]bool{"connectedAt": true, "disconnectedAt": true, "updatedAt": true}, a.setByAPI)
	keys := map[string]string{}
	for _, k := range infra.sorts {
		keys[k.member] = k.describe()
	}
	assert.Equal(t, "user.firstName + user.lastName", keys["USER"])
	assert.Equal(t, "connection.clientAlias", keys["CLIENT_ALIAS"])
	assert.Equal(t, "connection.state", keys["CONNECTION_STATUS"])
	assert.Equal(t, "pushProductionCodeAccess", a.family("version-control").sortKey("PUSH_PROD_CODE_ACCESS").describe())
	var filters []string
	for _, fl := range infra.filters {
		filters = append(filters, fl.param+": "+fl.rule())
	}
	assert.Contains(t, strings.Join(filters, "\n"), "`q` returns only, and all, the identities whose identityId, username, email contains it")
	assert.Contains(t, strings.Join(filters, "\n"), "`connectionId` returns only, and all, the identities whose connection.id")
	kinds := map[string]mutKind{}
	for _, m := range infra.mutations {
		kinds[m.opID] = m.kind
	}
	assert.Equal(t, map[string]mutKind{"connectInfrastructureIdentity": mutLink, "toggleInfrastructureIdentity": mutFlag, "setInfrastructureServiceAccount": mutMark}, kinds)

	// A newer document: a sort by a field, one by nothing the identity
	// holds, a larger page.
	doc := strings.Replace(string(embedded.Spec), "        - CONNECTION_STATUS\n    VersionControlSort:", "        - CONNECTION_STATUS\n        - LAST_CHECKED_AT\n        - RISK_SCORE\n    VersionControlSort:", 1)
	doc = strings.Replace(doc, "        maximum: 50\n        default: 20", "        maximum: 100\n        default: 25", 1)
	b, err := loadAPI([]byte(doc), "/public")
	require.NoError(t, err)
	nf := b.family("infrastructure")
	assert.Equal(t, "lastCheckedAt", nf.sortKey("LAST_CHECKED_AT").describe())
	assert.Equal(t, keyTime, nf.sortKey("LAST_CHECKED_AT").kind)
	assert.Nil(t, nf.sortKey("RISK_SCORE"), "a sort the document does not explain is not checked for order")
	assert.Equal(t, 100, nf.maxLimit())
	assert.EqualValues(t, 25, nf.defaultLimit())
}

// TestCheckCurlLinesNameKeysAndQuote: a curl line names the key by its
// variable and survives quotes in the body.
func TestCheckCurlLinesNameKeysAndQuote(t *testing.T) {
	t.Parallel()
	env := [3]string{"DRATA_API_TOKEN", "DRATA_READ_API_TOKEN", "DRATA_OTHER_API_TOKEN"}
	r := request{method: "PUT", path: "/user-identities/infrastructure/1/service-account", body: []byte(`{"serviceAccountReason":"it's a bot"}`), auth: readAuth}
	assert.Equal(t, `curl -sS -g -X PUT -H "Authorization: Bearer $DRATA_READ_API_TOKEN" -H 'Content-Type: application/json' --data-raw '{"serviceAccountReason":"it'\''s a bot"}' 'http://h/public/user-identities/infrastructure/1/service-account'`,
		r.curl("http://h/public", env))
	g := get("/user-identities/infrastructure", url.Values{"q": {"a b"}, "limit": {"5"}}).with(noAuth)
	assert.Equal(t, `curl -sS -g 'http://h/public/user-identities/infrastructure?limit=5&q=a+b'`, g.curl("http://h/public", env))
}
