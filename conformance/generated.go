package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/conformance/inputs"
)

// genCase is one generated request and what it must get.
type genCase struct {
	positive bool
	req      request
	subject  string
	what     string   // what is wrong with a negative input
	pinned   []string // what reducing it must keep
	notFound bool     // a valid PUT to an id that does not exist: 404
}

// inputChecks sends the generated inputs: negative ones (each breaking
// one rule of a schema) must get a 4xx with a JSON error, positive ones
// must be accepted.
func (c *checker) inputChecks(ctx context.Context) error {
	if c.cfg.Budget == 0 || !c.anyOn(checkNegative, checkPositive) {
		return nil
	}
	for _, gc := range c.generate() {
		name := checkNegative
		if gc.positive {
			name = checkPositive
		}
		if !c.on(name) {
			continue
		}
		ex, err := c.do(ctx, gc.req)
		if err != nil {
			return err
		}
		if bad := gc.judge(ex); bad != "" {
			c.failReduced(ctx, name, gc.subject, bad, ex, gc.pinned, func(e *exchange) bool { return gc.judge(e) != "" })
			continue
		}
		c.pass(name)
	}
	return nil
}

// judge says what is wrong with an answer to gc, or "".
func (gc genCase) judge(ex *exchange) string {
	switch {
	case !gc.positive && (ex.status < 400 || ex.status > 499):
		return fmt.Sprintf("answered %s to %s, which the document forbids; want 4xx", ex.brief(), gc.what)
	case !gc.positive && !ex.isJSON():
		return fmt.Sprintf("answered %d to %s without a JSON error body (Content-Type %q)", ex.status, gc.what, ex.header.Get("Content-Type"))
	case gc.positive && gc.notFound && ex.status != http.StatusNotFound:
		return fmt.Sprintf("answered %s%s to a valid body for an id that does not exist; want 404", ex.brief(), quoteMessage(ex))
	case gc.positive && !gc.notFound && (ex.status < 200 || ex.status > 299):
		return fmt.Sprintf("answered %s%s to a request the document allows; want 2xx", ex.brief(), quoteMessage(ex))
	}
	return ""
}

// generate makes the run's generated requests from the document's
// schemas, as many as the budget allows: half of them negative (drawn from
// every way of breaking every parameter and body), the rest positive,
// shared among the operations. The seed alone decides them.
func (c *checker) generate() []genCase {
	r := rand.New(rand.NewPCG(c.cfg.Seed, c.cfg.Seed^0x6a09e667f3bcc908))
	missing := strconv.FormatInt(c.api.missingID, 10)
	var negative []genCase
	type positiveGen func() genCase
	var positives []positiveGen
	for _, f := range c.fams {
		if !f.ok {
			continue
		}
		for _, p := range f.query {
			for _, b := range inputs.ParamBreaks(paramSchema(p), r) {
				q := c.someParams(f, r, p.Name)
				q.Set(p.Name, b.Value)
				negative = append(negative, genCase{req: get(f.listPath, q), subject: f.listOp + " " + p.Name + " " + b.What,
					what: fmt.Sprintf("%s %s (%q)", p.Name, b.What, trim(b.Value)), pinned: []string{p.Name}})
			}
		}
		positives = append(positives, func() genCase {
			q := c.someParams(f, r, "")
			return genCase{positive: true, req: get(f.listPath, q), subject: f.listOp + " " + request{query: q}.describe()}
		})
		for _, m := range f.mutations {
			for _, b := range inputs.BodyBreaks(m.body, r) {
				req := request{method: http.MethodPut, path: m.itemPath(missing), body: b.Body, contentType: b.ContentType, auth: mainAuth}
				gc := genCase{req: req, subject: m.opID + " body " + b.What, what: "a body " + b.What}
				if b.Member != "" {
					gc.pinned = []string{b.Member}
				}
				if b.ContentType != "" || b.Member == "" {
					gc.pinned = append(gc.pinned, required(m.body)...)
				}
				negative = append(negative, gc)
			}
			positives = append(positives, func() genCase {
				body := inputs.Value(m.body, r)
				return genCase{positive: true, notFound: m.notFound, req: put(m.itemPath(missing), body),
					subject: m.opID + " " + string(mustJSON(body)), pinned: required(m.body)}
			})
		}
	}
	if len(negative)+len(positives) == 0 {
		return nil
	}
	r.Shuffle(len(negative), func(i, j int) { negative[i], negative[j] = negative[j], negative[i] })
	budget := c.cfg.Budget
	nNeg := min(len(negative), (budget+1)/2)
	if len(positives) == 0 {
		nNeg = min(len(negative), budget)
	}
	out := append([]genCase(nil), negative[:nNeg]...)
	for i := 0; len(out) < budget && len(positives) > 0; i++ {
		out = append(out, positives[i%len(positives)]())
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// someParams are valid values for up to two of f's query parameters other
// than but.
func (c *checker) someParams(f *famState, r *rand.Rand, but string) url.Values {
	q := url.Values{}
	var others []*openapi3.Parameter
	for _, p := range f.query {
		if p.Name != but {
			others = append(others, p)
		}
	}
	for range r.IntN(3) {
		if len(others) == 0 {
			break
		}
		p := others[r.IntN(len(others))]
		q.Set(p.Name, inputs.Param(paramSchema(p), r))
	}
	return q
}

// trim shortens a long value for a message.
func trim(s string) string {
	if len(s) > 40 {
		return s[:20] + "…(" + strconv.Itoa(len(s)) + " chars)"
	}
	return s
}
