package conformance

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// methodChecks sends each path of the document a method it does not list,
// and each family's PUTs the ids RESTler tries that are not positive
// int64s.
func (c *checker) methodChecks(ctx context.Context) error {
	if c.on(checkMethod) {
		for _, p := range c.api.paths {
			if err := c.methodNotAllowed(ctx, p); err != nil {
				return err
			}
		}
	}
	if !c.on(checkInvalidID) {
		return nil
	}
	for _, f := range c.fams {
		if !f.ok || len(f.mutations) == 0 {
			continue
		}
		// Every id on every family, the family's PUTs taking turns: they
		// read the id the same way.
		for i, id := range invalidIDs {
			m := f.mutations[i%len(f.mutations)]
			ex, err := c.do(ctx, put(m.itemPath(id), c.harmlessBody(f, m, id)))
			if err != nil {
				return err
			}
			subject := fmt.Sprintf("%s with id %s", m.opID, id)
			if ex.status < 400 || ex.status > 499 {
				c.fail(checkInvalidID, c.finding(subject, "answered "+ex.brief()+", want 4xx", ex))
				continue
			}
			c.pass(checkInvalidID)
		}
	}
	return nil
}

// harmlessBody is a body for a PUT to an invalid id that changes nothing
// even on a server that reads the id leniently (1e3 as 1000, 1.5 as 1):
// for an identity the walk listed, a body that leaves it as it is; for a
// link, a user that does not exist; else a body that is valid but changes
// nothing on identities without the flag or mark.
func (c *checker) harmlessBody(f *famState, m *mutation, id string) map[string]any {
	lenient := map[string]int64{"1e3": 1000, "1.5": 1}[id]
	if f.base != nil {
		for i, got := range f.base.ids {
			if got == lenient && lenient != 0 {
				if b, ok := m.noop(f.base.items[i]); ok {
					return b
				}
				return map[string]any{} // invalid: refused whatever the id
			}
		}
	}
	b := m.validBody()
	if m.kind == mutLink {
		b[m.prop] = c.api.missingID
	}
	return b
}

// unsupportedMethods are tried in this order: creating, then changing, a
// method that would delete only ever on an id that does not exist.
var unsupportedMethods = map[bool][]string{
	false: {http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
	true:  {http.MethodDelete, http.MethodPatch, http.MethodPost, http.MethodGet},
}

// methodNotAllowed sends p a method it does not list.
func (c *checker) methodNotAllowed(ctx context.Context, p pathInfo) error {
	var method string
	for _, m := range unsupportedMethods[p.hasParam] {
		if !slices.Contains(p.methods, m) {
			method = m
			break
		}
	}
	if method == "" {
		return nil
	}
	r := request{method: method, path: pathParam.ReplaceAllString(p.template, strconv.FormatInt(c.api.missingID, 10)), auth: mainAuth}
	if method != http.MethodGet && method != http.MethodDelete {
		r.body = []byte("{}")
	}
	ex, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	subject := method + " " + p.template
	if ex.status != http.StatusMethodNotAllowed {
		c.fail(checkMethod, c.finding(subject, "answered "+ex.brief()+", want 405", ex))
		return nil
	}
	var allowed []string
	for _, v := range ex.header.Values("Allow") {
		for _, m := range strings.Split(v, ",") {
			if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
				allowed = append(allowed, m)
			}
		}
	}
	switch {
	case len(allowed) == 0:
		c.fail(checkMethod, c.finding(subject, "405 without an Allow header", ex))
	case slices.Contains(allowed, method):
		c.fail(checkMethod, c.finding(subject, fmt.Sprintf("405, yet Allow lists %s: %s", method, strings.Join(allowed, ", ")), ex))
	default:
		for _, m := range p.methods {
			if !slices.Contains(allowed, m) {
				c.fail(checkMethod, c.finding(subject, fmt.Sprintf("Allow %q does not list %s, which the document serves", strings.Join(allowed, ", "), m), ex))
				return nil
			}
		}
		c.pass(checkMethod)
	}
	return nil
}
