package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// tenantChecks lists another company's identities with its key and
// checks that the main key never sees them: not in any answer of the run,
// not when searching for their names, and that a PUT naming one answers
// exactly as a PUT naming an id that does not exist. Each PUT carries a
// body that leaves that identity as it is, so that even a server that
// wrongly accepts it changes nothing.
func (c *checker) tenantChecks(ctx context.Context) error {
	if !c.on(checkAuthTenant) {
		return nil
	}
	if c.cfg.OtherToken == "" {
		c.skip(checkAuthTenant, "all", "needs --other-token, a key of another company")
		return nil
	}
	for _, f := range c.fams {
		if !f.ok {
			continue
		}
		w, err := c.walkList(ctx, f, nil, f.maxLimit(), c.cfg.MaxPages, otherAuth)
		if err != nil {
			return err
		}
		if w.failed != nil {
			c.skip(checkAuthTenant, f.listOp, "the other key cannot list: "+w.failed.brief())
			continue
		}
		if len(w.items) == 0 {
			c.skip(checkAuthTenant, f.listOp, "the other company has no identities to look for")
			continue
		}
		if f.base != nil && f.base.done && w.done && sameIDs(f.base.ids, w.ids) {
			c.skip(checkAuthTenant, f.listOp, "the other key lists the same identities as the main key: give a key of another company")
			continue
		}
		if err := c.tenantFamily(ctx, f, w); err != nil {
			return err
		}
	}
	return nil
}

func sameIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	set := map[int64]bool{}
	for _, id := range a {
		set[id] = true
	}
	for _, id := range b {
		if !set[id] {
			return false
		}
	}
	return true
}

func (c *checker) tenantFamily(ctx context.Context, f *famState, other *walk) error {
	theirs := map[int64]bool{}
	for _, id := range other.ids {
		theirs[id] = true
	}
	// Everything the main key was answered during the run.
	var leaked []int64
	for id := range c.seen {
		if theirs[id] {
			leaked = append(leaked, id)
		}
	}
	if len(leaked) > 0 {
		id := slices.Min(leaked)
		r := c.seen[id]
		c.fail(checkAuthTenant, Finding{Subject: f.listOp, Message: fmt.Sprintf("%d identities of the other company were in answers to the main key, identity %d first", len(leaked), id),
			Request: r.target(c.base), Curl: r.curl(c.base, c.cfg.TokenEnv)})
	} else {
		c.pass(checkAuthTenant)
	}
	// Searches for their identities.
	for _, fl := range f.filters {
		if fl.kind != filterContains {
			continue
		}
		for _, it := range pick(other.items, 3) {
			for _, field := range []string{"identityId", "username"} {
				v, _ := it[field].(string)
				if v == "" {
					continue
				}
				q := url.Values{fl.param: {v}}
				ex, err := c.do(ctx, get(f.listPath, q))
				if err != nil {
					return err
				}
				subject := fmt.Sprintf("%s %s=<%s of the other company's identity>", f.listOp, fl.param, field)
				if ex.status != http.StatusOK {
					c.fail(checkAuthTenant, c.finding(subject, "answered "+ex.brief()+", want 200", ex))
					continue
				}
				found := false
				for _, got := range ex.items() {
					if id, _ := idOf(got); theirs[id] {
						found = true
						c.fail(checkAuthTenant, c.finding(subject, fmt.Sprintf("the search returns identity %d of the other company", id), ex))
						break
					}
				}
				if !found {
					c.pass(checkAuthTenant)
				}
			}
		}
	}
	// PUTs naming their identities answer as PUTs naming no identity.
	for _, m := range f.mutations {
		var it map[string]any
		for _, cand := range other.items {
			if _, ok := m.noop(cand); ok {
				it = cand
				break
			}
		}
		if it == nil {
			c.skip(checkAuthTenant, m.opID, "no identity of the other company on which this PUT would change nothing")
			continue
		}
		id, _ := idOf(it)
		body, _ := m.noop(it)
		theirsEx, err := c.do(ctx, put(m.itemPath(strconv.FormatInt(id, 10)), body))
		if err != nil {
			return err
		}
		missingEx, err := c.do(ctx, put(m.itemPath(strconv.FormatInt(c.api.missingID, 10)), body))
		if err != nil {
			return err
		}
		subject := fmt.Sprintf("%s on identity %d of the other company", m.opID, id)
		a := answerShape(theirsEx, id)
		b := answerShape(missingEx, c.api.missingID)
		if a != b {
			c.fail(checkAuthTenant, c.finding(subject, fmt.Sprintf("answered %s; an id that does not exist is answered %s", a, b), theirsEx))
			continue
		}
		c.pass(checkAuthTenant)
	}
	return nil
}

// answerShape is what an answer says, with the id it is about left out,
// to compare answers about different ids.
func answerShape(ex *exchange, id int64) string {
	msg, _ := ex.object()["message"].(string)
	msg = strings.ReplaceAll(msg, strconv.FormatInt(id, 10), "{id}")
	return fmt.Sprintf("%d %s %q", ex.status, ex.code(), msg)
}

// pick takes up to n items spread over items.
func pick(items []map[string]any, n int) []map[string]any {
	if len(items) <= n {
		return items
	}
	out := make([]map[string]any, 0, n)
	for i := range n {
		out = append(out, items[i*len(items)/n])
	}
	return out
}
