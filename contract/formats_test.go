package contract

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// TestDateTimeMatchesTheDefaultValidator: the fast date-time check accepts
// exactly what kin-openapi's pattern-based default accepts.
func TestDateTimeMatchesTheDefaultValidator(t *testing.T) {
	def := openapi3.SchemaStringFormats["date-time"]
	fast := openapi3.NewCallbackValidator(validDateTime[string])
	seeds := []string{
		"2025-07-01T16:45:55.246Z", "2025-07-01T16:45:55Z", "2025-07-01T16:45:60Z", "2025-07-01T16:45:55+02:00",
		"2025-07-01T16:45:55.1-23:59", "2020-07-06 12:00:00.000000", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z",
		"2025-02-30T00:00:00Z", "2025-07-32T00:00:00Z", "2025-07-01t16:45:55Z", "2025-07-01T24:00:00Z", "2025-07-01T16:60:00Z",
		"2025-07-01T16:45:55.Z", "2025-07-01T16:45:55+2400", "2025-07-01T16:45:55+24:00", "2025-07-01T16:45:55+23:60",
		"2025-07-01T16:45:55z", "2025-07-01", "", "Fri Jan 31 2025", "0000-01-01T00:00:00Z", "2025-07-01T16:45:55.246Z ",
		"２０２５-07-01T16:45:55Z",
	}
	check := func(s string) {
		t.Helper()
		want := def.Validate(s) == nil
		if got := fast.Validate(s) == nil; got != want {
			t.Fatalf("%q: fast %v, default %v", s, got, want)
		}
	}
	for _, s := range seeds {
		check(s)
	}
	// Mutations of valid timestamps: every byte changed, dropped or doubled.
	mutate(rand.New(rand.NewPCG(1, 2)), seeds[:5], "0123456789-:T.Z+z -", check)
}

// mutate calls check on 20000 mutations of the valid strings: one byte
// changed to one of alphabet's, dropped or doubled.
func mutate(r *rand.Rand, valid []string, alphabet string, check func(string)) {
	for range 20000 {
		b := []byte(valid[r.IntN(len(valid))])
		switch r.IntN(3) {
		case 0:
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		case 1:
			i := r.IntN(len(b))
			b = append(b[:i], b[i+1:]...)
		default:
			i := r.IntN(len(b))
			b = append(b[:i+1], b[i:]...)
		}
		check(string(b))
	}
}

func TestRequestBodyMustBeOneJSONValue(t *testing.T) {
	v, err := New("/public")
	if err != nil {
		t.Fatal(err)
	}
	for body, ok := range map[string]bool{`{"userId":null}`: true, "{\"userId\":null}\n ": true, `{"userId":null} x`: false, `{"userId":null}{}`: false} {
		r := httptest.NewRequest(http.MethodPut, "/public/user-identities/infrastructure/1/connect", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rt, err := v.FindRoute(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateRequest(context.Background(), r, rt); (err == nil) != ok {
			t.Errorf("%q: %v", body, err)
		}
	}
}

// TestDateMatchesTheDefaultValidator: the fast date check accepts exactly
// what kin-openapi's default for "date" accepts, strings and bytes alike.
func TestDateMatchesTheDefaultValidator(t *testing.T) {
	def := openapi3.SchemaStringFormats["date"]
	seeds := []string{
		"2025-07-01", "2024-02-29", "2025-02-29", "2000-02-29", "1900-02-29", "2025-04-31", "2025-12-31", "2025-13-01",
		"2025-00-01", "2025-01-00", "0000-01-01", "2025-7-01", "2025-07-01T00:00:00Z", "2025-07-01 ", "", "２０２５-07-01",
	}
	check := func(s string) {
		t.Helper()
		want := def.Validate(s) == nil
		require.Equal(t, want, dateFormat{}.Validate(s) == nil, "%q", s)
		require.Equal(t, want, dateFormat{}.ValidateBytes([]byte(s)) == nil, "%q as bytes", s)
		require.Equal(t, dateTimeFormat{}.Validate(s) == nil, dateTimeFormat{}.ValidateBytes([]byte(s)) == nil, "%q as a date-time", s)
	}
	for _, s := range seeds {
		check(s)
	}
	mutate(rand.New(rand.NewPCG(3, 4)), seeds[:7], "0123456789-T:Z ", check)
}
