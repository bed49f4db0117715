// Package server serves the User Identities API over a store.Identities: the
// generated strict interface implemented by thin handlers, behind rate
// limiting, authentication, policy checks, and request and response
// validation against api/openapi.yaml.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/docsui"
	"github.com/identities-go/identities/metrics"
	"github.com/identities-go/identities/ratelimit"
	"github.com/identities-go/identities/store"
)

// ValidationMode says what happens to responses that break the contract.
type ValidationMode string

// The response validation modes.
const (
	// ValidationStrict replaces a non-conforming response by a logged 500.
	ValidationStrict ValidationMode = "strict"
	// ValidationLog logs a non-conforming response and sends it.
	ValidationLog ValidationMode = "log"
	// ValidationOff does not check responses.
	ValidationOff ValidationMode = "off"
)

// DefaultMaxBodyBytes fits a 30000-character reason of 4-byte characters,
// even with every character escaped in JSON.
const DefaultMaxBodyBytes = 512 << 10

// Config configures a Server. Store is required.
type Config struct {
	Store store.Identities
	// BasePath is where the API is mounted; default "/public".
	BasePath string
	// ResponseValidation defaults to ValidationStrict.
	ResponseValidation ValidationMode
	// RateLimit is requests per minute per client address, metered in this
	// process; 0 disables it.
	RateLimit int
	// RateLimiter, when set, holds the budgets instead (RateLimit is then
	// ignored): ratelimit.Shared shares them between replicas. When it can
	// ping, /readyz reports it.
	RateLimiter ratelimit.Limiter
	// TrustedProxies are peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes caps request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// Metrics, when set, counts requests, rate-limit rejections, responses
	// that break the contract and store calls, and is served at /metrics.
	Metrics *metrics.Metrics
}

// Server is the API's http.Handler. It binds no port.
type Server struct {
	cfg       Config
	log       *slog.Logger
	validator *contract.Validator
	limiter   ratelimit.Limiter // nil: no limit
	// ops serves each of the document's operations, by operationId.
	ops  map[string]*operation
	root http.Handler
}

// operation is what serves one of the document's operations, built once in
// New: the facts of the document the checks need, and the generated
// handler, which binds the parameters and body and calls ours.
type operation struct {
	scope      string   // x-drata-scope: what the key must allow
	pathParams []string // the names of the path parameters
	handle     http.HandlerFunc
}

// handlerTable collects the generated handlers by the patterns they would
// be routed by ("PUT /public/user-identities/infrastructure/{id}/connect").
// The validator routes each request, once; the table only hands the
// handlers over.
type handlerTable map[string]http.HandlerFunc

func (t handlerTable) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	t[pattern] = h
}

// ServeHTTP is never called: requests are routed by the validator.
func (t handlerTable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, errNoRoute)
}

// New builds a Server; the validator (the one router), the handlers of the
// operations and the middleware are built once, here.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("server: a store is required")
	}
	if cfg.BasePath == "" {
		cfg.BasePath = "/public"
	}
	cfg.BasePath = "/" + strings.Trim(cfg.BasePath, "/")
	switch cfg.ResponseValidation {
	case "":
		cfg.ResponseValidation = ValidationStrict
	case ValidationStrict, ValidationLog, ValidationOff:
	default:
		return nil, fmt.Errorf("server: unknown response validation mode %q (strict, log or off)", cfg.ResponseValidation)
	}
	if cfg.RateLimit < 0 {
		return nil, fmt.Errorf("server: negative rate limit %d", cfg.RateLimit)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics != nil {
		cfg.Store = cfg.Metrics.Store(cfg.Store)
	}
	v, err := contract.New(strings.TrimSuffix(cfg.BasePath, "/"))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, validator: v}
	switch {
	case cfg.RateLimiter != nil:
		s.limiter = cfg.RateLimiter
	case cfg.RateLimit > 0:
		s.limiter = ratelimit.NewLocal(cfg.RateLimit)
	}

	strict := gen.NewStrictHandlerWithOptions(&handlers{store: cfg.Store, now: s.now}, nil, gen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  decodeError,
		ResponseErrorHandlerFunc: writeError,
	})
	handlers := handlerTable{}
	gen.HandlerWithOptions(strict, gen.StdHTTPServerOptions{
		BaseURL:    v.BasePath(),
		BaseRouter: handlers,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeError(w, r, badRequest(err.Error(), nil))
		},
	})
	if s.ops, err = operations(v, handlers); err != nil {
		return nil, err
	}

	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", s.healthz)
	root.HandleFunc("GET /readyz", s.readyz)
	root.HandleFunc("GET /openapi.yaml", serveSpec)
	docs := docsui.Handler(docsui.Config{Prefix: "/docs", SpecURL: "/openapi.yaml", APIBase: cfg.BasePath})
	root.Handle("GET /docs", docs)
	root.Handle("GET /docs/", docs) // the page's files
	if cfg.Metrics != nil {
		root.Handle("GET /metrics", cfg.Metrics.Handler())
	}
	root.Handle("/", s.rateLimit(http.HandlerFunc(s.route)))
	s.root = s.observe(cleanPaths(root))
	return s, nil
}

// operations pairs each operation of the document with its generated
// handler; the two must name the same operations.
func operations(v *contract.Validator, handlers handlerTable) (map[string]*operation, error) {
	ops := map[string]*operation{}
	for path, item := range v.Document().Paths.Map() {
		for method, o := range item.Operations() {
			pattern := method + " " + v.BasePath() + path
			h := handlers[pattern]
			if h == nil {
				return nil, fmt.Errorf("server: no generated handler for %s (is gen/ stale?)", pattern)
			}
			op := &operation{handle: h}
			op.scope, _ = o.Extensions["x-drata-scope"].(string)
			for _, params := range []openapi3.Parameters{item.Parameters, o.Parameters} {
				for _, p := range params {
					if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
						op.pathParams = append(op.pathParams, p.Value.Name)
					}
				}
			}
			ops[o.OperationID] = op
		}
	}
	if len(ops) != len(handlers) {
		return nil, fmt.Errorf("server: %d generated handlers for %d operations of the document (is gen/ stale?)", len(handlers), len(ops))
	}
	return ops, nil
}

// decodeError answers a body that passed validation but that the generated
// decoder refused, such as an id written as 1e3: JSON Schema counts it as an
// integer, Go's int64 does not. The decoder's own text stays in the log.
func decodeError(w http.ResponseWriter, r *http.Request, err error) {
	logger(r.Context()).Info("request body not decodable", "err", err)
	field := contract.FieldError{Location: "body", Message: "could not be decoded"}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field.Field = "/" + strings.ReplaceAll(te.Field, ".", "/")
		field.Message = "must be " + te.Type.Kind().String() + ", written without a fraction or exponent"
	}
	writeError(w, r, badRequest("the request body could not be decoded", []contract.FieldError{field}))
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// ServeHTTP serves the API and the operational endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.root.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the store answers, and 503 when it does not. It
// reports a shared rate limiter too, but one that does not answer leaves
// the server ready: each replica then limits its clients on its own.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		logger(r.Context()).Warn("not ready", "err", err)
		writeError(w, r, errNotReady)
		return
	}
	body := map[string]string{"status": "ready", "database": "ok"}
	if p, ok := s.limiter.(interface{ Ping(context.Context) error }); ok {
		body["rateLimiter"] = "ok"
		if err := p.Ping(r.Context()); err != nil {
			body["rateLimiter"] = "unavailable: limiting in this process"
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func serveSpec(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(api.Spec)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
