package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// writeReason marks changes the checker makes.
const writeReason = "identities conformance check"

// write exercises the three PUTs on one identity, verifies each change
// through the list (read-your-writes) and restores the original state.
// Timestamps the API sets itself (updatedAt, and connectedAt/disconnectedAt
// or serviceAccount when a change is undone) cannot be restored.
func (c *checker) write(ctx context.Context, f Family, id int64) error {
	ids := operationIDs[f.Segment]
	orig, err := c.find(ctx, f, id)
	if err != nil || orig == nil {
		return err
	}
	path := fmt.Sprintf("/user-identities/%s/%d/", f.Segment, id)

	// step sends one PUT and checks that the answer and a fresh read of the
	// list agree on the field it changed.
	step := func(op, name, action string, body map[string]any, field string, want func(any) bool) error {
		ex, err := c.do(ctx, op, name, http.MethodPut, path+action, nil, body, c.cfg.Token, http.StatusOK)
		if err != nil || ex.status != http.StatusOK {
			return err
		}
		check := &c.report.Checks[len(c.report.Checks)-1]
		if !want(ex.data[field]) {
			check.Violations = append(check.Violations, Violation{Path: "/" + field, Reason: fmt.Sprintf("after %s the answer has %s = %v", name, field, ex.data[field])})
		}
		now, err := c.find(ctx, f, id)
		if err != nil {
			return err
		}
		if now == nil || !want(now[field]) {
			check.Violations = append(check.Violations, Violation{Path: "/" + field, Reason: fmt.Sprintf("after %s the list does not show the change (read-your-writes)", name)})
		}
		return nil
	}
	isSet := func(v any) bool { return v != nil }
	isNull := func(v any) bool { return v == nil }

	for _, t := range f.Toggles {
		was := orig[t.Property] != nil
		flip, back := isSet, isNull
		if was {
			flip, back = isNull, isSet
		}
		if err := step(ids.toggle, "toggle "+t.Field+" to "+strconv.FormatBool(!was), "toggle", map[string]any{"toggle": !was, "toggleField": t.Field}, t.Property, flip); err != nil {
			return err
		}
		if err := step(ids.toggle, "restore "+t.Field, "toggle", map[string]any{"toggle": was, "toggleField": t.Field}, t.Property, back); err != nil {
			return err
		}
	}

	if orig["serviceAccount"] == nil {
		if err := step(ids.serviceAccount, "mark as service account", "service-account", map[string]any{"serviceAccount": true, "serviceAccountReason": writeReason}, "serviceAccount", isSet); err != nil {
			return err
		}
		if err := step(ids.serviceAccount, "restore: unmark", "service-account", map[string]any{"serviceAccount": false, "serviceAccountReason": writeReason}, "serviceAccount", isNull); err != nil {
			return err
		}
	} else {
		reason, _ := orig["serviceAccountReason"].(string)
		if err := step(ids.serviceAccount, "unmark service account", "service-account", map[string]any{"serviceAccount": false, "serviceAccountReason": writeReason}, "serviceAccount", isNull); err != nil {
			return err
		}
		if err := step(ids.serviceAccount, "restore: mark with the original reason", "service-account", map[string]any{"serviceAccount": true, "serviceAccountReason": reason}, "serviceAccountReason", func(v any) bool { return v == reason }); err != nil {
			return err
		}
	}

	origUser := userID(orig["user"])
	linkedTo := func(u int64) func(any) bool { return func(v any) bool { return userID(v) == u } }
	if origUser != 0 {
		if err := step(ids.connect, "unlink", "connect", map[string]any{"userId": nil}, "user", isNull); err != nil {
			return err
		}
		return step(ids.connect, "restore: link the original user", "connect", map[string]any{"userId": origUser}, "user", linkedTo(origUser))
	}
	other, err := c.someUser(ctx, f)
	if err != nil {
		return err
	}
	if other == 0 {
		c.report.Checks = append(c.report.Checks, Check{Operation: ids.connect, Name: "link skipped: no linked identity shows a user id to link", Request: "-"})
		return nil
	}
	if err := step(ids.connect, "link a user", "connect", map[string]any{"userId": other}, "user", linkedTo(other)); err != nil {
		return err
	}
	return step(ids.connect, "restore: unlink", "connect", map[string]any{"userId": nil}, "user", isNull)
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
