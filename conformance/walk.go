package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// walk is a list walked page by page with the same parameters.
type walk struct {
	f       *famState
	query   url.Values // the parameters but page
	limit   int        // asked for; 0 when left out
	pages   []*exchange
	items   []map[string]any
	pageOf  []int // the page index of each item
	ids     []int64
	total   int64
	hasTot  bool
	done    bool      // the last page was reached
	failed  *exchange // a page that was not answered 200 with a page
	subject string
}

// effLimit is the page size the walk asked for, the default when none.
func (w *walk) effLimit() int64 {
	if w.limit > 0 {
		return int64(w.limit)
	}
	return w.f.defaultLimit()
}

// defaultLimit is the document's default page size (20), or 20.
func (f *family) defaultLimit() int64 {
	if f.limit != nil && f.limit.def != nil {
		return *f.limit.def
	}
	return 20
}

// walkList walks f's list with query (and limit, unless 0) from page 1 for
// at most maxPages pages, with the key a, checking each page's paging
// invariants as it goes (paging.limit, paging.echo, paging.full-pages,
// paging.total-stable) when a is the main key.
func (c *checker) walkList(ctx context.Context, f *famState, query url.Values, limit, maxPages int, a auth) (*walk, error) {
	w := &walk{f: f, query: cloneQuery(query), limit: limit}
	if w.query == nil {
		w.query = url.Values{}
	}
	if limit > 0 && f.limit != nil {
		w.query.Set(f.limit.name, strconv.Itoa(limit))
	}
	w.subject = f.listOp + " " + request{query: w.query}.describe()
	for p := 1; p <= maxPages; p++ {
		q := cloneQuery(w.query)
		if f.page != nil && p > 1 {
			q.Set(f.page.name, strconv.Itoa(p))
		}
		ex, err := c.do(ctx, get(f.listPath, q).with(a))
		if err != nil {
			return w, err
		}
		if ex.status != http.StatusOK || ex.object() == nil {
			w.failed = ex
			return w, nil
		}
		items := ex.items()
		w.pages = append(w.pages, ex)
		for _, it := range items {
			id, _ := idOf(it)
			w.items = append(w.items, it)
			w.ids = append(w.ids, id)
			w.pageOf = append(w.pageOf, len(w.pages)-1)
		}
		total, hasTotal := ex.num("total")
		if p == 1 {
			w.total, w.hasTot = total, hasTotal
		}
		if len(items) == 0 || !hasTotal || int64(p)*w.effLimit() >= total || f.page == nil {
			w.done = true
			break
		}
	}
	if a == mainAuth {
		c.pageInvariants(ctx, w)
	}
	return w, nil
}

// pageInvariants checks what every page of a walk must hold.
func (c *checker) pageInvariants(ctx context.Context, w *walk) {
	limit := w.effLimit()
	okLimit, okEcho, okFull, okTotal := true, true, true, true
	for i, ex := range w.pages {
		p := int64(i + 1)
		n := int64(len(ex.items()))
		if n > limit {
			okLimit = false
			c.failReduced(ctx, checkPageLimit, w.subject, fmt.Sprintf("%d items on page %d of limit %d", n, p, limit), ex, nil, func(e *exchange) bool {
				return int64(len(e.items())) > askedLimit(w.f, e.req)
			})
		}
		if gp, ok := ex.num("page"); w.f.page != nil && (!ok || gp != p) {
			okEcho = false
			c.fail(checkPageEcho, c.finding(w.subject, fmt.Sprintf("page %v, asked for %d", ex.object()["page"], p), ex))
		}
		if gl, ok := ex.num("limit"); w.f.limit != nil && (!ok || gl != limit) {
			okEcho = false
			c.failReduced(ctx, checkPageEcho, w.subject, fmt.Sprintf("limit %v, asked for %d", ex.object()["limit"], limit), ex, nil, func(e *exchange) bool {
				gl, ok := e.num("limit")
				return !ok || gl != askedLimit(w.f, e.req)
			})
		}
		if t, ok := ex.num("total"); ok && t != w.total && okTotal {
			okTotal = false
			c.fail(checkPageTotal, c.finding(w.subject, fmt.Sprintf("total %d on page %d, %d on page 1", t, p, w.total), ex))
		}
		// Pages before the last are full; the last holds the rest.
		if w.hasTot && okFull && n <= limit {
			want := min(limit, max(w.total-(p-1)*limit, 0))
			if n != want {
				okFull = false
				c.fail(checkPageFull, c.finding(w.subject, fmt.Sprintf("page %d holds %d items; with total %d and limit %d it must hold %d", p, n, w.total, limit, want), ex))
			}
		}
	}
	for _, kv := range []struct {
		name string
		ok   bool
	}{{checkPageLimit, okLimit}, {checkPageEcho, okEcho}, {checkPageFull, okFull}, {checkPageTotal, okTotal}} {
		if kv.ok {
			c.pass(kv.name)
		}
	}
}

// askedLimit is the page size a request asks for, the default when none.
func askedLimit(f *famState, r request) int64 {
	if f.limit != nil {
		if v := r.query.Get(f.limit.name); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		}
	}
	return f.defaultLimit()
}

// lastPage is the request of the page holding item i.
func (w *walk) pageExchange(i int) *exchange {
	if i < 0 || i >= len(w.pageOf) {
		if len(w.pages) > 0 {
			return w.pages[len(w.pages)-1]
		}
		return w.failed
	}
	return w.pages[w.pageOf[i]]
}
