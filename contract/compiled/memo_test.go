package compiled_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/contract/compiled"
)

// paths are the violation paths of err, nil when it is nil.
func paths(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var ce *compiled.Error
	require.True(t, errors.As(err, &ce), "%v", err)
	var out []string
	for _, v := range ce.Violations {
		out = append(out, v.Path)
	}
	return out
}

// A nested object that repeats is checked as well the second time as the
// first: an object that passed lets the same bytes pass, and nothing else.
func TestRepeatedObjectsAreCheckedAlike(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData([]byte(`
openapi: 3.0.3
info: {title: memo, version: "1"}
paths: {}
components:
  schemas:
    Page:
      type: array
      items:
        type: object
        required: [id, owner]
        properties:
          id: {type: integer}
          owner: {$ref: '#/components/schemas/Owner'}
    Owner:
      type: object
      additionalProperties: false
      required: [name]
      properties:
        name: {type: string, maxLength: 40}
        note: {type: string}
`))
	require.NoError(t, err)
	page, err := compiled.Compile(doc.Components.Schemas["Page"])
	require.NoError(t, err)

	long := strings.Repeat("x", 60) // owners long enough to be remembered
	owner := `{"name":"ada","note":"` + long + `"}`
	item := func(id, owner string) string { return `{"id":` + id + `,"owner":` + owner + `}` }
	for _, c := range []struct {
		name  string
		body  string
		paths []string
	}{
		{"the same owner twice", "[" + item("1", owner) + "," + item("2", owner) + "]", nil},
		{"then one that differs in its last byte", "[" + item("1", owner) + "," + item("2", owner[:len(owner)-1]+`,"x":1}`) + "]", []string{"/1/owner/x"}},
		{"then one that begins the same and breaks a bound", "[" + item("1", owner) + "," + item("2", `{"name":"ada","note":"`+long+`","name":"`+strings.Repeat("y", 41)+`"}`) + "]", []string{"/1/owner/name"}},
		{"a bad owner, twice", "[" + item("1", `{"name":7,"note":"`+long+`"}`) + "," + item("2", `{"name":7,"note":"`+long+`"}`) + "]", []string{"/0/owner/name", "/1/owner/name"}},
		{"spaced differently", "[" + item("1", owner) + ", " + item("2", strings.Replace(owner, ",", " ,", 1)) + "]", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.paths, paths(t, page.Validate([]byte(c.body))))
			// Each body alone, then again: what an earlier body passed is
			// not remembered.
			assert.Equal(t, c.paths, paths(t, page.Validate([]byte(c.body))))
		})
	}
}
