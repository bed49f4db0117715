package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/identities-go/identities/apikey"
	"github.com/identities-go/identities/contract"
	"github.com/identities-go/identities/store"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyPrincipal
	keyAddr
	keyInfo
)

// requestInfo is what the middleware learns of a request on its way in and
// reports on its way out.
type requestInfo struct {
	operation string // the operationId, once routed
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// errNoPrincipal is a handler reached without an authenticated caller: a
// wiring defect, answered with the logged 500 rather than with a company
// that owns nothing.
var errNoPrincipal = errors.New("server: no authenticated principal in the request context")

// principalFrom returns the authenticated principal. Handlers only run after
// authentication; should one run without it, principalFrom fails closed with
// errNoPrincipal instead of acting as company 0.
func principalFrom(ctx context.Context) (*store.Principal, error) {
	p, _ := ctx.Value(keyPrincipal).(*store.Principal)
	if p == nil || p.Company.ID == 0 {
		return nil, errNoPrincipal
	}
	return p, nil
}

// validRequestID accepts caller-chosen ids that are safe to log and echo.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers the status and size of what was written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe gives each request an id (the caller's X-Request-Id when it is
// sane), a logger carrying it, an access log line, and turns panics into
// the JSON 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		addr := clientAddr(r, s.cfg.TrustedProxies)
		log := s.log.With("request_id", id)
		ctx := context.WithValue(r.Context(), keyRequestID, id)
		ctx = context.WithValue(ctx, keyLogger, log)
		ctx = context.WithValue(ctx, keyAddr, addr)
		info := &requestInfo{}
		ctx = context.WithValue(ctx, keyInfo, info)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic", "panic", p, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeError(sw, r, errInternal)
				}
			}
			took := time.Since(start)
			log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"bytes", sw.bytes, "duration", took, "remote", addr.String())
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.Request(info.operation, sw.status, took)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// rateLimit answers 429 once the client's budget is spent. A Local budget
// refills by the server's clock, Config.Now; a shared one by Redis's.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _ := r.Context().Value(keyAddr).(netip.Addr)
		v := s.limiter.Take(r.Context(), clientKey(addr), s.cfg.Now())
		rateLimitHeaders(w.Header(), v)
		if !v.Allowed {
			if s.cfg.Metrics != nil {
				s.cfg.Metrics.RateLimited()
			}
			writeError(w, r, errRateLimited)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// route matches the request to an operation, once: 404 and 405 (with
// Allow) for what the document does not serve, 204 with Allow for OPTIONS,
// and HEAD served as GET without a body. The operation then runs.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	match := r
	if r.Method == http.MethodHead {
		match = r.Clone(r.Context())
		match.Method = http.MethodGet
	}
	rt, err := s.validator.FindRoute(match)
	var me *contract.MethodError
	switch {
	case errors.As(err, &me):
		w.Header().Set("Allow", allow(me.Allowed))
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, r, errMethod)
		return
	case err != nil:
		writeError(w, r, errNoRoute)
		return
	}
	if info, ok := r.Context().Value(keyInfo).(*requestInfo); ok {
		info.operation = rt.OperationID()
	}
	s.serve(w, r, rt, s.bind(r, rt))
}

// bind returns the operation rt resolves to, with rt's path parameters set
// on r, where its generated handler reads them.
func (s *Server) bind(r *http.Request, rt *contract.Route) *operation {
	op := s.ops[rt.OperationID()]
	for _, name := range op.pathParams {
		r.SetPathValue(name, rt.PathParam(name))
	}
	return op
}

// serve runs one operation: authentication and policy, request validation,
// the handler, and the validation of its response.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt *contract.Route, op *operation) {
	p, err := s.authorize(r, op.scope)
	if err != nil {
		writeError(w, r, err)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), keyPrincipal, p))
	if err := s.validateRequest(w, r, rt); err != nil {
		writeError(w, r, err)
		return
	}
	if s.cfg.ResponseValidation == ValidationOff {
		op.handle(w, r)
		return
	}
	rec := recorders.Get().(*recorder)
	rec.header = w.Header()
	defer rec.release()
	op.handle(rec, r)
	s.checkResponse(w, r, rt, rec)
}

// recorders keeps recorders, with their buffers grown to the responses
// they held, for later responses.
var recorders = sync.Pool{New: func() any { return new(recorder) }}

// maxKeptBody is the largest buffer a recorder keeps for the next
// response: a page of identities fits, an outsized one is let go.
const maxKeptBody = 1 << 20

// release empties r and gives it back to recorders.
func (r *recorder) release() {
	if r.body.Cap() > maxKeptBody {
		return
	}
	r.header, r.status = nil, 0
	r.body.Reset()
	recorders.Put(r)
}

// allow lists the methods a path answers: the document's, HEAD wherever
// GET is served, and OPTIONS.
func allow(methods []string) string {
	out := slices.Clone(methods)
	if slices.Contains(out, http.MethodGet) {
		out = append(out, http.MethodHead)
	}
	return strings.Join(append(out, http.MethodOptions), ", ")
}

// cleanPaths answers paths that are not in canonical form (//, /./, a
// trailing slash) with the JSON 404, where the mux would redirect with HTML.
func cleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "" || path.Clean(p) != p {
			writeError(w, r, errNoRoute)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// authorize authenticates the key (401), then checks terms (412), plan
// (402), scope and address (403), in that order, and returns the key's
// principal.
func (s *Server) authorize(r *http.Request, scope string) (*store.Principal, error) {
	key := apikey.ParseBearer(r.Header.Get("Authorization"))
	if key == "" {
		return nil, errUnauthorized
	}
	p, err := s.cfg.Store.Authenticate(r.Context(), apikey.Digest(key), s.now())
	if errors.Is(err, store.ErrKeyNotFound) {
		return nil, errUnauthorized
	}
	if err != nil {
		return nil, err
	}
	addr, _ := r.Context().Value(keyAddr).(netip.Addr)
	switch {
	case p.User.TermsAgreedAt == nil:
		return nil, errTerms
	case !p.Company.PlanIncludesAPI:
		return nil, errPlan
	case scope == "" || !apikey.Allows(p.Scopes, scope):
		return nil, errScope
	case !apikey.AllowsAddr(p.AllowedNets, addr):
		return nil, errAddress
	}
	return &p, nil
}

// validateRequest checks the request against the document: 415, or 400
// naming each offending field. The validator reads the body, once and only
// for operations that take one, under the size cap (413), and puts it back
// for the handler.
func (s *Server) validateRequest(w http.ResponseWriter, r *http.Request, rt *contract.Route) error {
	if rt.HasRequestBody() && r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
	}
	err := s.validator.ValidateRequest(r.Context(), r, rt)
	var tooLarge *http.MaxBytesError
	var re *contract.RequestError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return errTooLarge
	case errors.As(err, &re) && re.MediaType:
		return errMediaType
	case errors.As(err, &re):
		return badRequest(re.Error(), re.Fields)
	default:
		logger(r.Context()).Info("request body not readable", "err", err)
		return badRequest("could not read the request body", nil)
	}
}

// recorder holds a response until it has been validated.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// checkResponse validates a response held by rec against the document and
// sends it. In strict mode a non-conforming response is logged and replaced
// by a 500; in log mode it is logged and sent.
func (s *Server) checkResponse(w http.ResponseWriter, r *http.Request, rt *contract.Route, rec *recorder) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	err := s.validator.ValidateResponse(r.Context(), r, rt, rec.status, rec.header, rec.body.Bytes())
	if err != nil {
		logger(r.Context()).Error("response does not conform to the contract", "operation", rt.OperationID(), "status", rec.status, "err", err)
		if s.cfg.Metrics != nil {
			s.cfg.Metrics.Violation(rt.OperationID())
		}
		if s.cfg.ResponseValidation == ValidationStrict {
			for _, h := range []string{"Content-Length", "WWW-Authenticate", "Retry-After"} {
				w.Header().Del(h)
			}
			writeError(w, r, errInternal)
			return
		}
	}
	w.WriteHeader(rec.status)
	_, _ = rec.body.WriteTo(w)
}
