package compiled

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// kin validates the next value (or src, when it holds it) with
// kin-openapi, for a schema the compiler does not handle.
func (w *walker) kin(n *node, src []byte) error {
	raw := src
	if raw == nil {
		var err error
		if raw, err = w.dec.ReadValue(); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("compiled: decode a value jsontext accepted: %w", err)
	}
	err := n.src.VisitJSON(v, w.s.cfg.kinOptions...)
	if err == nil {
		return nil
	}
	prefix := w.pointer()
	for _, vi := range KinViolations(err) {
		w.viol = append(w.viol, violation{path: prefix + vi.Path, reason: vi.Reason, pos: w.base + w.dec.InputOffset()})
		w.live++
	}
	return nil
}

// KinViolations flattens an error of kin-openapi's Schema.VisitJSON into
// violations: an allOf failure into those of its parts (which carry the
// precise pointers), each with KinPointer's path and its reason.
func KinViolations(err error) []Violation {
	var out []Violation
	var walk func(err error)
	walk = func(err error) {
		switch e := err.(type) {
		case openapi3.MultiError:
			for _, inner := range e {
				walk(inner)
			}
			return
		case *openapi3.SchemaError:
			var inner openapi3.MultiError
			if e.SchemaField == "allOf" && e.Origin != nil && errors.As(e.Origin, &inner) {
				walk(inner)
				return
			}
			out = append(out, Violation{Path: KinPointer(e), Reason: e.Reason})
			return
		}
		var me openapi3.MultiError
		if errors.As(err, &me) {
			walk(me)
			return
		}
		var se *openapi3.SchemaError
		if errors.As(err, &se) {
			out = append(out, Violation{Path: KinPointer(se), Reason: se.Reason})
			return
		}
		out = append(out, Violation{Reason: err.Error()})
	}
	walk(err)
	return out
}

// KinPointer is the JSON pointer to the value se is about. kin-openapi
// points an "unsupported property" error at the enclosing object; the
// property itself is the more useful place, so it is appended.
func KinPointer(se *openapi3.SchemaError) string {
	parts := se.JSONPointer()
	if se.SchemaField == "properties" {
		if name, ok := unsupportedProperty(se.Reason); ok {
			parts = append(parts, name)
		}
	}
	var b []byte
	for _, p := range parts {
		b = append(b, '/')
		b = appendEscaped(b, p)
	}
	return string(b)
}

// unsupportedProperty extracts the name from kin-openapi's
// `property "name" is unsupported` reason.
func unsupportedProperty(reason string) (string, bool) {
	quoted, ok := strings.CutPrefix(reason, "property ")
	if !ok {
		return "", false
	}
	quoted, ok = strings.CutSuffix(quoted, " is unsupported")
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(quoted)
	return name, err == nil
}

// formatReason words a format failure as kin-openapi's formatError does.
func formatReason(kind, format string, err error) string {
	prefix := fmt.Sprintf("%s doesn't match the format %q", kind, format)
	reasons := schemaErrorReasons(nil, err)
	if len(reasons) == 0 {
		return fmt.Sprintf("%s (%v)", prefix, err)
	}
	return prefix + " (" + strings.Join(reasons, " | ") + ")"
}

func schemaErrorReasons(reasons []string, err error) []string {
	switch e := err.(type) {
	case nil:
	case *openapi3.SchemaError:
		reasons = append(reasons, e.Reason)
	case openapi3.MultiError:
		for _, err := range e {
			reasons = schemaErrorReasons(reasons, err)
		}
	case interface{ Unwrap() error }:
		reasons = schemaErrorReasons(reasons, e.Unwrap())
	case interface{ Unwrap() []error }:
		for _, err := range e.Unwrap() {
			reasons = schemaErrorReasons(reasons, err)
		}
	}
	return reasons
}

// validateIntegerFormat converts a number for an integer format as
// kin-openapi does: 2^63 counts as math.MaxInt64, anything further out of
// the int64 range fails.
func validateIntegerFormat(v openapi3.IntegerFormatValidator, f float64) error {
	switch {
	case f == float64(math.MaxInt64):
		return v.Validate(math.MaxInt64)
	case f >= float64(math.MinInt64) && f < float64(math.MaxInt64):
		return v.Validate(int64(f))
	default:
		return fmt.Errorf("value should be between %v and %v", int64(math.MinInt64), int64(math.MaxInt64))
	}
}
