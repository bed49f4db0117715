package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/store"
)

// writeOp is one PUT and what its response must show.
type writeOp struct {
	path  string
	body  map[string]any
	check func(*identityFields) error
}

// accessFields maps each toggleField to the response field it sets.
var accessFields = map[string]func(*identityFields) *time.Time{
	"INFRASTRUCTURE_ADMIN_ACCESS":           func(it *identityFields) *time.Time { return it.AdminAccess },
	"INFRASTRUCTURE_DB_ACCESS":              func(it *identityFields) *time.Time { return it.DbAccess },
	"VERSION_CONTROL_WRITE_ACCESS":          func(it *identityFields) *time.Time { return it.WriteAccess },
	"VERSION_CONTROL_PUSH_PROD_CODE_ACCESS": func(it *identityFields) *time.Time { return it.PushProdAccess },
}

var toggleFields = map[store.Family][]string{
	store.Infrastructure: {"INFRASTRUCTURE_ADMIN_ACCESS", "INFRASTRUCTURE_DB_ACCESS"},
	store.VersionControl: {"VERSION_CONTROL_WRITE_ACCESS", "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"},
}

// randomWrite picks a link or unlink, a flag set or cleared, or a service
// account marked (with reason) or unmarked, on identity id.
func randomWrite(r *rand.Rand, f store.Family, id int64, users []int64, actor int64, reason string) writeOp {
	base := "/user-identities/" + string(f) + "/" + strconv.FormatInt(id, 10)
	switch r.IntN(3) {
	case 0:
		if r.IntN(3) == 0 {
			return writeOp{base + "/connect", map[string]any{"userId": nil}, func(it *identityFields) error {
				if it.User != nil {
					return fmt.Errorf("unlinked, yet user %d", it.User.ID)
				}
				return nil
			}}
		}
		u := users[r.IntN(len(users))]
		return writeOp{base + "/connect", map[string]any{"userId": u}, func(it *identityFields) error {
			if it.User == nil || it.User.ID != u || it.ConnectedAt == nil || it.DisconnectedAt != nil {
				return fmt.Errorf("linked to %d, yet user %+v, connectedAt %v, disconnectedAt %v", u, it.User, it.ConnectedAt, it.DisconnectedAt)
			}
			return nil
		}}
	case 1:
		field := toggleFields[f][r.IntN(2)]
		on := r.IntN(2) == 0
		return writeOp{base + "/toggle", map[string]any{"toggle": on, "toggleField": field}, func(it *identityFields) error {
			if got := accessFields[field](it) != nil; got != on {
				return fmt.Errorf("%s toggled %v, yet set is %v", field, on, got)
			}
			return nil
		}}
	default:
		mark := r.IntN(3) != 0
		return writeOp{base + "/service-account", map[string]any{"serviceAccount": mark, "serviceAccountReason": reason}, func(it *identityFields) error {
			marked := it.ServiceAccount != nil && it.SAReason != nil && *it.SAReason == reason && it.SADesignator != nil && it.SADesignator.ID == actor
			unmarked := it.ServiceAccount == nil && it.SAReason == nil && it.SADesignator == nil
			if (mark && !marked) || (!mark && !unmarked) {
				return fmt.Errorf("service account %v with reason %q, yet %v, %v, %+v", mark, reason, it.ServiceAccount, it.SAReason, it.SADesignator)
			}
			return nil
		}}
	}
}

// applyWrite sends op and checks it was answered 200 with a body showing the
// change; it returns the body, or nil after reporting a failure.
func applyWrite(t *testing.T, c *http.Client, e *testserver.Env, op writeOp) []byte {
	resp, err := apitest.Send(c, apitest.Request{Method: http.MethodPut, URL: e.URL + op.path, Key: e.Keys.ReadWrite, Body: op.body})
	if err != nil {
		t.Errorf("PUT %s: %v", op.path, err)
		return nil
	}
	body := resp.Body
	if resp.Status != http.StatusOK {
		t.Errorf("PUT %s %v: status %d: %s", op.path, op.body, resp.Status, body)
		return nil
	}
	var it identityFields
	if err := json.Unmarshal(body, &it); err != nil {
		t.Errorf("PUT %s: %v: %s", op.path, err, body)
		return nil
	}
	if err := op.check(&it); err != nil {
		t.Errorf("PUT %s %v: %v", op.path, op.body, err)
		return nil
	}
	return body
}

// companyUsers returns up to n user ids of a company.
func companyUsers(e *testserver.Env, company int64, n int) []int64 {
	var ids []int64
	for _, u := range e.Data.Users {
		if u.CompanyID == company && len(ids) < n {
			ids = append(ids, u.ID)
		}
	}
	return ids
}

// finalBodies lists company A's identities of one family (one page holds
// them all) and returns each one's JSON by id.
func finalBodies(t *testing.T, e *testserver.Env, f store.Family) map[int64]json.RawMessage {
	t.Helper()
	var page struct {
		Data  []json.RawMessage `json:"data"`
		Total int64             `json:"total"`
	}
	getJSONPage(t, e.Server.Client(), e.URL+"/user-identities/"+string(f)+"?limit=50", e.Keys.ReadWrite, &page)
	if page.Total > int64(len(page.Data)) {
		t.Fatalf("%s: %d identities do not fit one page", f, page.Total)
	}
	out := map[int64]json.RawMessage{}
	for _, raw := range page.Data {
		var it identityFields
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatal(err)
		}
		out[it.ID] = raw
	}
	return out
}

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// writeTarget is an identity the goroutines write to. mu is held around each
// request to it, so the order of acknowledgements is the order of writes
// and last is well defined.
type writeTarget struct {
	family store.Family
	id     int64
	mu     sync.Mutex
	last   []byte // body of the last acknowledged write
	writes int
}

// TestConcurrentWritesLastAcknowledgedWins: 16 goroutines write to six
// identities at once (64 PUTs) while readers list them; every request
// succeeds (no 5xx, no "database is locked"), and afterwards each identity
// reads back exactly as its last acknowledged write left it.
func TestConcurrentWritesLastAcknowledgedWins(t *testing.T) {
	t.Parallel()
	eachStore(t, testLastAcknowledgedWins)
}

func testLastAcknowledgedWins(t *testing.T, kind testserver.StoreKind) {
	e := testserver.Start(t, testserver.Options{Store: kind})
	c := e.Server.Client()
	users := companyUsers(e, e.CompanyA, 4)
	var targets []*writeTarget
	for _, f := range []store.Family{store.Infrastructure, store.VersionControl} {
		for _, id := range e.Identities(e.CompanyA, f)[:3] {
			targets = append(targets, &writeTarget{family: f, id: id})
		}
	}

	// Readers list the identities while the writes go on.
	const goroutines, perGoroutine, reads = 16, 4, 8
	var readers sync.WaitGroup
	for _, f := range families {
		readers.Go(func() {
			for range reads {
				var p pagingPage
				if err := fetchJSON(c, e.URL+"/user-identities/"+string(f.store)+"?limit=10&sort=SERVICE_ACCOUNT", e.Keys.ReadOnly, &p); err != nil {
					t.Errorf("list during writes: %v", err)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for g := range goroutines {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(1, uint64(g)))
			for n := range perGoroutine {
				tg := targets[r.IntN(len(targets))]
				op := randomWrite(r, tg.family, tg.id, users, e.UserA, fmt.Sprintf("g%d-%d", g, n))
				tg.mu.Lock()
				if body := applyWrite(t, c, e, op); body != nil {
					tg.last = body
					tg.writes++
				}
				tg.mu.Unlock()
			}
		})
	}
	writers.Wait()
	readers.Wait()
	if t.Failed() {
		t.FailNow()
	}

	final := map[store.Family]map[int64]json.RawMessage{}
	for _, tg := range targets {
		if final[tg.family] == nil {
			final[tg.family] = finalBodies(t, e, tg.family)
		}
		if tg.writes < 2 {
			t.Fatalf("%s %d got %d writes; the test proves little", tg.family, tg.id, tg.writes)
		}
		if got := final[tg.family][tg.id]; !sameJSON(t, got, tg.last) {
			t.Errorf("%s %d reads back\n%s\nbut the last acknowledged write answered\n%s", tg.family, tg.id, got, tg.last)
		}
	}
}

// TestConflictingWritesOnOneIdentity: 16 goroutines released at once write
// to the same two identities (48 PUTs) with no ordering of their own. The store must
// serialize them: each response shows its own change, and the final state
// is the state some acknowledged write answered with (the last one to
// commit).
func TestConflictingWritesOnOneIdentity(t *testing.T) {
	t.Parallel()
	eachStore(t, testConflictingWrites)
}

func testConflictingWrites(t *testing.T, kind testserver.StoreKind) {
	e := testserver.Start(t, testserver.Options{Store: kind})
	c := e.Server.Client()
	users := companyUsers(e, e.CompanyA, 3)
	targets := []*writeTarget{
		{family: store.Infrastructure, id: e.Identities(e.CompanyA, store.Infrastructure)[0]},
		{family: store.VersionControl, id: e.Identities(e.CompanyA, store.VersionControl)[0]},
	}
	var mu sync.Mutex
	acked := map[*writeTarget][][]byte{}

	const goroutines, perGoroutine = 16, 3
	start := make(chan struct{})
	var writers sync.WaitGroup
	for g := range goroutines {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(2, uint64(g)))
			<-start
			for n := range perGoroutine {
				tg := targets[r.IntN(len(targets))]
				op := randomWrite(r, tg.family, tg.id, users, e.UserA, fmt.Sprintf("g%d-%d", g, n))
				if body := applyWrite(t, c, e, op); body != nil {
					mu.Lock()
					acked[tg] = append(acked[tg], body)
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	writers.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, tg := range targets {
		got := finalBodies(t, e, tg.family)[tg.id]
		found := false
		for _, body := range acked[tg] {
			found = found || sameJSON(t, got, body)
		}
		if !found {
			t.Errorf("%s %d reads back a state no acknowledged write answered with (of %d):\n%s", tg.family, tg.id, len(acked[tg]), got)
		}
	}
}
