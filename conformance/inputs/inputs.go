// Package inputs generates request inputs from OpenAPI schemas: values a
// schema allows and values it forbids. Every choice comes from the
// *rand.Rand it is given, so the same seed gives the same inputs.
package inputs

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Break is a query value a parameter's schema forbids.
type Break struct {
	What  string // "above its maximum of 50"
	Value string
}

// BodyBreak is a request body a schema forbids.
type BodyBreak struct {
	What string // "userId of the wrong type (a string)"
	Body []byte
	// ContentType is set when the break is the media type.
	ContentType string
	// Member is the member the break is about; "" for the whole body.
	Member string
}

// Param is a query value s allows.
func Param(s *openapi3.Schema, r *rand.Rand) string {
	return queryText(Value(s, r))
}

func queryText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ParamBreaks are query values s forbids. Only unambiguous ones: a value
// some readers take for valid (1e3 for an integer, an empty value) is not
// one.
func ParamBreaks(s *openapi3.Schema, r *rand.Rand) []Break {
	if s == nil {
		return nil
	}
	var out []Break
	if members := enum(s); len(members) > 0 {
		out = append(out, Break{"not one of its members", "NOT_A_MEMBER_" + word(r, 4)})
		m := members[r.IntN(len(members))]
		if lower := strings.ToLower(m); lower != m && !slices.Contains(members, lower) {
			out = append(out, Break{"a member in the wrong case", lower})
		}
		return out
	}
	switch {
	case is(s, "integer"), is(s, "number"):
		out = append(out, Break{"not a number", word(r, 3)})
		if is(s, "integer") {
			out = append(out, Break{"a fraction", strconv.Itoa(1+r.IntN(9)) + ".5"})
		}
		if s.Min != nil {
			out = append(out, Break{"below its minimum of " + num(*s.Min), num(*s.Min - 1 - float64(r.IntN(10)))})
		}
		if s.Max != nil {
			out = append(out, Break{"above its maximum of " + num(*s.Max), num(*s.Max + 1 + float64(r.IntN(100)))})
		}
	case is(s, "boolean"):
		out = append(out, Break{"not a boolean", "yes"})
	case is(s, "string"):
		if s.MaxLength != nil {
			n := int(*s.MaxLength) + 1 + r.IntN(10)
			out = append(out, Break{"longer than its maxLength of " + strconv.FormatUint(*s.MaxLength, 10), text(r, n)})
		}
		if s.MinLength > 0 {
			out = append(out, Break{"shorter than its minLength", text(r, int(s.MinLength)-1)})
		}
	}
	return out
}

// Value is a JSON value s allows: an object has its required members and
// some optional ones; numbers favour their bounds.
func Value(s *openapi3.Schema, r *rand.Rand) any {
	if s == nil {
		return nil
	}
	if s.Nullable && r.IntN(5) == 0 {
		return nil
	}
	if members := enum(s); len(members) > 0 {
		return members[r.IntN(len(members))]
	}
	switch {
	case is(s, "object") || len(Properties(s)) > 0:
		out := map[string]any{}
		props := Properties(s)
		req := required(s)
		for _, name := range sortedNames(props) {
			if slices.Contains(req, name) || r.IntN(2) == 0 {
				out[name] = Value(props[name], r)
			}
		}
		return out
	case is(s, "array"):
		var out []any
		if s.Items != nil {
			for range r.IntN(3) {
				out = append(out, Value(s.Items.Value, r))
			}
		}
		return out
	case is(s, "boolean"):
		return r.IntN(2) == 0
	case is(s, "integer"):
		lo, hi := bounds(s)
		switch r.IntN(3) {
		case 0:
			return int64(lo)
		case 1:
			return int64(hi)
		}
		return int64(lo) + r.Int64N(int64(hi-lo)+1)
	case is(s, "number"):
		lo, hi := bounds(s)
		return lo + r.Float64()*(hi-lo)
	case is(s, "string"):
		if s.Format == "date-time" {
			return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(1e6)) * time.Second).Format(time.RFC3339)
		}
		lo, hi := int(s.MinLength), 12
		if s.MaxLength != nil {
			hi = min(hi, int(*s.MaxLength))
			if r.IntN(5) == 0 {
				return text(r, int(*s.MaxLength)) // the longest allowed
			}
		}
		return text(r, lo+r.IntN(max(hi-lo, 0)+1))
	}
	return nil
}

// bounds are the range values of s are drawn from.
func bounds(s *openapi3.Schema) (lo, hi float64) {
	lo, hi = 0, 1000
	if s.Min != nil {
		lo = *s.Min
		if s.ExclusiveMin.IsTrue() {
			lo++
		}
		hi = lo + 1000
	}
	if s.Max != nil {
		hi = *s.Max
		if s.ExclusiveMax.IsTrue() {
			hi--
		}
		if s.Min == nil {
			lo = math.Min(0, hi)
		}
	}
	return lo, hi
}

// BodyBreaks are bodies s forbids: each made from a valid body with one
// thing wrong (a required member left out, an undocumented member, a
// member of the wrong type, out of its bounds or null), or a body that is
// not the object s asks for at all.
func BodyBreaks(s *openapi3.Schema, r *rand.Rand) []BodyBreak {
	base, _ := Value(s, r).(map[string]any)
	if base == nil {
		base = map[string]any{}
	}
	props := Properties(s)
	for _, name := range required(s) { // a break is about one thing
		if base[name] == nil && props[name] != nil && !props[name].Nullable {
			base[name] = Value(props[name], r)
		}
	}
	with := func(name string, v any) []byte {
		b := clone(base)
		b[name] = v
		return mustJSON(b)
	}
	var out []BodyBreak
	for _, name := range required(s) {
		b := clone(base)
		delete(b, name)
		out = append(out, BodyBreak{What: "without the required " + name, Body: mustJSON(b)})
	}
	if s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has {
		extra := "undocumented" + word(r, 3)
		out = append(out, BodyBreak{What: "with the undocumented member " + extra, Body: with(extra, 1), Member: extra})
	}
	for _, name := range sortedNames(props) {
		ps := props[name]
		for _, wt := range wrongTypes(ps, r) {
			out = append(out, BodyBreak{What: name + " " + wt.What, Body: with(name, wt.v), Member: name})
		}
	}
	out = append(out,
		BodyBreak{What: "a JSON array, not an object", Body: []byte("[]")},
		BodyBreak{What: "a JSON string, not an object", Body: []byte(`"` + word(r, 5) + `"`)},
		BodyBreak{What: "malformed JSON", Body: []byte(`{"` + word(r, 3))},
		BodyBreak{What: "valid JSON sent as text/plain", Body: mustJSON(base), ContentType: "text/plain"},
	)
	return out
}

type wrong struct {
	What string
	v    any
}

// wrongTypes are values of a member that its schema forbids.
func wrongTypes(s *openapi3.Schema, r *rand.Rand) []wrong {
	var out []wrong
	if !s.Nullable {
		out = append(out, wrong{"null, which it does not allow", nil})
	}
	if len(enum(s)) > 0 {
		return append(out, wrong{"not one of its members", "NOT_A_MEMBER_" + word(r, 4)}, wrong{"of the wrong type (a number)", 1})
	}
	switch {
	case is(s, "boolean"):
		out = append(out, wrong{"of the wrong type (a string)", "true"}, wrong{"of the wrong type (a number)", 1})
	case is(s, "integer"):
		out = append(out, wrong{"of the wrong type (a string)", strconv.Itoa(1 + r.IntN(99))}, wrong{"a fraction", 1.5 + float64(r.IntN(9))}, wrong{"of the wrong type (a boolean)", true})
		if s.Min != nil {
			out = append(out, wrong{"below its minimum of " + num(*s.Min), int64(*s.Min) - 1 - int64(r.IntN(10))})
		}
		if s.Max != nil {
			out = append(out, wrong{"above its maximum of " + num(*s.Max), int64(*s.Max) + 1 + int64(r.IntN(100))})
		}
	case is(s, "number"):
		out = append(out, wrong{"of the wrong type (a string)", "1"})
	case is(s, "string"):
		out = append(out, wrong{"of the wrong type (a number)", 1 + r.IntN(99)}, wrong{"of the wrong type (a boolean)", true})
		if s.MaxLength != nil {
			out = append(out, wrong{"longer than its maxLength of " + strconv.FormatUint(*s.MaxLength, 10), text(r, int(*s.MaxLength)+1+r.IntN(10))})
		}
	case is(s, "object"):
		out = append(out, wrong{"of the wrong type (a string)", word(r, 4)})
	case is(s, "array"):
		out = append(out, wrong{"of the wrong type (a string)", word(r, 4)})
	}
	return out
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("inputs: " + err.Error()) // values made here are JSON
	}
	return b
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// word is n random letters.
func word(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// text is n random characters: letters, digits, a few signs, and now and
// then one outside ASCII.
func text(r *rand.Rand, n int) string {
	const chars = letters + "0123456789 -_.@"
	var b strings.Builder
	for range n {
		if r.IntN(40) == 0 {
			b.WriteRune([]rune("éøßü")[r.IntN(4)])
			continue
		}
		b.WriteByte(chars[r.IntN(len(chars))])
	}
	return b.String()
}

func is(s *openapi3.Schema, t string) bool {
	if s == nil {
		return false
	}
	if s.Type != nil && s.Type.Is(t) {
		return true
	}
	for _, part := range s.AllOf {
		if part != nil && is(part.Value, t) {
			return true
		}
	}
	return false
}

func enum(s *openapi3.Schema) []string {
	var out []string
	for _, v := range s.Enum {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

// Properties are the properties of s, with those of its allOf parts; none
// for a nil schema.
func Properties(s *openapi3.Schema) map[string]*openapi3.Schema {
	out := map[string]*openapi3.Schema{}
	if s == nil {
		return out
	}
	for _, part := range s.AllOf {
		if part != nil {
			for k, v := range Properties(part.Value) {
				out[k] = v
			}
		}
	}
	for k, ref := range s.Properties {
		if ref != nil && ref.Value != nil {
			out[k] = ref.Value
		}
	}
	return out
}

func required(s *openapi3.Schema) []string {
	out := slices.Clone(s.Required)
	for _, part := range s.AllOf {
		if part != nil && part.Value != nil {
			out = append(out, required(part.Value)...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedNames(m map[string]*openapi3.Schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
