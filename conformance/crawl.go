package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// operationIDs names each family's operations as the document does.
var operationIDs = map[string]struct{ list, connect, toggle, serviceAccount string }{
	"infrastructure":  {"listInfrastructureIdentities", "connectInfrastructureIdentity", "toggleInfrastructureIdentity", "setInfrastructureServiceAccount"},
	"version-control": {"listVersionControlIdentities", "connectVersionControlIdentity", "toggleVersionControlIdentity", "setVersionControlServiceAccount"},
}

// crawl walks the family's list across pages, sorts, client types, a
// connection and a q sample, validating every page.
func (c *checker) crawl(ctx context.Context, f Family) error {
	op := operationIDs[f.Segment].list
	path := "/user-identities/" + f.Segment
	var first map[string]any
	for page := 1; page <= c.cfg.MaxPages; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "limit": {"50"}}
		ex, err := c.listPage(ctx, op, fmt.Sprintf("page %d", page), path, q, 50)
		if err != nil {
			return err
		}
		items := dataOf(ex)
		if first == nil && len(items) > 0 {
			first = items[0]
		}
		total, _ := ex.data["total"].(float64)
		if len(items) == 0 || float64(page*50) >= total {
			break
		}
	}
	for _, sort := range f.Sorts {
		for _, dir := range []string{"ASC", "DESC"} {
			q := url.Values{"sort": {sort}, "sortDir": {dir}, "limit": {"10"}}
			if _, err := c.listPage(ctx, op, "sort="+sort+" sortDir="+dir, path, q, 10); err != nil {
				return err
			}
		}
	}
	for _, ct := range f.ClientTypes {
		q := url.Values{"clientType": {ct}, "limit": {"10"}}
		if _, err := c.listPage(ctx, op, "clientType="+ct, path, q, 10); err != nil {
			return err
		}
	}
	if first == nil {
		return nil
	}
	if conn, ok := first["connection"].(map[string]any); ok {
		if id, ok := conn["id"].(string); ok {
			if _, err := c.listPage(ctx, op, "connectionId="+id, path, url.Values{"connectionId": {id}, "limit": {"10"}}, 10); err != nil {
				return err
			}
		}
	}
	if sample := qSample(first); sample != "" {
		ex, err := c.listPage(ctx, op, "q="+sample, path, url.Values{"q": {sample}, "limit": {"50"}}, 50)
		if err != nil {
			return err
		}
		if ex.status == http.StatusOK { // any other answer is already reported
			c.checkQ(ex, sample)
		}
	}
	return nil
}

// listPage fetches and validates one page and checks the paging invariants
// the document states.
func (c *checker) listPage(ctx context.Context, op, name, path string, q url.Values, limit int) (exchange, error) {
	ex, err := c.do(ctx, op, name, http.MethodGet, path, q, nil, c.cfg.Token, http.StatusOK)
	if err != nil || ex.status != http.StatusOK || ex.data == nil {
		return ex, err
	}
	check := &c.report.Checks[len(c.report.Checks)-1]
	if n := len(dataOf(ex)); n > limit {
		check.Violations = append(check.Violations, Violation{Path: "/data", Reason: fmt.Sprintf("%d items on a page of limit %d", n, limit)})
	}
	if l, _ := ex.data["limit"].(float64); int(l) != limit {
		check.Violations = append(check.Violations, Violation{Path: "/limit", Reason: fmt.Sprintf("limit %v, asked for %d", ex.data["limit"], limit)})
	}
	if want := q.Get("page"); want != "" {
		if p, _ := ex.data["page"].(float64); strconv.Itoa(int(p)) != want {
			check.Violations = append(check.Violations, Violation{Path: "/page", Reason: fmt.Sprintf("page %v, asked for %s", ex.data["page"], want)})
		}
	}
	return ex, nil
}

func dataOf(ex exchange) []map[string]any {
	raw, _ := ex.data["data"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// qSample is a short piece of an identity's username to search for.
func qSample(it map[string]any) string {
	u, _ := it["username"].(string)
	r := []rune(u)
	if len(r) < 3 {
		return u
	}
	return strings.ToUpper(string(r[1:min(len(r), 4)]))
}

// checkQ checks that every result of a q search contains q, as documented.
func (c *checker) checkQ(ex exchange, q string) {
	check := &c.report.Checks[len(c.report.Checks)-1]
	needle := strings.ToLower(q)
	for i, it := range dataOf(ex) {
		hay := ""
		for _, k := range []string{"identityId", "username", "email"} {
			s, _ := it[k].(string)
			hay += strings.ToLower(s) + "\x00"
		}
		if !strings.Contains(hay, needle) {
			check.Violations = append(check.Violations, Violation{Path: fmt.Sprintf("/data/%d", i), Reason: fmt.Sprintf("does not contain q=%q in identityId, username or email", q)})
		}
	}
	if len(dataOf(ex)) == 0 {
		check.Violations = append(check.Violations, Violation{Path: "/data", Reason: fmt.Sprintf("q=%q, taken from a listed identity, found nothing", q)})
	}
}

// probe exercises the documented error paths without side effects.
func (c *checker) probe(ctx context.Context, f Family) error {
	ids := operationIDs[f.Segment]
	path := "/user-identities/" + f.Segment
	probes := []struct {
		op, name, method, path string
		q                      url.Values
		body                   any
		token                  string
		want                   int
	}{
		{ids.list, "no token", "GET", path, nil, nil, "", http.StatusUnauthorized},
		{ids.list, "unknown token", "GET", path, nil, nil, "not-a-valid-key", http.StatusUnauthorized},
		{ids.list, "limit=0", "GET", path, url.Values{"limit": {"0"}}, nil, c.cfg.Token, http.StatusBadRequest},
		{ids.list, "limit=51", "GET", path, url.Values{"limit": {"51"}}, nil, c.cfg.Token, http.StatusBadRequest},
		{ids.list, "page=0", "GET", path, url.Values{"page": {"0"}}, nil, c.cfg.Token, http.StatusBadRequest},
		{ids.list, "unknown sort", "GET", path, url.Values{"sort": {"NOT_A_SORT"}}, nil, c.cfg.Token, http.StatusBadRequest},
		{ids.list, "unknown clientType", "GET", path, url.Values{"clientType": {"NOT_A_CLIENT"}}, nil, c.cfg.Token, http.StatusBadRequest},
		{ids.connect, "malformed body", "PUT", put(path, "connect"), nil, map[string]any{"userId": "one"}, c.cfg.Token, http.StatusBadRequest},
		{ids.toggle, "malformed body", "PUT", put(path, "toggle"), nil, map[string]any{"toggle": "yes"}, c.cfg.Token, http.StatusBadRequest},
		{ids.serviceAccount, "malformed body", "PUT", put(path, "service-account"), nil, map[string]any{"serviceAccount": "yes"}, c.cfg.Token, http.StatusBadRequest},
		{ids.connect, "missing id", "PUT", put(path, "connect"), nil, map[string]any{"userId": nil}, c.cfg.Token, http.StatusNotFound},
		{ids.toggle, "missing id", "PUT", put(path, "toggle"), nil, map[string]any{"toggle": false}, c.cfg.Token, http.StatusNotFound},
		{ids.serviceAccount, "missing id", "PUT", put(path, "service-account"), nil, map[string]any{"serviceAccount": false, "serviceAccountReason": "conformance check"}, c.cfg.Token, http.StatusNotFound},
	}
	for _, p := range probes {
		if _, err := c.do(ctx, p.op, p.name, p.method, p.path, p.q, p.body, p.token, p.want); err != nil {
			return err
		}
	}
	return nil
}

func put(path, action string) string {
	return fmt.Sprintf("%s/%d/%s", path, int64(missingID), action)
}
