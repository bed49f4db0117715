package conformance

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// pagingChecks walks each family's list in its default order twice, at a
// page size that gives about three pages and at the default page size,
// and asks for a page past the end. The first walk is the reference the
// sort, filter and tenant checks compare with.
func (c *checker) pagingChecks(ctx context.Context) error {
	for _, f := range c.fams {
		if !f.ok {
			continue
		}
		limit := f.walkLimit(f.total)
		a, err := c.walkList(ctx, f, nil, limit, c.cfg.MaxPages, mainAuth)
		if err != nil {
			return err
		}
		f.base = a
		if a.failed != nil {
			c.fail(checkPageWalk, c.finding(a.subject, "the walk stopped: "+a.failed.brief(), a.failed))
			continue
		}
		c.checkWalk(a)
		if !c.anyOn(checkPageWalk, checkPageDefault, checkPagePastEnd, checkPageLimit, checkPageEcho, checkPageFull, checkPageTotal) {
			continue
		}
		// The same order at the default page size, as far as the first walk went.
		pages := c.cfg.MaxPages
		if n := int(f.defaultLimit()); n > 0 {
			pages = min(pages, max(1, (len(a.items)+n-1)/n))
		}
		b, err := c.walkList(ctx, f, nil, 0, pages, mainAuth)
		if err != nil {
			return err
		}
		c.defaultLimit(f, b)
		c.sameSequence(a, b)
		if err := c.pastEnd(ctx, f, a); err != nil {
			return err
		}
	}
	return nil
}

// checkWalk checks that a walk holds no identity twice, and total in all
// when it reached the end.
func (c *checker) checkWalk(w *walk) {
	first := map[int64]int{}
	for i, id := range w.ids {
		if j, dup := first[id]; dup {
			c.fail(checkPageWalk, c.finding(w.subject, fmt.Sprintf("identity %d is listed twice: item %d and item %d of the walk", id, j+1, i+1), w.pageExchange(i)))
			return
		}
		first[id] = i
	}
	if w.done && w.hasTot && int64(len(w.ids)) != w.total {
		c.fail(checkPageWalk, c.finding(w.subject, fmt.Sprintf("walking every page returned %d identities; total says %d", len(w.ids), w.total), w.pageExchange(len(w.ids)-1)))
		return
	}
	c.pass(checkPageWalk)
}

// sameSequence checks that two walks in the same order at different page
// sizes list the same identities in the same sequence, as far as both go.
func (c *checker) sameSequence(a, b *walk) {
	if b.failed != nil {
		c.fail(checkPageWalk, c.finding(b.subject, "the walk stopped: "+b.failed.brief(), b.failed))
		return
	}
	n := min(len(a.ids), len(b.ids))
	for i := range n {
		if a.ids[i] != b.ids[i] {
			c.fail(checkPageWalk, c.finding(b.subject, fmt.Sprintf("item %d of the walk is identity %d at limit %d, identity %d at limit %d: pages skip or repeat identities", i+1, b.ids[i], b.effLimit(), a.ids[i], a.effLimit()), b.pageExchange(i)))
			return
		}
	}
	if a.done && b.done && len(a.ids) != len(b.ids) {
		c.fail(checkPageWalk, c.finding(b.subject, fmt.Sprintf("%d identities at limit %d, %d at limit %d", len(b.ids), b.effLimit(), len(a.ids), a.effLimit()), b.pageExchange(len(b.ids)-1)))
		return
	}
	c.pass(checkPageWalk)
}

// defaultLimit checks the first page of a walk that left limit out.
func (c *checker) defaultLimit(f *famState, b *walk) {
	if b.failed != nil || len(b.pages) == 0 {
		return
	}
	ex := b.pages[0]
	def := f.defaultLimit()
	n := int64(len(ex.items()))
	want := min(def, int64(f.total))
	if gl, ok := ex.num("limit"); n != want || (f.limit != nil && (!ok || gl != def)) {
		c.fail(checkPageDefault, c.finding(b.subject, fmt.Sprintf("%d items and limit %v without `limit`; the document's default is %d (with total %d: %d items)", n, ex.object()["limit"], def, f.total, want), ex))
		return
	}
	c.pass(checkPageDefault)
}

// pastEnd asks for the page after the last one.
func (c *checker) pastEnd(ctx context.Context, f *famState, a *walk) error {
	if f.page == nil || !a.hasTot {
		return nil
	}
	limit := a.effLimit()
	after := max(1, (a.total+limit-1)/limit) + 1
	q := url.Values{f.page.name: {strconv.FormatInt(after, 10)}}
	if f.limit != nil {
		q.Set(f.limit.name, strconv.FormatInt(limit, 10))
	}
	ex, err := c.do(ctx, get(f.listPath, q))
	if err != nil {
		return err
	}
	subject := f.listOp + " " + ex.req.describe()
	total, _ := ex.num("total")
	switch {
	case ex.status != 200:
		c.fail(checkPagePastEnd, c.finding(subject, "answered "+ex.brief()+", want 200 with an empty page", ex))
	case len(ex.items()) != 0:
		c.fail(checkPagePastEnd, c.finding(subject, fmt.Sprintf("page %d is past the last (total %d, limit %d) but holds %d items", after, a.total, limit, len(ex.items())), ex))
	case total != a.total:
		c.fail(checkPagePastEnd, c.finding(subject, fmt.Sprintf("total %d past the last page, %d on page 1", total, a.total), ex))
	default:
		c.pass(checkPagePastEnd)
	}
	return nil
}
