package client

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNormalizeTimestamps(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`{"createdAt":"2020-07-06 12:00:00.000000"}`, `{"createdAt":"2020-07-06T12:00:00.000000Z"}`},
		{`{"updatedAt":"2020-07-06 12:00:00"}`, `{"updatedAt":"2020-07-06T12:00:00Z"}`},
		{`{"adminAccess":"2020-07-06 12:00:00.1"}`, `{"adminAccess":"2020-07-06T12:00:00.1Z"}`},
		{`{"serviceAccount":"2020-07-06 12:00:00.123456789"}`, `{"serviceAccount":"2020-07-06T12:00:00.123456789Z"}`},
		{`{"connection": {"connectedAt" : "2020-07-06 12:00:00"}, "id": 1}`, `{"connection": {"connectedAt" : "2020-07-06T12:00:00Z"}, "id": 1}`},
		{"{\"user\":{\"drataTermsAgreedAt\":\n\t\"2020-07-06 12:00:00\"}}", "{\"user\":{\"drataTermsAgreedAt\":\n\t\"2020-07-06T12:00:00Z\"}}"},
		// Left alone: strings that are not date-time fields, keys, other
		// shapes, escapes, RFC 3339 itself.
		{`{"username":"2020-07-06 12:00:00","serviceAccountReason":"2021-01-02 03:04:05"}`, `{"username":"2020-07-06 12:00:00","serviceAccountReason":"2021-01-02 03:04:05"}`},
		{`{"a":"2020-07-06 12:00:00"}`, `{"a":"2020-07-06 12:00:00"}`},
		{`{"createdAt":["2020-07-06 12:00:00"]}`, `{"createdAt":["2020-07-06 12:00:00"]}`},
		{`{"createdAt":null,"roles":["2020-07-06 12:00:00"]}`, `{"createdAt":null,"roles":["2020-07-06 12:00:00"]}`},
		{`["2020-07-06 12:00:00", "x"]`, `["2020-07-06 12:00:00", "x"]`},
		{`{"2020-07-06 12:00:00":1}`, `{"2020-07-06 12:00:00":1}`},
		{`{"createdAt":"2020-07-06 12:00:00.1234567890"}`, `{"createdAt":"2020-07-06 12:00:00.1234567890"}`},
		{`{"createdAt":"2020-07-06 12:00:00."}`, `{"createdAt":"2020-07-06 12:00:00."}`},
		{`{"createdAt":"2020-07-06 12:00"}`, `{"createdAt":"2020-07-06 12:00"}`},
		{`{"createdAt":"on 2020-07-06 12:00:00"}`, `{"createdAt":"on 2020-07-06 12:00:00"}`},
		{`{"createdAt":"2020-07-06 12:00:00 UTC"}`, `{"createdAt":"2020-07-06 12:00:00 UTC"}`},
		{`{"createdAt":"2020-07-06T12:00:00Z"}`, `{"createdAt":"2020-07-06T12:00:00Z"}`},
		{`{"createdAt":"x\" 2020-07-06 12:00:00"}`, `{"createdAt":"x\" 2020-07-06 12:00:00"}`},
		{`{"createdAt":"\"2020-07-06 12:00:00\""}`, `{"createdAt":"\"2020-07-06 12:00:00\""}`},
		{`{"createdAt":"2020-07-06 12:00:00`, `{"createdAt":"2020-07-06 12:00:00`},
		{`"`, `"`},
		{``, ``},
	} {
		if got := string(normalizeTimestamps([]byte(tc.in))); got != tc.want {
			t.Errorf("normalizeTimestamps(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestTimeFieldsAreUnambiguous: rewriting by key name is sound only if no
// JSON name of the response types is a date-time in one place and a string
// (or anything else) in another.
func TestTimeFieldsAreUnambiguous(t *testing.T) {
	t.Parallel()
	fields := timeFields()
	for _, want := range []string{"createdAt", "updatedAt", "connectedAt", "disconnectedAt", "lastCheckedAt", "adminAccess", "dbAccess", "writeAccess", "pushProductionCodeAccess", "serviceAccount", "drataTermsAgreedAt"} {
		if !fields[want] {
			t.Errorf("%s is not among the date-time fields %v", want, fields)
		}
	}
	for _, not := range []string{"username", "serviceAccountReason", "email", "identityId", "id"} {
		if fields[not] {
			t.Errorf("%s taken for a date-time field", not)
		}
	}
	walkFields(func(name string, typ reflect.Type) {
		if fields[name] && typ != timeType {
			t.Errorf("%s is a date-time field and also a %v", name, typ)
		}
	}, responseTypes...)
}

// TestNormalizeTimestampsFastPath: a body without a legacy value is returned
// as is, not copied.
func TestNormalizeTimestampsFastPath(t *testing.T) {
	t.Parallel()
	body, err := json.MarshalIndent(infraPage(infraIdentity(1), infraIdentity(2)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if got := normalizeTimestamps(body); &got[0] != &body[0] {
		t.Error("a body without legacy timestamps was copied")
	}
}

// TestTimestampFormats: both timestamp forms seen in the seeds decode, the
// older one as UTC, and encoding is RFC 3339.
func TestTimestampFormats(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		legacy := mutate(t, infraIdentity(1), func(m map[string]any) {
			m["createdAt"] = "2020-07-06 12:00:00.000000"
			m["serviceAccount"] = "2021-03-04 05:06:07"
			m["connection"].(map[string]any)["connectedAt"] = "2022-01-02 03:04:05.5"
			m["username"] = "2023-01-02 03:04:05"
			m["serviceAccountReason"] = "2024-05-01 10:00:00"
		})
		rfc := mutate(t, infraIdentity(2), func(m map[string]any) { m["createdAt"] = "2025-07-01T16:45:55.246Z" })
		writeRaw(w, http.StatusOK, []byte(`{"data":[`+string(legacy)+`,`+string(rfc)+`],"page":1,"limit":20,"total":2}`))
	})
	page, _, err := c.Infrastructure.List(context.Background(), nil)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	old, newer := page.Data[0], page.Data[1]
	for name, tc := range map[string]struct{ got, want time.Time }{
		"legacy createdAt":   {old.CreatedAt, time.Date(2020, 7, 6, 12, 0, 0, 0, time.UTC)},
		"legacy nullable":    {deref(old.ServiceAccount), time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)},
		"legacy nested":      {deref(old.Connection.ConnectedAt), time.Date(2022, 1, 2, 3, 4, 5, 500_000_000, time.UTC)},
		"RFC 3339 createdAt": {newer.CreatedAt, time.Date(2025, 7, 1, 16, 45, 55, 246_000_000, time.UTC)},
	} {
		if !tc.got.Equal(tc.want) || tc.got.Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", name, tc.got, tc.want)
		}
	}
	// Strings that look like the older form are data, not times.
	if old.Username != "2023-01-02 03:04:05" || old.ServiceAccountReason == nil || *old.ServiceAccountReason != "2024-05-01 10:00:00" {
		t.Errorf("username %q and reason %v were rewritten", old.Username, old.ServiceAccountReason)
	}
	out, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"createdAt":"2020-07-06T12:00:00Z"`) {
		t.Errorf("re-encoded identity is not RFC 3339: %s", out)
	}
}

func deref(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return *p
}

func BenchmarkNormalizeTimestamps(b *testing.B) {
	page := infraPage()
	for i := range 50 {
		page.Data = append(page.Data, infraIdentity(int64(i+1)))
	}
	clean, _ := json.Marshal(page)
	legacy := []byte(strings.ReplaceAll(string(clean), "2025-07-01T16:45:55.246Z", "2025-07-01 16:45:55.246"))
	b.Run("clean", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		for b.Loop() {
			normalizeTimestamps(clean)
		}
	})
	b.Run("legacy", func(b *testing.B) {
		b.SetBytes(int64(len(legacy)))
		for b.Loop() {
			normalizeTimestamps(legacy)
		}
	})
}
