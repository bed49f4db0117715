package contract

import (
	"errors"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/contract/compiled"
)

// Reasons given for malformed dates and timestamps.
var (
	errDateTime = errors.New("string doesn't match the format \"date-time\" (RFC 3339, e.g. 2025-07-01T16:45:55.246Z)")
	errDate     = errors.New("string doesn't match the format \"date\" (RFC 3339 full-date, e.g. 2025-07-01)")
)

// stringFormats are the string formats the contract checks itself, given
// to kin-openapi and to the compiled validator alike, so that both read a
// format the same way. Each accepts exactly what kin-openapi's default
// accepts (its RFC 3339 pattern, then a calendar check of the date), without
// a regular expression: a page of identities carries hundreds of
// timestamps, and the pattern was a noticeable share of validating one.
var stringFormats = map[string]openapi3.StringFormatValidator{
	"date-time": dateTimeFormat{},
	"date":      dateFormat{},
}

// kinFormatOptions hands stringFormats to kin-openapi.
var kinFormatOptions = func() []openapi3.SchemaValidationOption {
	var opts []openapi3.SchemaValidationOption
	for name, v := range stringFormats {
		opts = append(opts, openapi3.WithStringFormatValidator(name, v))
	}
	return opts
}()

// compiledFormatOptions hands stringFormats to the compiled validator.
var compiledFormatOptions = func() []compiled.Option {
	var opts []compiled.Option
	for name, v := range stringFormats {
		opts = append(opts, compiled.WithStringFormat(name, v))
	}
	return opts
}()

type dateTimeFormat struct{}

func (dateTimeFormat) Validate(s string) error      { return validDateTime(s) }
func (dateTimeFormat) ValidateBytes(b []byte) error { return validDateTime(b) }

type dateFormat struct{}

func (dateFormat) Validate(s string) error      { return validDate(s) }
func (dateFormat) ValidateBytes(b []byte) error { return validDate(b) }

func validDateTime[T ~string | ~[]byte](s T) error {
	if !isDateTime(s) || !calendarDate(s) {
		return errDateTime
	}
	return nil
}

func validDate[T ~string | ~[]byte](s T) error {
	if len(s) != len("2006-01-02") || !isDate(s) || !calendarDate(s) {
		return errDate
	}
	return nil
}

// isDate matches ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) at the
// start of s.
func isDate[T ~string | ~[]byte](s T) bool {
	if len(s) < len("2006-01-02") || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2) {
		return false
	}
	if m := two(s, 5); m < 1 || m > 12 {
		return false
	}
	d := two(s, 8)
	return d >= 1 && d <= 31
}

// calendarDate reports whether the date s starts with (already matched by
// isDate) exists: what time.Parse(time.DateOnly, …) adds to the pattern.
func calendarDate[T ~string | ~[]byte](s T) bool {
	year := int(two(s, 0))*100 + int(two(s, 2))
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[two(s, 5)-1]
	if two(s, 5) == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return int(two(s, 8)) <= days
}

// isDateTime matches
// ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$
func isDateTime[T ~string | ~[]byte](s T) bool {
	if len(s) < len("2006-01-02T15:04:05Z") || !isDate(s) || s[10] != 'T' ||
		!digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2) {
		return false
	}
	if two(s, 11) > 23 || two(s, 14) > 59 || two(s, 17) > 60 {
		return false
	}
	i := 19
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	switch rest := s[i:]; {
	case len(rest) == 1 && rest[0] == 'Z':
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return digits(s, i+1, 2) && digits(s, i+4, 2) && two(s, i+1) <= 23 && two(s, i+4) <= 59
	default:
		return false
	}
}

func digits[T ~string | ~[]byte](s T, i, n int) bool {
	for j := i; j < i+n; j++ {
		if s[j] < '0' || s[j] > '9' {
			return false
		}
	}
	return true
}

func two[T ~string | ~[]byte](s T, i int) byte { return (s[i]-'0')*10 + (s[i+1] - '0') }
