package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"
)

// RetryPolicy says when and how long the client waits before sending a
// request again. It retries 429, 502, 503 and 504 responses and transient
// network errors, never a cancelled context. Waits are capped exponential
// backoff with full jitter: a random duration in [0, min(MaxDelay,
// BaseDelay·2^(n-1))) before retry n. A Retry-After header (seconds or an
// HTTP date) replaces the backoff; when it asks for longer than MaxDelay the
// client does not retry early but returns the error, whose RetryAfter says
// how long to wait. When the caller's
// context ends before a wait would, the client stops at once and returns the
// last error.
type RetryPolicy struct {
	// MaxRetries is how many times a request is sent again after the first
	// attempt; 0 disables retries.
	MaxRetries int
	// BaseDelay is the backoff ceiling of the first retry.
	BaseDelay time.Duration
	// MaxDelay caps every wait; a longer Retry-After ends the retries.
	MaxDelay time.Duration
}

// DefaultRetryPolicy is the policy of New: 3 retries, backoff from 500ms,
// no wait longer than 30s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 3, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second}
}

func (p RetryPolicy) normalize() (RetryPolicy, error) {
	def := DefaultRetryPolicy()
	switch {
	case p.MaxRetries < 0:
		return p, optionError("retry policy: MaxRetries must not be negative, got %d", p.MaxRetries)
	case p.BaseDelay < 0 || p.MaxDelay < 0:
		return p, optionError("retry policy: delays must not be negative")
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = def.BaseDelay
		if p.MaxDelay > 0 {
			p.BaseDelay = min(p.BaseDelay, p.MaxDelay)
		}
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = max(def.MaxDelay, p.BaseDelay)
	}
	if p.MaxDelay < p.BaseDelay {
		return p, optionError("retry policy: MaxDelay %v is below BaseDelay %v", p.MaxDelay, p.BaseDelay)
	}
	return p, nil
}

// backoff is the full-jitter wait before retry n (from 1).
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.MaxDelay
	if shift := n - 1; shift < 62 {
		if d := p.BaseDelay << shift; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// retryableStatus reports the statuses worth sending again.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// transient reports whether a transport error (the parent context still
// alive) is worth retrying: timeouts, refused or reset connections and
// connections closed early, but not TLS verification or malformed requests.
func transient(err error) bool {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		recordErr  tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &recordErr):
		return false
	case errors.Is(err, context.DeadlineExceeded), // the attempt's own timeout
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}
