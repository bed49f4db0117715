package contract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/contract/compiled"
)

// keywordsDoc exercises the compiled subset beyond what the embedded
// document uses, both forms of a nullable reference, and keywords that
// fall back to kin-openapi.
const keywordsDoc = `
openapi: 3.0.3
info: {title: keywords, version: "1"}
paths: {}
components:
  schemas:
    User:
      type: object
      required: [id, name]
      additionalProperties: false
      properties:
        id: {type: integer, format: int64, minimum: 1}
        name: {type: string, minLength: 2, maxLength: 5}
        tags: {type: array, items: {type: string, enum: [a, b]}}
    NullableUser:
      type: object
      nullable: true
      allOf: [{$ref: '#/components/schemas/User'}]
    UntypedNullableUser:
      nullable: true
      allOf: [{$ref: '#/components/schemas/User'}]
    NullableObject:
      type: object
      nullable: true
      required: [id]
      properties:
        id: {type: integer}
    Holder:
      type: object
      required: [wrapped, untyped, direct, plain]
      properties:
        wrapped: {$ref: '#/components/schemas/NullableUser'}
        untyped: {$ref: '#/components/schemas/UntypedNullableUser'}
        direct: {$ref: '#/components/schemas/NullableObject'}
        plain: {$ref: '#/components/schemas/User'}
    TwoDeep:
      type: object
      allOf:
        - {$ref: '#/components/schemas/User'}
        - type: object
          required: [extra]
          properties:
            name: {type: string, pattern: '^[a-z]+$'}
            extra: {type: boolean}
      properties:
        tags: {type: array, maxItems: 1, items: {}}
    Bounds:
      type: object
      additionalProperties: {type: integer, nullable: true}
      minProperties: 2
      maxProperties: 12
      properties:
        n: {type: number, minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true}
        i: {type: integer, format: int32, maximum: 100}
        e: {enum: [1, 2.5, x, true]}
        en: {enum: [x, null], nullable: true}
        d: {type: string, format: date}
        dt: {type: string, format: date-time, nullable: true}
        p: {type: string, pattern: '^\u00E9+$', minLength: 1}
        a: {type: array, minItems: 1, maxItems: 2, items: {type: string, maxLength: 1}}
        any: {}
        desc: {description: anything but null}
        b: {type: boolean}
    ScalarAllOf:
      allOf:
        - {type: string}
        - {maxLength: 3}
      enum: [ab, abcd, abc]
    RequiredNotProperty:
      type: object
      required: [a, b]
      additionalProperties: false
      properties:
        a: {type: string}
    Fallback:
      type: object
      required: [o]
      properties:
        o:
          oneOf: [{type: string}, {type: integer}]
        k: {type: string, maxLength: 2}
        u: {type: array, uniqueItems: true, items: {}}
`

// keywordBodies are hand-written bodies of each schema, mutated below.
var keywordBodies = map[string][]string{
	"User":                {`{"id":1,"name":"al","tags":["a"]}`, `{"id":0,"name":"a","tags":["c",1],"x":1}`, `{"name":"ab","name":"abcdef","id":1.5}`},
	"NullableUser":        {`null`, `{"id":1,"name":"al"}`, `{"id":1}`},
	"UntypedNullableUser": {`null`, `{"id":1,"name":"al"}`, `[]`, `"x"`},
	"NullableObject":      {`null`, `{"id":1}`, `{}`},
	"Holder": {
		`{"wrapped":null,"untyped":null,"direct":null,"plain":{"id":1,"name":"al"}}`,
		`{"wrapped":{"id":1,"name":"al"},"untyped":{"id":2,"name":"bo"},"direct":{"id":3},"plain":null}`,
	},
	"TwoDeep":             {`{"id":1,"name":"ab","extra":true,"tags":["a"]}`, `{"id":1,"name":"AB","tags":["a","b"]}`, `{"id":1,"name":"ab","extra":1,"tags":["a","a"]}`},
	"Bounds":              {`{"n":5,"i":7,"e":2.5,"en":null,"d":"2024-02-29","dt":null,"p":"éé","a":["x"],"any":{},"desc":1,"b":true,"z":3}`, `{"n":0,"i":1e10,"e":"y","d":"2025-02-29","dt":"2025-07-01T16:45:55.246+02:00","p":"","a":[],"zz":null,"zzz":"s"}`},
	"ScalarAllOf":         {`"ab"`, `"abcd"`, `5`, `null`},
	"RequiredNotProperty": {`{"a":"x","b":1}`, `{"a":"x"}`, `{"b":1,"b":2}`},
	"Fallback":            {`{"o":"x","k":"ab","u":[1,2]}`, `{"o":1.5,"k":"abc","u":[1,1]}`, `{"k":1}`},
}

func loadKeywordsDoc(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(keywordsDoc))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(loader.Context))
	return doc
}

// kinOutcome is kin-openapi's verdict on body, decoded and visited as
// openapi3filter does for a response.
func kinOutcome(t *testing.T, s *openapi3.Schema, body []byte) outcome {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return outcome{decode: true}
	}
	err := s.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse())
	if err == nil {
		return outcome{}
	}
	return outcome{violations: compiled.KinViolations(err)}
}

func compiledOutcome(t *testing.T, s *compiled.Schema, body []byte) outcome {
	t.Helper()
	err := s.Validate(body)
	var ce *compiled.Error
	var se *compiled.SyntaxError
	switch {
	case err == nil:
		return outcome{}
	case errors.As(err, &ce):
		require.NotEmpty(t, ce.Violations)
		return outcome{violations: ce.Violations}
	case errors.As(err, &se):
		return outcome{decode: true}
	}
	t.Fatalf("Validate = %v (%T)", err, err)
	return outcome{}
}

func TestCompiledKeywordsMatchKin(t *testing.T) {
	doc := loadKeywordsDoc(t)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range keywordBodies {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ref := &openapi3.SchemaRef{Ref: "#/components/schemas/" + name, Value: doc.Components.Schemas[name].Value}
			s, err := compiled.Compile(ref)
			require.NoError(t, err)
			if name == "Fallback" {
				require.Equal(t, []compiled.Unsupported{
					{Location: "#/components/schemas/Fallback/properties/o", Keyword: "oneOf"},
					{Location: "#/components/schemas/Fallback/properties/u", Keyword: "uniqueItems"},
				}, s.Fallbacks())
			} else {
				require.Empty(t, s.Fallbacks())
			}
			checked := 0
			for _, body := range keywordBodies[name] {
				bodies := append([][]byte{[]byte(body)}, everyMutation([]byte(body))...)
				for _, b := range bodies {
					if msg := compare(kinOutcome(t, ref.Value, b), compiledOutcome(t, s, b), b); msg != "" {
						t.Fatalf("%s\nbody: %q", msg, b)
					}
					checked++
				}
			}
			t.Logf("%d bodies", checked)
		})
	}
}

// Every way of not being one JSON value is rejected as kin-openapi's
// decoder rejects it; what follows the first value is ignored as it is.
func TestCompiledSyntax(t *testing.T) {
	doc := loadKeywordsDoc(t)
	ref := &openapi3.SchemaRef{Value: doc.Components.Schemas["Bounds"].Value}
	s, err := compiled.Compile(ref)
	require.NoError(t, err)
	deep := func(n int) string {
		return `{"any":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `,"b":true}`
	}
	for _, body := range []string{
		``, ` `, `{`, `{"b":true`, `{"b":tru}`, `{"b" true}`, `{"b":true,}`, `{b:true}`, `{"a":[1,]}`, `{"a":01}`,
		`{"n":-}`, `{"n":1.}`, `{"n":.5}`, `{"p":"\x"}`, `{"p":"` + "\x01" + `"}`, "\xef\xbb\xbf{}", `{"b":true}}`,
		`{"b":true} {`, `{"b":true}x`, `{"b":true}{"b":1}`, "{\"p\":\"\xff\"}", `{"p":"\ud800"}`, `{"p":"\udc00\ud800"}`,
		`{"b":true,"b":false}`, `{"b":1,"b":true}`, `{"b":true,"b":1}`, `{"z":"s","z":1}`, `{"a":[],"a":["x"],"b":true}`,
		deep(9999), deep(10000), deep(10001),
	} {
		if msg := compare(kinOutcome(t, ref.Value, []byte(body)), compiledOutcome(t, s, []byte(body)), []byte(body)); msg != "" {
			t.Errorf("%s\nbody: %.80q", msg, body)
		}
	}
}

// With RejectDuplicateNames, as kin-openapi decodes under encoding/json/v2,
// a repeated member name makes the body invalid JSON at any depth.
func TestCompiledRejectDuplicateNames(t *testing.T) {
	doc := loadKeywordsDoc(t)
	s, err := compiled.Compile(&openapi3.SchemaRef{Value: doc.Components.Schemas["Holder"].Value}, compiled.RejectDuplicateNames(true))
	require.NoError(t, err)
	var se *compiled.SyntaxError
	require.ErrorAs(t, s.Validate([]byte(`{"plain":{"id":1,"name":"al","id":2}}`)), &se)
	require.ErrorAs(t, s.Validate([]byte(`{"wrapped":null,"wrapped":null}`)), &se)
	var ce *compiled.Error
	require.ErrorAs(t, s.Validate([]byte(`{"plain":{"id":1,"name":"al"}}`)), &ce)
	require.Equal(t, []compiled.Violation{
		{Path: "/wrapped", Reason: `property "wrapped" is missing`},
		{Path: "/untyped", Reason: `property "untyped" is missing`},
		{Path: "/direct", Reason: `property "direct" is missing`},
	}, ce.Violations)
}

func TestCompiledConcurrentUse(t *testing.T) {
	doc := loadKeywordsDoc(t)
	s, err := compiled.Compile(&openapi3.SchemaRef{Value: doc.Components.Schemas["TwoDeep"].Value})
	require.NoError(t, err)
	bodies := keywordBodies["TwoDeep"]
	want := make([]string, len(bodies))
	for i, b := range bodies {
		want[i] = compiledOutcome(t, s, []byte(b)).String()
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 200 {
				j := (g + i) % len(bodies)
				if got := compiledOutcome(t, s, []byte(bodies[j])).String(); got != want[j] {
					t.Errorf("body %d: %s, want %s", j, got, want[j])
					return
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// everyMutation lists every mutation of a small body: each kind at each
// value with each palette entry.
func everyMutation(body []byte) [][]byte {
	root, ok := parseTree(body)
	if !ok {
		return nil
	}
	var out [][]byte
	for i := range root.all() {
		for kind := range mKinds {
			for p := range palette {
				if b, ok := mutate(body, root, kind, i, p); ok {
					out = append(out, b)
				}
				if kind == mDelete || kind == mRename {
					break // the palette plays no part
				}
			}
		}
	}
	return out
}
