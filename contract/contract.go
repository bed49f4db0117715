// Package contract checks HTTP requests and responses against the User
// Identities OpenAPI document. The server, the client and the conformance
// tools all validate through it, so there is one validator in the module.
//
// kin-openapi matches routes and checks parameters, request bodies, statuses
// and headers. JSON response bodies are checked by their schemas compiled
// once (package compiled), which read the body's bytes as they stream and
// agree with kin-openapi on every body, violation for violation; a
// differential test and a fuzz target hold them to it.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/contract/compiled"
)

// Sentinel errors of route matching.
var (
	// ErrNoRoute reports a path that no operation of the document serves.
	ErrNoRoute = errors.New("contract: no operation matches the path")
	// ErrMethodNotAllowed reports a path served only for other methods.
	ErrMethodNotAllowed = errors.New("contract: method not allowed")
)

// Validator matches requests to operations and validates both directions.
// It is safe for concurrent use; build it once.
type Validator struct {
	doc      *openapi3.T
	router   routers.Router
	basePath string
	// methods lists, per path template, the methods the document serves.
	methods map[string][]string
	// bodies holds the compiled schema of each JSON response body, by
	// media type; a media type without one is validated by kin-openapi.
	bodies map[*openapi3.MediaType]*compiled.Schema
	// fallbacks lists what kin-openapi validates in place of a compiled schema.
	fallbacks []string
	// servers are the document's own servers, which doc.Servers replaces.
	servers openapi3.Servers
	// ownsJSONRequests is set when a JSON request body decoded here is what
	// kin-openapi would decode (an OpenAPI 3.0 document, and a registered
	// JSON decoder that takes repeated member names as encoding/json does),
	// so that its schema is checked from that one decoding.
	ownsJSONRequests bool
}

// Route is the operation a request resolves to.
type Route struct {
	route      *routers.Route
	pathParams map[string]string
}

// OperationID is the operation's operationId.
func (r *Route) OperationID() string { return r.route.Operation.OperationID }

// Extension returns the string value of an operation-level vendor extension
// such as "x-drata-scope", or "".
func (r *Route) Extension(name string) string {
	v, _ := r.route.Operation.Extensions[name].(string)
	return v
}

// HasRequestBody reports whether the operation takes a request body.
func (r *Route) HasRequestBody() bool { return r.route.Operation.RequestBody != nil }

// PathParam returns the raw value of a path parameter.
func (r *Route) PathParam(name string) string { return r.pathParams[name] }

// New returns the validator of the embedded document, serving it under
// basePath (for example "/public"; "" serves it at the root). It is built
// once per base path and shared: loading the document is the costly part,
// and a Validator never changes.
func New(basePath string) (*Validator, error) {
	basePath = "/" + strings.Trim(basePath, "/")
	build, _ := embedded.LoadOrStore(basePath, sync.OnceValues(func() (*Validator, error) { return load(api.Spec, basePath) }))
	return build.(func() (*Validator, error))()
}

// embedded holds, by base path, a func building the embedded document's
// validator once.
var embedded sync.Map

// Load builds a Validator from an OpenAPI 3.0 document in YAML or JSON, so a
// newer or older document can be checked without rebuilding. The embedded
// document's validator is shared, as New's is.
func Load(spec []byte, basePath string) (*Validator, error) {
	if bytes.Equal(spec, api.Spec) {
		return New(basePath)
	}
	return load(spec, basePath)
}

func load(spec []byte, basePath string) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("contract: load document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("contract: invalid document: %w", err)
	}
	basePath = "/" + strings.Trim(basePath, "/")
	// Hosts are never matched: only the path under basePath counts.
	servers := doc.Servers
	doc.Servers = openapi3.Servers{{URL: basePath}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: build router: %w", err)
	}
	methods := make(map[string][]string)
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			methods[path] = append(methods[path], method)
		}
		slices.Sort(methods[path])
	}
	v := &Validator{doc: doc, router: router, basePath: strings.TrimSuffix(basePath, "/"), methods: methods, servers: servers}
	v.compileBodies()
	return v, nil
}

// compileBodies compiles the schema of every JSON response body once. The
// compiled schemas decode as kin-openapi's registered JSON decoder does;
// without one, or for an OpenAPI 3.1 document (which kin-openapi validates
// with JSON Schema 2020-12), every body is left to kin-openapi.
func (v *Validator) compileBodies() {
	v.bodies = map[*openapi3.MediaType]*compiled.Schema{}
	decode := openapi3filter.RegisteredBodyDecoder("application/json")
	if decode == nil || v.doc.IsOpenAPI31OrLater() {
		v.fallbacks = append(v.fallbacks, "every response body: no JSON decoder or an OpenAPI 3.1 document")
		return
	}
	// kin-openapi rejects repeated member names when built with encoding/json/v2.
	_, dupErr := decode(strings.NewReader(`{"a":1,"a":2}`), http.Header{}, nil, nil)
	v.ownsJSONRequests = dupErr == nil
	opts := append(slices.Clone(compiledFormatOptions), compiled.RejectDuplicateNames(dupErr != nil))
	bySchema := map[*openapi3.Schema]*compiled.Schema{}
	paths := v.doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		ops := v.doc.Paths.Value(path).Operations()
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			op := ops[method]
			if op.Responses == nil {
				continue
			}
			for status, resp := range op.Responses.Map() {
				if resp.Value == nil {
					continue
				}
				for name, mt := range resp.Value.Content {
					if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || v.bodies[mt] != nil {
						continue
					}
					where := fmt.Sprintf("%s %s %s", op.OperationID, status, name)
					cs, ok := bySchema[mt.Schema.Value]
					if !ok {
						var err error
						if cs, err = compiled.Compile(mt.Schema, opts...); err != nil {
							v.fallbacks = append(v.fallbacks, where+": "+err.Error())
							continue
						}
						bySchema[mt.Schema.Value] = cs
						for _, f := range cs.Fallbacks() {
							v.fallbacks = append(v.fallbacks, where+": "+f.String())
						}
					}
					v.bodies[mt] = cs
				}
			}
		}
	}
}

// Fallbacks lists the response body schemas, or parts of them, that
// kin-openapi validates because the compiled validator does not support a
// keyword they use. It is empty for the embedded document.
func (v *Validator) Fallbacks() []string { return slices.Clone(v.fallbacks) }

// Document is the loaded OpenAPI document. Treat it as read-only. Its
// servers are the base path alone: see Servers for the document's own.
func (v *Validator) Document() *openapi3.T { return v.doc }

// Servers are the servers the document lists.
func (v *Validator) Servers() openapi3.Servers { return slices.Clone(v.servers) }

// BasePath is the prefix under which the document's paths are served.
func (v *Validator) BasePath() string { return v.basePath }

// MethodError reports a path that exists for other methods.
type MethodError struct {
	Allowed []string
}

func (e *MethodError) Error() string {
	return "method not allowed; allowed: " + strings.Join(e.Allowed, ", ")
}

// Unwrap makes errors.Is(err, ErrMethodNotAllowed) hold.
func (e *MethodError) Unwrap() error { return ErrMethodNotAllowed }

// FindRoute matches r to an operation. It returns an error wrapping
// ErrNoRoute, or a *MethodError wrapping ErrMethodNotAllowed.
func (v *Validator) FindRoute(r *http.Request) (*Route, error) {
	route, params, err := v.router.FindRoute(r)
	if err == nil {
		return &Route{route: route, pathParams: params}, nil
	}
	if errors.Is(err, routers.ErrMethodNotAllowed) {
		for tmpl, methods := range v.methods {
			if matchTemplate(v.basePath+tmpl, r.URL.Path) {
				// A copy: the caller may change it, the validator is shared.
				return nil, &MethodError{Allowed: slices.Clone(methods)}
			}
		}
		return nil, &MethodError{}
	}
	return nil, fmt.Errorf("%w: %s", ErrNoRoute, r.URL.Path)
}

// matchTemplate reports whether path fits an OpenAPI path template segment by segment.
func matchTemplate(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if strings.HasPrefix(ts[i], "{") || ts[i] == ps[i] {
			continue
		}
		return false
	}
	return true
}

// FieldError names one offending input.
type FieldError struct {
	// Field is the parameter name, or a JSON pointer into the body ("/userId").
	Field string
	// Location is "query", "path", "header" or "body".
	Location string
	// Message says what is wrong, without echoing the value.
	Message string
}

// RequestError is a request that does not conform to the document.
type RequestError struct {
	Operation string
	Fields    []FieldError
	// MediaType is set when the body's content type is not accepted.
	MediaType bool
}

func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("invalid request")
	sep := ": "
	if e.MediaType {
		b.WriteString(sep + "body: content type is not supported")
		sep = "; "
	}
	for _, f := range e.Fields {
		where := f.Location
		if f.Field != "" {
			where += " " + f.Field
		}
		b.WriteString(sep + where + ": " + f.Message)
		sep = "; "
	}
	return b.String()
}

// ValidateRequest checks the parameters and body of r against route; a body
// must be exactly one JSON value. The body is read once, decoded once for
// its schema, and put back, so handlers can read it again. Security
// requirements are not checked here: authentication is the caller's job.
func (v *Validator) ValidateRequest(ctx context.Context, r *http.Request, route *Route) error {
	options := requestOptions()
	input := &openapi3filter.RequestValidationInput{Request: r, PathParams: route.pathParams, Route: route.route, Options: options}
	rb := route.route.Operation.RequestBody
	var bodyErr error
	if rb != nil && rb.Value != nil {
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			var err error
			body, err = io.ReadAll(r.Body)
			r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
			if err != nil {
				return fmt.Errorf("contract: read request body: %w", err)
			}
		}
		var trailing bool
		if trailing, bodyErr = v.validateBody(ctx, input, rb.Value, body); trailing {
			return &RequestError{Operation: route.OperationID(), Fields: []FieldError{{Location: "body", Message: "unexpected data after the JSON value"}}}
		}
		options.ExcludeRequestBody = true
	}
	err := openapi3filter.ValidateRequest(ctx, input)
	if err == nil && bodyErr == nil {
		return nil
	}
	out := &RequestError{Operation: route.OperationID()}
	for _, e := range []error{err, bodyErr} {
		if e != nil {
			collectRequestErrors(e, out)
		}
	}
	if len(out.Fields) == 0 && !out.MediaType {
		out.Fields = append(out.Fields, FieldError{Field: "", Location: "body", Message: "malformed request"})
	}
	return out
}

// validateBody checks a body as kin-openapi's ValidateRequestBody does, with
// the errors it gives, and tells whether a JSON body holds more than one
// value (trailing). A JSON body is decoded once, from the bytes already
// read; its schema is checked from that decoding when the validator owns
// JSON requests, and by kin-openapi otherwise, as is a body of another
// media type.
func (v *Validator) validateBody(ctx context.Context, input *openapi3filter.RequestValidationInput, rb *openapi3.RequestBody, body []byte) (trailing bool, err error) {
	fail := func(reason string, err error) error {
		return &openapi3filter.RequestError{Input: input, RequestBody: rb, Reason: reason, Err: err}
	}
	if len(body) == 0 {
		if rb.Required {
			return false, fail("", openapi3filter.ErrInvalidRequired)
		}
		return false, nil
	}
	if len(rb.Content) == 0 { // no declared content: nothing to check
		return false, nil
	}
	contentType := input.Request.Header.Get("Content-Type")
	mt := rb.Content.Get(contentType)
	if mt == nil {
		return false, fail(fmt.Sprintf("header Content-Type has unexpected value %q", contentType), nil)
	}
	base, _, _ := strings.Cut(contentType, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	if base != "application/json" && !strings.HasSuffix(base, "+json") {
		return false, openapi3filter.ValidateRequestBody(ctx, input, rb)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var value any
	decodeErr := dec.Decode(&value)
	if decodeErr == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return true, nil
		}
	}
	own := v.ownsJSONRequests && base == "application/json"
	switch {
	case !own:
		return false, openapi3filter.ValidateRequestBody(ctx, input, rb)
	case mt.Schema == nil || mt.Schema.Value == nil: // kin-openapi does not decode it
		return false, nil
	case decodeErr != nil:
		return false, fail("failed to decode request body", &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: decodeErr})
	}
	if err := mt.Schema.Value.VisitJSON(value, requestSchemaOptions...); err != nil {
		return false, fail("doesn't match schema", err)
	}
	return false, nil
}

// requestOptions are kin-openapi's options for a request: every error at
// once, no authentication (the caller's job), no defaults written into the
// request, and the document's formats.
func requestOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:              true,
		AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:     true,
		SchemaValidationOptions: kinFormatOptions,
	}
}

// requestSchemaOptions are the options kin-openapi checks a request body's
// schema with under requestOptions, for an OpenAPI 3.0 document.
var requestSchemaOptions = append([]openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors()}, kinFormatOptions...)

func collectRequestErrors(err error, out *RequestError) {
	if me, ok := err.(openapi3.MultiError); ok {
		for _, e := range me {
			collectRequestErrors(e, out)
		}
		return
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		var se *openapi3filter.SecurityRequirementsError
		if !errors.As(err, &se) {
			out.Fields = append(out.Fields, bodyField(err))
		}
		return
	}
	switch {
	case re.Parameter != nil:
		var inner openapi3.MultiError
		if errors.As(re.Err, &inner) {
			for _, e := range inner {
				out.Fields = append(out.Fields, parameterField(re.Parameter, e))
			}
			return
		}
		out.Fields = append(out.Fields, parameterField(re.Parameter, re.Err))
	case re.RequestBody != nil:
		if strings.HasPrefix(re.Reason, "header Content-Type has unexpected value") ||
			strings.Contains(re.Reason, "unsupported content type") {
			out.MediaType = true
			return
		}
		var inner openapi3.MultiError
		if errors.As(re.Err, &inner) {
			for _, e := range inner {
				out.Fields = append(out.Fields, bodyField(e))
			}
			return
		}
		out.Fields = append(out.Fields, bodyField(re.Err))
	default:
		out.Fields = append(out.Fields, FieldError{Location: "body", Message: re.Reason})
	}
}

func parameterField(p *openapi3.Parameter, err error) FieldError {
	f := FieldError{Field: p.Name, Location: p.In, Message: "invalid value"}
	var se *openapi3.SchemaError
	var pe *openapi3filter.ParseError
	switch {
	case errors.As(err, &se):
		f.Message = se.Reason
	case errors.As(err, &pe):
		f.Message = "must be " + describeKind(p) + ": " + pe.Reason
	case err != nil:
		f.Message = err.Error()
	}
	return f
}

func describeKind(p *openapi3.Parameter) string {
	if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type != nil {
		return "of type " + strings.Join(p.Schema.Value.Type.Slice(), "|")
	}
	return "well-formed"
}

func bodyField(err error) FieldError {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return FieldError{Field: schemaPointer(se), Location: "body", Message: se.Reason}
	}
	var pe *openapi3filter.ParseError
	if errors.As(err, &pe) {
		return FieldError{Field: "", Location: "body", Message: "body is not valid JSON"}
	}
	msg := "malformed body"
	if err != nil {
		msg = err.Error()
	}
	return FieldError{Location: "body", Message: msg}
}

// schemaPointer is the JSON pointer to the value se is about (the
// property itself for an unsupported property).
func schemaPointer(se *openapi3.SchemaError) string { return compiled.KinPointer(se) }

// Violation is a response that does not conform to the document.
type Violation struct {
	// Operation is the operationId the request resolved to.
	Operation string
	// Status is the response's HTTP status.
	Status int
	// Path is a JSON pointer into the body ("" for the status, headers or the
	// body as a whole).
	Path string
	// Reason says what is wrong.
	Reason string
}

func (v *Violation) Error() string {
	where := v.Path
	if where == "" {
		where = "response"
	}
	return fmt.Sprintf("%s %d: %s: %s", v.Operation, v.Status, where, v.Reason)
}

// ResponseError holds every violation found in one response.
type ResponseError struct {
	Violations []*Violation
}

func (e *ResponseError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Error()
	}
	return "response does not conform to the contract: " + strings.Join(parts, "; ")
}

// Unwrap exposes each violation to errors.As.
func (e *ResponseError) Unwrap() []error {
	errs := make([]error, len(e.Violations))
	for i, v := range e.Violations {
		errs[i] = v
	}
	return errs
}

// ValidateResponse checks a response to r (which resolved to route): the
// status must be documented for the operation, and the content type, headers
// and body must match it. It returns nil or a *ResponseError. A JSON body is
// checked by its compiled schema, everything else by kin-openapi.
func (v *Validator) ValidateResponse(ctx context.Context, r *http.Request, route *Route, status int, header http.Header, body []byte) error {
	op := route.OperationID()
	resp := route.route.Operation.Responses.Status(status)
	if resp == nil {
		return &ResponseError{Violations: []*Violation{{
			Operation: op, Status: status,
			Reason: fmt.Sprintf("status %d is not documented for this operation", status),
		}}}
	}
	cs := v.compiledBody(r, resp, status, header)
	if cs == nil {
		return v.validateResponseKin(ctx, r, route, status, header, body, false)
	}
	if err := v.validateResponseKin(ctx, r, route, status, header, body, true); err != nil {
		return err
	}
	var ce *compiled.Error
	var se *compiled.SyntaxError
	switch err := cs.Validate(body); {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		out := &ResponseError{Violations: make([]*Violation, len(ce.Violations))}
		for i, cv := range ce.Violations {
			out.Violations[i] = &Violation{Operation: op, Status: status, Path: cv.Path, Reason: cv.Reason}
		}
		return out
	case errors.As(err, &se):
		return &ResponseError{Violations: []*Violation{{Operation: op, Status: status, Reason: "failed to decode response body: " + se.Err.Error()}}}
	default:
		return fmt.Errorf("contract: validate response body: %w", err)
	}
}

// compiledBody is the compiled schema of the response's body, or nil when
// kin-openapi validates the body: it does whenever it would not decode the
// body as JSON against a schema (HEAD, redirects, other media types).
func (v *Validator) compiledBody(r *http.Request, resp *openapi3.ResponseRef, status int, header http.Header) *compiled.Schema {
	if r.Method == http.MethodHead || resp.Value == nil {
		return nil
	}
	switch status {
	case http.StatusNotModified, http.StatusPermanentRedirect, http.StatusTemporaryRedirect, http.StatusMovedPermanently:
		return nil
	}
	ct := header.Get("Content-Type")
	base, _, _ := strings.Cut(ct, ";")
	if !strings.EqualFold(strings.TrimSpace(base), "application/json") {
		return nil
	}
	mt := resp.Value.Content.Get(ct)
	if mt == nil {
		return nil
	}
	return v.bodies[mt]
}

// validateResponseKin validates the response with kin-openapi, all of it or
// all but the body (then the status is documented, the content type
// matches and the compiled schema checks the body).
func (v *Validator) validateResponseKin(ctx context.Context, r *http.Request, route *Route, status int, header http.Header, body []byte, headersOnly bool) error {
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: route.pathParams,
			Route:      route.route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			MultiError:              true,
			IncludeResponseStatus:   true,
			ExcludeResponseBody:     headersOnly,
			SchemaValidationOptions: kinFormatOptions,
		},
	}
	err := openapi3filter.ValidateResponse(ctx, input)
	if err == nil {
		return nil
	}
	out := &ResponseError{}
	collectViolations(err, route.OperationID(), status, "", out)
	return out
}

// collectViolations flattens err into out. where is kin-openapi's description
// of the part of the response a schema error is about, kept for everything
// but the body (whose schema errors carry a JSON pointer instead), so that a
// header violation names its header.
func collectViolations(err error, op string, status int, where string, out *ResponseError) {
	add := func(path, reason string) {
		if where != "" {
			reason = where + ": " + reason
		}
		out.Violations = append(out.Violations, &Violation{Operation: op, Status: status, Path: path, Reason: reason})
	}
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			collectViolations(inner, op, status, where, out)
		}
		return
	case *openapi3filter.ResponseError:
		if e.Err == nil {
			add("", e.Reason)
			return
		}
		inner := where
		if !strings.HasPrefix(e.Reason, "response body doesn't match schema") {
			inner = e.Reason
		}
		var se *openapi3.SchemaError
		var me openapi3.MultiError
		if errors.As(e.Err, &me) || errors.As(e.Err, &se) {
			collectViolations(e.Err, op, status, inner, out)
			return
		}
		add("", e.Reason+": "+e.Err.Error())
		return
	case *openapi3.SchemaError:
		// An allOf failure becomes the failures of its parts, which carry
		// the precise pointers (/user/entryId rather than /user).
		for _, kv := range compiled.KinViolations(e) {
			add(kv.Path, kv.Reason)
		}
		return
	}
	var me openapi3.MultiError
	if errors.As(err, &me) {
		collectViolations(me, op, status, where, out)
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		add(schemaPointer(se), se.Reason)
		return
	}
	add("", err.Error())
}
