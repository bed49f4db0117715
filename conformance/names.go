package conformance

import (
	"github.com/identities-go/identities/conformance/inputs"
	"regexp"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

// words splits a name written in camelCase or SCREAMING_SNAKE_CASE into
// lower-case words: "pushProductionCodeAccess" and "PUSH_PROD_CODE_ACCESS"
// give [push production code access] and [push prod code access].
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ':
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// sameWords reports whether a and b have as many words, each word of a a
// prefix of b's ("prod" of "production").
func sameWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.HasPrefix(b[i], a[i]) {
			return false
		}
	}
	return true
}

// suffixWords reports whether the words of prop end the words of name,
// each a prefix of its counterpart: "adminAccess" ends
// "INFRASTRUCTURE_ADMIN_ACCESS".
func suffixWords(prop, name []string) bool {
	if len(prop) == 0 || len(prop) > len(name) {
		return false
	}
	return sameWords(name[len(name)-len(prop):], prop)
}

// containsWords reports whether every word of phrase is the start of some
// word of name, and returns how many words of name are left over.
func containsWords(phrase, name []string) (bool, int) {
	used := make([]bool, len(name))
	for _, w := range phrase {
		found := false
		for i, n := range name {
			if !used[i] && strings.HasPrefix(n, w) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false, 0
		}
	}
	return true, len(name) - len(phrase)
}

// propertyNamed finds the property of s whose name matches words ws: the
// same name in camelCase, or as many words each a prefix of the
// property's. It returns "" when none or several match.
func propertyNamed(s *openapi3.Schema, ws []string) string {
	props := inputs.Properties(s)
	var found []string
	for name := range props {
		if strings.Join(words(name), " ") == strings.Join(ws, " ") {
			return name
		}
		if sameWords(ws, words(name)) {
			found = append(found, name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// propertyDescribed finds the property of s that a phrase of the document
// names ("client id", "alias", "last name"): the one whose name holds
// every word of the phrase with the fewest words besides.
func propertyDescribed(s *openapi3.Schema, phrase string) string {
	ws := strings.Fields(strings.ToLower(phrase))
	best, bestExtra, ties := "", 1<<30, 0
	for name := range inputs.Properties(s) {
		ok, extra := containsWords(ws, words(name))
		switch {
		case !ok:
		case extra < bestExtra:
			best, bestExtra, ties = name, extra, 1
		case extra == bestExtra:
			ties++
		}
	}
	if ties != 1 {
		return ""
	}
	return best
}

// required lists the required properties of s, with those of its allOf parts.
func required(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	out := append([]string(nil), s.Required...)
	for _, part := range s.AllOf {
		if part != nil {
			out = append(out, required(part.Value)...)
		}
	}
	return out
}

// isType reports whether s has type t.
func isType(s *openapi3.Schema, t string) bool {
	if s == nil {
		return false
	}
	if s.Type != nil && s.Type.Is(t) {
		return true
	}
	for _, part := range s.AllOf {
		if part != nil && part.Value != nil && isType(part.Value, t) {
			return true
		}
	}
	return false
}

// enumOf lists the string members of s's enum, in the document's order.
func enumOf(s *openapi3.Schema) []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.Enum))
	for _, v := range s.Enum {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

var backticked = regexp.MustCompile("`([^`]+)`")

// flatten joins a description's lines and runs of blanks into single spaces.
func flatten(s string) string { return strings.Join(strings.Fields(s), " ") }
