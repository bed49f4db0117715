package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/store"
)

// runOK runs a command in process and returns its stdout; it must succeed.
func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	require.Equal(t, exitOK, run(t.Context(), args, &out, &errOut), "identities %s\n%s", strings.Join(args, " "), errOut.String())
	return out.String()
}

func listKeys(t *testing.T, db string) []store.APIKey {
	t.Helper()
	var keys []store.APIKey
	raw := runOK(t, "keys", "list", "--db", db, "--json")
	require.NoError(t, json.Unmarshal([]byte(raw), &keys))
	if len(keys) > 0 {
		require.Contains(t, raw, `"companyId":`, "keys list --json speaks the API's camelCase")
	}
	return keys
}

var (
	demoToken = regexp.MustCompile(`export DRATA_API_TOKEN=(\S+)`)
	demoCurl  = regexp.MustCompile(`curl -s -H "Authorization: Bearer \$DRATA_API_TOKEN" '([^']+)'`)
	demoActor = regexp.MustCompile(`\(company (\d+), user (\d+)`)
)

// demoGet runs the curl line serve printed with token and returns the status
// and the number of identities listed.
func demoGet(t *testing.T, out, token string) (int, int) {
	t.Helper()
	curl := demoCurl.FindStringSubmatch(out)
	require.NotNil(t, curl, "no curl line:\n%s", out)
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: curl[1], Key: token})
	var page struct{ Data []json.RawMessage }
	_ = json.Unmarshal(resp.Body, &page)
	return resp.Status, len(page.Data)
}

// TestServeDemo: --demo seeds an empty database and prints a key that
// works with the curl line it prints; restarted on that database it seeds
// nothing and mints no key unless --new-key asks, and a new key acts as a
// company and user of the database.
func TestServeDemo(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "demo.db")

	p, _ := serveInProcess(t, "--db", db, "--demo")
	first := p.stdout.waitFor(t, "curl ")
	token := demoToken.FindStringSubmatch(first)
	require.NotNil(t, token, "serve --demo printed no key:\n%s", first)
	status, n := demoGet(t, first, token[1])
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 2, n, "the demo's curl asks for 2 identities")
	actor := demoActor.FindStringSubmatch(first)
	require.NotNil(t, actor, first)
	p.stop(t)

	p, _ = serveInProcess(t, "--db", db, "--demo")
	again := p.stdout.waitFor(t, "curl ")
	assert.NotContains(t, again, "DRATA_API_TOKEN=", "a restart minted a key")
	assert.Contains(t, again, "key "+token[1][:10]+"…", "the restart names the key in place")
	assert.Contains(t, p.stderr.String(), "not seeding")
	status, _ = demoGet(t, again, token[1])
	assert.Equal(t, http.StatusOK, status, "the first key after a restart")
	p.stop(t)
	require.Len(t, listKeys(t, db), 1)

	p, _ = serveInProcess(t, "--db", db, "--demo", "--new-key")
	renewed := p.stdout.waitFor(t, "curl ")
	token2 := demoToken.FindStringSubmatch(renewed)
	require.NotNil(t, token2, "--new-key printed no key:\n%s", renewed)
	assert.NotEqual(t, token[1], token2[1])
	assert.Equal(t, actor, demoActor.FindStringSubmatch(renewed), "the new key acts as the database's demo company and user")
	status, _ = demoGet(t, renewed, token2[1])
	assert.Equal(t, http.StatusOK, status)
	p.stop(t)
	require.Len(t, listKeys(t, db), 2)
}

// TestServeDemoOnOtherData: on a database seeded otherwise, whose only key is
// revoked, --demo issues a key as that key's company and user (not as the
// first company of the demo data it would have seeded), and on a database
// without keys it tells how to make one.
func TestServeDemoOnOtherData(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "other.db")
	runOK(t, "seed", "--db", db, "--companies", "2", "--identities", "3", "--rand-seed", "9")

	p, _ := serveInProcess(t, "--db", db, "--demo")
	out := p.stdout.waitFor(t, "keys create")
	assert.NotContains(t, out, "DRATA_API_TOKEN=")
	p.stop(t)
	require.Empty(t, listKeys(t, db))

	runOK(t, "keys", "create", "--db", db, "--company", "2")
	old := listKeys(t, db)[0]
	runOK(t, "keys", "revoke", "--db", db, "--id", "1")

	p, _ = serveInProcess(t, "--db", db, "--demo")
	out = p.stdout.waitFor(t, "curl ")
	require.Regexp(t, demoToken, out)
	assert.Equal(t, []string{"(company 2, user " + itoa(old.UserID), "2", itoa(old.UserID)}, demoActor.FindStringSubmatch(out))
	p.stop(t)
	keys := listKeys(t, db)
	require.Len(t, keys, 2)
	assert.Equal(t, [2]int64{old.CompanyID, old.UserID}, [2]int64{keys[0].CompanyID, keys[0].UserID})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestServeOnABusyPortTouchesNoData: serve --demo on a port already taken
// fails with one line before it creates the database or mints a key.
func TestServeOnABusyPortTouchesNoData(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "busy.db")
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve", "--demo", "--db", db, "--addr", ln.Addr().String()}, &out, &errOut)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut.String(), "listen")
	assert.Empty(t, out.String(), "no key printed")
	_, err = os.Stat(db)
	assert.ErrorIs(t, err, os.ErrNotExist, "the database was created")
}
