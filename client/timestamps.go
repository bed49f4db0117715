package client

import (
	"bytes"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/identities-go/identities/gen"
)

// normalizeTimestamps rewrites the values of the date-time fields of a
// response (timeFields) that have the older form "2020-07-06 12:00:00.000000"
// (matching ^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$) to RFC 3339 in
// UTC ("2020-07-06T12:00:00.000000Z"), so that time.Time can decode them.
// Every other byte is left alone: a username or a service account reason
// that happens to look like a timestamp is data, not a time. A body without
// such a value is returned as is, without copying.
func normalizeTimestamps(body []byte) []byte {
	if !hasLegacyTimestamp(body) {
		return body
	}
	fields := timeFields()
	out := make([]byte, 0, len(body)+64)
	var key []byte   // the last object key seen
	afterColon := -1 // the index just past the colon that follows it
	for i := 0; i < len(body); {
		q := bytes.IndexByte(body[i:], '"')
		if q < 0 {
			return append(out, body[i:]...)
		}
		out = append(out, body[i:i+q]...)
		i += q
		end := stringEnd(body, i)
		if end < 0 { // unterminated: not JSON, leave it to the decoder
			return append(out, body[i:]...)
		}
		content := body[i+1 : end]
		isValue := afterColon >= 0 && len(bytes.TrimLeft(body[afterColon:i], " \t\n\r")) == 0
		switch colon := keyColon(body, end+1); {
		case colon >= 0:
			key, afterColon = content, colon+1
			out = append(out, body[i:end+1]...)
		case isValue && fields[string(key)] && legacyTimestamp(content):
			out = append(out, '"')
			out = append(out, content[:10]...)
			out = append(out, 'T')
			out = append(out, content[11:]...)
			out = append(out, 'Z', '"')
		default:
			out = append(out, body[i:end+1]...)
		}
		i = end + 1
	}
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// timeFields holds the JSON names of the date-time fields of the responses,
// read from the generated types. No name is both a date-time and another
// kind of field (TestTimeFieldsAreUnambiguous).
var timeFields = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	walkFields(func(name string, t reflect.Type) {
		if t == timeType {
			names[name] = true
		}
	}, responseTypes...)
	return names
})

// responseTypes are the bodies of the API's successful responses.
var responseTypes = []reflect.Type{
	reflect.TypeFor[gen.InfrastructureIdentityPage](), reflect.TypeFor[gen.InfrastructureIdentity](),
	reflect.TypeFor[gen.VersionControlIdentityPage](), reflect.TypeFor[gen.VersionControlIdentity](),
}

// walkFields calls visit with the JSON name and the type (pointers, slices
// and maps taken off) of every field of the structs reachable from types.
func walkFields(visit func(name string, t reflect.Type), types ...reflect.Type) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if t.Kind() != reflect.Struct || t == timeType || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			ft := elem(f.Type)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				visit(name, ft)
			}
			walk(ft)
		}
	}
	for _, t := range types {
		walk(elem(t))
	}
}

// elem takes pointers, slices and maps off t.
func elem(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t
}

// hasLegacyTimestamp is the fast path: it looks only at the spaces of body for
// one that sits inside a quoted legacy timestamp.
func hasLegacyTimestamp(body []byte) bool {
	for off := 0; ; {
		j := bytes.IndexByte(body[off:], ' ')
		if j < 0 {
			return false
		}
		sp := off + j
		off = sp + 1
		if sp < 11 || body[sp-11] != '"' {
			continue
		}
		rest := body[sp-10:]
		if end := bytes.IndexByte(rest, '"'); end >= 0 && legacyTimestamp(rest[:end]) {
			return true
		}
	}
}

// stringEnd returns the index of the quote closing the JSON string that opens
// at start, or -1 when it is not closed.
func stringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// keyColon returns the index of the colon that follows the string ending
// just before i when that string is an object key, else -1.
func keyColon(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case ':':
			return i
		}
		return -1
	}
	return -1
}

// legacyTimestamp matches \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?
// exactly.
func legacyTimestamp(s []byte) bool {
	const layout = "dddd-dd-dd dd:dd:dd"
	if len(s) != len(layout) && (len(s) < len(layout)+2 || len(s) > len(layout)+10) {
		return false
	}
	for i := range len(layout) {
		if layout[i] == 'd' {
			if !isDigit(s[i]) {
				return false
			}
		} else if s[i] != layout[i] {
			return false
		}
	}
	if len(s) == len(layout) {
		return true
	}
	if s[len(layout)] != '.' {
		return false
	}
	for _, c := range s[len(layout)+1:] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
