// Package conformance checks a running server against the User Identities
// contract: a crawler that exercises every operation and validates each
// answer, and a proxy that validates live traffic. Both use the contract
// package, the module's one validator.
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
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/identities-go/identities/contract"
)

// Families are the URL segments of the two identity families, with the
// enums the crawler walks.
var Families = []Family{
	{
		Segment:     "infrastructure",
		ClientTypes: []string{"AWS", "AWS_GOV_CLOUD", "DIGITAL_OCEAN", "GCP", "HEROKU", "AZURE", "AZURE_ORG_UNITS", "MONGO_DB_ATLAS", "CLOUDFLARE", "AWS_ORG_UNITS"},
		Sorts:       []string{"IDENTITY_ID", "USERNAME", "EMAIL", "CONNECTED_AT", "DISCONNECTED_AT", "SERVICE_ACCOUNT", "HAS_MFA", "ADMIN_ACCESS", "DB_ACCESS", "USER", "CLIENT_ID", "CLIENT_ALIAS", "CONNECTION_STATUS"},
		Toggles:     []Toggle{{"INFRASTRUCTURE_ADMIN_ACCESS", "adminAccess"}, {"INFRASTRUCTURE_DB_ACCESS", "dbAccess"}},
	},
	{
		Segment:     "version-control",
		ClientTypes: []string{"BITBUCKET", "GITHUB", "GITHUB_ENTERPRISE", "GITLAB", "GITLAB_ON_PREM", "AZURE_REPOS", "AWS_CODECOMMIT"},
		Sorts:       []string{"IDENTITY_ID", "USERNAME", "EMAIL", "CONNECTED_AT", "DISCONNECTED_AT", "SERVICE_ACCOUNT", "HAS_MFA", "WRITE_ACCESS", "PUSH_PROD_CODE_ACCESS", "USER", "CLIENT_ID", "CONNECTION_STATUS"},
		Toggles:     []Toggle{{"VERSION_CONTROL_WRITE_ACCESS", "writeAccess"}, {"VERSION_CONTROL_PUSH_PROD_CODE_ACCESS", "pushProductionCodeAccess"}},
	},
}

// Family describes one identity family for the crawler.
type Family struct {
	Segment     string
	ClientTypes []string
	Sorts       []string
	Toggles     []Toggle
}

// Toggle pairs a toggleField value with the response field it sets.
type Toggle struct{ Field, Property string }

// Config configures a check run.
type Config struct {
	// BaseURL is the API's base, base path included
	// (https://public-api.drata.com/public).
	BaseURL string
	// Token is the API key; it never appears in the report.
	Token string
	// Validator checks the answers; default: the embedded document served
	// under BaseURL's path.
	Validator *contract.Validator
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// MaxPages bounds how many pages of each list are walked; default 20.
	MaxPages int
	// RatePerMinute bounds the request rate; default 240.
	RatePerMinute int
	// InfrastructureID and VersionControlID, when set, are the identities
	// the write checks change and then restore, even when ctx is
	// cancelled. Access flags already set and service accounts are left
	// alone, their times being impossible to restore; connectedAt,
	// disconnectedAt and updatedAt change. Best are identities without
	// access flags that are not service accounts.
	InfrastructureID, VersionControlID int64
	// Logger receives progress; default discards.
	Logger *slog.Logger
}

// missingID is an id no server should have.
const missingID = 9007199254740991

// checker holds one run's state.
type checker struct {
	cfg     Config
	base    *url.URL
	v       *contract.Validator
	limiter *rate.Limiter
	report  *Report
	log     *slog.Logger
}

// Run crawls both families, probes the documented error paths and, when
// write targets are set, exercises the three PUTs and restores what they
// changed. It returns an error only when the run could not happen at all.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	c, err := newChecker(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { c.report.Duration = time.Since(c.report.Started) }()
	for _, f := range Families {
		if err := c.crawl(ctx, f); err != nil {
			return c.report, err
		}
		if err := c.probe(ctx, f); err != nil {
			return c.report, err
		}
	}
	for i, id := range []int64{c.cfg.InfrastructureID, c.cfg.VersionControlID} {
		if id != 0 {
			if err := c.write(ctx, Families[i], id); err != nil {
				return c.report, err
			}
		}
	}
	return c.report, nil
}

// newChecker fills in cfg's defaults.
func newChecker(cfg Config) (*checker, error) {
	base, err := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("conformance: base URL %q must be absolute", cfg.BaseURL)
	}
	if cfg.Validator == nil {
		if cfg.Validator, err = contract.New(base.Path); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 20
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 240
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &checker{
		cfg: cfg, base: base, v: cfg.Validator, log: cfg.Logger,
		limiter: rate.NewLimiter(rate.Limit(float64(cfg.RatePerMinute)/60), max(1, cfg.RatePerMinute/60)),
		report:  &Report{BaseURL: base.String(), Started: time.Now()},
	}, nil
}

// exchange is one request and its answer.
type exchange struct {
	status int
	header http.Header
	body   []byte
	data   map[string]any // the decoded body when it is a JSON object
}

// do sends one request, validates the answer against the document, adds a
// Check to the report, and returns the answer. want, when non-zero, is the
// status the contract says this request must get.
func (c *checker) do(ctx context.Context, op, name, method, path string, query url.Values, body any, token string, want int) (exchange, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	check := Check{Operation: op, Name: name, Request: method + " " + u.String()}
	start := time.Now()
	ex, err := c.send(ctx, method, u.String(), body, token)
	check.Duration = time.Since(start)
	if ctx.Err() != nil {
		return ex, ctx.Err()
	}
	if err != nil {
		check.Error = err.Error()
		c.report.Checks = append(c.report.Checks, check)
		return ex, nil
	}
	check.Status = ex.status
	if want != 0 && ex.status != want {
		check.Violations = append(check.Violations, Violation{Reason: fmt.Sprintf("expected status %d, got %d", want, ex.status)})
	}
	check.Violations = append(check.Violations, c.validate(ctx, method, u.String(), body, ex)...)
	c.report.Checks = append(c.report.Checks, check)
	c.log.Debug("checked", "operation", op, "name", name, "status", ex.status, "violations", len(check.Violations))
	return ex, nil
}

// send makes one request, waiting out 429s (up to three times).
func (c *checker) send(ctx context.Context, method, u string, body any, token string) (exchange, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = marshalBody(body); err != nil {
			return exchange{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		if err := c.limiter.Wait(ctx); err != nil {
			return exchange{}, err
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(raw))
		if err != nil {
			return exchange{}, err
		}
		if raw != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "identities-check")
		resp, err := c.cfg.HTTPClient.Do(req)
		if err != nil {
			return exchange{}, redact(err, token)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return exchange{}, redact(err, token)
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 3 {
			wait := retryAfter(resp.Header.Get("Retry-After"))
			c.log.Info("rate limited; waiting", "wait", wait)
			select {
			case <-ctx.Done():
				return exchange{}, ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		ex := exchange{status: resp.StatusCode, header: resp.Header, body: b}
		_ = json.Unmarshal(b, &ex.data)
		return ex, nil
	}
}

func marshalBody(body any) ([]byte, error) {
	if s, ok := body.(string); ok {
		return []byte(s), nil
	}
	return json.Marshal(body)
}

// redact keeps the token out of transport errors, which may quote URLs.
func redact(err error, token string) error {
	if token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token, "[token]"))
}

func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return min(time.Duration(s)*time.Second, time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(time.Until(t), 0), time.Minute)
	}
	return time.Second
}

// validate checks one answer against the document.
func (c *checker) validate(ctx context.Context, method, u string, body any, ex exchange) []Violation {
	var raw []byte
	if body != nil {
		raw, _ = marshalBody(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(raw))
	if err != nil {
		return []Violation{{Reason: err.Error()}}
	}
	rt, err := c.v.FindRoute(req)
	if err != nil {
		return []Violation{{Reason: "the document has no operation for this request: " + err.Error()}}
	}
	return toViolations(c.v.ValidateResponse(ctx, req, rt, ex.status, ex.header, ex.body))
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
