package contract

import (
	"errors"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// errDateTime is the reason given for a malformed date-time.
var errDateTime = errors.New("string doesn't match the format \"date-time\" (RFC 3339, e.g. 2025-07-01T16:45:55.246Z)")

// dateTimeFormat checks "date-time" strings exactly as kin-openapi's
// default does (its RFC 3339 pattern, then a calendar check of the date),
// without a regular expression: a page of identities carries hundreds of
// timestamps, and the pattern was a noticeable share of validating one.
var dateTimeFormat = openapi3.WithStringFormatValidator("date-time", openapi3.NewCallbackValidator(validDateTime))

func validDateTime(s string) error {
	if !isDateTime(s) {
		return errDateTime
	}
	if _, err := time.Parse(time.DateOnly, s[:len(time.DateOnly)]); err != nil {
		return err
	}
	return nil
}

// isDateTime matches
// ^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$
func isDateTime(s string) bool {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return false
	}
	digits := func(i, n int) bool {
		for j := i; j < i+n; j++ {
			if s[j] < '0' || s[j] > '9' {
				return false
			}
		}
		return true
	}
	two := func(i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
	if !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' || !digits(8, 2) || s[10] != 'T' ||
		!digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2) {
		return false
	}
	if m := two(5); m < 1 || m > 12 {
		return false
	}
	if d := two(8); d < 1 || d > 31 {
		return false
	}
	if two(11) > 23 || two(14) > 59 || two(17) > 60 {
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
	case rest == "Z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		return digits(i+1, 2) && digits(i+4, 2) && two(i+1) <= 23 && two(i+4) <= 59
	default:
		return false
	}
}
