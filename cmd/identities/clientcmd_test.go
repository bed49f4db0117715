package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/client/clienttest"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
)

// cli runs the program with args and returns its exit code and output. It
// fails the test when the output holds the token.
func cli(t *testing.T, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	if token != "" && strings.Contains(out.String()+errb.String(), token) {
		t.Errorf("identities %s: the token appears in the output", strings.Join(args[:2], " "))
	}
	return code, out.String(), errb.String()
}

// at puts the flags that point a command at env's server after the command
// and subcommand, so that flags in args come later and win.
func at(env *clienttest.Env, args ...string) []string {
	if len(args) < 2 {
		return args
	}
	return slices.Concat(args[:2], []string{"--base-url", env.URL, "--token", env.Token, "--retries", "0"}, args[2:])
}

// ok runs a command that must succeed and returns its stdout.
func ok(t *testing.T, env *clienttest.Env, args ...string) string {
	t.Helper()
	code, out, errOut := cli(t, env.Token, at(env, args...)...)
	if code != exitOK {
		t.Fatalf("identities %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut)
	}
	if errOut != "" {
		t.Errorf("identities %s: stderr not empty: %q", strings.Join(args, " "), errOut)
	}
	return out
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, s)
	}
	return v
}

func TestListPrintsATableOrJSON(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t)

	table := ok(t, env, "infrastructure", "list", "--limit", "5")
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 8 {
		t.Fatalf("table has %d lines, want a header, 5 rows, a blank line and the paging line:\n%s", len(lines), table)
	}
	pages := (env.InfrastructureTotal + 4) / 5
	if want := fmt.Sprintf("page 1 of %d, %d identities in all; next: --page 2 (or --all)", pages, env.InfrastructureTotal); lines[7] != want {
		t.Errorf("paging line %q, want %q", lines[7], want)
	}
	for _, col := range []string{"ID", "IDENTITY ID", "USERNAME", "EMAIL", "USER", "CONNECTION", "MFA", "ADMIN", "DB", "SERVICE ACCOUNT"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	page := decode[gen.InfrastructureIdentityPage](t, ok(t, env, "infrastructure", "list", "--limit", "5", "--json"))
	if page.Total != env.InfrastructureTotal || page.Limit != 5 || page.Page != 1 || len(page.Data) != 5 {
		t.Fatalf("page %d, limit %d, total %d with %d items; want 1, 5, %d with 5", page.Page, page.Limit, page.Total, len(page.Data), env.InfrastructureTotal)
	}
	for i, it := range page.Data {
		if fields := strings.Fields(lines[i+1]); fields[0] != strconv.FormatInt(it.Id, 10) || fields[2] != it.Username {
			t.Errorf("row %d is %q, want identity %d (%s) as in the JSON", i, lines[i+1], it.Id, it.Username)
		}
	}

	vcTable := ok(t, env, "version-control", "list", "--limit", "1")
	if header := strings.SplitN(vcTable, "\n", 2)[0]; !strings.Contains(header, "WRITE") || !strings.Contains(header, "PUSH") {
		t.Errorf("version control header %q lacks WRITE and PUSH", header)
	}
}

func TestListFiltersAndSorts(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(15))

	desc := decode[gen.VersionControlIdentityPage](t, ok(t, env, "version-control", "list", "--sort", "identity_id", "--sort-dir", "desc", "--limit", "50", "--json"))
	if len(desc.Data) != int(env.VersionControlTotal) {
		t.Fatalf("%d items, want %d", len(desc.Data), env.VersionControlTotal)
	}
	if !slices.IsSortedFunc(desc.Data, func(a, b gen.VersionControlIdentity) int { return strings.Compare(b.IdentityId, a.IdentityId) }) {
		t.Error("not sorted by identity id, descending")
	}

	first := desc.Data[0]
	byType := decode[gen.VersionControlIdentityPage](t, ok(t, env, "version-control", "list", "--client-type", strings.ToLower(first.Connection.ClientType), "--json", "--limit", "50"))
	byConn := decode[gen.VersionControlIdentityPage](t, ok(t, env, "version-control", "list", "--connection-id", first.Connection.Id, "--json", "--limit", "50"))
	byQ := decode[gen.VersionControlIdentityPage](t, ok(t, env, "version-control", "list", "--q", first.IdentityId, "--json"))
	for name, p := range map[string]gen.VersionControlIdentityPage{"--client-type": byType, "--connection-id": byConn, "--q": byQ} {
		if !slices.ContainsFunc(p.Data, func(it gen.VersionControlIdentity) bool { return it.Id == first.Id }) {
			t.Errorf("%s: identity %d missing", name, first.Id)
		}
	}
	for _, it := range byType.Data {
		if it.Connection.ClientType != first.Connection.ClientType {
			t.Errorf("--client-type %s: got %s", first.Connection.ClientType, it.Connection.ClientType)
		}
	}
	for _, it := range byConn.Data {
		if it.Connection.Id != first.Connection.Id {
			t.Errorf("--connection-id %s: got connection %s", first.Connection.Id, it.Connection.Id)
		}
	}
}

func TestListAllYieldsEveryIdentityOnce(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(23))
	for _, tc := range []struct {
		family string
		want   []int64
	}{
		{"infrastructure", env.InfrastructureIDs},
		{"version-control", env.VersionControlIDs},
	} {
		// 23 identities in pages of 4: five full pages and a short one.
		var items []struct {
			Id int64 `json:"id"`
		}
		out := ok(t, env, tc.family, "list", "--all", "--limit", "4", "--json", "--sort", "USERNAME")
		if err := json.Unmarshal([]byte(out), &items); err != nil {
			t.Fatalf("%s list --all --json: %v\n%s", tc.family, err, out)
		}
		var ids []int64
		for _, it := range items {
			ids = append(ids, it.Id)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s list --all: ids %v, want each of %v once", tc.family, ids, tc.want)
		}

		table := ok(t, env, tc.family, "list", "--all", "--limit", "10")
		if n := strings.Count(table, "\n"); n != len(tc.want)+1 {
			t.Errorf("%s list --all: %d table lines, want %d", tc.family, n, len(tc.want)+1)
		}
	}

	// From a page on, and a filter that matches nothing.
	rest := decode[[]gen.InfrastructureIdentity](t, ok(t, env, "infrastructure", "list", "--all", "--page", "3", "--limit", "5", "--json"))
	if len(rest) != len(env.InfrastructureIDs)-10 {
		t.Errorf("--all --page 3 --limit 5: %d identities, want %d", len(rest), len(env.InfrastructureIDs)-10)
	}
	if out := ok(t, env, "infrastructure", "list", "--all", "--q", "no-such-identity-anywhere", "--json"); out != "[]\n" {
		t.Errorf("--all with no match printed %q, want []", out)
	}
}

// readBack finds an identity through the returned client, searching for its
// identityId.
func readBack(t *testing.T, env *clienttest.Env, id int64, identityID string) gen.InfrastructureIdentity {
	t.Helper()
	for it, err := range env.Client.Infrastructure.All(t.Context(), &client.InfrastructureListOptions{Q: identityID}) {
		if err != nil {
			t.Fatal(err)
		}
		if it.Identity.Id == id {
			return *it.Identity
		}
	}
	t.Fatalf("identity %d not listed", id)
	return gen.InfrastructureIdentity{}
}

func TestWriteCommands(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(10))
	id := env.InfrastructureIDs[1]
	sid := strconv.FormatInt(id, 10)

	// The ID may stand before or after the flags.
	got := decode[gen.InfrastructureIdentity](t, ok(t, env, "infrastructure", "connect", sid, "--user", strconv.FormatInt(env.OtherUserID, 10), "--json"))
	if got.Id != id || got.User == nil || got.User.Id != env.OtherUserID {
		t.Fatalf("connect printed %+v, want identity %d linked to %d", got, id, env.OtherUserID)
	}
	if u := readBack(t, env, id, got.IdentityId).User; u == nil || u.Id != env.OtherUserID {
		t.Errorf("after connect the identity's user is %+v", u)
	}

	row := ok(t, env, "infrastructure", "disconnect", sid)
	if !strings.Contains(row, "IDENTITY ID") || !strings.HasPrefix(strings.Split(row, "\n")[1], sid+" ") {
		t.Errorf("disconnect printed\n%s\nwant a table of identity %d", row, id)
	}
	if u := readBack(t, env, id, got.IdentityId).User; u != nil {
		t.Errorf("after disconnect the identity's user is %d", u.Id)
	}

	ok(t, env, "infrastructure", "access", sid, "--field", "admin", "--off")
	ok(t, env, "infrastructure", "access", sid, "--field", "db", "--off")
	for _, tc := range []struct {
		args  []string
		admin bool
		db    bool
	}{
		{[]string{"--field", "db", "--on"}, false, true},
		{[]string{"--field", "INFRASTRUCTURE_ADMIN_ACCESS", "--on"}, true, true},
		{[]string{"--field", "infrastructure_db_access", "--off"}, true, false},
		{[]string{"--off", "--field", "admin"}, false, false},
	} {
		ok(t, env, append([]string{"infrastructure", "access", sid}, tc.args...)...)
		it := readBack(t, env, id, got.IdentityId)
		if (it.AdminAccess != nil) != tc.admin || (it.DbAccess != nil) != tc.db {
			t.Errorf("access %v: admin %v db %v, want %v and %v", tc.args, it.AdminAccess, it.DbAccess, tc.admin, tc.db)
		}
	}

	ok(t, env, "infrastructure", "service-account", "--reason", "runs terraform", "--on", sid)
	if it := readBack(t, env, id, got.IdentityId); it.ServiceAccount == nil || it.ServiceAccountReason == nil || *it.ServiceAccountReason != "runs terraform" {
		t.Errorf("after service-account --on: %v, reason %v", it.ServiceAccount, it.ServiceAccountReason)
	}
	ok(t, env, "infrastructure", "service-account", sid, "--reason", "a person after all", "--off")
	if it := readBack(t, env, id, got.IdentityId); it.ServiceAccount != nil {
		t.Errorf("after service-account --off: still marked at %v", it.ServiceAccount)
	}

	// The version control family, through its own aliases.
	vid := strconv.FormatInt(env.VersionControlIDs[0], 10)
	vc := decode[gen.VersionControlIdentity](t, ok(t, env, "version-control", "access", vid, "--field", "push", "--on", "--json"))
	if vc.PushProductionCodeAccess == nil {
		t.Error("version-control access --field push --on: push access not set")
	}
	vc = decode[gen.VersionControlIdentity](t, ok(t, env, "version-control", "connect", vid, "--user", strconv.FormatInt(env.UserID, 10), "--json"))
	if vc.User == nil || vc.User.Id != env.UserID {
		t.Errorf("version-control connect: user %+v", vc.User)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(1))
	for _, args := range [][]string{
		{"infrastructure"},
		{"version-control", "delete", "1"},
		{"infrastructure", "list", "--bogus"},
		{"infrastructure", "list", "extra"},
		{"infrastructure", "list", "--client-type", "GITHUB"},
		{"version-control", "list", "--sort", "ADMIN_ACCESS"},
		{"infrastructure", "list", "--sort-dir", "up"},
		{"infrastructure", "list", "--page", "two"},
		{"infrastructure", "list", "--limit", "0"},
		{"version-control", "list", "--page", "0"},
		{"infrastructure", "connect", "--user", "1"},
		{"infrastructure", "connect", "abc", "--user", "1"},
		{"infrastructure", "connect", "0", "--user", "1"},
		{"infrastructure", "connect", "1"},
		{"infrastructure", "disconnect", "1", "2"},
		{"infrastructure", "access", "1", "--on"},
		{"infrastructure", "access", "1", "--field", "write", "--on"},
		{"version-control", "access", "1", "--field", "write"},
		{"version-control", "access", "1", "--field", "write", "--on", "--off"},
		{"infrastructure", "service-account", "1", "--on"},
		{"infrastructure", "service-account", "1", "--reason", "x"},
		{"infrastructure", "list", "--retries", "-1"},
		{"infrastructure", "list", "--timeout", "0s"},
	} {
		code, out, errOut := cli(t, env.Token, at(env, args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "identities "+args[0]+": ") {
			t.Errorf("identities %s: exit %d, stdout %q, stderr %q; want exit 2 and a message", strings.Join(args, " "), code, out, errOut)
		}
	}
	if code, _, errOut := cli(t, "", "infrastructure", "list", "--base-url", "ftp://example.com/public", "--token", "t"); code != exitUsage {
		t.Errorf("an ftp base URL: exit %d, %s", code, errOut)
	}
	code, _, errOut := cli(t, "", "infrastructure", "--help")
	if code != exitOK || !strings.Contains(errOut, "  service-account ID --reason REASON --on|--off\n") {
		t.Errorf("infrastructure --help: exit %d, %q", code, errOut)
	}
	code, _, errOut = cli(t, "", "version-control", "access", "-h")
	if code != exitOK || !strings.Contains(errOut, "usage: identities version-control access ID --field push|write --on|--off") || !strings.Contains(errOut, "-check-responses") {
		t.Errorf("-h: exit %d, %q", code, errOut)
	}
}

func TestAPIErrorsExitOne(t *testing.T) {
	t.Parallel()
	env := clienttest.Start(t, clienttest.WithIdentities(2))

	code, out, errOut := cli(t, env.Token, at(env, "infrastructure", "connect", "999999", "--user", "1")...)
	if code != exitFailure || out != "" {
		t.Fatalf("404: exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"404", "NOT_FOUND", "request id: "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("404: stderr %q lacks %q", errOut, want)
		}
	}

	const wrong = "idk_0123456789abcdef0123456789abcdef"
	for _, all := range [][]string{nil, {"--all"}, {"--all", "--json"}} {
		code, out, errOut = cli(t, wrong, append([]string{"version-control", "list", "--base-url", env.URL, "--token", wrong}, all...)...)
		if code != exitFailure || out != "" || !strings.Contains(errOut, "401 UNAUTHORIZED") || !strings.Contains(errOut, "request id: ") {
			t.Errorf("401 %v: exit %d, stdout %q, stderr %q", all, code, out, errOut)
		}
	}

	code, _, errOut = cli(t, env.Token, at(env, "infrastructure", "list", "--limit", "500")...)
	if code != exitFailure || !strings.Contains(errOut, "400 VALIDATION_FAILED") || !strings.Contains(errOut, "query limit") {
		t.Errorf("400: exit %d, stderr %q", code, errOut)
	}
}

func TestContractViolationsExitOne(t *testing.T) {
	t.Parallel()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-7")
		_, _ = w.Write([]byte(`{"data":[],"page":1,"limit":20}`)) // no total
	}))
	t.Cleanup(bad.Close)
	code, _, errOut := cli(t, "tok", "infrastructure", "list", "--base-url", bad.URL+"/public", "--token", "tok", "--check-responses")
	if code != exitFailure || !strings.Contains(errOut, "breaks the API's contract") || !strings.Contains(errOut, "total") {
		t.Errorf("--check-responses: exit %d, stderr %q", code, errOut)
	}
	if code, out, errOut := cli(t, "tok", "infrastructure", "list", "--base-url", bad.URL+"/public", "--token", "tok"); code != exitOK {
		t.Errorf("without --check-responses: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestListAllFailingMidway: an error on a later page fails the command and
// leaves the JSON array open, so no program takes it for the whole list.
func TestListAllFailingMidway(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("page") != "1" {
			w.Header().Set("X-Request-Id", "req-page-2")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(gen.Error{StatusCode: 503, Code: gen.ErrorCodeSERVICEUNAVAILABLE, Message: "down for maintenance", RequestId: "req-page-2"})
			return
		}
		page := gen.InfrastructureIdentityPage{Page: 1, Limit: 2, Total: 3}
		for id := range int64(2) {
			page.Data = append(page.Data, gen.InfrastructureIdentity{Id: id + 1, IdentityId: "i", Username: "u", Connection: gen.Connection{ClientType: "AWS"}})
		}
		_ = json.NewEncoder(w).Encode(page)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := cli(t, "tok", "infrastructure", "list", "--all", "--limit", "2", "--json", "--retries", "0", "--base-url", srv.URL, "--token", "tok")
	if code != exitFailure || !strings.Contains(errOut, "503 SERVICE_UNAVAILABLE: down for maintenance") || !strings.Contains(errOut, "request id: req-page-2") {
		t.Errorf("exit %d, stderr %q; want 1 with the API's error", code, errOut)
	}
	var v any
	if !strings.HasPrefix(out, "[") || json.Unmarshal([]byte(out), &v) == nil {
		t.Errorf("stdout %q: want the start of an array that does not parse", out)
	}
}

func TestNetworkFailuresExitThree(t *testing.T) {
	t.Parallel()
	closed := "http://" + apitest.RefusingAddr(t) + "/public"
	code, out, errOut := cli(t, "secret-token", "infrastructure", "list", "--base-url", closed, "--token", "secret-token", "--retries", "0")
	if code != exitNetwork || out != "" || errOut == "" {
		t.Errorf("closed port: exit %d, stdout %q, stderr %q; want 3", code, out, errOut)
	}

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) }) // runs first
	code, _, errOut = cli(t, "secret-token", "version-control", "disconnect", "1", "--base-url", hang.URL, "--token", "secret-token", "--retries", "0", "--timeout", "50ms")
	if code != exitNetwork {
		t.Errorf("timeout: exit %d, stderr %q; want 3", code, errOut)
	}
}

// TestTokenFromEnvironment sets the environment, so it does not run in
// parallel.
func TestTokenFromEnvironment(t *testing.T) {
	env := clienttest.Start(t, clienttest.WithIdentities(3))
	t.Setenv(tokenEnv, env.Token)
	code, out, errOut := cli(t, env.Token, "infrastructure", "list", "--base-url", env.URL, "--json")
	if code != exitOK {
		t.Fatalf("exit %d, %s", code, errOut)
	}
	if p := decode[gen.InfrastructureIdentityPage](t, out); p.Total != 3 {
		t.Errorf("total %d, want 3", p.Total)
	}

	// --token wins over the environment.
	if code, _, errOut := cli(t, env.Token, "infrastructure", "list", "--base-url", env.URL, "--token", "idk_wrong"); code != exitFailure || !strings.Contains(errOut, "401") {
		t.Errorf("--token idk_wrong with a good $%s: exit %d, %s", tokenEnv, code, errOut)
	}

	t.Setenv(tokenEnv, "")
	code, _, errOut = cli(t, env.Token, "infrastructure", "list", "--base-url", env.URL)
	if code != exitUsage || !strings.Contains(errOut, tokenEnv) {
		t.Errorf("no token at all: exit %d, %q; want 2 naming %s", code, errOut, tokenEnv)
	}
}

func TestProgressOnlyOnATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &progress{w: &buf, on: true}
	third := &client.Response{Page: 3, Limit: 20, Total: 45} // the walk started at --page 3
	p.add(third)
	p.add(third)
	p.done()
	if got := buf.String(); got != "\r41 of 45 identities so far…\r\x1b[K" {
		t.Errorf("progress wrote %q", got)
	}

	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(&buf) || isTerminal(f) {
		t.Error("a buffer or a regular file taken for a terminal")
	}
}

func TestCleanNeutralizesControlCharacters(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                  "-",
		"alice":             "alice",
		"a\tb\nc":           "a\ufffdb\ufffdc",
		"\x1b]0;pwned\x07x": "\ufffd]0;pwned\ufffdx",
		"evil\u202etxt.exe": "evil\ufffdtxt.exe",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}
