package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/wait"
)

// Sentinel errors matched by errors.Is against an *APIError (or a
// *ResponseViolationError about an error response) of that status.
var (
	// ErrValidation is a 400: the request was malformed or failed validation;
	// APIError.Fields names the offending inputs.
	ErrValidation = errors.New("client: request failed validation")
	// ErrUnauthorized is a 401: the API key is missing, wrong or revoked.
	ErrUnauthorized = errors.New("client: unauthorized")
	// ErrPaymentRequired is a 402: the company's plan lacks the feature.
	ErrPaymentRequired = errors.New("client: payment required")
	// ErrForbidden is a 403: the key may not perform the operation.
	ErrForbidden = errors.New("client: forbidden")
	// ErrNotFound is a 404: no such identity (or user) in the company.
	ErrNotFound = errors.New("client: not found")
	// ErrTermsNotAccepted is a 412: Drata's terms must be accepted first.
	ErrTermsNotAccepted = errors.New("client: terms not accepted")
	// ErrRateLimited is a 429 that retries did not get past;
	// APIError.RetryAfter says how long the server asked to wait.
	ErrRateLimited = errors.New("client: rate limited")
)

var statusSentinels = map[int]error{
	http.StatusBadRequest:         ErrValidation,
	http.StatusUnauthorized:       ErrUnauthorized,
	http.StatusPaymentRequired:    ErrPaymentRequired,
	http.StatusForbidden:          ErrForbidden,
	http.StatusNotFound:           ErrNotFound,
	http.StatusPreconditionFailed: ErrTermsNotAccepted,
	http.StatusTooManyRequests:    ErrRateLimited,
}

// FieldError names one offending input of a request: the spec's FieldError.
type FieldError = gen.FieldError

// maxErrorBody is the most of an error response body the client reads.
const maxErrorBody = 64 << 10

// APIError is a response with a status outside 2xx. Its fields come from the
// spec's Error body when the server sent one; StatusCode and RequestID are
// set in any case. Use errors.Is with the sentinels (ErrNotFound, …) to test
// the status.
type APIError struct {
	// Operation is the operationId of the request, such as
	// "connectInfrastructureIdentity".
	Operation string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the machine-readable error name, such as NOT_FOUND; empty when
	// the body was not the spec's Error.
	Code gen.ErrorCode
	// Message says what went wrong; when the body was not the spec's Error
	// it is the start of the body, or the status text.
	Message string
	// Fields names each offending input of a 400.
	Fields []FieldError
	// RequestID is the X-Request-Id header (or the body's requestId).
	RequestID string
	// RetryAfter is the wait the server asked for in Retry-After; 0 when it
	// sent none.
	RetryAfter time.Duration
}

// Error describes the failure without any credential.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %s: %d", e.Operation, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + string(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for i, f := range e.Fields {
		sep := "; "
		if i == 0 {
			sep = " ("
		}
		fmt.Fprintf(&b, "%s%s %s: %s", sep, f.Location, f.Field, f.Message)
		if i == len(e.Fields)-1 {
			b.WriteString(")")
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " [retry after %v]", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Unwrap returns the sentinel of the status, so errors.Is(err, ErrNotFound)
// holds for a 404.
func (e *APIError) Unwrap() error { return statusSentinels[e.StatusCode] }

// newAPIError builds the error of a non-2xx response from its (capped) body,
// with the token scrubbed from every text.
func newAPIError(op string, resp *http.Response, body []byte, now time.Time, scrub func(string) string) *APIError {
	e := &APIError{Operation: op, StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	e.RetryAfter, _ = wait.RetryAfter(resp.Header, now)
	var eb gen.Error
	if err := json.Unmarshal(body, &eb); err == nil && (eb.Code != "" || eb.Message != "") {
		e.Code = eb.Code
		e.Message = scrub(eb.Message)
		if e.RequestID == "" {
			e.RequestID = eb.RequestId
		}
		if eb.Errors != nil {
			e.Fields = make([]FieldError, len(*eb.Errors))
			for i, f := range *eb.Errors {
				f.Field, f.Message = scrub(f.Field), scrub(f.Message)
				e.Fields[i] = f
			}
		}
		return e
	}
	e.Message = scrub(snippet(body))
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// snippet is the start of a non-JSON error body, on one line.
func snippet(body []byte) string {
	const most = 200
	body = bytes.TrimSpace(body)
	if len(body) > most {
		body = body[:most]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
		body = append(body[:len(body):len(body)], "…"...)
	}
	if !utf8.Valid(body) {
		return ""
	}
	return strings.Join(strings.Fields(string(body)), " ")
}

// Violation is one way a response departs from the contract.
type Violation struct {
	// Path is a JSON pointer into the body; "" stands for the response as a
	// whole (status, headers, content type).
	Path string
	// Reason says what is wrong.
	Reason string
}

// ResponseViolationError is a response that does not conform to the
// contract, found by response checking (WithResponseChecker). When the
// status is not 2xx it also wraps the *APIError of the response, so
// errors.Is(err, ErrNotFound) still holds.
type ResponseViolationError struct {
	// Operation is the operationId of the request.
	Operation string
	// StatusCode is the response's HTTP status.
	StatusCode int
	// Violations holds every violation found, in order.
	Violations []Violation

	apiErr *APIError
}

// Error lists the violations.
func (e *ResponseViolationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "client: %s: %d response does not conform to the contract", e.Operation, e.StatusCode)
	for i, v := range e.Violations {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		where := v.Path
		if where == "" {
			where = "response"
		}
		b.WriteString(sep + where + ": " + v.Reason)
	}
	return b.String()
}

// Unwrap exposes, for a non-2xx status, the *APIError.
func (e *ResponseViolationError) Unwrap() error {
	if e.apiErr == nil {
		return nil
	}
	return e.apiErr
}

// redactor removes a token from texts that may echo it.
type redactor string

func (r redactor) scrub(s string) string {
	if r == "" {
		return s
	}
	return strings.ReplaceAll(s, string(r), "[REDACTED]")
}

// redactedError hides the token in the text of an error that may carry it
// (a transport error echoing a header, say) while keeping the chain for
// errors.Is and errors.As.
type redactedError struct {
	err error
	msg string
}

// Error is the scrubbed text.
func (e *redactedError) Error() string { return e.msg }

// Unwrap is the original error, for errors.Is and errors.As.
func (e *redactedError) Unwrap() error { return e.err }

// guard returns err, wrapped so that its text never holds the token.
func (r redactor) guard(err error) error {
	if err == nil || r == "" {
		return err
	}
	if msg := err.Error(); strings.Contains(msg, string(r)) {
		return &redactedError{err: err, msg: r.scrub(msg)}
	}
	return err
}
