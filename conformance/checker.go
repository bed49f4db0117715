// Package conformance checks a running server against the User Identities
// contract: a checker that exercises every operation and checks both the
// shape of each answer and the behaviour the document describes (paging,
// sorting, filtering, writes, authentication, tenancy, input validation),
// and a proxy that validates live traffic. Both use the contract package,
// the module's one validator, and take every operation, parameter, enum
// member and bound from the document in use.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	embedded "github.com/identities-go/identities/api"
	"github.com/identities-go/identities/contract"
)

// Config configures a check run. BaseURL and Token are required.
type Config struct {
	// BaseURL is the API's base, base path included
	// (https://public-api.drata.com/public).
	BaseURL string
	// Token is the API key; ReadToken, when set, a key of the same company
	// without write scopes; OtherToken, when set, a key of another company.
	// Keys never appear in the report.
	Token, ReadToken, OtherToken string
	// TokenEnv names the variables the report's curl lines read the three
	// keys from; default DRATA_API_TOKEN, DRATA_READ_API_TOKEN and
	// DRATA_OTHER_API_TOKEN.
	TokenEnv [3]string
	// Spec is the OpenAPI document to check against; default the embedded
	// one. SpecName says where it came from, for the report.
	Spec     []byte
	SpecName string
	// HTTPClient defaults to a client whose connections time out after
	// 2.5 s and whose requests time out after Timeout (default 30 s).
	HTTPClient *http.Client
	Timeout    time.Duration
	// MaxPages bounds the pages of one walk of a list; default 20.
	MaxPages int
	// RatePerMinute caps the request rate; 0 follows only the server's
	// X-RateLimit-* and Retry-After headers.
	RatePerMinute int
	// Seed drives the generated inputs: the same seed sends the same
	// requests to the same server.
	Seed uint64
	// Budget is how many generated requests to send; 0 means
	// DefaultBudget, a negative number none.
	Budget int
	// Targets, when set, turn the write checks on: for each family (the
	// last segment of its list path, "infrastructure"), the identity to
	// change and restore, even when ctx is cancelled.
	Targets map[string]int64
	// Only, when set, runs only the checks whose names it lists, or whose
	// names start with one of its entries and a dot ("paging").
	Only []string
	// Logger receives progress; default discards.
	Logger *slog.Logger

	clock clock // tests replace the pacer's clock
}

// DefaultBudget is the number of generated requests of a run.
const DefaultBudget = 100

// The errors of a run that could not check anything. Run wraps them with
// what happened, in one line.
var (
	// ErrUnreachable: no answer at the base URL (or no more answers).
	ErrUnreachable = errors.New("the server could not be reached")
	// ErrTokenRejected: the first request was answered 401.
	ErrTokenRejected = errors.New("the token was rejected")
	// ErrNoAPI: nothing under the base URL answers like this API.
	ErrNoAPI = errors.New("no API under the base URL")
	// ErrRefused: the API answered, but lets this key check nothing.
	ErrRefused = errors.New("the server refused the check")
	// ErrConfig: the Config cannot be run (a relative base URL, a write
	// target of a family the document does not have).
	ErrConfig = errors.New("conformance: invalid configuration")
)

// checker holds one run's state.
type checker struct {
	cfg    Config
	base   string
	api    *api
	http   *http.Client
	pace   *pacer
	log    *slog.Logger
	report *Report
	res    map[string]*Result
	fams   []*famState
	// seen maps every identity id a main-key answer showed to the request
	// that first showed it, for the tenant checks.
	seen map[int64]request
	// reduceLeft bounds the requests spent making failing requests smaller.
	reduceLeft int
}

// famState is a family and what the run learnt of it.
type famState struct {
	*family
	ok    bool // the main key may list it
	total int
	base  *walk // the list in its default order, walked first
}

// Run checks the server at cfg.BaseURL. It returns the report of what it
// did, and an error (wrapping ErrUnreachable, ErrTokenRejected, ErrNoAPI
// or ErrRefused, or the context's) when the run stopped early.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	c, err := newChecker(cfg)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	defer func() { c.report.Duration = time.Since(started) }()
	if err := c.preflight(ctx); err != nil {
		return c.report, err
	}
	for _, phase := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"paging", c.pagingChecks},
		{"sorting", c.sortChecks},
		{"filters", c.filterChecks},
		{"authentication", c.authChecks},
		{"methods and ids", c.methodChecks},
		{"generated inputs", c.inputChecks},
		{"tenancy", c.tenantChecks},
		{"writes", c.writeChecks},
	} {
		c.log.Info("checking " + phase.name)
		if err := phase.run(ctx); err != nil {
			c.finish()
			return c.report, err
		}
	}
	c.finish()
	return c.report, nil
}

func newChecker(cfg Config) (*checker, error) {
	u, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("%w: base URL %q must be absolute", ErrConfig, cfg.BaseURL)
	}
	if cfg.Token == "" {
		return nil, fmt.Errorf("%w: no API key", ErrConfig)
	}
	spec, specName := cfg.Spec, cfg.SpecName
	if spec == nil {
		spec, specName = embedded.Spec, "embedded"
	}
	model, err := loadAPI(spec, u.Path)
	if err != nil {
		return nil, err
	}
	for name := range cfg.Targets {
		if model.family(name) == nil {
			return nil, fmt.Errorf("%w: the document has no list of %q to write to", ErrConfig, name)
		}
	}
	for i, def := range [3]string{"DRATA_API_TOKEN", "DRATA_READ_API_TOKEN", "DRATA_OTHER_API_TOKEN"} {
		if cfg.TokenEnv[i] == "" {
			cfg.TokenEnv[i] = def
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 2500 * time.Millisecond, KeepAlive: 30 * time.Second}).DialContext
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout, Transport: tr}
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 20
	}
	if cfg.Budget == 0 {
		cfg.Budget = DefaultBudget
	}
	cfg.Budget = max(cfg.Budget, 0)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.clock == nil {
		cfg.clock = realClock{}
	}
	mode := "read-only"
	if len(cfg.Targets) > 0 {
		mode = "write"
	}
	c := &checker{
		cfg: cfg, base: u.String(), api: model, http: cfg.HTTPClient, log: cfg.Logger,
		pace: newPacer(cfg.clock, cfg.RatePerMinute), res: map[string]*Result{},
		seen: map[int64]request{}, reduceLeft: 60,
		report: &Report{BaseURL: u.String(), Document: strings.TrimSpace(model.title + " " + model.version), Spec: specName,
			Mode: mode, Seed: cfg.Seed, Budget: cfg.Budget, Started: time.Now().UTC()},
	}
	catalogue := c.catalogue()
	for _, o := range cfg.Only {
		if !slices.ContainsFunc(catalogue, func(d checkDef) bool { return d.name == o || strings.HasPrefix(d.name, o+".") }) {
			return nil, fmt.Errorf("%w: no check %q", ErrConfig, o)
		}
	}
	for _, d := range catalogue {
		if c.on(d.name) {
			r := &Result{Name: d.name, Rule: d.rule}
			c.res[d.name] = r
			c.report.Checks = append(c.report.Checks, r)
		}
	}
	for _, f := range model.families {
		c.fams = append(c.fams, &famState{family: f})
	}
	return c, nil
}

// on reports whether the named check runs.
func (c *checker) on(name string) bool {
	if len(c.cfg.Only) == 0 {
		return true
	}
	for _, o := range c.cfg.Only {
		if o == name || strings.HasPrefix(name, o+".") {
			return true
		}
	}
	return false
}

// anyOn reports whether one of the named checks runs.
func (c *checker) anyOn(names ...string) bool { return slices.ContainsFunc(names, c.on) }

func (c *checker) pass(name string) {
	if r := c.res[name]; r != nil {
		r.Passed++
	}
}

// fail records a failed case; a finding equal to one already recorded
// (same key, or same message and curl) counts as it again.
func (c *checker) fail(name string, f Finding) {
	if r := c.res[name]; r != nil {
		r.Failed++
		c.addFinding(r, f)
	}
}

// addFinding adds f to r's findings, or counts an equal one again.
func (c *checker) addFinding(r *Result, f Finding) {
	if f.key == "" {
		f.key = f.Message + "\x00" + f.Curl
	}
	for i := range r.Findings {
		if r.Findings[i].key == f.key {
			r.Findings[i].Count++
			return
		}
	}
	f.Count = 1
	r.Findings = append(r.Findings, f)
	c.log.Debug("finding", "check", r.Name, "subject", f.Subject, "message", f.Message)
}

func (c *checker) skip(name, subject, reason string) {
	if r := c.res[name]; r != nil {
		r.Skipped++
		r.Skips = append(r.Skips, Skip{Subject: subject, Reason: reason})
	}
}

func (c *checker) note(name, text string) {
	if r := c.res[name]; r != nil {
		r.Notes = append(r.Notes, text)
	}
}

// finding describes a failure shown by ex.
func (c *checker) finding(subject, message string, ex *exchange) Finding {
	f := Finding{Subject: subject, Message: message}
	if ex != nil {
		f.Operation, f.Status = ex.op, ex.status
		f.Request = ex.req.target(c.base)
		f.Curl = ex.req.curl(c.base, c.cfg.TokenEnv)
	}
	return f
}

// finish marks the checks that tried nothing.
func (c *checker) finish() {
	for _, r := range c.report.Checks {
		if r.Passed+r.Failed+r.Skipped == 0 {
			r.Skipped++
			r.Skips = append(r.Skips, Skip{Subject: "all", Reason: "nothing to try against this server"})
		}
	}
}

// exchange is one request and its answer.
type exchange struct {
	req    request
	status int
	header http.Header
	body   []byte
	data   any    // the decoded JSON body, nil when it is not JSON
	op     string // the operation it resolved to, "" when none
}

// object is the body as a JSON object, or nil.
func (e *exchange) object() map[string]any {
	m, _ := e.data.(map[string]any)
	return m
}

// items are the objects of a list answer's data.
func (e *exchange) items() []map[string]any {
	raw, _ := e.object()["data"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// num is an integer member of the body.
func (e *exchange) num(key string) (int64, bool) {
	f, ok := e.object()[key].(float64)
	return int64(f), ok
}

// code is the error code of an error body.
func (e *exchange) code() string {
	s, _ := e.object()["code"].(string)
	return s
}

// isJSON reports whether the answer says it is JSON and is.
func (e *exchange) isJSON() bool {
	ct := strings.ToLower(e.header.Get("Content-Type"))
	return strings.HasPrefix(ct, "application/json") && e.data != nil
}

// brief is the status and error code, for messages.
func (e *exchange) brief() string {
	if code := e.code(); code != "" {
		return fmt.Sprintf("%d %s", e.status, code)
	}
	return fmt.Sprint(e.status)
}

// do sends r, validates the answer against the document and returns it.
// A transport error is tried once more; a second one stops the run.
func (c *checker) do(ctx context.Context, r request) (*exchange, error) {
	ex, err := c.send(ctx, r)
	if err != nil && ctx.Err() == nil {
		c.log.Warn("no answer; trying once more", "request", r.target(c.base), "err", err)
		if serr := c.cfg.clock.Sleep(ctx, time.Second); serr != nil {
			return nil, serr
		}
		ex, err = c.send(ctx, r)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, r.target(c.base), err)
	}
	c.validate(ctx, ex)
	if r.auth == mainAuth && ex.status == http.StatusOK {
		for _, it := range ex.items() {
			c.see(it, r)
		}
		if it := ex.object(); it != nil && it["id"] != nil && r.method != http.MethodGet {
			c.see(it, r)
		}
	}
	return ex, nil
}

func (c *checker) see(it map[string]any, r request) {
	if id, ok := idOf(it); ok {
		if _, known := c.seen[id]; !known {
			c.seen[id] = r
		}
	}
}

// send makes one request, waiting as the server asks and sending it
// again after a 429.
func (c *checker) send(ctx context.Context, r request) (*exchange, error) {
	for attempt := 0; ; attempt++ {
		if err := c.pace.wait(ctx); err != nil {
			return nil, err
		}
		var body io.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		}
		hr, err := http.NewRequestWithContext(ctx, r.method, r.url(c.base), body)
		if err != nil {
			return nil, err
		}
		if r.body != nil {
			ct := r.contentType
			if ct == "" {
				ct = "application/json"
			}
			hr.Header.Set("Content-Type", ct)
		}
		if v := c.authValue(r.auth); v != "" {
			hr.Header.Set("Authorization", v)
		}
		hr.Header.Set("Accept", "application/json")
		hr.Header.Set("User-Agent", "identities-check")
		c.report.Requests++
		resp, err := c.http.Do(hr)
		if err != nil {
			return nil, c.redact(err)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return nil, c.redact(err)
		}
		if wait, again := c.pace.observe(resp.Header, resp.StatusCode, attempt); again {
			c.log.Info("rate limited; waiting", "wait", wait)
			continue
		}
		ex := &exchange{req: r, status: resp.StatusCode, header: resp.Header, body: b}
		if json.Valid(b) {
			_ = json.Unmarshal(b, &ex.data)
		}
		return ex, nil
	}
}

// authValue is the Authorization header a request carries.
func (c *checker) authValue(a auth) string {
	switch {
	case a.scheme == "":
		return ""
	case a.key == keyLiteral:
		return a.scheme + " " + a.value
	}
	tokens := [3]string{c.cfg.Token, c.cfg.ReadToken, c.cfg.OtherToken}
	return a.scheme + " " + tokens[a.key] + a.value
}

// redact keeps the keys out of transport errors, which may quote URLs.
func (c *checker) redact(err error) error {
	msg := err.Error()
	for _, t := range []string{c.cfg.Token, c.cfg.ReadToken, c.cfg.OtherToken} {
		if t != "" {
			msg = strings.ReplaceAll(msg, t, "[key]")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// validate checks an answer against the document (contract.response).
// Requests the document has no operation for are left to the check that
// sent them. Equal violations are one finding, counted.
func (c *checker) validate(ctx context.Context, ex *exchange) {
	hr, err := http.NewRequestWithContext(ctx, ex.req.method, ex.req.url(c.base), bytes.NewReader(ex.req.body))
	if err != nil {
		return
	}
	if ex.req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	rt, err := c.api.v.FindRoute(hr)
	if err != nil {
		return
	}
	ex.op = rt.OperationID()
	vs := toViolations(c.api.v.ValidateResponse(ctx, hr, rt, ex.status, ex.header, ex.body))
	if len(vs) == 0 {
		c.pass(checkContract)
		return
	}
	r := c.res[checkContract]
	if r == nil {
		return
	}
	r.Failed++ // one failed case per answer, however many violations
	for _, v := range vs {
		where := v.Path
		if where == "" {
			where = "(response)"
		}
		f := c.finding(fmt.Sprintf("%s %d", ex.op, ex.status), where+": "+v.Reason, ex)
		f.key = fmt.Sprintf("%s %d %s %s", ex.op, ex.status, v.Path, v.Reason)
		c.addFinding(r, f)
	}
}

// Violation is one way a response broke the contract.
type Violation struct {
	// Path is a JSON pointer into the body, or "" for the status, the
	// headers or the body as a whole.
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// toViolations flattens a contract error.
func toViolations(err error) []Violation {
	if err == nil {
		return nil
	}
	var re *contract.ResponseError
	if !errors.As(err, &re) {
		return []Violation{{Reason: err.Error()}}
	}
	out := make([]Violation, len(re.Violations))
	for i, v := range re.Violations {
		out[i] = Violation{Path: v.Path, Reason: v.Reason}
	}
	return out
}

// idOf is an identity's id.
func idOf(it map[string]any) (int64, bool) {
	f, ok := it["id"].(float64)
	return int64(f), ok
}
