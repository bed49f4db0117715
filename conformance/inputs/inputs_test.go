package inputs_test

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/conformance/inputs"
)

// schemas are the request body and query parameter schemas of the
// embedded document.
func schemas(t *testing.T) (bodies, params []*openapi3.Schema) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	require.NoError(t, err)
	for _, path := range doc.Paths.InMatchingOrder() {
		for _, op := range doc.Paths.Value(path).Operations() {
			if op.RequestBody != nil {
				bodies = append(bodies, op.RequestBody.Value.Content.Get("application/json").Schema.Value)
			}
			for _, p := range op.Parameters {
				if p.Value.In == "query" {
					params = append(params, p.Value.Schema.Value)
				}
			}
		}
	}
	require.NotEmpty(t, bodies)
	require.NotEmpty(t, params)
	return bodies, params
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	return v
}

// TestCheckInputsKeepOrBreakTheirSchemas: every value generated as valid
// passes its schema; every break fails it.
func TestCheckInputsKeepOrBreakTheirSchemas(t *testing.T) {
	t.Parallel()
	bodies, params := schemas(t)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		for _, s := range bodies {
			v := decode(t, mustJSON(t, inputs.Value(s, r)))
			require.NoError(t, s.VisitJSON(v), "generated as valid: %v", v)
			for _, b := range inputs.BodyBreaks(s, r) {
				if b.ContentType != "" {
					continue // valid JSON in the wrong media type
				}
				v := decode(t, b.Body)
				assert.Error(t, s.VisitJSON(v), "%s passes its schema: %s", b.What, b.Body)
			}
		}
		for _, s := range params {
			require.NoError(t, s.VisitJSON(typed(s, inputs.Param(s, r))))
			for _, b := range inputs.ParamBreaks(s, r) {
				v := typed(s, b.Value)
				if v == nil {
					continue // not even of its type
				}
				assert.Error(t, s.VisitJSON(v), "%s passes its schema: %q", b.What, b.Value)
			}
		}
	}
}

// typed reads a query value as its schema's type; nil when it is not one.
func typed(s *openapi3.Schema, v string) any {
	switch {
	case s.Type.Is("integer"):
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return float64(n)
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		return nil
	case s.Type.Is("number"):
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		return nil
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// TestCheckInputsAreSeeded: the same seed gives the same inputs, another
// seed others.
func TestCheckInputsAreSeeded(t *testing.T) {
	t.Parallel()
	bodies, _ := schemas(t)
	gen := func(seed uint64) string {
		r := rand.New(rand.NewPCG(seed, seed))
		var out []any
		for _, s := range bodies {
			out = append(out, inputs.Value(s, r))
			for _, b := range inputs.BodyBreaks(s, r) {
				out = append(out, string(b.Body))
			}
		}
		return string(mustJSON(t, out))
	}
	assert.Equal(t, gen(1), gen(1))
	assert.NotEqual(t, gen(1), gen(2))
}
