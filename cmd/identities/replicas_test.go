package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/pgtest"
	"github.com/identities-go/identities/internal/redistest"
)

// replicaBudget is the requests a minute each client address may send, in
// the replicas tests.
const replicaBudget = 30

// replicaSet is serve processes on one PostgreSQL database and one Redis,
// as replicas behind a load balancer run, with what the tests send them.
type replicaSet struct {
	t     *testing.T
	procs []*serveProcess
	key   string  // a read-write key of company 1
	users []int64 // company 1's users
	ids   []int64 // company 1's infrastructure identities, in order
}

// startReplicas seeds a new PostgreSQL database with 2 companies of 50
// identities per family, and starts n serve processes on it that share
// their rate limits through the Redis at redisAddr, under prefix.
func startReplicas(t *testing.T, n int, redisAddr, prefix string) *replicaSet {
	t.Helper()
	db := pgtest.NewDatabase(t)
	var sum seedSummary
	require.NoError(t, json.Unmarshal([]byte(runOK(t, "seed", "--db", db, "--companies", "2", "--identities", "50")), &sum))
	r := &replicaSet{t: t}
	for _, u := range sum.Companies[0].Users {
		r.users = append(r.users, u.ID)
	}
	// They start side by side, as replicas do; the key is made while they
	// start. A busy machine must not send a replica onto budgets of its
	// own, so each waits long for Redis; a cut proxy closes connections at
	// once, so Redis gone is seen without that wait.
	for range n {
		r.procs = append(r.procs, launchServe(t, db,
			"--rate-limit", strconv.Itoa(replicaBudget), "--trusted-proxy", "127.0.0.1/32",
			"--rate-limit-redis", "redis://"+redisAddr+"/0", "--rate-limit-redis-prefix", prefix,
			"--rate-limit-redis-timeout", hangGuard.String()))
	}
	r.key = strings.TrimSpace(runOK(t, "keys", "create", "--db", db, "--company", "1", "--scope", "read-write"))
	for _, p := range r.procs {
		p.ready(t)
	}
	r.ids = slices.Sorted(maps.Keys(listInfrastructure(t, r.client(r.procs[0], "198.51.100.1"))))
	return r
}

// client sends r's key to p, each request forwarded for the client address
// from, so that each load stays within its budgets and each budget test
// has an address of its own.
func (r *replicaSet) client(p *serveProcess, from string) *gen.ClientWithResponses {
	return apitest.Client(r.t, p.base, r.key, &http.Client{Timeout: hangGuard, Transport: forwardedFor{from}})
}

// TestReplicasKeepWrites runs three serve processes on one PostgreSQL
// database and one Redis and checks the writes replicas must keep: writes
// that stay correct when spread over them, and writes acknowledged by one
// that is killed.
func TestReplicasKeepWrites(t *testing.T) {
	runsProgram(t)
	_, prefix := redistest.Client(t)
	r := startReplicas(t, 3, redistest.Addr(t), prefix)
	replicas, ids := r.procs, r.ids

	t.Run("16 writers over the replicas", func(t *testing.T) {
		var w writeLog
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				for n := range 6 {
					p := replicas[(i+n)%3]
					id := ids[(i+n)%4] // four identities, many writers each
					u := r.users[(i*7+n)%len(r.users)]
					cl := r.client(p, fmt.Sprintf("198.51.100.%d", 10+i))
					start := time.Now()
					resp, err := cl.ConnectInfrastructureIdentityWithResponse(context.Background(), id, gen.ConnectRequest{UserId: &u})
					if !assert.NoError(t, err) {
						return
					}
					assert.Less(t, resp.StatusCode(), 500, "%s", resp.Body)
					if resp.StatusCode() == http.StatusOK {
						w.add(id, u, start, time.Now())
					}
				}
			})
		}
		wg.Wait()
		got := listInfrastructure(t, r.client(replicas[2], "198.51.100.2"))
		for _, id := range ids[:4] {
			require.NotNil(t, got[id].User, "identity %d", id)
			assert.Contains(t, w.couldBeLast(id), got[id].User.Id,
				"identity %d: its user is not one the last acknowledged writes could leave", id)
		}
	})

	t.Run("a replica killed mid-load", func(t *testing.T) {
		l := &ledger{fields: map[int64]map[string]*ledgerField{}}
		initial := listInfrastructure(t, r.client(replicas[0], "198.51.100.3"))
		mine := ids[4:12] // one identity a writer: "last acknowledged" is well defined
		for _, id := range mine {
			l.fields[id] = map[string]*ledgerField{"reason": {acked: writtenFields(initial[id])["reason"]}}
		}
		var acked atomic.Int64
		killAt, killed := make(chan struct{}), atomic.Bool{}
		var once sync.Once
		var wg sync.WaitGroup
		for i, id := range mine {
			wg.Go(func() {
				for n := range 8 {
					p := replicas[(i+n)%3]
					value := fmt.Sprintf("kill-%d-%d", i, n)
					l.mu.Lock()
					f := l.fields[id]["reason"]
					f.pending, f.hasPending = value, true
					l.mu.Unlock()
					cl := r.client(p, fmt.Sprintf("198.51.100.%d", 100+i))
					resp, err := cl.SetInfrastructureServiceAccountWithResponse(context.Background(), id,
						gen.ServiceAccountRequest{ServiceAccount: true, ServiceAccountReason: value})
					if err != nil {
						assert.True(t, killed.Load() && p == replicas[2], "a write failed on a replica that is up: %v", err)
						continue // unanswered: it stays pending until a later write
					}
					assert.Equal(t, http.StatusOK, resp.StatusCode(), "%s", resp.Body)
					l.mu.Lock()
					f.acked, f.pending, f.hasPending = value, "", false
					l.mu.Unlock()
					if acked.Add(1) == 16 {
						once.Do(func() { close(killAt) })
					}
				}
			})
		}
		<-killAt
		killed.Store(true)
		require.NoError(t, replicas[2].cmd.Process.Kill())
		wg.Wait()
		<-replicas[2].exited
		for _, p := range replicas[:2] {
			got := listInfrastructure(t, r.client(p, "198.51.100.4"))
			l.mu.Lock()
			l.check(t, got)
			l.mu.Unlock()
		}
	})
}

// TestReplicasShareRateLimits runs two serve processes on one PostgreSQL
// database and one Redis, reached through a proxy the test can cut, and
// checks the limits replicas must share: one budget per client address,
// and no 5xx while Redis is gone.
func TestReplicasShareRateLimits(t *testing.T) {
	runsProgram(t)
	_, prefix := redistest.Client(t)
	redisProxy := newCutProxy(t, redistest.Addr(t))
	r := startReplicas(t, 2, redisProxy.addr(), prefix)

	t.Run("one budget per client address", func(t *testing.T) {
		for _, p := range r.procs {
			waitReady(t, p, "ok")
		}
		admitted := spend(t, r, "203.0.113.7", 2*replicaBudget)
		// One budget, and what refills while the requests go out.
		assert.InDelta(t, replicaBudget, admitted, replicaBudget/6, "admitted over %d replicas", len(r.procs))
	})

	t.Run("Redis gone and back", func(t *testing.T) {
		redisProxy.cut()
		admitted := spend(t, r, "203.0.113.8", 3*replicaBudget)
		assert.Greater(t, admitted, replicaBudget+replicaBudget/2, "each replica limits on its own while Redis is gone")
		redisProxy.restore()
		for _, p := range r.procs { // a replica whose Redis answers shares its budgets again
			waitReady(t, p, "ok")
		}
		admitted = spend(t, r, "203.0.113.9", 2*replicaBudget)
		assert.InDelta(t, replicaBudget, admitted, replicaBudget/6, "limiting is shared again")
	})
}

// spend sends n requests from one forwarded address, spread over the
// replicas and a few at a time, requires that none gets a 5xx, and returns
// how many were admitted.
func spend(t *testing.T, r *replicaSet, from string, n int) int {
	t.Helper()
	const senders = 4
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := s; i < n; i += senders {
				resp, err := r.client(r.procs[i%len(r.procs)], from).ListInfrastructureIdentitiesWithResponse(context.Background(), &gen.ListInfrastructureIdentitiesParams{Limit: new(int64(1))})
				if !assert.NoError(t, err) {
					return
				}
				switch resp.StatusCode() {
				case http.StatusOK:
					admitted.Add(1)
				case http.StatusTooManyRequests:
					assert.NotEmpty(t, resp.HTTPResponse.Header.Get("Retry-After"))
				default:
					t.Errorf("request %d: status %d: %s", i, resp.StatusCode(), resp.Body)
					return
				}
			}
		})
	}
	wg.Wait()
	require.False(t, t.Failed(), "a request failed")
	return int(admitted.Load())
}

// waitReady polls a replica's /readyz until its rate limiter reads want.
// Each poll is an event the replica answers; the guard only stops a hang.
func waitReady(t *testing.T, p *serveProcess, want string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		require.NoError(t, err)
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%v", body)
		if body["rateLimiter"] == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "readyz still says %v", body)
	}
}

// forwardedFor sends every request as forwarded for one client address.
type forwardedFor struct{ addr string }

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return http.DefaultTransport.RoundTrip(r)
}

// writeLog records acknowledged links: identity, user, and when the request
// was sent and answered.
type writeLog struct {
	mu     sync.Mutex
	writes []linkWrite
}

type linkWrite struct {
	id, user   int64
	start, end time.Time
}

func (w *writeLog) add(id, user int64, start, end time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, linkWrite{id, user, start, end})
}

// couldBeLast returns the users that identity id may hold after the load:
// those of acknowledged writes that no other acknowledged write to it
// began after (a write answered before another began is overwritten by
// it).
func (w *writeLog) couldBeLast(id int64) []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int64
	for _, a := range w.writes {
		if a.id != id {
			continue
		}
		last := true
		for _, b := range w.writes {
			if b.id == id && b.start.After(a.end) {
				last = false
				break
			}
		}
		if last {
			out = append(out, a.user)
		}
	}
	return out
}

// cutProxy forwards TCP connections to a server until it is cut: then it
// closes every connection, and each new one as soon as it comes, until it is
// restored. It keeps its port the whole test, so nothing else can take it.
type cutProxy struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
	})
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
	c.Close()
}

// cut closes every connection, and each new one from now on.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore forwards new connections again.
func (p *cutProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
