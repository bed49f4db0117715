package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
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
)

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
			log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"bytes", sw.bytes, "duration", time.Since(start), "remote", addr.String())
		}()
		next.ServeHTTP(sw, r)
	})
}

// rateLimit answers 429 once the client's bucket is empty. Buckets refill by
// the server's clock, Config.Now.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _ := r.Context().Value(keyAddr).(netip.Addr)
		v := s.limiter.take(addr, s.cfg.Now())
		v.headers(w.Header(), s.limiter.perMinute)
		if !v.allowed {
			writeError(w, r, errRateLimited)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// route matches the request to an operation: 404 and 405 (with Allow) for
// what the document does not serve, 204 with Allow for OPTIONS, and HEAD
// served as GET without a body. The operation then runs through
// authentication, policy and validation, and its response is validated.
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
	s.checkResponse(rt, s.authorize(rt, s.validateRequest(rt, s.api))).ServeHTTP(w, r)
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
// (402), scope and address (403), in that order.
func (s *Server) authorize(rt *contract.Route, next http.Handler) http.Handler {
	need := rt.Extension("x-drata-scope")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := apikey.ParseBearer(r.Header.Get("Authorization"))
		if key == "" {
			writeError(w, r, errUnauthorized)
			return
		}
		p, err := s.cfg.Store.Authenticate(r.Context(), apikey.Digest(key), s.now())
		if errors.Is(err, store.ErrKeyNotFound) {
			writeError(w, r, errUnauthorized)
			return
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		addr, _ := r.Context().Value(keyAddr).(netip.Addr)
		switch {
		case p.User.TermsAgreedAt == nil:
			writeError(w, r, errTerms)
		case !p.Company.PlanIncludesAPI:
			writeError(w, r, errPlan)
		case need == "" || !apikey.Allows(p.Scopes, need):
			writeError(w, r, errScope)
		case !apikey.AllowsAddr(p.AllowedNets, addr):
			writeError(w, r, errAddress)
		default:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyPrincipal, &p)))
		}
	})
}

// validateRequest reads the body under the size cap (413) and checks the
// request against the document (415, 400 naming each offending field). Bodies sent to operations that take none
// are not read.
func (s *Server) validateRequest(rt *contract.Route, next http.Handler) http.Handler {
	takesBody := rt.HasRequestBody()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if takesBody && r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				writeError(w, r, errTooLarge)
				return
			}
			if err != nil {
				writeError(w, r, badRequest("could not read the request body", nil))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		err := s.validator.ValidateRequest(r.Context(), r, rt)
		var re *contract.RequestError
		switch {
		case errors.As(err, &re) && re.MediaType:
			writeError(w, r, errMediaType)
		case errors.As(err, &re):
			writeError(w, r, badRequest(re.Error(), re.Fields))
		case err != nil:
			writeError(w, r, err)
		default:
			next.ServeHTTP(w, r)
		}
	})
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

// checkResponse validates each response against the document. In strict
// mode a non-conforming response is logged and replaced by a 500; in log
// mode it is logged and sent; off skips the check.
func (s *Server) checkResponse(rt *contract.Route, next http.Handler) http.Handler {
	if s.cfg.ResponseValidation == ValidationOff {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{header: w.Header()}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		err := s.validator.ValidateResponse(r.Context(), r, rt, rec.status, rec.header, rec.body.Bytes())
		if err != nil {
			logger(r.Context()).Error("response does not conform to the contract", "operation", rt.OperationID(), "status", rec.status, "err", err)
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
	})
}
