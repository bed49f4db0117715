package conformance

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPutKeepsItsViolationsWhenTheReportGrows: the read-back appends
// checks, which may move the report's backing array; the violation found
// afterwards must still land on the PUT's check.
func TestPutKeepsItsViolationsWhenTheReportGrows(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPut {
			io.WriteString(w, `{"id": 1, "dbAccess": "2025-01-06T09:00:00.000Z"}`)
			return
		}
		// The list does not show the change.
		io.WriteString(w, `{"data": [{"id": 1, "dbAccess": null}], "page": 1, "limit": 50, "total": 1}`)
	}))
	defer srv.Close()
	c, err := newChecker(Config{BaseURL: srv.URL + "/public", Token: "t", RatePerMinute: 1 << 20, MaxPages: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{c: c, f: Families[0], id: 1, path: "/user-identities/infrastructure/1/"}
	// The PUT's check is the report's first, filling its capacity of one,
	// so the read-back's check moves it.
	s := step{"toggleInfrastructureIdentity", "toggle on", "toggle", map[string]any{"toggle": true, "toggleField": "INFRASTRUCTURE_DB_ACCESS"}, "dbAccess", func(v any) bool { return v != nil }}
	if _, err := w.put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	put := c.report.Checks[0]
	for _, v := range put.Violations {
		if v.Path == "/dbAccess" && strings.Contains(v.Reason, "read-your-writes") {
			return
		}
	}
	t.Fatalf("the read-your-writes violation is lost: %+v", put)
}
