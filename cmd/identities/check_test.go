package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
)

// runCheck runs `identities check` with args and returns the exit code,
// stdout and stderr.
func runCheck(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"check"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCheckCommandPassesOurServer: the command passes our server, shows
// progress on stderr and prints no key. (The whole default run is
// conformance's TestCheckOurServerPassesEveryReadOnlyCheck.)
func TestCheckCommandPassesOurServer(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	code, out, errOut := runCheck(t, "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--only", "paging,sort.order,auth", "--budget", "0")
	require.Equal(t, exitOK, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "PASS: no check failed")
	assert.Regexp(t, `PASS  sort.order +\d+ passed`, out)
	assert.Contains(t, errOut, "checking paging", "progress goes to stderr")
	assert.NotContains(t, out+errOut, e.Keys.ReadWrite, "the key is printed")
}

// TestCheckCommandFailsABrokenServer: a server that takes PUTs without a
// key fails, in JSON, under auth.missing-token, with exit code 1.
func TestCheckCommandFailsABrokenServer(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	real := e.Server.Config.Handler
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
		}
		real.ServeHTTP(w, r)
	}))
	defer broken.Close()
	code, out, errOut := runCheck(t, "--base-url", broken.URL+"/public", "--token", e.Keys.ReadWrite, "--only", "auth", "--format", "json", "--quiet")
	require.Equal(t, exitFailure, code, errOut)
	assert.Empty(t, strings.TrimSpace(errOut[:strings.LastIndex(errOut, "identities check:")]), "--quiet prints only the last line")
	var report struct {
		Passed bool
		Checks []struct {
			Name     string
			Failed   int
			Findings []struct{ Curl string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report), "--format json is not JSON")
	require.False(t, report.Passed)
	found := false
	for _, c := range report.Checks {
		if c.Name == "auth.missing-token" {
			found = c.Failed > 0 && !strings.Contains(c.Findings[0].Curl, "Authorization")
		}
	}
	assert.True(t, found, out)
}

// TestCheckCommandExplainsWhatStopsIt: a rejected key, a base URL without
// the API, nothing listening: one line each, exit 1 or 3, quickly.
func TestCheckCommandExplainsWhatStopsIt(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())

	code, out, errOut := runCheck(t, "--base-url", e.URL, "--token", "not-a-key")
	assert.Equal(t, exitFailure, code)
	assert.Empty(t, out)
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	assert.Contains(t, errOut, "the token was rejected")

	code, _, errOut = runCheck(t, "--base-url", e.Server.URL, "--token", e.Keys.ReadWrite, "--quiet")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "try --base-url "+e.Server.URL+"/public")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)

	addr := apitest.RefusingAddr(t)
	start := time.Now()
	code, _, errOut = runCheck(t, "--base-url", "http://"+addr+"/public", "--token", "x")
	assert.Equal(t, exitNetwork, code, errOut)
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.Contains(t, errOut, "nothing answers at http://"+addr+"/public")
}

func TestCheckCommandUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{},
		{"--base-url", "http://127.0.0.1:1/public", "--token", "x", "--format", "xml"},
		{"--base-url", "http://127.0.0.1:1/public", "--token", "x", "--write"},
		{"--base-url", "http://127.0.0.1:1/public", "--token", "x", "--infrastructure-id", "3"},
		{"--base-url", "http://127.0.0.1:1/public", "--token", "x", "--budget", "-1"},
		{"--base-url", "/public", "--token", "x"},
	} {
		code, _, errOut := runCheck(t, args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errOut)
	}
	if os.Getenv("DRATA_API_TOKEN") == "" {
		code, _, errOut := runCheck(t, "--base-url", "http://127.0.0.1:1/public")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "DRATA_API_TOKEN")
	}
	if code := run(context.Background(), []string{"proxy"}, io.Discard, io.Discard); code != exitUsage {
		t.Errorf("proxy without --upstream: exit %d, want %d", code, exitUsage)
	}
	code, _, help := runCheck(t, "-h")
	assert.Equal(t, exitOK, code)
	for _, want := range []string{"Exit codes:", "3  the server could not be reached", "-seed uint", "-budget int", "-read-token", "-other-token", "-only"} {
		assert.Contains(t, help, want)
	}
}

// TestCheckCommandListsTheChecks: --list prints each check of the
// document with its rule.
func TestCheckCommandListsTheChecks(t *testing.T) {
	t.Parallel()
	code, out, _ := runCheck(t, "--list")
	require.Equal(t, exitOK, code)
	for _, name := range []string{"paging.limit", "sort.order", "filter.clientType", "auth.tenant-isolation", "write.restored", "input.negative"} {
		assert.Contains(t, out, name)
	}
}

// TestCheckCommandUsesTheGivenSpec: --spec swaps the document without a
// rebuild. A document that caps total at 3 makes our server's pages of 8
// identities violations at /total.
func TestCheckCommandUsesTheGivenSpec(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	doc := strings.Replace(string(api.Spec), "      minimum: 0\n      description: How many items match, on all pages.",
		"      minimum: 0\n      maximum: 3\n      description: How many items match, on all pages.", 1)
	require.NotEqual(t, string(api.Spec), doc, "the document no longer has the Total schema this test edits")
	specPath := filepath.Join(t.TempDir(), "older.yaml")
	require.NoError(t, os.WriteFile(specPath, []byte(doc), 0o600))
	code, out, _ := runCheck(t, "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--only", "contract", "--spec", specPath, "--quiet")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "/total: number must be at most 3")
	assert.Contains(t, out, "("+specPath+")")

	code, _, _ = runCheck(t, "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--spec", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, exitFailure, code, "a missing --spec file")
}

// TestCheckCommandWritesJUnit: --format junit is JUnit XML.
func TestCheckCommandWritesJUnit(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	code, out, errOut := runCheck(t, "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--only", "paging", "--format", "junit", "--quiet")
	require.Equal(t, exitOK, code, errOut)
	var suites struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Name string `xml:"name,attr"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &suites))
	require.NotEmpty(t, suites.Suites)
	assert.Equal(t, "paging.limit", suites.Suites[0].Name)
}

func TestProxyCommandForwardsAndReportsOnExit(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{})
	reportPath := filepath.Join(t.TempDir(), "report.json")
	p := runInProcess(t, "proxy", "--upstream", e.URL, "--listen", "127.0.0.1:0", "--report", reportPath)
	addr := p.listening(t, "proxying", "listen") // a port the system picked
	resp := apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: "http://" + addr + "/user-identities/infrastructure?limit=51", Key: e.Keys.ReadWrite})
	require.Equal(t, http.StatusBadRequest, resp.Status, "the upstream's 400, proxied")
	p.stop(t)
	b, err := os.ReadFile(reportPath)
	require.NoError(t, err)
	var summary struct {
		Exchanges  int
		Violations []struct{ Direction, Pointer string }
	}
	require.NoError(t, json.Unmarshal(b, &summary))
	// The request broke the contract (limit 51); the server's answer did not.
	require.Equal(t, 1, summary.Exchanges, "%s", b)
	require.Len(t, summary.Violations, 1, "%s", b)
	assert.Equal(t, "request", summary.Violations[0].Direction)
	assert.Equal(t, "query:limit", summary.Violations[0].Pointer)
}
