package contract_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/contract/compiled"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// The compiled validator is held to kin-openapi, the reference: on every
// documented response of every operation, for real bodies and mutations of
// them, both must give the same verdict, the same first violation (in the
// order of the body) and the same violations.

// responseCase is one documented response of one operation.
type responseCase struct {
	op, method, target string
	status             int
}

func (c responseCase) String() string { return fmt.Sprintf("%s %d", c.op, c.status) }

// responseCases lists every documented status of every operation.
func responseCases(tb testing.TB, v *contract.Validator) []responseCase {
	tb.Helper()
	doc := v.Document()
	var out []responseCase
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		ops := doc.Paths.Value(path).Operations()
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			op := ops[method]
			for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
				status, err := strconv.Atoi(code)
				require.NoError(tb, err, "%s %s: response %q", method, path, code)
				out = append(out, responseCase{op: op.OperationID, method: method,
					target: v.BasePath() + strings.ReplaceAll(path, "{id}", "42"), status: status})
			}
		}
	}
	require.Len(tb, out, 82, "the document's responses changed: check the bodies below still cover them")
	return out
}

// corpus holds bodies for each response case: real ones from a running
// server where a request produces that status, else built from gen/ types.
type corpus struct {
	ok     map[string][][]byte // operation → 200 bodies
	errors map[int][][]byte    // status → error bodies
}

func (c *corpus) bodies(rc responseCase) [][]byte {
	if rc.status == http.StatusOK {
		return c.ok[rc.op]
	}
	if b := c.errors[rc.status]; len(b) > 0 {
		return b
	}
	return [][]byte{builtError(rc.status)}
}

var errorCodes = map[int]gen.ErrorCode{
	400: gen.ErrorCodeVALIDATIONFAILED, 401: gen.ErrorCodeUNAUTHORIZED, 402: gen.ErrorCodePAYMENTREQUIRED,
	403: gen.ErrorCodeFORBIDDEN, 404: gen.ErrorCodeNOTFOUND, 412: gen.ErrorCodeTERMSNOTACCEPTED,
	413: gen.ErrorCodePAYLOADTOOLARGE, 415: gen.ErrorCodeUNSUPPORTEDMEDIATYPE, 429: gen.ErrorCodeRATELIMITED,
	500: gen.ErrorCodeINTERNALERROR,
}

func builtError(status int) []byte {
	e := gen.Error{StatusCode: status, Code: errorCodes[status], Message: "something went wrong", RequestId: "req-1"}
	if status == 400 {
		e.Errors = &[]gen.FieldError{{Field: "/userId", Location: gen.FieldErrorLocationBody, Message: "property \"userId\" is missing"}}
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// collectBodies asks a real server (default seed: 40 identities of each
// family a company) for a body of every status it can be made to answer.
func collectBodies(tb testing.TB, v *contract.Validator) *corpus {
	tb.Helper()
	e := testserver.Start(tb, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 40, Seed: 7}})
	c := &corpus{ok: map[string][][]byte{}, errors: map[int][][]byte{}}
	do := func(method, path, key, contentType, body string) {
		req := apitest.Request{Method: method, URL: e.URL + path, Key: key}
		if body != "" {
			req.Body, req.Header = body, []string{"Content-Type", contentType}
		}
		resp := apitest.Do(tb, e.Server.Client(), req)
		b := resp.Body
		if resp.Status != http.StatusOK {
			c.errors[resp.Status] = append(c.errors[resp.Status], b)
			return
		}
		rt, err := v.FindRoute(httptest.NewRequest(method, "/public"+strings.SplitN(path, "?", 2)[0], nil))
		require.NoError(tb, err)
		c.ok[rt.OperationID()] = append(c.ok[rt.OperationID()], b)
	}
	k := e.Keys
	const js = "application/json"
	for _, family := range []struct {
		path   string
		store  store.Family
		toggle string
	}{
		{"/user-identities/infrastructure", store.Infrastructure, "INFRASTRUCTURE_DB_ACCESS"},
		{"/user-identities/version-control", store.VersionControl, "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"},
	} {
		do("GET", family.path+"?limit=50&sort=USER", k.ReadWrite, "", "")
		do("GET", family.path+"?limit=3&page=2&sort=CONNECTED_AT&sortDir=DESC", k.ReadWrite, "", "")
		do("GET", family.path+"?q=zzzzzzzz", k.ReadWrite, "", "")
		ids := e.Identities(e.CompanyA, family.store)
		one := fmt.Sprintf("%s/%d", family.path, ids[0])
		do("PUT", one+"/connect", k.ReadWrite, js, fmt.Sprintf(`{"userId":%d}`, e.OtherUserA))
		do("PUT", one+"/toggle", k.ReadWrite, js, `{"toggle":true,"toggleField":"`+family.toggle+`"}`)
		do("PUT", one+"/service-account", k.ReadWrite, js, `{"serviceAccount":true,"serviceAccountReason":"deploys"}`)
		do("PUT", one+"/connect", k.ReadWrite, js, `{"userId":null}`)
		do("PUT", one+"/service-account", k.ReadWrite, js, `{"serviceAccount":false,"serviceAccountReason":""}`)
	}
	infra := "/user-identities/infrastructure"
	do("GET", infra+"?limit=0&page=0", k.ReadWrite, "", "")                                            // 400
	do("GET", infra, "", "", "")                                                                       // 401
	do("GET", infra, k.NoPlan, "", "")                                                                 // 402
	do("PUT", infra+"/1/connect", k.ReadOnly, js, `{"userId":null}`)                                   // 403
	do("PUT", infra+"/999999999/connect", k.ReadWrite, js, `{"userId":null}`)                          // 404
	do("GET", infra, k.NoTerms, "", "")                                                                // 412
	do("PUT", infra+"/1/service-account", k.ReadWrite, js, `{"x":"`+strings.Repeat("a", 600<<10)+`"}`) // 413
	do("PUT", infra+"/1/toggle", k.ReadWrite, "text/plain", `{"toggle":true}`)                         // 415
	for _, op := range []string{"listInfrastructureIdentities", "connectInfrastructureIdentity", "setVersionControlServiceAccount"} {
		require.NotEmpty(tb, c.ok[op], "no 200 body of %s", op)
	}
	for _, status := range []int{400, 401, 402, 403, 404, 412, 413, 415} {
		require.NotEmpty(tb, c.errors[status], "no %d body", status)
	}
	return c
}

// outcome is what one validator said of a body: its violations, or that
// the body is not JSON.
type outcome struct {
	violations []compiled.Violation
	decode     bool
}

func (o outcome) valid() bool { return !o.decode && len(o.violations) == 0 }

func (o outcome) String() string {
	switch {
	case o.decode:
		return "not JSON"
	case len(o.violations) == 0:
		return "valid"
	}
	parts := make([]string, len(o.violations))
	for i, v := range o.violations {
		parts[i] = fmt.Sprintf("%q: %s", v.Path, v.Reason)
	}
	return strings.Join(parts, "\n\t")
}

// first is the violation that comes first in the body (see orderKey); of
// violations at the same place, the first reported.
func (o outcome) first(root *jsonNode) compiled.Violation {
	return slices.MinFunc(o.violations, func(a, b compiled.Violation) int {
		return slices.Compare(orderKey(root, a.Path), orderKey(root, b.Path))
	})
}

// sorted lists the violations as "path: reason", in the order of the body.
func (o outcome) sorted(root *jsonNode) []string {
	vs := slices.Clone(o.violations)
	slices.SortStableFunc(vs, func(a, b compiled.Violation) int {
		return cmp.Or(slices.Compare(orderKey(root, a.Path), orderKey(root, b.Path)),
			strings.Compare(a.Path, b.Path), strings.Compare(a.Reason, b.Reason))
	})
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Path + ": " + v.Reason
	}
	return out
}

// compare says how the compiled outcome differs from kin-openapi's, or "":
// the verdict, the first violation in the order of the body (which the
// compiled validator must also report first) and the violations must agree.
func compare(kin, got outcome, body []byte) string {
	differ := func(what string) string {
		return fmt.Sprintf("%s\nkin-openapi:\n\t%s\ncompiled:\n\t%s", what, kin, got)
	}
	switch {
	case kin.valid() != got.valid():
		return differ("verdicts differ")
	case kin.decode != got.decode:
		return differ("only one could decode the body")
	case kin.valid() || kin.decode:
		return ""
	}
	root, ok := parseTree(body)
	if !ok {
		return differ("the test cannot read a body both decoded")
	}
	kf, gf := kin.first(root), got.first(root)
	switch {
	case kf.Path != gf.Path:
		return differ(fmt.Sprintf("first violations differ: %q and %q", kf.Path, gf.Path))
	case got.violations[0].Path != gf.Path:
		return differ("the compiled validator did not report the first violation first")
	case !slices.Equal(kin.sorted(root), got.sorted(root)):
		return differ("the violations differ")
	}
	return ""
}

// validate runs one of contract's response validations.
func validate(tb testing.TB, fn func(context.Context, *http.Request, *contract.Route, int, http.Header, []byte) error, v *contract.Validator, rc responseCase, body []byte) outcome {
	tb.Helper()
	r := httptest.NewRequest(rc.method, rc.target, nil)
	route, err := v.FindRoute(r)
	require.NoError(tb, err)
	err = fn(context.Background(), r, route, rc.status, http.Header{"Content-Type": {"application/json"}}, body)
	if err == nil {
		return outcome{}
	}
	var re *contract.ResponseError
	require.True(tb, errors.As(err, &re), "%s: %v is not a *ResponseError", rc, err)
	var o outcome
	for _, v := range re.Violations {
		if v.Path == "" && strings.HasPrefix(v.Reason, "failed to decode response body") {
			return outcome{decode: true}
		}
		o.violations = append(o.violations, compiled.Violation{Path: v.Path, Reason: v.Reason})
	}
	return o
}

// disagreement says how the compiled validation of a response differs
// from kin-openapi's, or "".
func disagreement(tb testing.TB, v *contract.Validator, rc responseCase, body []byte) string {
	tb.Helper()
	msg := compare(validate(tb, v.ValidateResponseKin, v, rc, body), validate(tb, v.ValidateResponse, v, rc, body), body)
	if msg != "" {
		msg = rc.String() + ": " + msg
	}
	return msg
}

// mutations lists the mutations of body the differential test makes: at
// each of the values it picks, a few replacements from the palette and
// every change of a member, and an unknown member in each object.
func mutations(body []byte, budget int) [][]byte {
	root, ok := parseTree(body)
	if !ok {
		return nil
	}
	values := root.all()
	step := max(1, len(values)*9/budget)
	var out [][]byte
	for i := 0; i < len(values); i += step {
		for kind := range mKinds {
			pals := []int{i}
			if kind == mReplace {
				pals = []int{i, i*7 + 3, i*13 + 5}
			}
			for _, p := range pals {
				if b, ok := mutate(body, root, kind, i, p); ok {
					out = append(out, b)
				}
			}
		}
	}
	return out
}

func TestCompiledMatchesKin(t *testing.T) {
	v := apitest.Validator(t)
	require.Empty(t, v.Fallbacks(), "every response body of the embedded document should be compiled")
	c := collectBodies(t, v)
	budget := 300
	if testing.Short() || raceEnabled {
		budget = 60
	}
	for _, rc := range responseCases(t, v) {
		t.Run(rc.String(), func(t *testing.T) {
			t.Parallel()
			bodies := c.bodies(rc)
			require.NotEmpty(t, bodies)
			checked, invalid := 0, 0
			for _, body := range bodies {
				if msg := disagreement(t, v, rc, body); msg != "" {
					t.Fatalf("%s\nbody: %.2000s", msg, body)
				}
				checked++
				if len(body) > 20<<10 {
					continue // a page of many identities: its small pages are mutated
				}
				for _, m := range mutations(body, budget) {
					if msg := disagreement(t, v, rc, m); msg != "" {
						t.Fatalf("%s\nbody: %.2000s", msg, m)
					}
					checked++
					if !validate(t, v.ValidateResponse, v, rc, m).valid() {
						invalid++
					}
				}
			}
			t.Logf("%d bodies, %d of them invalid", checked, invalid)
		})
	}
}

// FuzzCompiledMatchesKin mutates real bodies, byte by byte (the fuzzer)
// and structurally (ops: each four bytes a mutation kind, a value of the
// body, a palette entry), and requires kin-openapi and the compiled
// validator to agree on each.
func FuzzCompiledMatchesKin(f *testing.F) {
	v := apitest.Validator(f)
	cases := responseCases(f, v)
	c := collectBodies(f, v)
	for i, rc := range cases {
		for j, body := range c.bodies(rc) {
			if len(body) > 16<<10 {
				continue // the fuzzer mutates small bodies faster
			}
			f.Add(uint8(i), body, []byte(nil))
			f.Add(uint8(i), body, []byte{byte(j), byte(i), 0, byte(i + j)})
		}
	}
	f.Fuzz(func(t *testing.T, sel uint8, body, ops []byte) {
		rc := cases[int(sel)%len(cases)]
		for ; len(ops) >= 4; ops = ops[4:] {
			root, ok := parseTree(body)
			if !ok {
				break
			}
			if b, ok := mutate(body, root, int(ops[0])%mKinds, int(ops[1])|int(ops[2])<<8, int(ops[3])); ok {
				body = b
			}
		}
		if msg := disagreement(t, v, rc, body); msg != "" {
			t.Fatalf("%s\nbody: %q", msg, body)
		}
	})
}
