package contract

import (
	"context"
	"errors"
	"net/http"
)

// CheckResponse finds the operation r was sent to and checks the response
// it got: no violations when the response conforms, every violation when
// it does not, and an error when r matches no operation of the document.
func (v *Validator) CheckResponse(ctx context.Context, r *http.Request, status int, header http.Header, body []byte) ([]*Violation, error) {
	route, err := v.FindRoute(r)
	if err != nil {
		return nil, err
	}
	err = v.ValidateResponse(ctx, r, route, status, header, body)
	var re *ResponseError
	if errors.As(err, &re) {
		return re.Violations, nil
	}
	return nil, err
}
