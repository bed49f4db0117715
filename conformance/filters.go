package conformance

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// filterPages bounds the pages of each filtered walk; beyond them, the
// filtered list is compared with the unfiltered one as far as it goes.
const filterPages = 5

// filterChecks walks each family's list with each filter value (every enum
// member, a few connections, a few texts taken from listed identities,
// values that match nothing) and compares what comes back with the
// identities of the unfiltered walk that match.
func (c *checker) filterChecks(ctx context.Context) error {
	for _, f := range c.fams {
		if !f.ok || f.base == nil || f.base.failed != nil {
			continue
		}
		for _, fl := range f.filters {
			name := filterCheckPrefix + fl.param
			if !c.on(name) {
				continue
			}
			for _, v := range c.filterValues(f, fl) {
				w, err := c.walkList(ctx, f, url.Values{fl.param: {v}}, f.maxLimit(), min(c.cfg.MaxPages, filterPages), mainAuth)
				if err != nil {
					return err
				}
				c.checkFilter(ctx, f, fl, v, w)
			}
		}
	}
	return nil
}

// filterValues are the values a filter is tried with.
func (c *checker) filterValues(f *famState, fl *filter) []string {
	if len(fl.members) > 0 {
		return fl.members
	}
	var out []string
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	items := f.base.items
	if fl.kind == filterEquals {
		for _, it := range items {
			if len(out) == 3 {
				break
			}
			if x, ok := at(it, fl.fields[0]); ok && x != nil {
				add(text(x))
			}
		}
		add(strconv.FormatInt(c.api.missingID, 10)) // matches nothing
		return out
	}
	for _, it := range items {
		if u, _ := it["username"].(string); len([]rune(u)) >= 4 {
			add(swapCase(string([]rune(u)[1:4])))
			break
		}
	}
	if len(items) > 0 {
		mid := items[len(items)/2]
		for _, fld := range fl.fields {
			if s, ok := at(mid, fld); ok && s != nil {
				add(text(s))
				break
			}
		}
	}
	for _, it := range items {
		if e, _ := it["email"].(string); strings.Contains(e, "@") {
			add(strings.ToUpper(e[strings.Index(e, "@"):]))
			break
		}
	}
	add("no-such-identity-zqxjk") // matches nothing
	return out
}

// text is a JSON value as a filter compares it.
func text(x any) string {
	switch v := x.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	}
	return fmt.Sprint(x)
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

// matches reports whether an identity matches a filter value, and says
// what it holds when it does not.
func (fl *filter) matches(it map[string]any, v string) (bool, string) {
	if fl.kind == filterEquals {
		x, _ := at(it, fl.fields[0])
		if x != nil && text(x) == v {
			return true, ""
		}
		return false, fmt.Sprintf("its %s is %s", strings.Join(fl.fields[0], "."), show(x))
	}
	needle := strings.ToLower(v)
	var held []string
	for _, p := range fl.fields {
		if s, ok := at(it, p); ok && s != nil {
			if strings.Contains(strings.ToLower(text(s)), needle) {
				return true, ""
			}
			held = append(held, strings.Join(p, ".")+" "+show(s))
		}
	}
	return false, "none of its fields contains it (" + strings.Join(held, ", ") + ")"
}

func show(x any) string {
	if x == nil {
		return "empty"
	}
	return strconv.Quote(text(x))
}

// checkFilter checks one filtered walk: only matches, and every match of
// the unfiltered walk, in its order, with total counting them.
func (c *checker) checkFilter(ctx context.Context, f *famState, fl *filter, v string, w *walk) {
	name := filterCheckPrefix + fl.param
	subject := fmt.Sprintf("%s %s=%s", f.listOp, fl.param, v)
	if w.failed != nil {
		c.failReduced(ctx, name, subject, "answered "+w.failed.brief()+", want 200", w.failed, []string{fl.param}, func(e *exchange) bool { return e.status != 200 })
		return
	}
	for i, it := range w.items {
		if ok, why := fl.matches(it, v); !ok {
			c.failReduced(ctx, name, subject, fmt.Sprintf("identity %d does not match: %s", w.ids[i], why), w.pageExchange(i), []string{fl.param}, func(e *exchange) bool {
				for _, it := range e.items() {
					if ok, _ := fl.matches(it, v); !ok {
						return true
					}
				}
				return false
			})
			return
		}
	}
	base := f.base
	if !fl.exact {
		c.pass(name)
		return
	}
	var want []int64
	for i, it := range base.items {
		if ok, _ := fl.matches(it, v); ok {
			want = append(want, base.ids[i])
		}
	}
	listed := map[int64]bool{}
	for _, id := range base.ids {
		listed[id] = true
	}
	got := map[int64]bool{}
	for i, id := range w.ids {
		got[id] = true
		if base.done && !listed[id] {
			c.fail(name, c.finding(subject, fmt.Sprintf("returns identity %d, which the list without %s does not hold", id, fl.param), w.pageExchange(i)))
			return
		}
	}
	if base.done && w.done {
		for _, id := range want {
			if !got[id] {
				c.fail(name, c.finding(subject, fmt.Sprintf("identity %d matches (it is in the list without %s) but is not returned", id, fl.param), w.pageExchange(0)))
				return
			}
		}
		if w.hasTot && w.total != int64(len(want)) {
			c.fail(name, c.finding(subject, fmt.Sprintf("total %d, but %d identities match", w.total, len(want)), w.pageExchange(0)))
			return
		}
	}
	for i := range min(len(want), len(w.ids)) {
		if w.ids[i] != want[i] {
			c.fail(name, c.finding(subject, fmt.Sprintf("item %d is identity %d; in the order of the list without %s it is identity %d", i+1, w.ids[i], fl.param, want[i]), w.pageExchange(i)))
			return
		}
	}
	c.pass(name)
}
