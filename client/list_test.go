package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/identities-go/identities/gen"
)

// pagingServer serves total version control identities (ids 1..total) in
// pages, as the contract says: page from 1, limit at most 50 (default 20),
// total counting every match. It counts the requests.
type pagingServer struct {
	t        *testing.T
	total    int64
	requests atomic.Int32
	failPage int64 // answer this page with a 500
}

func (p *pagingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	page, limit := queryInt(r, "page", 1), min(queryInt(r, "limit", 20), 50)
	if page == p.failPage {
		writeJSON(p.t, w, http.StatusInternalServerError, gen.Error{StatusCode: 500, Code: gen.ErrorCodeINTERNALERROR, Message: "boom", RequestId: "r"})
		return
	}
	out := vcPage()
	out.Page, out.Limit, out.Total = page, limit, p.total
	for id := (page-1)*limit + 1; id <= min(page*limit, p.total); id++ {
		out.Data = append(out.Data, vcIdentity(id))
	}
	writeJSON(p.t, w, http.StatusOK, out)
}

func queryInt(r *http.Request, name string, def int64) int64 {
	if v, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestAllYieldsEachOnce walks a few hundred identities and sees each exactly
// once, with one request a page, leaving the caller's options alone.
func TestAllYieldsEachOnce(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := &pagingServer{t: t, total: 317}
	mux.Handle("GET /user-identities/version-control", srv)
	opts := &VersionControlListOptions{Limit: 50, Q: "o"}
	before := *opts
	seen := map[int64]int{}
	for identity, err := range c.VersionControl.All(context.Background(), opts) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		seen[identity.Id]++
	}
	for id := int64(1); id <= srv.total; id++ {
		if seen[id] != 1 {
			t.Errorf("identity %d seen %d times", id, seen[id])
		}
	}
	if len(seen) != int(srv.total) {
		t.Errorf("saw %d identities, want %d", len(seen), srv.total)
	}
	if got, want := srv.requests.Load(), int32(7); got != want { // ceil(317/50)
		t.Errorf("requests = %d, want %d", got, want)
	}
	if *opts != before {
		t.Errorf("All changed the caller's options: %+v", *opts)
	}
}

// TestAllStopsEarly: breaking out of the loop stops the requests.
func TestAllStopsEarly(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := &pagingServer{t: t, total: 300}
	mux.Handle("GET /user-identities/version-control", srv)
	n := 0
	for _, err := range c.VersionControl.All(context.Background(), &VersionControlListOptions{Limit: 20}) {
		if err != nil {
			t.Fatalf("All: %v", err)
		}
		if n++; n == 25 { // in the second page
			break
		}
	}
	if got := srv.requests.Load(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

// TestAllError: an error is yielded once and ends the walk.
func TestAllError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := &pagingServer{t: t, total: 100, failPage: 2}
	mux.Handle("GET /user-identities/version-control", srv)
	items, errs := 0, 0
	for _, err := range c.VersionControl.All(context.Background(), nil) {
		if err != nil {
			errs++
			if !errors.As(err, new(*APIError)) {
				t.Errorf("err = %v, want *APIError", err)
			}
			continue
		}
		items++
	}
	if items != 20 || errs != 1 || srv.requests.Load() != 2 {
		t.Errorf("items = %d, errors = %d, requests = %d; want 20, 1, 2", items, errs, srv.requests.Load())
	}
}

// TestAllInfrastructureEmpty: an empty result is one request and no items.
func TestAllInfrastructureEmpty(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var requests atomic.Int32
	mux.HandleFunc("GET /user-identities/infrastructure", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		// A server that claims more than it sends must not loop the client.
		p := infraPage()
		p.Total = 10
		writeJSON(t, w, http.StatusOK, p)
	})
	for range c.Infrastructure.All(context.Background(), nil) {
		t.Error("yielded an item from an empty page")
	}
	if requests.Load() != 1 {
		t.Errorf("requests = %d, want 1", requests.Load())
	}
}

// TestListResponse: the Response carries paging, the request ID, the
// rate-limit state and the duration, and its body can be read again.
func TestListResponse(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("GET /user-identities/infrastructure", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-9")
		w.Header().Set("X-RateLimit-Limit", "500")
		w.Header().Set("X-RateLimit-Remaining", "498")
		w.Header().Set("X-RateLimit-Reset", "42")
		p := infraPage(infraIdentity(21), infraIdentity(22))
		p.Page, p.Limit, p.Total = 2, 20, 45
		writeJSON(t, w, http.StatusOK, p)
	})
	before := time.Now()
	page, resp, err := c.Infrastructure.List(context.Background(), &InfrastructureListOptions{Page: 2})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Data) != 2 || page.Data[0].Id != 21 {
		t.Errorf("page = %+v", page)
	}
	if resp.Page != 2 || resp.Limit != 20 || resp.Total != 45 || resp.NextPage != 3 {
		t.Errorf("paging = %d/%d/%d next %d, want 2/20/45 next 3", resp.Page, resp.Limit, resp.Total, resp.NextPage)
	}
	if resp.RequestID != "req-9" || resp.Rate.Limit != 500 || resp.Rate.Remaining != 498 {
		t.Errorf("request id %q, rate %+v", resp.RequestID, resp.Rate)
	}
	if reset := resp.Rate.Reset.Sub(before); reset < 41*time.Second || reset > 43*time.Second {
		t.Errorf("rate reset in %v, want about 42s", reset)
	}
	if resp.Duration <= 0 || resp.Attempts != 1 || resp.StatusCode != http.StatusOK {
		t.Errorf("duration %v, attempts %d, status %d", resp.Duration, resp.Attempts, resp.StatusCode)
	}
	if body, err := io.ReadAll(resp.Body); err != nil || len(body) == 0 {
		t.Errorf("body = %d bytes, %v; want the JSON read again", len(body), err)
	}
}

func TestSetPage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		page, limit, total int64
		items              int
		next               int64
	}{
		{1, 20, 45, 20, 2},
		{2, 20, 45, 20, 3},
		{3, 20, 45, 5, 0},
		{1, 20, 20, 20, 0},
		{1, 20, 0, 0, 0},
		{1, 0, 10, 5, 0},  // malformed limit
		{1, 20, 99, 0, 0}, // empty page despite the total
		{1, 1 << 62, 1 << 62, 1, 0},
	} {
		r := &Response{}
		r.setPage(tc.page, tc.limit, tc.total, tc.items)
		if r.NextPage != tc.next {
			t.Errorf("setPage(%d, %d, %d, %d): next = %d, want %d", tc.page, tc.limit, tc.total, tc.items, r.NextPage, tc.next)
		}
	}
}
