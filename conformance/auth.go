package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
)

// authProbe is one way of sending a key that must be refused.
type authProbe struct {
	check, what string
	auth        auth
}

var authProbes = []authProbe{
	{checkAuthMissing, "no key", noAuth},
	{checkAuthMalformed, "a malformed key", auth{scheme: "Bearer", key: keyLiteral, value: "not a valid key!"}},
	{checkAuthMalformed, "the key with a character appended", auth{scheme: "Bearer", key: keyMain, value: "x"}},
	{checkAuthScheme, "the key under the Basic scheme", auth{scheme: "Basic", key: keyMain}},
}

// authChecks sends every operation each refused way of authenticating;
// PUTs go to an id that does not exist, with a valid body, so that a
// server that wrongly accepts them changes nothing. With a read-only key
// (and no write targets) it also sends each PUT a body that changes
// nothing, which must be refused with 403.
func (c *checker) authChecks(ctx context.Context) error {
	for _, f := range c.fams {
		if !f.ok {
			continue
		}
		reqs := []request{get(f.listPath, c.limitOne(f))}
		for _, m := range f.mutations {
			reqs = append(reqs, put(m.itemPath(strconv.FormatInt(c.api.missingID, 10)), m.validBody()))
		}
		for _, r := range reqs {
			for _, p := range authProbes {
				if !c.on(p.check) {
					continue
				}
				ex, err := c.do(ctx, r.with(p.auth))
				if err != nil {
					return err
				}
				subject := fmt.Sprintf("%s with %s", opName(ex, r), p.what)
				if ex.status != http.StatusUnauthorized {
					c.failReduced(ctx, p.check, subject, "answered "+ex.brief()+", want 401", ex, nil, func(e *exchange) bool { return e.status != http.StatusUnauthorized })
					continue
				}
				c.pass(p.check)
			}
		}
	}
	if c.cfg.ReadToken == "" {
		c.skip(checkAuthReadOnly, "all", "needs --read-token, a key of the same company without write scopes")
		return nil
	}
	for _, f := range c.fams {
		if !f.ok || !c.on(checkAuthReadOnly) {
			continue
		}
		if _, target := c.cfg.Targets[f.name]; target {
			continue // the write checks send the read key real changes
		}
		if err := c.readKeyNoops(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// limitOne asks for pages of one item.
func (c *checker) limitOne(f *famState) url.Values {
	if f.limit == nil {
		return nil
	}
	return url.Values{f.limit.name: {"1"}}
}

// opName is the operation of an exchange, or its method and path.
func opName(ex *exchange, r request) string {
	if ex != nil && ex.op != "" {
		return ex.op
	}
	return r.method + " " + r.path
}

// readKeyNoops sends each PUT with the read-only key and a body that would
// change nothing, and checks the 403 and that the identity is unchanged.
func (c *checker) readKeyNoops(ctx context.Context, f *famState) error {
	ex, err := c.do(ctx, get(f.listPath, c.limitOne(f)).with(readAuth))
	if err != nil {
		return err
	}
	if ex.status != http.StatusOK {
		c.skip(checkAuthReadOnly, f.listOp, "the read-only key cannot list: "+ex.brief())
		return nil
	}
	for _, m := range f.mutations {
		it := c.firstNoop(f, m)
		if it == nil {
			c.skip(checkAuthReadOnly, m.opID, "no listed identity on which this PUT would change nothing")
			continue
		}
		id, _ := idOf(it)
		body, _ := m.noop(it)
		ex, err := c.do(ctx, put(m.itemPath(strconv.FormatInt(id, 10)), body).with(readAuth))
		if err != nil {
			return err
		}
		subject := fmt.Sprintf("%s on identity %d with the read-only key", m.opID, id)
		if ex.status != http.StatusForbidden {
			c.fail(checkAuthReadOnly, c.finding(subject, "answered "+ex.brief()+", want 403", ex))
		}
		now, rex, err := c.readBack(ctx, f, id, it)
		if err != nil {
			return err
		}
		if d := diffFields(it, now, nil); len(d) > 0 {
			c.fail(checkAuthReadOnly, c.finding(subject, "the identity changed: "+d[0], rex))
			continue
		}
		if ex.status == http.StatusForbidden {
			c.pass(checkAuthReadOnly)
		}
	}
	return nil
}

// firstNoop is the first identity of the walk on which m can send a body
// that changes nothing.
func (c *checker) firstNoop(f *famState, m *mutation) map[string]any {
	if f.base == nil {
		return nil
	}
	for _, it := range f.base.items {
		if _, ok := m.noop(it); ok {
			return it
		}
	}
	return nil
}

// validBody is a body the document allows that changes nothing on an
// identity that is already unlinked, without the flag, or not marked.
func (m *mutation) validBody() map[string]any {
	b := map[string]any{}
	for k, v := range m.extra {
		b[k] = v
	}
	switch m.kind {
	case mutLink:
		b[m.prop] = nil
	case mutFlag:
		b[m.prop], b[m.enumProp] = false, m.flags[0].member
	case mutMark:
		b[m.prop] = false
	}
	return b
}

// noop is a body that leaves it as it is, when there is one: linking the
// user it is linked to, setting a flag already set (its time is kept) or
// clearing one not set, unmarking what is not marked.
func (m *mutation) noop(it map[string]any) (map[string]any, bool) {
	b := m.validBody()
	switch m.kind {
	case mutLink:
		if u := linkedID(it[m.field]); u != 0 {
			b[m.prop] = u
		}
		return b, true
	case mutFlag:
		b[m.prop] = it[m.flags[0].field] != nil
		return b, true
	case mutMark:
		return b, it[m.field] == nil
	}
	return nil, false
}

// linkedID is the id of a linked object, 0 when there is none.
func linkedID(v any) int64 {
	m, _ := v.(map[string]any)
	id, _ := m["id"].(float64)
	return int64(id)
}

// readBack reads one identity through the list: a search for its
// identityId when a filter searches it, else a walk. It returns nil when
// the identity is not listed, with the exchange that showed it (or the
// last one read).
func (c *checker) readBack(ctx context.Context, f *famState, id int64, hint map[string]any) (map[string]any, *exchange, error) {
	if fl := f.searchOf("identityId"); fl != nil && hint != nil {
		if s, _ := hint["identityId"].(string); s != "" {
			q := url.Values{fl.param: {s}}
			if f.limit != nil {
				q.Set(f.limit.name, strconv.Itoa(f.maxLimit()))
			}
			ex, err := c.do(ctx, get(f.listPath, q))
			if err != nil {
				return nil, nil, err
			}
			for _, it := range ex.items() {
				if got, _ := idOf(it); got == id {
					return it, ex, nil
				}
			}
		}
	}
	w, err := c.walkList(ctx, f, nil, f.maxLimit(), c.cfg.MaxPages*5, mainAuth)
	if err != nil {
		return nil, nil, err
	}
	for i, got := range w.ids {
		if got == id {
			return w.items[i], w.pageExchange(i), nil
		}
	}
	return nil, w.pageExchange(len(w.ids) - 1), nil
}

// searchOf is the text filter that searches the named field, or nil.
func (f *family) searchOf(field string) *filter {
	for _, fl := range f.filters {
		if fl.kind == filterContains && fl.exact {
			for _, p := range fl.fields {
				if len(p) == 1 && p[0] == field {
					return fl
				}
			}
		}
	}
	return nil
}

// diffFields lists, in name order, how two reads of an identity differ,
// leaving out the fields in skip.
func diffFields(before, after map[string]any, skip map[string]bool) []string {
	if after == nil {
		return []string{"it is no longer listed"}
	}
	var out []string
	for _, k := range sortedKeys(before, after) {
		if skip[k] {
			continue
		}
		if !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, fmt.Sprintf("%s was %s, is %s", k, brief(before[k]), brief(after[k])))
		}
	}
	return out
}
