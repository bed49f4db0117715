package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/identities-go/identities/contract"
)

// ProxyConfig configures a validating proxy.
type ProxyConfig struct {
	// Upstream is the API's base URL, base path included; requests to the
	// proxy's /x are forwarded to Upstream/x.
	Upstream string
	// Validator defaults to the embedded document served under Upstream's path.
	Validator *contract.Validator
	// MaxCapture bounds how much of one response body is kept for
	// validation; larger bodies are forwarded whole but not validated.
	// Default 16 MiB.
	MaxCapture int64
	// MaxRequestCapture bounds how much of one request body is read before
	// the request is forwarded; larger bodies are forwarded whole but not
	// validated. Default 1 MiB (the API refuses bodies over 512 KiB).
	MaxRequestCapture int64
	// Transport defaults to http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives each violation; default slog.Default().
	Logger *slog.Logger
}

// Record is one violation the proxy saw.
type Record struct {
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"` // "request" or "response"
	Operation string    `json:"operation"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Status    int       `json:"status,omitempty"`
	Pointer   string    `json:"pointer"`
	Reason    string    `json:"reason"`
}

// Summary is what the proxy saw, for its report.
type Summary struct {
	Upstream    string         `json:"upstream"`
	Exchanges   int            `json:"exchanges"`
	Violations  []Record       `json:"violations"`
	ByOperation map[string]int `json:"violationsByOperation"`
	Unchecked   int            `json:"unchecked"` // bodies not validated: too large, or not read whole
}

// Proxy forwards traffic unchanged to the upstream and validates each
// request/response pair against the document, recording what breaks it.
type Proxy struct {
	cfg      ProxyConfig
	upstream *url.URL
	v        *contract.Validator
	rp       *httputil.ReverseProxy
	log      *slog.Logger

	mu      sync.Mutex
	summary Summary
}

type captureKey struct{}

// captured is the request body as sent, kept for validation.
type captured struct {
	body []byte
	// complete is false when body is only the head of what was sent: the
	// body was larger than MaxRequestCapture, or reading it failed.
	complete bool
}

// forwardingHeaders are the headers httputil.ReverseProxy drops before
// calling Rewrite. The proxy is transparent: it passes the client's on
// unchanged and adds no hop of its own.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

// NewProxy builds a Proxy.
func NewProxy(cfg ProxyConfig) (*Proxy, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.Upstream, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("conformance: upstream %q must be an absolute URL", cfg.Upstream)
	}
	if cfg.Validator == nil {
		if cfg.Validator, err = contract.New(u.Path); err != nil {
			return nil, err
		}
	}
	if cfg.MaxCapture <= 0 {
		cfg.MaxCapture = 16 << 20
	}
	if cfg.MaxRequestCapture <= 0 {
		cfg.MaxRequestCapture = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Proxy{cfg: cfg, upstream: u, v: cfg.Validator, log: cfg.Logger,
		summary: Summary{Upstream: u.String(), ByOperation: map[string]int{}, Violations: []Record{}}}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		ModifyResponse: p.modifyResponse,
		Transport:      cfg.Transport,
		FlushInterval:  -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Warn("upstream unreachable", "err", err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	return p, nil
}

// ServeHTTP forwards r.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.summary.Exchanges++
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r)
}

// rewrite points the request at the upstream, keeping the client's
// forwarding headers, the inbound body byte for byte and a copy of its head
// for validation.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(p.upstream)
	pr.Out.Host = p.upstream.Host
	hop := map[string]bool{} // named by Connection, so ReverseProxy dropped them anyway
	for _, v := range pr.In.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			hop[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	for _, h := range forwardingHeaders {
		if v := pr.In.Header.Values(h); len(v) > 0 && !hop[h] {
			pr.Out.Header[h] = append([]string(nil), v...)
		}
	}
	c := &captured{complete: true}
	if pr.In.Body != nil && pr.In.Body != http.NoBody {
		// Whatever happens reading the head, the upstream gets the head
		// and then the rest, as the client sent them.
		head, err := io.ReadAll(io.LimitReader(pr.In.Body, p.cfg.MaxRequestCapture+1))
		c.body = head
		c.complete = err == nil && int64(len(head)) <= p.cfg.MaxRequestCapture
		pr.Out.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), pr.In.Body), pr.In.Body}
	}
	pr.Out = pr.Out.WithContext(context.WithValue(pr.Out.Context(), captureKey{}, c))
}

// modifyResponse validates the request now and the response once its body
// has streamed through to the client.
func (p *Proxy) modifyResponse(resp *http.Response) error {
	req := resp.Request
	c, _ := req.Context().Value(captureKey{}).(*captured)
	if c == nil {
		c = &captured{complete: true}
	}
	vreq := req.Clone(context.WithoutCancel(req.Context()))
	vreq.Body = io.NopCloser(bytes.NewReader(c.body))
	route, err := p.v.FindRoute(vreq)
	if err != nil {
		p.record(Record{Direction: "request", Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Reason: "no operation of the document serves this request: " + err.Error()})
		return nil
	}
	if !c.complete {
		p.unchecked()
	} else {
		var re *contract.RequestError
		if err := p.v.ValidateRequest(vreq.Context(), vreq, route); errors.As(err, &re) {
			for _, f := range re.Fields {
				p.record(Record{Direction: "request", Operation: route.OperationID(), Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Pointer: f.Location + ":" + f.Field, Reason: f.Message})
			}
			if re.MediaType {
				p.record(Record{Direction: "request", Operation: route.OperationID(), Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Reason: "request body is not application/json"})
			}
		}
	}
	vreq.Body = io.NopCloser(bytes.NewReader(c.body))
	resp.Body = &teeBody{src: resp.Body, max: p.cfg.MaxCapture, done: func(body []byte, complete bool) {
		if !complete {
			p.unchecked()
			return
		}
		err := p.v.ValidateResponse(vreq.Context(), vreq, route, resp.StatusCode, resp.Header, body)
		for _, v := range toViolations(err) {
			p.record(Record{Direction: "response", Operation: route.OperationID(), Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, Pointer: v.Path, Reason: v.Reason})
		}
	}}
	return nil
}

// unchecked counts a body not validated.
func (p *Proxy) unchecked() {
	p.mu.Lock()
	p.summary.Unchecked++
	p.mu.Unlock()
}

func (p *Proxy) record(r Record) {
	r.Time = time.Now().UTC()
	p.log.Warn("contract violation", "direction", r.Direction, "operation", r.Operation, "method", r.Method, "path", r.Path, "status", r.Status, "pointer", r.Pointer, "reason", r.Reason)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.summary.Violations = append(p.summary.Violations, r)
	p.summary.ByOperation[r.Operation]++
}

// Summary returns a copy of what the proxy has seen so far.
func (p *Proxy) Summary() Summary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.summary
	s.Violations = append(make([]Record, 0, len(p.summary.Violations)), p.summary.Violations...)
	s.ByOperation = make(map[string]int, len(p.summary.ByOperation))
	for k, v := range p.summary.ByOperation {
		s.ByOperation[k] = v
	}
	sort.SliceStable(s.Violations, func(i, j int) bool { return s.Violations[i].Time.Before(s.Violations[j].Time) })
	return s
}

// WriteJSON writes the summary as JSON.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// teeBody passes a body through while keeping up to max bytes of it, and
// calls done once, when the body has been read to its end or closed.
type teeBody struct {
	src      io.ReadCloser
	max      int64
	buf      bytes.Buffer
	overflow bool
	eof      bool
	once     sync.Once
	done     func(body []byte, complete bool)
}

func (t *teeBody) Read(b []byte) (int, error) {
	n, err := t.src.Read(b)
	if n > 0 && !t.overflow {
		if int64(t.buf.Len()+n) > t.max {
			t.overflow = true
			t.buf = bytes.Buffer{}
		} else {
			t.buf.Write(b[:n])
		}
	}
	if errors.Is(err, io.EOF) {
		t.eof = true
		t.finish()
	}
	return n, err
}

func (t *teeBody) Close() error {
	err := t.src.Close()
	t.finish()
	return err
}

func (t *teeBody) finish() {
	t.once.Do(func() { t.done(t.buf.Bytes(), t.eof && !t.overflow) })
}
