package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/identities-go/identities/gen"
	"github.com/identities-go/identities/internal/wait"
)

// maxBody is the most of a successful response body the client reads; a
// larger body is an error rather than a memory hazard.
const maxBody = 32 << 20

// Client talks to the User Identities API. Build it with New; it is safe for
// concurrent use.
type Client struct {
	// Infrastructure covers the identities of cloud infrastructure connections.
	Infrastructure *InfrastructureService
	// VersionControl covers the identities of source code host connections.
	VersionControl *VersionControlService

	gen       *gen.Client
	baseURL   *url.URL
	token     redactor
	userAgent string
	timeout   time.Duration
	retry     RetryPolicy
	limiter   *rate.Limiter   // nil: no client-side limit
	checker   ResponseChecker // nil: no response checking
	logger    *slog.Logger
}

// New builds a Client. Without options it talks to DefaultBaseURL,
// unauthenticated, with DefaultTimeout, DefaultRetryPolicy and
// DefaultRateLimit, and without response checking.
func New(opts ...Option) (*Client, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt == nil {
			return nil, optionError("nil option")
		}
		if err := opt(cfg); err != nil {
			return nil, err
		}
	}
	c := &Client{
		baseURL:   cfg.baseURL,
		token:     redactor(cfg.token),
		userAgent: cfg.userAgent,
		timeout:   cfg.timeout,
		retry:     cfg.retry,
		logger:    cfg.logger,
	}
	if cfg.perMinute > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(float64(cfg.perMinute)/60), max(1, cfg.perMinute/10))
	}
	if cfg.newChecker != nil {
		// A copy: the checker must not change the client's URL.
		u := *cfg.baseURL
		ch, err := cfg.newChecker(&u)
		if err != nil {
			return nil, fmt.Errorf("client: response checking: %w", err)
		}
		c.checker = ch
	}
	hc := cfg.httpClient
	if hc == nil {
		// Attempts are bounded by their own context (WithTimeout).
		hc = &http.Client{}
	}
	g, err := gen.NewClient(cfg.baseURL.String(), gen.WithHTTPClient(hc), gen.WithRequestEditorFn(c.prepare))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	c.gen = g
	c.Infrastructure = newInfrastructureService(c)
	c.VersionControl = newVersionControlService(c)
	return c, nil
}

// BaseURL is the URL under which the client reaches the API.
func (c *Client) BaseURL() string { return c.baseURL.String() }

// prepare sets the headers of every request.
func (c *Client) prepare(_ context.Context, req *http.Request) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+string(c.token))
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	return nil
}

// Response is the HTTP response of a call, with what a caller wants next.
// Its Body holds the bytes read and can be read again.
type Response struct {
	*http.Response

	// Page, Limit and Total echo a list response: the page returned (from 1),
	// the most items it can hold, and how many items match on all pages.
	// They are 0 for other operations.
	Page, Limit, Total int64
	// NextPage is the page to ask for next, or 0 after the last page.
	NextPage int64

	// RequestID is the X-Request-Id header, for support requests.
	RequestID string
	// Rate is the server's rate-limit state.
	Rate Rate
	// Duration is how long the call took, retries and waits included.
	Duration time.Duration
	// Attempts is how many times the request was sent.
	Attempts int
}

// Rate is the server-side rate-limit state sent in X-RateLimit-* headers.
// All fields are zero when the server sent none.
type Rate struct {
	// Limit is how many requests the window allows (X-RateLimit-Limit).
	Limit int
	// Remaining is how many are left in the window (X-RateLimit-Remaining).
	Remaining int
	// Reset is when the window is full again (now + X-RateLimit-Reset seconds).
	Reset time.Time
}

func newResponse(resp *http.Response, start time.Time, attempts int) *Response {
	now := time.Now()
	r := &Response{
		Response:  resp,
		RequestID: resp.Header.Get("X-Request-Id"),
		Duration:  now.Sub(start),
		Attempts:  attempts,
	}
	r.Rate.Limit = headerInt(resp.Header, "X-RateLimit-Limit")
	r.Rate.Remaining = headerInt(resp.Header, "X-RateLimit-Remaining")
	if secs := headerInt(resp.Header, "X-RateLimit-Reset"); secs > 0 {
		r.Rate.Reset = now.Add(time.Duration(secs) * time.Second)
	}
	return r
}

func headerInt(h http.Header, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// setPage records a list response's paging and works out the next page.
func (r *Response) setPage(page, limit, total int64, items int) {
	r.Page, r.Limit, r.Total = page, limit, total
	if items == 0 || limit < 1 || page < 1 || total < 1 {
		return
	}
	if last := (total-1)/limit + 1; page < last {
		r.NextPage = page + 1
	}
}

// sendFunc sends one attempt through the generated client.
type sendFunc func(ctx context.Context, editors ...gen.RequestEditorFn) (*http.Response, error)

// attempt is one request sent and its response, whose body has been read.
type attempt struct {
	req  *http.Request
	resp *http.Response
	body []byte
}

// call sends a request (again, as the retry policy allows), checks the final
// response against the contract when asked to, maps a non-2xx status to an
// *APIError, and otherwise decodes the body into out.
func (c *Client) call(ctx context.Context, op string, out any, send sendFunc) (*Response, error) {
	start := time.Now()
	res, n, err := c.sendWithRetries(ctx, op, send)
	if err != nil {
		return nil, c.fail(ctx, op, err)
	}
	r := newResponse(res.resp, start, n)
	err = c.check(ctx, op, res)
	switch code := res.resp.StatusCode; {
	case err != nil:
	case code < 200 || code > 299:
		err = newAPIError(op, res.resp, res.body, time.Now(), c.token.scrub)
	case out != nil:
		if derr := json.Unmarshal(normalizeTimestamps(res.body), out); derr != nil {
			err = fmt.Errorf("client: %s: decode response: %w", op, derr)
		}
	}
	if err != nil {
		return r, c.fail(ctx, op, err)
	}
	return r, nil
}

// fail returns err without the token in its text, unless ctx has ended: a
// cancelled context wins over any other error.
func (c *Client) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("client: %s: %w", op, ctx.Err())
	}
	return c.token.guard(err)
}

// sendWithRetries sends attempts until one is final, and returns it with the
// number of attempts made.
func (c *Client) sendWithRetries(ctx context.Context, op string, send sendFunc) (*attempt, int, error) {
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, n - 1, err
		}
		if err := c.waitTurn(ctx); err != nil {
			return nil, n - 1, fmt.Errorf("client: %s: %w", op, err)
		}
		res, err := c.attempt(ctx, op, n, send)
		delay, again := c.retryWait(ctx, n, res, err)
		if !again {
			if err != nil {
				return nil, n, fmt.Errorf("client: %s: %w", op, err)
			}
			return res, n, nil
		}
		c.logRetry(ctx, op, n, delay, res, err)
		if err := wait.Sleep(ctx, delay); err != nil {
			return nil, n, err
		}
	}
}

// waitTurn waits for the client-side rate limiter.
func (c *Client) waitTurn(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	if err := c.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("the client-side rate limit would delay the request past the context deadline: %w", context.DeadlineExceeded)
	}
	return nil
}

// attempt sends the request once, within the per-attempt timeout, and reads
// the response body: all of a successful one (up to maxBody), at most
// maxErrorBody of any other.
func (c *Client) attempt(ctx context.Context, op string, n int, send sendFunc) (*attempt, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res := &attempt{}
	capture := func(_ context.Context, req *http.Request) error {
		res.req = req
		return nil
	}
	begin := time.Now()
	resp, err := send(actx, capture)
	if err != nil {
		c.logAttempt(ctx, op, n, res.req, nil, begin, err)
		return nil, err
	}
	defer resp.Body.Close()
	limit := int64(maxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		limit = maxErrorBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		err = fmt.Errorf("read response body: %w", err)
		c.logAttempt(ctx, op, n, res.req, resp, begin, err)
		return nil, err
	}
	if int64(len(body)) > limit {
		if limit == maxBody {
			return nil, fmt.Errorf("response body is larger than %d bytes", maxBody)
		}
		body = body[:limit] // error bodies are cut, not refused
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	res.resp, res.body = resp, body
	c.logAttempt(ctx, op, n, res.req, resp, begin, nil)
	return res, nil
}

// retryWait decides whether attempt n is sent again, and after how long.
func (c *Client) retryWait(ctx context.Context, n int, res *attempt, err error) (time.Duration, bool) {
	if n > c.retry.MaxRetries || ctx.Err() != nil {
		return 0, false
	}
	var delay time.Duration
	switch {
	case err != nil:
		if !transient(err) {
			return 0, false
		}
		delay = c.retry.backoff(n)
	case !retryableStatus(res.resp.StatusCode):
		return 0, false
	default:
		if ra, ok := wait.RetryAfter(res.resp.Header, time.Now()); ok {
			if ra > c.retry.MaxDelay {
				// Retrying before the server allows only spends quota:
				// return the error, which carries Retry-After, instead.
				return 0, false
			}
			delay = ra
		} else {
			delay = c.retry.backoff(n)
		}
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
		// Waiting would only end in the deadline: return the last error now.
		return 0, false
	}
	return delay, true
}

// check validates the final response against the contract when response
// checking is on.
func (c *Client) check(ctx context.Context, op string, res *attempt) error {
	if c.checker == nil {
		return nil
	}
	status := res.resp.StatusCode
	violations, err := c.checker.CheckResponse(ctx, res.req, status, res.resp.Header, res.body)
	if err != nil {
		return fmt.Errorf("client: %s: response checking: %w", op, err)
	}
	if len(violations) == 0 {
		return nil
	}
	ve := &ResponseViolationError{Operation: op, StatusCode: status, Violations: violations}
	for i := range ve.Violations {
		ve.Violations[i].Reason = c.token.scrub(ve.Violations[i].Reason)
	}
	if status < 200 || status > 299 {
		ve.apiErr = newAPIError(op, res.resp, res.body, time.Now(), c.token.scrub)
	}
	return ve
}

func (c *Client) logAttempt(ctx context.Context, op string, n int, req *http.Request, resp *http.Response, begin time.Time, err error) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("operation", op),
		slog.Int("attempt", n),
		slog.Duration("duration", time.Since(begin)),
	}
	if req != nil {
		attrs = append(attrs, slog.String("method", req.Method), slog.String("path", req.URL.Path))
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", resp.Header.Get("X-Request-Id")))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.token.scrub(err.Error())))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "identities: request", attrs...)
}

func (c *Client) logRetry(ctx context.Context, op string, n int, wait time.Duration, res *attempt, err error) {
	attrs := []slog.Attr{
		slog.String("operation", op),
		slog.Int("attempt", n),
		slog.Duration("wait", wait),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.token.scrub(err.Error())))
	} else {
		attrs = append(attrs, slog.Int("status", res.resp.StatusCode))
	}
	c.logger.LogAttrs(ctx, slog.LevelInfo, "identities: retrying", attrs...)
}
