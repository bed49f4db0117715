// Package compiled validates JSON bodies against OpenAPI 3.0 schemas
// compiled once from a loaded kin-openapi document. It reads the body's bytes
// as a token stream (encoding/json/jsontext) and builds no tree of values,
// and it agrees with kin-openapi's Schema.VisitJSON, as openapi3filter calls
// it on a response, on every body: the same verdict and the same violations,
// each a JSON pointer and kin-openapi's reason. contract uses it for response
// bodies; kin-openapi stays the reference, and a differential test and a fuzz
// target in contract hold the two together.
//
// The supported subset is what OpenAPI 3.0 documents mostly use: type,
// nullable, required, properties, additionalProperties, items, enum (of
// scalars), format, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
// minLength, maxLength, pattern, minItems, maxItems, minProperties,
// maxProperties, allOf and $ref; annotations (description, example, default,
// readOnly, …) are ignored as kin-openapi ignores them on a response. A
// schema using anything else (oneOf, anyOf, not, discriminator, multipleOf,
// uniqueItems, writeOnly, the OpenAPI 3.1 keywords) is validated by
// kin-openapi itself, for the values it applies to only: [Schema.Fallbacks]
// lists them.
//
// Body decoding follows kin-openapi's (encoding/json with UseNumber): only
// the first JSON value counts and whatever follows it is ignored; invalid
// UTF-8 in strings is read as U+FFFD; when an object repeats a name, the last
// member wins, unless [RejectDuplicateNames] is given (kin-openapi rejects
// them when built with encoding/json/v2).
package compiled

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// Schema is a compiled schema. It is safe for concurrent use.
type Schema struct {
	root      *node
	cfg       *config
	fallbacks []Unsupported
}

// Violation is one way a body breaks the schema.
type Violation struct {
	// Path is a JSON pointer to the offending value ("" for the body).
	Path string
	// Reason says what is wrong, as kin-openapi words it.
	Reason string
}

// Error is a body that breaks the schema. Violations are in the order of
// the body (a member's missing properties after its present ones).
type Error struct {
	Violations []Violation
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		where := v.Path
		if where == "" {
			where = "body"
		}
		parts[i] = where + ": " + v.Reason
	}
	return "body does not match the schema: " + strings.Join(parts, "; ")
}

// SyntaxError is a body that is not a JSON value.
type SyntaxError struct {
	Err error
}

func (e *SyntaxError) Error() string { return "body is not valid JSON: " + e.Err.Error() }

// Unwrap returns the jsontext error.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Unsupported names a schema that the compiler leaves to kin-openapi, and why.
type Unsupported struct {
	// Location is where the schema is: a $ref ("#/components/schemas/X")
	// followed by the keywords that lead to it ("/properties/a/items").
	Location string
	// Keyword is the first keyword outside the supported subset.
	Keyword string
}

func (u Unsupported) String() string { return u.Location + ": " + u.Keyword }

// Option configures Compile.
type Option func(*config)

type config struct {
	stringFormats  map[string]openapi3.StringFormatValidator
	numberFormats  map[string]openapi3.NumberFormatValidator
	integerFormats map[string]openapi3.IntegerFormatValidator
	// ownFormats are the formats given as options, which kin-openapi must be
	// given too when a schema falls back to it.
	ownFormats  map[string]openapi3.StringFormatValidator
	rejectDupes bool
	kinOptions  []openapi3.SchemaValidationOption
}

// WithStringFormat checks strings of the named format with v, as
// openapi3.WithStringFormatValidator does for kin-openapi; without it a
// format is checked by kin-openapi's registry (openapi3.SchemaStringFormats)
// as it is at compile time. A v that also implements [BytesValidator] is
// given the string's bytes, without a conversion.
func WithStringFormat(name string, v openapi3.StringFormatValidator) Option {
	return func(c *config) { c.ownFormats[name] = v }
}

// RejectDuplicateNames makes an object that repeats a member name invalid
// JSON, as kin-openapi's decoder does when it is built with
// encoding/json/v2. By default the last member wins, as with encoding/json.
func RejectDuplicateNames(reject bool) Option {
	return func(c *config) { c.rejectDupes = reject }
}

// BytesValidator is implemented by string format validators that can check
// a string's UTF-8 bytes directly.
type BytesValidator interface {
	ValidateBytes(b []byte) error
}

// Compile compiles ref (a $ref or an inline schema) for validating response
// bodies. It fails only when a schema is unresolved.
func Compile(ref *openapi3.SchemaRef, opts ...Option) (*Schema, error) {
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("compiled: unresolved schema %q", refName(ref))
	}
	cfg := &config{ownFormats: map[string]openapi3.StringFormatValidator{}}
	for _, o := range opts {
		o(cfg)
	}
	cfg.stringFormats = make(map[string]openapi3.StringFormatValidator, len(openapi3.SchemaStringFormats)+len(cfg.ownFormats))
	for k, v := range openapi3.SchemaStringFormats {
		cfg.stringFormats[k] = v
	}
	for k, v := range cfg.ownFormats {
		cfg.stringFormats[k] = v
	}
	cfg.numberFormats = cloneMap(openapi3.SchemaNumberFormats)
	cfg.integerFormats = cloneMap(openapi3.SchemaIntegerFormats)
	cfg.kinOptions = []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.VisitAsResponse()}
	for k, v := range cfg.ownFormats {
		cfg.kinOptions = append(cfg.kinOptions, openapi3.WithStringFormatValidator(k, v))
	}
	c := &compiler{cfg: cfg, nodes: map[*openapi3.Schema]*node{}}
	loc := ref.Ref
	if loc == "" {
		loc = "#"
	}
	root, err := c.compile(ref.Value, loc)
	if err != nil {
		return nil, err
	}
	if c.allOfCycle() {
		// kin-openapi stops at a schema met again for the same value; only
		// kin-openapi itself can follow that along the way it visits.
		root = c.fallbackNode(ref.Value, loc, "allOf (a cycle)")
	}
	for _, n := range c.nodes {
		c.depth(n, map[*node]bool{})
	}
	return &Schema{root: root, cfg: cfg, fallbacks: c.fallbacks}, nil
}

// CompileSchema compiles an inline schema; see Compile.
func CompileSchema(s *openapi3.Schema, opts ...Option) (*Schema, error) {
	return Compile(&openapi3.SchemaRef{Value: s}, opts...)
}

// Fallbacks lists the schemas validated by kin-openapi rather than
// compiled, in the order they were met.
func (s *Schema) Fallbacks() []Unsupported { return append([]Unsupported(nil), s.fallbacks...) }

func refName(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	return ref.Ref
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
