package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
)

func TestCheckCommandPassesOurServer(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--max-pages", "2", "--rate", "100000"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "PASS: no violations") || !strings.Contains(out.String(), "ok   sort=EMAIL sortDir=DESC (200)") {
		t.Fatalf("report:\n%s", out.String())
	}
	if strings.Contains(out.String()+errOut.String(), e.Keys.ReadWrite) {
		t.Fatal("the token is printed")
	}
}

func TestCheckCommandFailsABrokenServer(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	real := e.Server.Config.Handler
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "go away")
			return
		}
		real.ServeHTTP(w, r)
	}))
	defer broken.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--base-url", broken.URL + "/public", "--token", e.Keys.ReadWrite, "--max-pages", "1", "--rate", "100000", "--format", "json"}, &out, &errOut)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, errOut.String())
	}
	var report struct {
		Passed bool
		Checks []struct {
			Operation, Name string
			Violations      []struct{ Path, Reason string }
		}
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("--format json is not JSON: %v", err)
	}
	found := false
	for _, c := range report.Checks {
		for _, v := range c.Violations {
			found = found || (c.Name == "no token" && strings.Contains(v.Reason, "Content-Type"))
		}
	}
	if report.Passed || !found {
		t.Fatalf("the text/plain 401 is not reported: %s", out.String())
	}
}

func TestCheckCommandUsageAndNetworkErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"check"},
		{"check", "--base-url", "http://127.0.0.1:1/public", "--format", "xml"},
		{"check", "--base-url", "http://127.0.0.1:1/public", "--write"},
		{"check", "--base-url", "http://127.0.0.1:1/public", "--infrastructure-id", "3"},
		{"proxy"},
	} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	// Port 1 on loopback refuses connections.
	if code := run(context.Background(), []string{"check", "--base-url", "http://127.0.0.1:1/public", "--token", "x", "--max-pages", "1", "--rate", "100000"}, io.Discard, io.Discard); code != exitNetwork {
		t.Errorf("unreachable server: exit %d, want %d", code, exitNetwork)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	var summary struct {
		Exchanges  int
		Violations []struct{ Direction, Pointer string }
	}
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	// The request broke the contract (limit 51); the server's answer did not.
	if summary.Exchanges != 1 || len(summary.Violations) != 1 || summary.Violations[0].Direction != "request" || summary.Violations[0].Pointer != "query:limit" {
		t.Fatalf("summary: %s", b)
	}
}

// TestCheckCommandUsesTheGivenSpec: --spec swaps the document without a
// rebuild. A document that caps total at 3 makes our server's pages of
// 8 identities violations at /total.
func TestCheckCommandUsesTheGivenSpec(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.ForChecker())
	doc := strings.Replace(string(api.Spec), "      minimum: 0\n      description: How many items match, on all pages.",
		"      minimum: 0\n      maximum: 3\n      description: How many items match, on all pages.", 1)
	if doc == string(api.Spec) {
		t.Fatal("the document no longer has the Total schema this test edits")
	}
	specPath := filepath.Join(t.TempDir(), "older.yaml")
	if err := os.WriteFile(specPath, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run(context.Background(), []string{"check", "--base-url", e.URL, "--token", e.Keys.ReadWrite, "--max-pages", "1", "--rate", "100000", "--spec", specPath}, &out, io.Discard)
	if code != exitFailure || !strings.Contains(out.String(), "/total: number must be at most 3") {
		t.Fatalf("exit %d; report:\n%s", code, out.String())
	}
	if code := run(context.Background(), []string{"check", "--base-url", e.URL, "--spec", filepath.Join(t.TempDir(), "missing.yaml")}, io.Discard, io.Discard); code != exitFailure {
		t.Fatalf("a missing --spec file: exit %d", code)
	}
}
