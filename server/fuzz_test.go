package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/identities-go/identities/internal/testserver"
)

// FuzzBadInputNeverGets5xx sends arbitrary methods, paths, queries, bodies
// and content types with a valid key: the answer is never a 5xx and always
// a JSON object. The server validates its answers strictly, so one that broke
// the document would show here as a 500. Run longer with
// go test ./server -run '^$' -fuzz FuzzBadInputNeverGets5xx.
func FuzzBadInputNeverGets5xx(f *testing.F) {
	seeds := []struct{ method, path, ctype, body string }{
		{"GET", "/user-identities/infrastructure?limit=51&page=0&sort=X", "", ""},
		{"GET", "/user-identities/version-control?q=%25_%00&connectionId=-1", "", ""},
		{"PUT", "/user-identities/infrastructure/1/connect", "application/json", `{"userId":1e400}`},
		{"PUT", "/user-identities/infrastructure/1/connect", "application/json", `{"userId":-9223372036854775808}`},
		{"PUT", "/user-identities/version-control/1/toggle", "application/json", `{"toggle":true,"toggleField":null}`},
		{"PUT", "/user-identities/version-control/1/service-account", "application/json; charset=latin1", "{\"serviceAccount\":true,\"serviceAccountReason\":\"\xff\"}"},
		{"PUT", "/user-identities/infrastructure/99999999999999999999/toggle", "application/json", `{"toggle":false}`},
		{"DELETE", "/user-identities/infrastructure/1/connect", "", ""},
		{"PUT", "/user-identities/infrastructure/1/connect", "text/plain", `[]`},
		{"GET", "/user-identities/infrastructure?sortDir=asc&clientType=AWS&clientType=GCP", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.path, s.ctype, s.body)
	}
	e := testserver.Start(f, testserver.Options{})
	f.Fuzz(func(t *testing.T, method, path, ctype, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n#") || len(method) == 0 || strings.ContainsAny(method, " \r\n/") {
			return
		}
		req, err := http.NewRequest(method, "http://example.invalid/public"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return
		}
		if ctype != "" {
			req.Header["Content-Type"] = []string{ctype}
		}
		req.Header.Set("Authorization", "Bearer "+e.Keys.ReadWrite)
		rec := httptest.NewRecorder()
		e.Server.Config.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%q, %q): %d %s", method, path, ctype, body, rec.Code, rec.Body)
		}
		if method == http.MethodHead || rec.Code == http.StatusNoContent {
			return
		}
		var obj map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &obj); err != nil {
			t.Fatalf("%s %s: %d, body is not a JSON object: %q", method, path, rec.Code, rec.Body)
		}
	})
}
