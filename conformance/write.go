package conformance

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// writeReason marks the changes the checker makes.
const writeReason = "identities conformance check"

// undoTimeout bounds each restoring step. Restoring runs on a context that
// the run's cancellation does not reach, so an interrupted run still puts
// back what it changed.
const undoTimeout = 30 * time.Second

// change is one PUT on the target identity, the test of what it did, and
// the PUT that undoes it.
type change struct {
	m          *mutation
	name, undo string
	body, back map[string]any
	want       func(it map[string]any) bool
}

// snapshot is a family's identities as one walk read them.
type snapshot struct {
	items map[int64]map[string]any
	ex    map[int64]*exchange
	order []int64
}

// writer holds one target identity's write checks and the undos not yet
// run, innermost last.
type writer struct {
	c       *checker
	f       *famState
	id      int64
	path    func(m *mutation) string
	undo    []change
	changed bool
	snap    *snapshot // the family as last read
}

// writeChecks changes each target identity with every PUT, checks what
// the answer and the list then show, repeats each PUT, and restores it:
// only what can be set back exactly is changed (a flag only when it is
// unset, a mark only when the identity is not marked; the link is always
// exercised, its timestamps being the API's), and every undo is
// registered before its change is sent and runs even when ctx is
// cancelled.
func (c *checker) writeChecks(ctx context.Context) error {
	if len(c.cfg.Targets) == 0 {
		for _, name := range []string{checkWriteRead, checkWriteIsolated, checkWriteIdempotent, checkWriteRestored} {
			c.skip(name, "all", "needs --write with an identity of each family to change and restore")
		}
		return nil
	}
	for _, f := range c.fams {
		id, ok := c.cfg.Targets[f.name]
		if !ok {
			continue
		}
		if !f.ok {
			c.skip(checkWriteRead, f.name, "the key may not list these identities")
			continue
		}
		if err := c.writeFamily(ctx, f, id); err != nil {
			return err
		}
	}
	return nil
}

func (c *checker) snapshot(ctx context.Context, f *famState) (*snapshot, *walk, error) {
	w, err := c.walkList(ctx, f, nil, f.maxLimit(), c.cfg.MaxPages, mainAuth)
	if err != nil || w.failed != nil {
		return nil, w, err
	}
	s := &snapshot{items: map[int64]map[string]any{}, ex: map[int64]*exchange{}}
	for i, id := range w.ids {
		s.items[id], s.ex[id] = w.items[i], w.pageExchange(i)
		s.order = append(s.order, id)
	}
	return s, w, nil
}

func (c *checker) writeFamily(ctx context.Context, f *famState, id int64) (err error) {
	before, w, err := c.snapshot(ctx, f)
	if err != nil {
		return err
	}
	if before == nil {
		c.fail(checkWriteRead, c.finding(f.listOp, "listing before the writes failed: "+w.failed.brief(), w.failed))
		return nil
	}
	orig := before.items[id]
	if orig == nil {
		c.skip(checkWriteRead, fmt.Sprintf("%s identity %d", f.name, id), fmt.Sprintf("identity %d is not in the first %d pages of the list", id, c.cfg.MaxPages))
		return nil
	}
	wr := &writer{c: c, f: f, id: id, snap: before, path: func(m *mutation) string { return m.itemPath(strconv.FormatInt(id, 10)) }}
	defer func() {
		if uerr := wr.unwind(ctx, before); err == nil {
			err = uerr
		}
	}()
	if err := wr.refusals(ctx); err != nil {
		return err
	}
	for _, m := range f.mutations {
		for _, ch := range wr.changes(m, wr.current(), true) {
			if err := wr.try(ctx, ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// current is the target as last read.
func (w *writer) current() map[string]any { return w.snap.items[w.id] }

// changes are the changes of m that can be undone exactly on it.
func (w *writer) changes(m *mutation, it map[string]any, report bool) []change {
	subject := fmt.Sprintf("%s on %s identity %d", m.opID, w.f.name, w.id)
	base := m.validBody()
	with := func(kv ...any) map[string]any {
		b := map[string]any{}
		for k, v := range base {
			b[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			b[kv[i].(string)] = kv[i+1]
		}
		return b
	}
	set := func(field string) func(map[string]any) bool {
		return func(it map[string]any) bool { return it[field] != nil }
	}
	unset := func(field string) func(map[string]any) bool {
		return func(it map[string]any) bool { return it[field] == nil }
	}
	skip := func(reason string) {
		if report {
			w.c.skip(checkWriteRead, subject, reason)
		}
	}
	var out []change
	switch m.kind {
	case mutFlag:
		for _, fl := range m.flags {
			if it[fl.field] != nil {
				skip(fmt.Sprintf("%s is set; clearing and setting it again would change its time: choose an identity without it", fl.field))
				continue
			}
			out = append(out, change{m: m, name: "set " + fl.member, undo: "clear " + fl.member,
				body: with(m.prop, true, m.enumProp, fl.member), back: with(m.prop, false, m.enumProp, fl.member), want: set(fl.field)})
		}
	case mutMark:
		if it[m.field] != nil {
			skip(fmt.Sprintf("%s is set; unmarking and marking it again would change it: choose an identity that is not marked", m.field))
			break
		}
		out = append(out, change{m: m, name: "mark " + m.field, undo: "unmark " + m.field, body: with(m.prop, true), back: with(m.prop, false), want: set(m.field)})
	case mutLink:
		linkedTo := func(u int64) func(map[string]any) bool {
			return func(it map[string]any) bool { return linkedID(it[m.field]) == u }
		}
		if u := linkedID(it[m.field]); u != 0 {
			out = append(out, change{m: m, name: "unlink " + m.field, undo: fmt.Sprintf("link %s %d again", m.field, u),
				body: with(m.prop, nil), back: with(m.prop, u), want: unset(m.field)})
			break
		}
		u := int64(0)
		for _, id := range w.snap.order {
			if u = linkedID(w.snap.items[id][m.field]); u != 0 {
				break
			}
		}
		if u == 0 {
			skip("no listed identity is linked to a " + m.field + " to link this one to")
			break
		}
		out = append(out, change{m: m, name: fmt.Sprintf("link %s %d", m.field, u), undo: "unlink " + m.field,
			body: with(m.prop, u), back: with(m.prop, nil), want: linkedTo(u)})
	}
	return out
}

// refusals sends the first change of each PUT without a key and, when
// one is given, with the read-only key: each must be refused (401, 403)
// and change nothing. Undos are registered in case the server accepts.
func (w *writer) refusals(ctx context.Context) error {
	c := w.c
	type probe struct {
		check string
		auth  auth
		want  int
		what  string
	}
	probes := []probe{{checkAuthMissing, noAuth, http.StatusUnauthorized, "without a key"}}
	if c.cfg.ReadToken != "" {
		probes = append(probes, probe{checkAuthReadOnly, readAuth, http.StatusForbidden, "with the read-only key"})
	}
	for _, p := range probes {
		if !c.on(p.check) {
			continue
		}
		for _, m := range w.f.mutations {
			chs := w.changes(m, w.current(), false)
			if len(chs) == 0 {
				continue
			}
			ch := chs[0]
			w.undo = append(w.undo, ch)
			ex, err := c.do(ctx, put(w.path(m), ch.body).with(p.auth))
			if err != nil {
				return err
			}
			subject := fmt.Sprintf("%s %s on identity %d %s", m.opID, ch.name, w.id, p.what)
			failed := false
			if ex.status != p.want {
				failed = true
				c.fail(p.check, c.finding(subject, fmt.Sprintf("answered %s, want %d", ex.brief(), p.want), ex))
			}
			now, rex, err := c.readBack(ctx, w.f, w.id, w.current())
			if err != nil {
				return err
			}
			if d := diffFields(w.current(), now, nil); len(d) > 0 {
				failed = true
				w.changed = true
				c.fail(p.check, c.finding(subject, "the identity changed: "+strings.Join(d, "; "), rex))
				if err := w.restore(ctx); err != nil {
					return err
				}
			} else {
				w.undo = w.undo[:len(w.undo)-1]
			}
			if !failed {
				c.pass(p.check)
			}
		}
	}
	return nil
}

// try makes one change, checks it, repeats it, and undoes it.
func (w *writer) try(ctx context.Context, ch change) error {
	c := w.c
	w.undo = append(w.undo, ch)
	w.changed = true
	prev := w.snap
	subject := fmt.Sprintf("%s %s on identity %d", ch.m.opID, ch.name, w.id)
	ex, err := c.do(ctx, put(w.path(ch.m), ch.body))
	if err != nil {
		return err // unwind undoes it
	}
	if ex.status != http.StatusOK {
		c.fail(checkWriteRead, c.finding(subject, "answered "+ex.brief()+quoteMessage(ex)+", want 200", ex))
		if ex.status >= 400 && ex.status < 500 { // refused: nothing to undo
			w.undo = w.undo[:len(w.undo)-1]
			return nil
		}
		return w.restore(ctx)
	}
	answer := ex.object()
	after, walk, err := c.snapshot(ctx, w.f)
	if err != nil {
		return err
	}
	switch {
	case after == nil:
		c.fail(checkWriteRead, c.finding(subject, "listing after the change failed: "+walk.failed.brief(), walk.failed))
	case !ch.want(answer):
		c.fail(checkWriteRead, c.finding(subject, "the answer does not show the change: "+strings.Join(diffFields(prev.items[w.id], answer, nil), "; "), ex))
	case after.items[w.id] == nil:
		c.fail(checkWriteRead, c.finding(subject, fmt.Sprintf("identity %d is no longer listed", w.id), walk.pageExchange(0)))
	case !reflect.DeepEqual(after.items[w.id], answer):
		c.fail(checkWriteRead, c.finding(subject, "the list then differs from the answer: "+strings.Join(diffFields(answer, after.items[w.id], nil), "; "), after.ex[w.id]))
	default:
		c.pass(checkWriteRead)
	}
	if after != nil {
		w.isolated(subject, prev, after)
		w.snap = after
	}
	again, err := c.do(ctx, put(w.path(ch.m), ch.body))
	if err != nil {
		return err
	}
	switch {
	case again.status != http.StatusOK:
		c.fail(checkWriteIdempotent, c.finding(subject+" repeated", "answered "+again.brief()+", want 200 as the first time", again))
	case !reflect.DeepEqual(again.object(), answer):
		c.fail(checkWriteIdempotent, c.finding(subject+" repeated", "the answer differs from the first one: "+strings.Join(diffFields(answer, again.object(), nil), "; "), again))
	default:
		now, rex, err := c.readBack(ctx, w.f, w.id, answer)
		if err != nil {
			return err
		}
		if d := diffFields(answer, now, nil); len(d) > 0 {
			c.fail(checkWriteIdempotent, c.finding(subject+" repeated", "the identity changed: "+strings.Join(d, "; "), rex))
		} else {
			c.pass(checkWriteIdempotent)
		}
	}
	return w.restore(ctx)
}

// isolated checks that only the target changed between two reads.
func (w *writer) isolated(subject string, prev, after *snapshot) {
	for _, id := range prev.order {
		if id == w.id {
			continue
		}
		if d := diffFields(prev.items[id], after.items[id], nil); len(d) > 0 {
			w.c.fail(checkWriteIsolated, w.c.finding(subject, fmt.Sprintf("identity %d changed too: %s", id, strings.Join(d, "; ")), after.ex[id]))
			return
		}
	}
	w.c.pass(checkWriteIsolated)
}

// restore runs the latest undo on a context the run's cancellation does
// not reach.
func (w *writer) restore(ctx context.Context) error {
	ch := w.undo[len(w.undo)-1]
	w.undo = w.undo[:len(w.undo)-1]
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	ex, err := w.c.do(rctx, put(w.path(ch.m), ch.back))
	if err != nil {
		w.c.log.Warn("could not restore an identity", "family", w.f.name, "id", w.id, "step", ch.undo, "err", err)
		return err
	}
	if ex.status != http.StatusOK {
		w.c.fail(checkWriteRestored, w.c.finding(fmt.Sprintf("%s %s on identity %d", ch.m.opID, ch.undo, w.id), "answered "+ex.brief()+", want 200", ex))
		return nil
	}
	if w.snap.items[w.id] != nil {
		w.snap.items[w.id] = ex.object()
	}
	return nil
}

// unwind runs the undos an interrupted run left, then reads the family
// back and compares it with how it was: the target but for the fields
// the API sets itself, which the report lists, and every other identity.
func (w *writer) unwind(ctx context.Context, before *snapshot) error {
	var first error
	for len(w.undo) > 0 {
		if err := w.restore(ctx); err != nil && first == nil {
			first = err
		}
	}
	if !w.changed {
		return first
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	after, walk, err := w.c.snapshot(rctx, w.f)
	if err != nil || after == nil {
		if err == nil {
			w.c.fail(checkWriteRestored, w.c.finding(w.f.listOp, "listing after the writes failed: "+walk.failed.brief(), walk.failed))
		}
		if first == nil {
			first = err
		}
		return first
	}
	subject := fmt.Sprintf("%s identity %d", w.f.name, w.id)
	orig, now := before.items[w.id], after.items[w.id]
	if d := diffFields(orig, now, w.c.api.setByAPI); len(d) > 0 {
		w.c.fail(checkWriteRestored, w.c.finding(subject, "not restored: "+strings.Join(d, "; "), after.ex[w.id]))
	} else {
		w.c.pass(checkWriteRestored)
	}
	var lost []string
	for _, k := range sortedKeys(orig, now) {
		if w.c.api.setByAPI[k] && !reflect.DeepEqual(orig[k], now[k]) {
			lost = append(lost, fmt.Sprintf("%s was %s, is %s", k, brief(orig[k]), brief(now[k])))
		}
	}
	if len(lost) > 0 {
		w.c.note(checkWriteRestored, subject+": set by the API, so not restorable: "+strings.Join(lost, "; "))
	}
	w.isolated(subject+" (the whole run)", before, after)
	return first
}
