package client

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/gen"
)

// pages serves total version control identities (ids 1..total) in pages, as
// the contract says: page from 1, limit at most 50 (default 20), total
// counting every match, X-Request-Id "page-N". It answers page failPage
// with a 500.
func pages(t *testing.T, total, failPage int64) *counted {
	return &counted{serve: func(_ int, w http.ResponseWriter, r *http.Request) {
		page, limit := queryInt(r, "page", 1), min(queryInt(r, "limit", 20), 50)
		w.Header().Set("X-Request-Id", "page-"+strconv.FormatInt(page, 10))
		if page == failPage {
			writeJSON(t, w, http.StatusInternalServerError, gen.Error{StatusCode: 500, Code: gen.ErrorCodeINTERNALERROR, Message: "boom", RequestId: "r"})
			return
		}
		out := vcPage()
		out.Page, out.Limit, out.Total = page, limit, total
		for id := (page-1)*limit + 1; id <= min(page*limit, total); id++ {
			out.Data = append(out.Data, vcIdentity(id))
		}
		writeJSON(t, w, http.StatusOK, out)
	}}
}

func queryInt(r *http.Request, name string, def int64) int64 {
	if v, err := strconv.ParseInt(r.URL.Query().Get(name), 10, 64); err == nil {
		return v
	}
	return def
}

// TestAllYieldsEachOnce walks a few hundred identities and sees each exactly
// once, in order, with one request a page, leaving the caller's options
// alone. The pointers it yields stay valid: each points at its own identity
// after the walk.
func TestAllYieldsEachOnce(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := pages(t, 317, 0)
	mux.Handle("GET /user-identities/version-control", srv)
	opts := &VersionControlListOptions{Limit: 50, Q: "o"}
	before := *opts
	var got []*gen.VersionControlIdentity
	for it, err := range c.VersionControl.All(context.Background(), opts) {
		require.NoError(t, err)
		got = append(got, it.Identity)
	}
	require.Len(t, got, 317)
	for i, identity := range got {
		require.EqualValues(t, i+1, identity.Id, "identity %d of the walk", i)
	}
	assert.Equal(t, 7, srv.requests(), "one request a page: ceil(317/50)")
	assert.Equal(t, before, *opts, "All changed the caller's options")
}

// TestAllCarriesEachPagesResponse: each identity comes with the Response of
// the request that brought its page, and the walk ends with the last page.
func TestAllCarriesEachPagesResponse(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := pages(t, 45, 0)
	mux.Handle("GET /user-identities/version-control", srv)
	perPage := map[string]int{}
	var order []string
	for it, err := range c.VersionControl.All(context.Background(), &VersionControlListOptions{Page: 2}) {
		require.NoError(t, err)
		r := it.Response
		require.NotNil(t, r)
		assert.Equal(t, http.StatusOK, r.StatusCode)
		assert.EqualValues(t, 45, r.Total)
		assert.Equal(t, "page-"+strconv.FormatInt(r.Page, 10), r.RequestID, "identity %d", it.Identity.Id)
		assert.EqualValues(t, r.Page, (it.Identity.Id-1)/20+1, "identity %d came with another page's response", it.Identity.Id)
		key := r.RequestID + " next " + strconv.FormatInt(r.NextPage, 10)
		if perPage[key]++; perPage[key] == 1 {
			order = append(order, key)
		}
	}
	assert.Equal(t, []string{"page-2 next 3", "page-3 next 0"}, order)
	assert.Equal(t, map[string]int{"page-2 next 3": 20, "page-3 next 0": 5}, perPage)
	assert.Equal(t, 2, srv.requests())
}

// TestAllStopsEarly: breaking out of the loop stops the requests, and the
// next page is asked for only once the loop has taken every identity of this
// one.
func TestAllStopsEarly(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := pages(t, 300, 0)
	mux.Handle("GET /user-identities/version-control", srv)
	n := 0
	for _, err := range c.VersionControl.All(context.Background(), &VersionControlListOptions{Limit: 20}) {
		require.NoError(t, err)
		if n++; n == 20 { // the last of the first page
			break
		}
	}
	assert.Equal(t, 1, srv.requests(), "All asked for a page the loop never reached")
	n = 0
	for _, err := range c.VersionControl.All(context.Background(), &VersionControlListOptions{Limit: 20}) {
		require.NoError(t, err)
		if n++; n == 25 { // in the second page
			break
		}
	}
	assert.Equal(t, 3, srv.requests())
}

// TestAllError: an error is yielded once, with the failed request's Response
// and no identity, and ends the walk.
func TestAllError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	srv := pages(t, 100, 2)
	mux.Handle("GET /user-identities/version-control", srv)
	items, errs := 0, 0
	for it, err := range c.VersionControl.All(context.Background(), nil) {
		if err != nil {
			errs++
			assert.ErrorAs(t, err, new(*APIError))
			assert.Nil(t, it.Identity)
			require.NotNil(t, it.Response)
			assert.Equal(t, http.StatusInternalServerError, it.Response.StatusCode)
			assert.Equal(t, "page-2", it.Response.RequestID)
			continue
		}
		items++
	}
	assert.Equal(t, 20, items)
	assert.Equal(t, 1, errs)
	assert.Equal(t, 2, srv.requests())
}

// TestAllInfrastructureEmpty: an empty result is one request and no items.
func TestAllInfrastructureEmpty(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	// A server that claims more than it sends must not loop the client.
	p := infraPage()
	p.Total = 10
	srv := reply(t, http.StatusOK, p)
	mux.Handle("GET /user-identities/infrastructure", srv)
	for range c.Infrastructure.All(context.Background(), nil) {
		t.Error("yielded an item from an empty page")
	}
	assert.Equal(t, 1, srv.requests())
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
	require.NoError(t, err)
	require.Len(t, page.Data, 2)
	assert.EqualValues(t, 21, page.Data[0].Id)
	assert.Equal(t, [4]int64{2, 20, 45, 3}, [4]int64{resp.Page, resp.Limit, resp.Total, resp.NextPage}, "page, limit, total, next page")
	assert.Equal(t, "req-9", resp.RequestID)
	assert.Equal(t, 500, resp.Rate.Limit)
	assert.Equal(t, 498, resp.Rate.Remaining)
	assert.WithinDuration(t, before.Add(42*time.Second), resp.Rate.Reset, time.Second, "rate reset")
	assert.Positive(t, resp.Duration)
	assert.Equal(t, 1, resp.Attempts)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	assert.NoError(t, err)
	assert.NotEmpty(t, body, "the JSON, read again")
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
		assert.Equal(t, tc.next, r.NextPage, "setPage(%d, %d, %d, %d)", tc.page, tc.limit, tc.total, tc.items)
	}
}
