package contract

import (
	"context"
	"fmt"
	"net/http"
)

// ValidateResponseKin validates a response with kin-openapi alone, the
// reference the compiled validator is held to.
func (v *Validator) ValidateResponseKin(ctx context.Context, r *http.Request, route *Route, status int, header http.Header, body []byte) error {
	if route.route.Operation.Responses.Status(status) == nil {
		return &ResponseError{Violations: []*Violation{{
			Operation: route.OperationID(), Status: status,
			Reason: fmt.Sprintf("status %d is not documented for this operation", status),
		}}}
	}
	return v.validateResponseKin(ctx, r, route, status, header, body, false)
}
