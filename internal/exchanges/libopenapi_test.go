//go:build replay

// The libopenapi-validator replay runs in its own CI step (make
// replay-libopenapi), without the race detector: it checks recorded bytes,
// and leaving its large dependency tree out of make test's -race build
// saves minutes on a cold cache.

package exchanges_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/index"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/internal/exchanges"
)

// TestLibopenapiValidator replays every recorded exchange through
// libopenapi-validator, an OpenAPI reader independent of ours: no response
// may break the document, every request but the deliberately invalid ones
// must conform, and each of those must be reported. The planted violations
// must be reported too, so the check can fail.
func TestLibopenapiValidator(t *testing.T) {
	t.Parallel()
	v := newLibopenapiValidator(t)

	c := load(t)
	var requests, responses, flaggedBad int
	for _, x := range c.Exchanges {
		reqErrs, respErrs := validate(t, v, x)
		responses += count(respErrs)
		assert.Empty(t, respErrs, "%s: response %d: %s", x.Name, x.Response.Status, describe(respErrs))
		if x.InvalidRequest {
			flaggedBad += count(reqErrs)
			assert.NotEmpty(t, reqErrs, "%s: the request breaks the document, but no violation was reported", x.Name)
			continue
		}
		requests += count(reqErrs)
		assert.Empty(t, reqErrs, "%s: request: %s", x.Name, describe(reqErrs))
	}
	t.Logf("libopenapi-validator: %d exchanges: %d response violations, %d request violations in conforming requests, %d in the deliberately invalid ones",
		len(c.Exchanges), responses, requests, flaggedBad)

	for _, x := range planted(t, c) {
		_, respErrs := validate(t, v, x)
		assert.NotEmpty(t, respErrs, "%s: the planted violation was not reported", x.Name)
		t.Logf("%s: %d response violations: %s", x.Name, count(respErrs), describe(respErrs))
	}
}

// newLibopenapiValidator builds a validator of the document with format
// assertions on. libopenapi reports the document's recursion (User,
// through required properties) as an "infinite circular reference": it
// counts a loop of required $refs as unsatisfiable without reading
// nullable, though User is nullable, so null ends the loop. It builds the model all the same and leaves it to the caller to
// ignore these; any other error fails the test.
func newLibopenapiValidator(t *testing.T) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(api.Spec)
	require.NoError(t, err)
	model, err := doc.BuildV3Model()
	require.NotNil(t, model, "%v", err)
	var loops []string
	for _, e := range unwrap(err) {
		var re *index.ResolvingError
		require.True(t, errors.As(e, &re) && re.CircularReference != nil, "not a circular reference: %v", e)
		loops = append(loops, re.CircularReference.Start.Definition)
	}
	slices.Sort(loops)
	require.Equal(t, []string{"#/components/schemas/User"}, loops,
		"the recursive schemas libopenapi calls infinite loops")
	return validator.NewValidatorFromV3Model(&model.Model, config.WithFormatAssertions())
}

func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// validate checks x's request and its response to it.
func validate(t *testing.T, v validator.Validator, x exchanges.Exchange) (req, resp []*verrors.ValidationError) {
	t.Helper()
	r, err := x.HTTPRequest("http://127.0.0.1", "")
	require.NoError(t, err)
	_, req = v.ValidateHttpRequestSync(r)
	r, err = x.HTTPRequest("http://127.0.0.1", "")
	require.NoError(t, err)
	_, resp = v.ValidateHttpResponse(r, x.HTTPResponse(r))
	return req, resp
}

// count counts the schema failures of errs, and the errors without any.
func count(errs []*verrors.ValidationError) int {
	n := 0
	for _, e := range errs {
		n += max(1, len(e.SchemaValidationErrors))
	}
	return n
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s %s", f.FieldPath, f.Reason)
		}
	}
	return b.String()
}
