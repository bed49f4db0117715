package compiled

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// kinds are the JSON types a schema's type permits, as a mask.
type kinds uint8

const (
	kBoolean kinds = 1 << iota
	kInteger
	kNumber
	kString
	kArray
	kObject
)

var typeKinds = map[string]kinds{
	openapi3.TypeBoolean: kBoolean, openapi3.TypeInteger: kInteger, openapi3.TypeNumber: kNumber,
	openapi3.TypeString: kString, openapi3.TypeArray: kArray, openapi3.TypeObject: kObject,
}

// additional says what an object does with a member its properties do not name.
type additional uint8

const (
	addAllow  additional = iota // additionalProperties absent or true
	addForbid                   // additionalProperties: false
	addSchema                   // additionalProperties: {schema}
)

// node is one compiled schema. Its fields mirror the checks kin-openapi's
// visitJSON makes, in the order it makes them.
type node struct {
	src      *openapi3.Schema
	loc      string
	fallback bool // validated by kin-openapi

	nullable bool // nullable, or a type list with "null"
	empty    bool // kin-openapi's IsEmpty: everything but null passes
	anyType  bool // no type: every kind passes the type check
	types    kinds
	typeMsg  string

	allOf []*node

	enum    *enumSet
	enumMsg string

	// Strings.
	minLength, maxLength int64 // maxLength < 0: none
	pattern              *regexp.Regexp
	patternMsg           string
	strFormat            openapi3.StringFormatValidator
	strFormatBytes       BytesValidator
	formatName           string
	strChecks            bool // any of the above

	// Numbers.
	requireInteger   bool
	intFormat        openapi3.IntegerFormatValidator
	numFormat        openapi3.NumberFormatValidator
	exclMin, exclMax *float64 // bounds that must be exceeded
	min, max         *float64
	exclMinMsg       string
	exclMaxMsg       string
	minMsg, maxMsg   string

	// Arrays.
	items              *node
	minItems, maxItems int64 // maxItems < 0: none
	minItemsMsg        string
	maxItemsMsg        string

	// Objects. Tracked names are the properties followed by the required
	// names that are not properties; props holds a node for the first
	// len(props) of them.
	names       map[string]int
	nameList    []string
	props       []*node
	required    []int // tracked indexes, in the order of required
	requiredMsg []string
	additional  additional
	addl        *node
	minProps    int64
	maxProps    int64 // < 0: none
	minPropsMsg string
	maxPropsMsg string

	// deepObject and deepArray say whether checking an object or an array
	// against this schema, allOf included, needs to read inside it, and
	// how many of the schemas met along allOf do.
	deepObject, deepArray int
	// selfDeepObject and selfDeepArray are the same for the schema's own
	// keywords, allOf aside.
	selfDeepObject, selfDeepArray bool
}

// enumSet holds the scalar members of an enum.
type enumSet struct {
	strings map[string]struct{}
	numbers []float64
	bools   [2]bool // false, true
	null    bool
}

type compiler struct {
	cfg       *config
	nodes     map[*openapi3.Schema]*node
	fallbacks []Unsupported
}

// compile returns the node of s, compiling it and what it refers to once.
func (c *compiler) compile(s *openapi3.Schema, loc string) (*node, error) {
	if n, ok := c.nodes[s]; ok {
		return n, nil
	}
	if kw := unsupportedKeyword(s); kw != "" {
		return c.fallbackNode(s, loc, kw), nil
	}
	n := &node{src: s, loc: loc, maxLength: -1, maxItems: -1, maxProps: -1}
	c.nodes[s] = n
	if err := c.fill(n, s, loc); err != nil {
		return nil, err
	}
	return n, nil
}

func (c *compiler) fallbackNode(s *openapi3.Schema, loc, keyword string) *node {
	n, ok := c.nodes[s]
	if !ok {
		n = &node{src: s, loc: loc}
		c.nodes[s] = n
	}
	*n = node{src: s, loc: loc, fallback: true}
	c.fallbacks = append(c.fallbacks, Unsupported{Location: loc, Keyword: keyword})
	return n
}

// child compiles a subschema reached through keyword from loc.
func (c *compiler) child(ref *openapi3.SchemaRef, loc, keyword string) (*node, error) {
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("compiled: unresolved schema %q at %s%s", refName(ref), loc, keyword)
	}
	if ref.Ref != "" {
		loc = ref.Ref
	} else {
		loc += keyword
	}
	return c.compile(ref.Value, loc)
}

func (c *compiler) fill(n *node, s *openapi3.Schema, loc string) error {
	n.nullable = s.Nullable || s.Type.IncludesNull()
	n.empty = s.IsEmpty()
	if s.Type == nil {
		n.anyType = true
	} else {
		for _, t := range s.Type.Slice() {
			n.types |= typeKinds[t]
		}
		n.typeMsg = typeMessage(s.Type.Slice())
	}
	for i, ref := range s.AllOf {
		sub, err := c.child(ref, loc, fmt.Sprintf("/allOf/%d", i))
		if err != nil {
			return err
		}
		n.allOf = append(n.allOf, sub)
	}
	if len(s.Enum) > 0 {
		set, ok := newEnumSet(s.Enum)
		if !ok {
			c.fallbackNode(s, loc, "enum (a member that is an object or an array)")
			return nil
		}
		n.enum = set
		allowed, _ := json.Marshal(s.Enum)
		n.enumMsg = "value is not one of the allowed values " + string(allowed)
	}

	// Strings.
	n.minLength = int64(s.MinLength)
	if s.MaxLength != nil {
		n.maxLength = int64(*s.MaxLength)
	}
	if s.Pattern != "" {
		re, err := regexp.Compile(intoGoRegexp(s.Pattern))
		if err != nil {
			c.fallbackNode(s, loc, "pattern (does not compile)")
			return nil
		}
		n.pattern = re
		n.patternMsg = fmt.Sprintf(`string doesn't match the regular expression "%s"`, s.Pattern)
	}
	n.formatName = s.Format
	if s.Format != "" {
		if f, ok := c.cfg.stringFormats[s.Format]; ok {
			n.strFormat = f
			n.strFormatBytes, _ = f.(BytesValidator)
		}
		if f, ok := c.cfg.integerFormats[s.Format]; ok {
			n.intFormat = f
		}
		if f, ok := c.cfg.numberFormats[s.Format]; ok {
			n.numFormat = f
		}
	}
	n.strChecks = n.minLength != 0 || n.maxLength >= 0 || n.pattern != nil || n.strFormat != nil

	// Numbers.
	n.requireInteger = s.Type.Permits(openapi3.TypeInteger) && !s.Type.Permits(openapi3.TypeNumber)
	if eb := s.ExclusiveMin; eb.IsSet() {
		if eb.Value != nil {
			n.exclMin = eb.Value
		} else if eb.Bool != nil && *eb.Bool && s.Min != nil {
			n.exclMin = s.Min
		}
		if n.exclMin != nil {
			n.exclMinMsg = fmt.Sprintf("number must be more than %g", *n.exclMin)
		}
	}
	if eb := s.ExclusiveMax; eb.IsSet() {
		if eb.Value != nil {
			n.exclMax = eb.Value
		} else if eb.Bool != nil && *eb.Bool && s.Max != nil {
			n.exclMax = s.Max
		}
		if n.exclMax != nil {
			n.exclMaxMsg = fmt.Sprintf("number must be less than %g", *n.exclMax)
		}
	}
	if s.Min != nil {
		n.min = s.Min
		n.minMsg = fmt.Sprintf("number must be at least %g", *s.Min)
	}
	if s.Max != nil {
		n.max = s.Max
		n.maxMsg = fmt.Sprintf("number must be at most %g", *s.Max)
	}

	// Arrays.
	if s.Items != nil {
		items, err := c.child(s.Items, loc, "/items")
		if err != nil {
			return err
		}
		n.items = items
	}
	n.minItems = int64(s.MinItems)
	n.minItemsMsg = fmt.Sprintf("minimum number of items is %d", s.MinItems)
	if s.MaxItems != nil {
		n.maxItems = int64(*s.MaxItems)
		n.maxItemsMsg = fmt.Sprintf("maximum number of items is %d", *s.MaxItems)
	}

	// Objects.
	n.names = map[string]int{}
	for _, name := range componentNames(s.Properties) {
		prop, err := c.child(s.Properties[name], loc, "/properties/"+escapeToken(name))
		if err != nil {
			return err
		}
		n.names[name] = len(n.nameList)
		n.nameList = append(n.nameList, name)
		n.props = append(n.props, prop)
	}
	for _, name := range s.Required {
		i, ok := n.names[name]
		if !ok {
			i = len(n.nameList)
			n.names[name] = i
			n.nameList = append(n.nameList, name)
		}
		n.required = append(n.required, i)
		n.requiredMsg = append(n.requiredMsg, fmt.Sprintf("property %q is missing", name))
	}
	switch ap := s.AdditionalProperties; {
	case ap.Has != nil && !*ap.Has:
		n.additional = addForbid
	case ap.Schema != nil:
		addl, err := c.child(ap.Schema, loc, "/additionalProperties")
		if err != nil {
			return err
		}
		n.additional, n.addl = addSchema, addl
	}
	n.minProps = int64(s.MinProps)
	n.minPropsMsg = fmt.Sprintf("there must be at least %d properties", s.MinProps)
	if s.MaxProps != nil {
		n.maxProps = int64(*s.MaxProps)
		n.maxPropsMsg = fmt.Sprintf("there must be at most %d properties", *s.MaxProps)
	}

	n.selfDeepObject = !n.empty && n.enum == nil && n.permits(kObject) &&
		(len(n.nameList) > 0 || n.additional != addAllow || n.minProps != 0 || n.maxProps >= 0)
	n.selfDeepArray = !n.empty && n.enum == nil && n.permits(kArray) &&
		(n.items != nil || n.minItems != 0 || n.maxItems >= 0)
	return nil
}

// depth fills deepObject and deepArray once every node exists; a node met
// again on the way (recursion through allOf) counts as deep.
func (c *compiler) depth(n *node, visiting map[*node]bool) (obj, arr int) {
	if n.fallback {
		return 1, 1
	}
	if n.empty {
		return 0, 0
	}
	if visiting[n] {
		return 1, 1
	}
	visiting[n] = true
	defer delete(visiting, n)
	if n.selfDeepObject {
		obj++
	}
	if n.selfDeepArray {
		arr++
	}
	for _, sub := range n.allOf {
		o, a := c.depth(sub, visiting)
		obj, arr = obj+o, arr+a
	}
	n.deepObject, n.deepArray = obj, arr
	return obj, arr
}

// allOfCycle reports whether a compiled schema reaches itself through
// allOf alone.
func (c *compiler) allOfCycle() bool {
	var reaches func(n, target *node, seen map[*node]bool) bool
	reaches = func(n, target *node, seen map[*node]bool) bool {
		for _, sub := range n.allOf {
			if sub == target {
				return true
			}
			if !seen[sub] {
				seen[sub] = true
				if reaches(sub, target, seen) {
					return true
				}
			}
		}
		return false
	}
	for _, n := range c.nodes {
		if reaches(n, n, map[*node]bool{}) {
			return true
		}
	}
	return false
}

func (n *node) permits(k kinds) bool { return n.anyType || n.types&k != 0 }

// typeMessage words a type mismatch as kin-openapi's expectedType does.
func typeMessage(types []string) string {
	if len(types) == 1 {
		a := "a"
		switch types[0] {
		case openapi3.TypeArray, openapi3.TypeObject, openapi3.TypeInteger:
			a = "an"
		}
		return fmt.Sprintf("value must be %s %s", a, types[0])
	}
	return "value must be one of " + strings.Join(types, ", ")
}

// unsupportedKeyword names the first keyword of s outside the compiled
// subset, or "".
func unsupportedKeyword(s *openapi3.Schema) string {
	switch {
	case len(s.OneOf) > 0:
		return "oneOf"
	case len(s.AnyOf) > 0:
		return "anyOf"
	case s.Not != nil:
		return "not"
	case s.Discriminator != nil:
		return "discriminator"
	case s.MultipleOf != nil:
		return "multipleOf"
	case s.UniqueItems:
		return "uniqueItems"
	case s.WriteOnly:
		return "writeOnly"
	case s.Always != nil:
		return "a boolean schema"
	case s.Const != nil:
		return "const"
	case len(s.PrefixItems) > 0:
		return "prefixItems"
	case s.Contains != nil || s.MinContains != nil || s.MaxContains != nil:
		return "contains"
	case len(s.PatternProperties) > 0:
		return "patternProperties"
	case len(s.DependentSchemas) > 0:
		return "dependentSchemas"
	case len(s.DependentRequired) > 0:
		return "dependentRequired"
	case s.PropertyNames != nil:
		return "propertyNames"
	case s.UnevaluatedItems.Has != nil || s.UnevaluatedItems.Schema != nil:
		return "unevaluatedItems"
	case s.UnevaluatedProperties.Has != nil || s.UnevaluatedProperties.Schema != nil:
		return "unevaluatedProperties"
	case s.If != nil || s.Then != nil || s.Else != nil:
		return "if"
	case s.DynamicRef != "":
		return "$dynamicRef"
	case s.Type.Is(openapi3.TypeString) && s.Format == "binary":
		return "format: binary"
	}
	for _, p := range s.Properties {
		if p != nil && p.Value != nil && p.Value.WriteOnly {
			return "writeOnly (a property)"
		}
	}
	for _, p := range s.AllOf {
		if p != nil && p.Value != nil && hasWriteOnlyProperty(p.Value, map[*openapi3.Schema]bool{}) {
			return "writeOnly (a property in allOf)"
		}
	}
	return ""
}

func hasWriteOnlyProperty(s *openapi3.Schema, seen map[*openapi3.Schema]bool) bool {
	if seen[s] {
		return false
	}
	seen[s] = true
	for _, p := range s.Properties {
		if p != nil && p.Value != nil && p.Value.WriteOnly {
			return true
		}
	}
	for _, p := range s.AllOf {
		if p != nil && p.Value != nil && hasWriteOnlyProperty(p.Value, seen) {
			return true
		}
	}
	return false
}

func newEnumSet(values []any) (*enumSet, bool) {
	set := &enumSet{strings: map[string]struct{}{}}
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			set.null = true
		case bool:
			if v {
				set.bools[1] = true
			} else {
				set.bools[0] = true
			}
		case string:
			set.strings[v] = struct{}{}
		default:
			f, ok := asFloat(v)
			if !ok {
				return nil, false
			}
			set.numbers = append(set.numbers, f)
		}
	}
	return set, true
}

// asFloat mirrors kin-openapi's jsonNumberAsFloat64.
func asFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return math.NaN(), false
}

var patRewriteCodepoints = regexp.MustCompile(`(?P<replaced_with_slash_x>\\u)(?P<code>[0-9A-F]{4})`)

// intoGoRegexp rewrites \uXXXX as kin-openapi does before compiling a pattern.
func intoGoRegexp(re string) string {
	return patRewriteCodepoints.ReplaceAllString(re, `\x{${code}}`)
}

func componentNames(m openapi3.Schemas) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// escapeToken escapes a JSON pointer token.
func escapeToken(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
