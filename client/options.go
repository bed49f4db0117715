package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of New.
const (
	// DefaultBaseURL is the base URL of Drata's public API.
	DefaultBaseURL = "https://public-api.drata.com/public"
	// DefaultTimeout bounds each HTTP attempt: connecting, sending, and
	// reading the whole response.
	DefaultTimeout = 30 * time.Second
	// DefaultRateLimit is how many requests a minute the client sends at most.
	DefaultRateLimit = 500
	// Version is the version of this client, sent in the default User-Agent.
	Version = "0.1.0"
	// DefaultUserAgent is the User-Agent header sent unless WithUserAgent
	// replaces it.
	DefaultUserAgent = "identities-go/" + Version
)

// errOption is wrapped by every error an Option returns.
var errOption = errors.New("client: invalid option")

// Option configures a Client. Options validate their input: New returns the
// first error an option reports.
type Option func(*config) error

// config collects the options before New builds the Client.
type config struct {
	baseURL    *url.URL
	token      string
	httpClient *http.Client
	timeout    time.Duration
	userAgent  string
	retry      RetryPolicy
	perMinute  int
	newChecker func(baseURL *url.URL) (ResponseChecker, error)
	logger     *slog.Logger
}

func defaultConfig() *config {
	u, _ := url.Parse(DefaultBaseURL)
	return &config{
		baseURL:   u,
		timeout:   DefaultTimeout,
		userAgent: DefaultUserAgent,
		retry:     DefaultRetryPolicy(),
		perMinute: DefaultRateLimit,
		logger:    slog.New(slog.DiscardHandler),
	}
}

func optionError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errOption}, args...)...)
}

// WithToken sets the API key sent as "Authorization: Bearer <token>". Without
// it requests are sent unauthenticated (and Drata answers 401). The token
// must not be empty or contain spaces or control characters.
func WithToken(token string) Option {
	return func(c *config) error {
		if token == "" {
			return optionError("token is empty")
		}
		if strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			// The token itself is never echoed.
			return optionError("token contains spaces or control characters")
		}
		c.token = token
		return nil
	}
}

// WithBaseURL sets the URL under which the API is served, for example
// "http://127.0.0.1:8080/public". Operation paths are resolved relative to
// its path. It must be an absolute http or https URL without credentials,
// query or fragment.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return optionError("base URL: %v", err)
		}
		switch {
		case u.Scheme != "http" && u.Scheme != "https":
			return optionError("base URL %q: scheme must be http or https", rawURL)
		case u.Host == "":
			return optionError("base URL %q: host is empty", rawURL)
		case u.User != nil:
			return optionError("base URL: must not hold credentials; use WithToken")
		case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
			return optionError("base URL %q: must not have a query or fragment", rawURL)
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = ""
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client that sends requests, for custom
// transports, proxies or TLS settings. Its own Timeout, if any, applies on top
// of WithTimeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return optionError("HTTP client is nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each HTTP attempt (connecting, sending and reading the
// whole response); the default is DefaultTimeout. It must be positive: the
// client never waits without limit. The whole call, retries included, is
// bounded by the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return optionError("timeout must be positive, got %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithUserAgent replaces the User-Agent header (DefaultUserAgent).
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		if strings.TrimSpace(ua) == "" {
			return optionError("user agent is empty")
		}
		if strings.ContainsFunc(ua, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return optionError("user agent contains control characters")
		}
		c.userAgent = ua
		return nil
	}
}

// WithRetry sets the retry policy (DefaultRetryPolicy). Zero BaseDelay and
// MaxDelay take the defaults, so WithRetry(RetryPolicy{MaxRetries: 5}) only
// changes how many times a request is sent again, and WithRetry(RetryPolicy{})
// turns retries off. Negative values, or a MaxDelay below BaseDelay, are
// rejected.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		p, err := p.normalize()
		if err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithRateLimit sets how many requests a minute the client sends at most
// (DefaultRateLimit), retries included; 0 disables the client-side limiter.
// Up to a tenth of a minute's requests may go out in a burst.
func WithRateLimit(perMinute int) Option {
	return func(c *config) error {
		if perMinute < 0 {
			return optionError("rate limit must not be negative, got %d", perMinute)
		}
		c.perMinute = perMinute
		return nil
	}
}

// ResponseChecker checks the final response to a request against the API's
// contract before the client decodes it. Package client/checking has the
// module's; it lives apart so that programs that never check responses do
// not link the validator.
type ResponseChecker interface {
	// CheckResponse returns every way the response departs from the
	// contract (none when it conforms), or an error when it cannot check
	// (a request that matches no operation, say).
	CheckResponse(ctx context.Context, req *http.Request, status int, header http.Header, body []byte) ([]Violation, error)
}

// WithResponseChecker checks every final response with the checker that
// newChecker makes for the client's base URL (once, in New); nil turns
// checking off, the default. A response that does not conform is returned
// as a *ResponseViolationError before it is decoded.
// checking.WithResponseChecking is the usual way to call it.
func WithResponseChecker(newChecker func(baseURL *url.URL) (ResponseChecker, error)) Option {
	return func(c *config) error {
		c.newChecker = newChecker
		return nil
	}
}

// WithLogger sets the logger of request attempts (Debug) and retries (Info).
// Records carry the operation, method, path, status, attempt, duration and
// request ID; never headers or tokens. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return optionError("logger is nil")
		}
		c.logger = l
		return nil
	}
}
