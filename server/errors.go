package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/store"
)

// apiError is an error the server answers with; every error entry point
// (router, policy, validator, handlers, recovery) writes one through
// writeError, so every error body is the document's Error schema.
type apiError struct {
	status  int
	code    gen.ErrorCode
	message string
	fields  []contract.FieldError
}

func (e *apiError) Error() string { return e.message }

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, code: gen.ErrorCodeUNAUTHORIZED, message: "missing or invalid API key"}
	errTerms        = &apiError{status: http.StatusPreconditionFailed, code: gen.ErrorCodeTERMSNOTACCEPTED, message: "you must accept the Drata terms and conditions to use the API"}
	errPlan         = &apiError{status: http.StatusPaymentRequired, code: gen.ErrorCodePAYMENTREQUIRED, message: "you must upgrade your plan to use this feature"}
	errScope        = &apiError{status: http.StatusForbidden, code: gen.ErrorCodeFORBIDDEN, message: "this API key is not allowed to perform this action"}
	errAddress      = &apiError{status: http.StatusForbidden, code: gen.ErrorCodeFORBIDDEN, message: "this API key may not be used from this address"}
	errInternal     = &apiError{status: http.StatusInternalServerError, code: gen.ErrorCodeINTERNALERROR, message: "internal server error"}
	errTooLarge     = &apiError{status: http.StatusRequestEntityTooLarge, code: gen.ErrorCodePAYLOADTOOLARGE, message: "request body is too large"}
	errMediaType    = &apiError{status: http.StatusUnsupportedMediaType, code: gen.ErrorCodeUNSUPPORTEDMEDIATYPE, message: "request body must be application/json"}
	errRateLimited  = &apiError{status: http.StatusTooManyRequests, code: gen.ErrorCodeRATELIMITED, message: "too many requests; retry after the time in Retry-After"}
	errNoRoute      = &apiError{status: http.StatusNotFound, code: gen.ErrorCodeNOTFOUND, message: "no such resource"}
	errMethod       = &apiError{status: http.StatusMethodNotAllowed, code: gen.ErrorCodeMETHODNOTALLOWED, message: "method not allowed; see the Allow header"}
	errNotReady     = &apiError{status: http.StatusServiceUnavailable, code: gen.ErrorCodeSERVICEUNAVAILABLE, message: "not ready"}
)

func badRequest(message string, fields []contract.FieldError) *apiError {
	return &apiError{status: http.StatusBadRequest, code: gen.ErrorCodeVALIDATIONFAILED, message: message, fields: fields}
}

// classify maps an error from any layer to what the client is told. Store
// sentinels become 404s; anything unknown is a 500 whose cause is logged,
// never sent.
func classify(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrUserNotFound):
		return &apiError{status: http.StatusNotFound, code: gen.ErrorCodeNOTFOUND, message: "user not found"}
	case errors.Is(err, store.ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: gen.ErrorCodeNOTFOUND, message: "identity not found"}
	default:
		return errInternal
	}
}

// writeError answers r with err as the JSON error body.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	if ae.status >= 500 {
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelInfo
		}
		logger(r.Context()).Log(r.Context(), level, "request failed", "err", err)
	}
	body := gen.Error{
		StatusCode: ae.status,
		Code:       ae.code,
		Message:    ae.message,
		RequestId:  requestID(r.Context()),
	}
	if len(ae.fields) > 0 {
		fields := make([]gen.FieldError, len(ae.fields))
		for i, f := range ae.fields {
			fields[i] = gen.FieldError{Field: f.Field, Location: gen.FieldErrorLocation(f.Location), Message: f.Message}
		}
		body.Errors = &fields
	}
	if ae.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="identities"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ae.status)
	_ = json.NewEncoder(w).Encode(body)
}
