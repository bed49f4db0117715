package conformance

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
)

// perFinding bounds the requests spent making one failing request
// smaller, and perCheck how many findings of one check are made smaller:
// the text report shows the first few.
const (
	perFinding = 12
	perCheck   = 3
)

// failReduced records a failure that ex shows, with the curl line of the
// smallest request found that still fails: query parameters and members of
// a JSON body are dropped one at a time, except those pinned, as long as
// stillFails judges the answer a failure.
func (c *checker) failReduced(ctx context.Context, name, subject, message string, ex *exchange, pinned []string, stillFails func(*exchange) bool) {
	if c.res[name] == nil {
		return
	}
	f := c.finding(subject, message, ex)
	if len(c.res[name].Findings) < perCheck {
		if r, ok := c.reduce(ctx, ex.req, pinned, stillFails); ok {
			f.Request, f.Curl = r.target(c.base), r.curl(c.base, c.cfg.TokenEnv)
		}
	}
	c.fail(name, f)
}

// reduce returns the smallest request found that still fails, and whether
// it is smaller than r.
func (c *checker) reduce(ctx context.Context, r request, pinned []string, stillFails func(*exchange) bool) (request, bool) {
	budget := min(c.reduceLeft, perFinding)
	cur, smaller := r.clone(), false
	try := func(cand request) bool {
		if budget <= 0 || ctx.Err() != nil {
			return false
		}
		budget--
		c.reduceLeft--
		ex, err := c.do(ctx, cand)
		return err == nil && stillFails(ex)
	}
	for changed := true; changed && budget > 0; {
		changed = false
		for _, k := range slices.Sorted(maps.Keys(cur.query)) {
			if slices.Contains(pinned, k) {
				continue
			}
			cand := cur.clone()
			delete(cand.query, k)
			if try(cand) {
				cur, smaller, changed = cand, true, true
			}
		}
		var obj map[string]json.RawMessage
		if cur.body == nil || json.Unmarshal(cur.body, &obj) != nil {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if slices.Contains(pinned, k) {
				continue
			}
			rest := maps.Clone(obj)
			delete(rest, k)
			cand := cur.clone()
			cand.body = mustJSON(rest)
			if try(cand) {
				cur, smaller, changed = cand, true, true
				obj = rest
			}
		}
	}
	return cur, smaller
}
