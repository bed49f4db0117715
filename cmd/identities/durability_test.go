package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/store"
	"github.com/identities-go/identities/store/sqlite"
)

// runsProgram marks a test that runs the program as users do, in processes
// of its own (see TestMain): it runs beside the others, and not in -short.
func runsProgram(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the program in processes of its own")
	}
	t.Parallel()
}

// runProgram runs the program to completion and returns its stdout, failing
// the test unless it exits 0.
func runProgram(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := programCommand(t, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("identities %s: %v\nstderr: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.String()
}

// seededDB makes a database with 3 companies of 50 identities per family
// and a read-write key of company 1; it returns the file, the key and the
// seed summary.
func seededDB(t *testing.T) (db, key string, sum seedSummary) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "identities.db")
	if err := json.Unmarshal([]byte(runOK(t, "seed", "--db", db, "--companies", "3", "--identities", "50")), &sum); err != nil {
		t.Fatal(err)
	}
	key = strings.TrimSpace(runOK(t, "keys", "create", "--db", db, "--company", "1", "--scope", "read-write"))
	return db, key, sum
}

type seedSummary struct {
	Companies []struct {
		ID              int64 `json:"id"`
		PlanIncludesAPI bool  `json:"planIncludesApi"`
		Users           []struct {
			ID            int64 `json:"id"`
			TermsAccepted bool  `json:"termsAccepted"`
		} `json:"users"`
		InfrastructureIdentities int `json:"infrastructureIdentities"`
		VersionControlIdentities int `json:"versionControlIdentities"`
	} `json:"companies"`
}

// serveProcess is a running `identities serve`.
type serveProcess struct {
	cmd            *exec.Cmd
	addr, base     string
	stdout, stderr *procOutput
	exited         chan struct{}
}

// startServe starts `identities serve` on a port the system picks, with
// rate limiting off, and returns once it listens: the address comes from
// its log line.
func startServe(t *testing.T, db string, extra ...string) *serveProcess {
	t.Helper()
	p := launchServe(t, db, extra...)
	p.ready(t)
	return p
}

// launchServe starts serve without waiting for it to listen: see ready.
func launchServe(t *testing.T, db string, extra ...string) *serveProcess {
	t.Helper()
	p := &serveProcess{exited: make(chan struct{})}
	p.stdout, p.stderr = newProcOutput(p.exited), newProcOutput(p.exited)
	p.cmd = programCommand(t, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--rate-limit", "0"}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// ready waits until p listens, and notes its address.
func (p *serveProcess) ready(t *testing.T) {
	t.Helper()
	addr := regexp.MustCompile(`msg=serving addr=(\S+)`).FindStringSubmatch(p.stderr.waitFor(t, "msg=serving "))
	if addr == nil {
		t.Fatalf("no address in the log:\n%s", p.stderr)
	}
	p.addr, p.base = addr[1], "http://"+addr[1]+"/public"
}

// wait waits for the process to exit and returns its exit code.
func (p *serveProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(hangGuard):
		t.Fatalf("serve did not exit\n%s", p.stderr)
		return -1
	}
}

// stop sends SIGTERM and requires a clean exit.
func (p *serveProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM\n%s", code, p.stderr)
	}
}

// writtenFields returns the checked value of each field the durability load writes.
func writtenFields(it gen.InfrastructureIdentity) map[string]string {
	out := map[string]string{"reason": "", "admin": "off", "user": "none"}
	if it.ServiceAccountReason != nil {
		out["reason"] = *it.ServiceAccountReason
	}
	if it.AdminAccess != nil {
		out["admin"] = "on"
	}
	if it.User != nil {
		out["user"] = strconv.FormatInt(it.User.Id, 10)
	}
	return out
}

// listInfrastructure reads company 1's 50 infrastructure identities.
func listInfrastructure(t *testing.T, cl *gen.ClientWithResponses) map[int64]gen.InfrastructureIdentity {
	t.Helper()
	resp, err := cl.ListInfrastructureIdentitiesWithResponse(context.Background(), &gen.ListInfrastructureIdentitiesParams{Limit: new(int64(50))})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if resp.JSON200 == nil {
		t.Fatalf("list: status %d: %s", resp.StatusCode(), resp.Body)
	}
	if page := resp.JSON200; page.Total != int64(len(page.Data)) {
		t.Fatalf("%d identities do not fit one page", page.Total)
	}
	out := map[int64]gen.InfrastructureIdentity{}
	for _, it := range resp.JSON200.Data {
		out[it.Id] = it
	}
	return out
}

// statusCoder is what every generated response offers.
type statusCoder interface{ StatusCode() int }

// ledgerField is what is known of one field of one identity: the value of the
// last acknowledged write, and the value of a write that was sent but not
// answered when the server died (it may or may not have committed).
type ledgerField struct {
	acked, pending string
	hasPending     bool
}

// ledger records, per identity and field, what the load was told.
type ledger struct {
	mu     sync.Mutex
	fields map[int64]map[string]*ledgerField
	acks   int
}

// check requires every field to hold its last acknowledged value, or the
// value of the unanswered write after it; it then settles which one it was.
func (l *ledger) check(t *testing.T, got map[int64]gen.InfrastructureIdentity) {
	t.Helper()
	for id, fs := range l.fields {
		values := writtenFields(got[id])
		for name, f := range fs {
			v := values[name]
			switch {
			case v == f.acked:
			case f.hasPending && v == f.pending:
				f.acked = v
			default:
				t.Errorf("identity %d %s is %q; the last acknowledged write set %q (unanswered after it: %q)", id, name, v, f.acked, f.pending)
			}
			f.hasPending, f.pending = false, ""
		}
	}
}

// TestDurabilityAcrossSIGKILL writes from several goroutines, kills the
// server with SIGKILL in the middle, restarts it and checks that every
// acknowledged write survived; four times. Each goroutine owns its
// identities and writes values it can recognise, so "the last acknowledged
// value" is well defined.
func TestDurabilityAcrossSIGKILL(t *testing.T) {
	runsProgram(t)
	db, key, sum := seededDB(t)
	var users []int64
	for _, u := range sum.Companies[0].Users {
		users = append(users, u.ID)
	}
	const rounds, workers, owned, acksPerRound = 3, 4, 3, 40

	p := startServe(t, db)
	initial := listInfrastructure(t, apitest.Client(t, p.base, key, nil))
	ids := slices.Sorted(maps.Keys(initial))[:workers*owned]
	l := &ledger{fields: map[int64]map[string]*ledgerField{}}
	for _, id := range ids {
		l.fields[id] = map[string]*ledgerField{}
		for name, v := range writtenFields(initial[id]) {
			l.fields[id][name] = &ledgerField{acked: v}
		}
	}

	for round := 1; round <= rounds; round++ {
		if round > 1 {
			p = startServe(t, db)
		}
		cl := apitest.Client(t, p.base, key, &http.Client{Timeout: hangGuard})
		l.check(t, listInfrastructure(t, cl))

		var killed atomic.Bool
		var acked atomic.Int64
		enough := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				mine := ids[w*owned : (w+1)*owned]
				for n := 0; ; n++ {
					id := mine[n%owned]
					ctx := context.Background()
					var name, value string
					var send func() (statusCoder, error)
					switch (n / owned) % 3 {
					case 0:
						name, value = "reason", fmt.Sprintf("w-%d-%d", round, n)
						body := gen.ServiceAccountRequest{ServiceAccount: true, ServiceAccountReason: value}
						send = func() (statusCoder, error) { return cl.SetInfrastructureServiceAccountWithResponse(ctx, id, body) }
					case 1:
						on := (n/owned/3)%2 == 0
						name, value = "admin", map[bool]string{true: "on", false: "off"}[on]
						field := gen.InfrastructureToggleFieldINFRASTRUCTUREADMINACCESS
						body := gen.InfrastructureToggleRequest{Toggle: on, ToggleField: &field}
						send = func() (statusCoder, error) { return cl.ToggleInfrastructureIdentityWithResponse(ctx, id, body) }
					default:
						u := users[(n/owned)%len(users)]
						name, value = "user", strconv.FormatInt(u, 10)
						send = func() (statusCoder, error) {
							return cl.ConnectInfrastructureIdentityWithResponse(ctx, id, gen.ConnectRequest{UserId: &u})
						}
					}
					l.mu.Lock()
					f := l.fields[id][name]
					f.pending, f.hasPending = value, true
					l.mu.Unlock()
					resp, err := send()
					if err != nil {
						if !killed.Load() {
							t.Errorf("%s of identity %d before the kill: %v", name, id, err)
						}
						return // the server is gone; the write stays pending
					}
					if resp.StatusCode()/100 != 2 {
						t.Errorf("%s of identity %d: status %d", name, id, resp.StatusCode())
						return
					}
					l.mu.Lock()
					f.acked, f.pending, f.hasPending = value, "", false
					l.acks++
					l.mu.Unlock()
					if acked.Add(1) == acksPerRound {
						once.Do(func() { close(enough) })
					}
				}
			})
		}
		select {
		case <-enough:
		case <-time.After(hangGuard):
			t.Errorf("round %d: only %d writes acknowledged", round, acked.Load())
		}
		killed.Store(true)
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		<-p.exited
		if t.Failed() {
			t.FailNow()
		}
	}

	p = startServe(t, db)
	l.check(t, listInfrastructure(t, apitest.Client(t, p.base, key, nil)))
	p.stop(t)
	t.Logf("%d acknowledged writes over %d kills", l.acks, rounds)

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if res, err := st.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
}

// TestGracefulShutdownOnSIGTERM holds a request in flight (the server has
// read its headers and waits for its body), sends SIGTERM, waits until the
// server stops accepting connections, then completes the request: it must
// be answered 200 and the process must exit 0.
func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	runsProgram(t)
	db, key, _ := seededDB(t)
	p := startServe(t, db)
	var id int64
	for i := range listInfrastructure(t, apitest.Client(t, p.base, key, nil)) {
		id = max(id, i)
	}

	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"serviceAccount":true,"serviceAccountReason":"in flight during shutdown"}`
	fmt.Fprintf(conn, "PUT /public/user-identities/infrastructure/%d/service-account HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", id, p.addr, key, len(body))
	br := bufio.NewReader(conn)
	// The server asks for the body once the handler reads it: the request
	// is then in flight.
	interim, err := http.ReadResponse(br, nil)
	if err != nil || interim.StatusCode != http.StatusContinue {
		t.Fatalf("want 100 Continue, got %v, %v", interim, err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.stderr.waitFor(t, "stopped accepting connections")
	if c, err := net.Dial("tcp", p.addr); err == nil {
		c.Close()
		t.Fatal("the server still accepts connections after SIGTERM")
	}
	select {
	case <-p.exited:
		t.Fatalf("serve exited with a request in flight\n%s", p.stderr)
	default:
	}

	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v\n%s", err, p.stderr)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(got, []byte("in flight during shutdown")) {
		t.Fatalf("in-flight request: status %d: %s", resp.StatusCode, got)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM\n%s", code, p.stderr)
	}
}

// TestSeedSummary: seed prints the same summary for the same --rand-seed,
// in the documented shape, and refuses a database that holds data.
func TestSeedSummary(t *testing.T) {
	runsProgram(t)
	dir := t.TempDir()
	args := func(db string) []string {
		return []string{"seed", "--db", filepath.Join(dir, db), "--companies", "3", "--identities", "50", "--rand-seed", "9"}
	}
	first := runProgram(t, args("a.db")...)
	if again := runProgram(t, args("b.db")...); again != first {
		t.Fatalf("the same --rand-seed gave different summaries:\n%s\n%s", first, again)
	}

	// The shape, key by key.
	var raw map[string][]map[string]any
	if err := json.Unmarshal([]byte(first), &raw); err != nil || len(raw) != 1 || len(raw["companies"]) != 3 {
		t.Fatalf("want {\"companies\":[3 companies]}, got %v: %s", err, first)
	}
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	for _, c := range raw["companies"] {
		if got := keys(c); !slices.Equal(got, []string{"id", "infrastructureIdentities", "name", "planIncludesApi", "users", "versionControlIdentities"}) {
			t.Fatalf("company keys %v", got)
		}
		if _, ok := c["name"].(string); !ok {
			t.Fatalf("name %v is not a string", c["name"])
		}
		users, _ := c["users"].([]any)
		if len(users) == 0 {
			t.Fatalf("company %v has no users", c["id"])
		}
		for _, u := range users {
			if u, _ := u.(map[string]any); !slices.Equal(keys(u), []string{"id", "termsAccepted"}) {
				t.Fatalf("user %v", u)
			}
		}
	}

	var sum seedSummary
	if err := json.Unmarshal([]byte(first), &sum); err != nil {
		t.Fatal(err)
	}
	noPlan, noTerms := false, false
	for _, c := range sum.Companies {
		noPlan = noPlan || !c.PlanIncludesAPI
		for _, u := range c.Users {
			noTerms = noTerms || (!u.TermsAccepted && c.PlanIncludesAPI)
		}
		if c.InfrastructureIdentities != 50 || c.VersionControlIdentities != 50 {
			t.Errorf("company %d has %d and %d identities, want 50 each", c.ID, c.InfrastructureIdentities, c.VersionControlIdentities)
		}
	}
	if !noPlan || !noTerms {
		t.Errorf("want a company without the API in its plan (%v) and a user who has not accepted the terms (%v)", noPlan, noTerms)
	}

	cmd := programCommand(t, args("a.db")...)
	if out, err := cmd.Output(); err == nil || len(out) != 0 {
		t.Errorf("seeding a database that holds data: %v, stdout %q; want a failure and no summary", err, out)
	}
}

// TestKeys: a created key is printed alone, listed by its prefix only,
// opens the API, and no longer does once revoked.
func TestKeys(t *testing.T) {
	runsProgram(t)
	db, key, _ := seededDB(t)
	out := runProgram(t, "keys", "create", "--db", db, "--company", "1", "--scope", "read-write")
	if !regexp.MustCompile(`^idk_[A-Za-z0-9_-]{43}\n$`).MatchString(out) {
		t.Fatalf("keys create printed %q; want only the key", out)
	}
	key = strings.TrimSpace(out)
	prefix := key[:10]

	if table := runProgram(t, "keys", "list", "--db", db); !strings.Contains(table, prefix) || strings.Contains(table, key) {
		t.Fatalf("keys list does not show the key's prefix %s (or shows the secret):\n%s", prefix, table)
	}
	var listed []store.APIKey
	if err := json.Unmarshal([]byte(runProgram(t, "keys", "list", "--db", db, "--json")), &listed); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(listed, func(k store.APIKey) bool { return k.Prefix == prefix })
	if i < 0 || listed[i].CompanyID != 1 || listed[i].RevokedAt != nil {
		t.Fatalf("keys list --json: %+v", listed)
	}

	p := startServe(t, db)
	cl := apitest.Client(t, p.base, key, nil)
	wantStatus := func(what string, want int) {
		t.Helper()
		resp, err := cl.ListVersionControlIdentitiesWithResponse(context.Background(), &gen.ListVersionControlIdentitiesParams{Limit: new(int64(1))})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if resp.StatusCode() != want {
			t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode(), want, resp.Body)
		}
	}
	wantStatus("the new key", http.StatusOK)
	runProgram(t, "keys", "revoke", "--db", db, "--id", strconv.FormatInt(listed[i].ID, 10))
	wantStatus("the revoked key", http.StatusUnauthorized)
	p.stop(t)
}
