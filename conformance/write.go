package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// writeReason marks changes the checker makes.
const writeReason = "identities conformance check"

// undoTimeout bounds each restoring step. Restoring runs on a context that
// the run's cancellation does not reach, so an interrupted run still puts
// back what it changed.
const undoTimeout = 30 * time.Second

// unrestorable are the fields the API sets itself on a change; no request
// sets them back.
var unrestorable = map[string]bool{"updatedAt": true, "connectedAt": true, "disconnectedAt": true}

// step is one PUT and what the field it changes must hold afterwards.
type step struct {
	op, name, action string
	body             map[string]any
	field            string
	want             func(any) bool
}

// writer holds one identity's write checks and the undos not yet run,
// innermost last.
type writer struct {
	c       *checker
	f       Family
	id      int64
	path    string
	undo    []step
	changed bool
}

// write exercises the three PUTs on one identity, verifies each change
// through the list (read-your-writes) and undoes it, changing only what can
// be set back exactly:
//
//   - an access flag is set and cleared only when it is unset at first
//     (setting it records the time, which clearing and setting cannot
//     restore); a set flag is skipped, with a check saying so;
//   - the identity is marked and unmarked as a service account only when it
//     is not one at first (marking records the time and the key's user as
//     serviceAccountDesignator); a service account is skipped likewise;
//   - the link is always exercised: a user is linked and unlinked, or the
//     linked user is unlinked and linked again. Its timestamps, connectedAt
//     and disconnectedAt, cannot be restored, and neither can updatedAt,
//     which every change sets; the report notes this.
//
// Each undo is registered before its change is sent and runs even when ctx
// is cancelled, so an interrupted run restores what it changed. Finally the
// identity is read back and compared, field by field, with what it was.
func (c *checker) write(ctx context.Context, f Family, id int64) (err error) {
	ids := operationIDs[f.Segment]
	orig, err := c.find(ctx, f, id)
	if err != nil || orig == nil {
		return err
	}
	w := &writer{c: c, f: f, id: id, path: fmt.Sprintf("/user-identities/%s/%d/", f.Segment, id)}
	defer func() {
		if uerr := w.unwind(ctx, orig); err == nil {
			err = uerr
		}
	}()
	isSet := func(v any) bool { return v != nil }
	isNull := func(v any) bool { return v == nil }

	for _, t := range f.Toggles {
		if orig[t.Property] != nil {
			w.skip(ids.toggle, fmt.Sprintf("toggle %s skipped: %s is set, and clearing and setting it again would change its time; choose an identity without it", t.Field, t.Property))
			continue
		}
		if err := w.try(ctx,
			step{ids.toggle, "toggle " + t.Field + " on", "toggle", map[string]any{"toggle": true, "toggleField": t.Field}, t.Property, isSet},
			step{ids.toggle, "restore: toggle " + t.Field + " off", "toggle", map[string]any{"toggle": false, "toggleField": t.Field}, t.Property, isNull},
		); err != nil {
			return err
		}
	}

	if orig["serviceAccount"] != nil {
		w.skip(ids.serviceAccount, "service account skipped: the identity is one, and unmarking and marking it again would change serviceAccount (the time) and serviceAccountDesignator (to the key's user); choose an identity that is not one")
	} else if err := w.try(ctx,
		step{ids.serviceAccount, "mark as service account", "service-account", map[string]any{"serviceAccount": true, "serviceAccountReason": writeReason}, "serviceAccount", isSet},
		step{ids.serviceAccount, "restore: unmark", "service-account", map[string]any{"serviceAccount": false, "serviceAccountReason": writeReason}, "serviceAccount", isNull},
	); err != nil {
		return err
	}

	linkedTo := func(u int64) func(any) bool { return func(v any) bool { return userID(v) == u } }
	unlink := func(name string) step {
		return step{ids.connect, name, "connect", map[string]any{"userId": nil}, "user", isNull}
	}
	link := func(name string, u int64) step {
		return step{ids.connect, name, "connect", map[string]any{"userId": u}, "user", linkedTo(u)}
	}
	if origUser := userID(orig["user"]); origUser != 0 {
		w.note(ids.connect)
		return w.try(ctx, unlink("unlink"), link("restore: link the original user", origUser))
	}
	other, err := c.someUser(ctx, f)
	if err != nil {
		return err
	}
	if other == 0 {
		w.skip(ids.connect, "link skipped: no linked identity shows a user id to link")
		return nil
	}
	w.note(ids.connect)
	return w.try(ctx, link("link a user", other), unlink("restore: unlink"))
}

// skip records a write check not made, and why.
func (w *writer) skip(op, why string) {
	w.c.report.Checks = append(w.c.report.Checks, Check{Operation: op, Name: why, Request: "-"})
}

// note records, as a passing check, what restoring cannot put back.
func (w *writer) note(op string) {
	w.skip(op, "note: connectedAt/disconnectedAt and updatedAt are set by the API and cannot be restored")
}

// try makes one change and undoes it. The undo is registered before the
// change is sent: the server may apply a change whose answer never arrives,
// and every undo is harmless when the change did not happen.
func (w *writer) try(ctx context.Context, change, undo step) error {
	w.undo = append(w.undo, undo)
	w.changed = true
	status, err := w.put(ctx, change)
	if err != nil {
		return err // unwind undoes it
	}
	if status >= 400 && status < 500 { // refused: nothing to undo
		w.undo = w.undo[:len(w.undo)-1]
		return nil
	}
	return w.restore(ctx)
}

// restore runs the latest undo on a context the run's cancellation does
// not reach.
func (w *writer) restore(ctx context.Context) error {
	u := w.undo[len(w.undo)-1]
	w.undo = w.undo[:len(w.undo)-1]
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	status, err := w.put(rctx, u)
	if err != nil || status != http.StatusOK {
		w.c.log.Warn("could not restore an identity", "family", w.f.Segment, "id", w.id, "step", u.name, "status", status, "err", err)
	}
	return err
}

// unwind runs the undos left by an interrupted run, then checks that the
// identity reads back as it was but for the fields the API sets itself.
func (w *writer) unwind(ctx context.Context, orig map[string]any) error {
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
	now, err := w.c.find(rctx, w.f, w.id)
	if err != nil || now == nil {
		if err != nil && first == nil {
			first = err
		}
		return first
	}
	check := Check{Operation: operationIDs[w.f.Segment].list, Name: fmt.Sprintf("restored: identity %d reads back as before but for updatedAt, connectedAt and disconnectedAt", w.id), Request: "-"}
	for _, k := range changedFields(orig, now) {
		check.Violations = append(check.Violations, Violation{Path: "/" + k, Reason: fmt.Sprintf("was %v before the write checks, is %v after", orig[k], now[k])})
	}
	if len(check.Violations) > 0 {
		w.c.log.Warn("an identity was not restored exactly", "family", w.f.Segment, "id", w.id, "fields", len(check.Violations))
	}
	w.c.report.Checks = append(w.c.report.Checks, check)
	return first
}

// changedFields lists, in name order, the fields that differ between two
// reads of an identity, leaving out those no request can set back.
func changedFields(before, after map[string]any) []string {
	var out []string
	for k := range before {
		if !unrestorable[k] && !reflect.DeepEqual(before[k], after[k]) {
			out = append(out, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !unrestorable[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// put sends one PUT and checks that the answer and a fresh read of the
// list agree on the field it changed. It returns the answer's status.
func (w *writer) put(ctx context.Context, s step) (int, error) {
	c := w.c
	ex, err := c.do(ctx, s.op, s.name, http.MethodPut, w.path+s.action, nil, s.body, c.cfg.Token, http.StatusOK)
	if err != nil || ex.status != http.StatusOK {
		return ex.status, err
	}
	// An index, not a pointer: find appends checks and may move them.
	i := len(c.report.Checks) - 1
	if !s.want(ex.data[s.field]) {
		c.report.Checks[i].Violations = append(c.report.Checks[i].Violations, Violation{Path: "/" + s.field, Reason: fmt.Sprintf("after %s the answer has %s = %v", s.name, s.field, ex.data[s.field])})
	}
	now, err := c.find(ctx, w.f, w.id)
	if err != nil {
		return ex.status, err
	}
	if now == nil || !s.want(now[s.field]) {
		c.report.Checks[i].Violations = append(c.report.Checks[i].Violations, Violation{Path: "/" + s.field, Reason: fmt.Sprintf("after %s the list does not show the change (read-your-writes)", s.name)})
	}
	return ex.status, nil
}

func userID(v any) int64 {
	m, _ := v.(map[string]any)
	id, _ := m["id"].(float64)
	return int64(id)
}

// find walks the list until it meets the identity; nil when it is absent.
// Pages it reads are validated like any other.
func (c *checker) find(ctx context.Context, f Family, id int64) (map[string]any, error) {
	op := operationIDs[f.Segment].list
	for page := 1; page <= 10*c.cfg.MaxPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "limit": {"50"}, "sort": {"IDENTITY_ID"}}
		ex, err := c.do(ctx, op, fmt.Sprintf("read back identity %d (page %d)", id, page), http.MethodGet, "/user-identities/"+f.Segment, q, nil, c.cfg.Token, http.StatusOK)
		if err != nil || ex.status != http.StatusOK {
			return nil, err
		}
		items := dataOf(ex)
		for _, it := range items {
			if v, _ := it["id"].(float64); int64(v) == id {
				return it, nil
			}
		}
		if len(items) < 50 {
			break
		}
	}
	c.report.Checks = append(c.report.Checks, Check{Operation: op, Name: fmt.Sprintf("find identity %d", id), Request: "-",
		Violations: []Violation{{Reason: fmt.Sprintf("identity %d is not in the list", id)}}})
	return nil, nil
}

// someUser returns the id of a user linked to any listed identity.
func (c *checker) someUser(ctx context.Context, f Family) (int64, error) {
	for page := 1; page <= c.cfg.MaxPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "limit": {"50"}}
		ex, err := c.do(ctx, operationIDs[f.Segment].list, fmt.Sprintf("look for a user to link (page %d)", page), http.MethodGet, "/user-identities/"+f.Segment, q, nil, c.cfg.Token, http.StatusOK)
		if err != nil || ex.status != http.StatusOK {
			return 0, err
		}
		items := dataOf(ex)
		for _, it := range items {
			if u := userID(it["user"]); u != 0 {
				return u, nil
			}
		}
		if len(items) < 50 {
			break
		}
	}
	return 0, nil
}
