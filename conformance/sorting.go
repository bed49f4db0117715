package conformance

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// sortPages bounds the pages of each sort walk: the order of the first
// pages shows whether a sort is applied, and a company may hold many
// identities.
const sortPages = 3

// sortChecks walks every sort × direction of each family at the largest
// page size and checks the order; the default order is checked on the
// paging walk.
func (c *checker) sortChecks(ctx context.Context) error {
	if !c.on(checkSortOrder) {
		return nil
	}
	for _, f := range c.fams {
		if !f.ok || f.sortParam == "" {
			continue
		}
		if f.base != nil && f.base.failed == nil {
			if k := f.sortKey(f.defaultSort); k != nil && f.defaultSort != "" {
				c.checkOrder(f, f.base, k, f.defaultDir == f.desc, fmt.Sprintf("%s default order (%s %s)", f.listOp, f.defaultSort, f.defaultDir))
			}
		}
		for _, k := range f.sorts {
			for _, dir := range []string{f.asc, f.desc} {
				q := url.Values{f.sortParam: {k.member}}
				if f.dirParam != "" && dir != "" {
					q.Set(f.dirParam, dir)
				}
				w, err := c.walkList(ctx, f, q, f.maxLimit(), min(c.cfg.MaxPages, sortPages), mainAuth)
				if err != nil {
					return err
				}
				if w.failed != nil {
					c.failReduced(ctx, checkSortOrder, w.subject, "answered "+w.failed.brief()+", want 200", w.failed, []string{f.sortParam, f.dirParam}, func(e *exchange) bool { return e.status != 200 })
					continue
				}
				if len(k.parts) == 0 {
					c.skip(checkSortOrder, w.subject, "the document does not say what "+k.member+" orders by")
					continue
				}
				c.checkOrder(f, w, k, dir == f.desc, w.subject)
			}
		}
	}
	return nil
}

// sortKey returns the key of a sort member, or nil.
func (f *family) sortKey(member string) *sortKey {
	for _, k := range f.sorts {
		if k.member == member && len(k.parts) > 0 {
			return k
		}
	}
	return nil
}

// keyValue is an identity's value under a sort key.
type keyValue struct {
	null bool
	raw  string // as the answer wrote it, joined for several parts
	at   time.Time
	num  float64
	kind keyKind
}

// valueOf reads an identity's key; any part missing or null makes it null.
func (k *sortKey) valueOf(it map[string]any) keyValue {
	v := keyValue{kind: k.kind}
	var texts []string
	for _, p := range k.parts {
		x, ok := at(it, p)
		if !ok || x == nil {
			return keyValue{null: true, kind: k.kind}
		}
		texts = append(texts, fmt.Sprint(x))
		switch val := x.(type) {
		case float64:
			v.num = val
		case bool:
			if val {
				v.num = 1
			}
		}
	}
	v.raw = strings.Join(texts, " ")
	if k.kind == keyTime {
		t, err := time.Parse(time.RFC3339Nano, v.raw)
		if err != nil {
			v.kind = keyText // compared as written
		}
		v.at = t
	}
	return v
}

// at reads the value at a path of member names.
func at(it map[string]any, path []string) (any, bool) {
	var x any = it
	for _, name := range path {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		if x, ok = m[name]; !ok {
			return nil, false
		}
	}
	return x, true
}

// after reports whether a surely sorts after b in ascending order. Texts
// are compared three ways (bytes, ASCII case folded, Unicode lower case),
// since the document names no collation: only an order all three reject
// is wrong. equal reports values no collation tells apart.
func after(a, b keyValue) (later, equal bool) {
	if a.kind == keyTime && b.kind == keyTime {
		return a.at.After(b.at), a.at.Equal(b.at)
	}
	if a.kind == keyNumber || a.kind == keyBool {
		return a.num > b.num, a.num == b.num
	}
	if a.raw == b.raw {
		return false, true
	}
	return a.raw > b.raw && asciiFold(a.raw) > asciiFold(b.raw) && strings.ToLower(a.raw) > strings.ToLower(b.raw), false
}

func asciiFold(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}

// checkOrder checks a walk's order under key k: values in order, ties by
// id in the same direction, empty values where the document puts them.
func (c *checker) checkOrder(f *famState, w *walk, k *sortKey, desc bool, subject string) {
	dir := "ascending"
	if desc {
		dir = "descending"
	}
	strictNulls := c.api.emptyFirst && k.kind == keyTime
	show := func(i int) string {
		v := k.valueOf(w.items[i])
		val := strconv.Quote(v.raw)
		if v.null {
			val = "empty"
		}
		return fmt.Sprintf("identity %d (%s %s)", w.ids[i], k.describe(), val)
	}
	var nullRuns []bool // runs of empty and non-empty values, in walk order
	for i := range w.items {
		cur := k.valueOf(w.items[i])
		if len(nullRuns) == 0 || nullRuns[len(nullRuns)-1] != cur.null {
			nullRuns = append(nullRuns, cur.null)
		}
		if i == 0 {
			continue
		}
		prev := k.valueOf(w.items[i-1])
		var wrong string
		switch {
		case prev.null && cur.null:
			wrong = tieOrder(w.ids[i-1], w.ids[i], desc)
		case strictNulls && prev.null != cur.null:
			if prev.null == desc { // asc: empty first; desc: empty last
				wrong = fmt.Sprintf("an empty %s sorts %s a value in %s order", k.member, map[bool]string{false: "after", true: "before"}[desc], dir)
			}
		case prev.null != cur.null:
			// Where other empty values go is checked on the whole walk below.
		default:
			later, equal := after(prev, cur)
			if desc {
				later, _ = after(cur, prev)
			}
			switch {
			case equal:
				wrong = tieOrder(w.ids[i-1], w.ids[i], desc)
			case later:
				wrong = "out of " + dir + " order"
			}
		}
		if wrong != "" {
			c.fail(checkSortOrder, c.finding(subject, fmt.Sprintf("%s comes before %s: %s", show(i-1), show(i), wrong), w.pageExchange(i)))
			return
		}
	}
	if len(nullRuns) > 2 {
		c.fail(checkSortOrder, c.finding(subject, fmt.Sprintf("empty %s values are not together at one end", k.member), w.pageExchange(len(w.items)-1)))
		return
	}
	c.pass(checkSortOrder)
}

// tieOrder says what is wrong with two tied identities' ids, or "".
func tieOrder(prev, cur int64, desc bool) string {
	if (!desc && prev > cur) || (desc && prev < cur) {
		return "equal values must be ordered by id in the same direction"
	}
	return ""
}
