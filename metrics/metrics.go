// Package metrics is what the server tells Prometheus: requests by
// operation and status, their latency, rate-limit rejections, responses
// that break the contract, and the latency of each store call.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/identities-go/identities/store"
)

// Metrics holds the server's collectors in a registry of its own, with the
// Go runtime's and the process's.
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	rateLimited  prometheus.Counter
	violations   *prometheus.CounterVec
	storeLatency *prometheus.HistogramVec
}

// New returns the server's collectors, registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "identities_http_requests_total",
			Help: "Requests answered, by operation (its operationId; empty for requests no operation matched) and status.",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "identities_http_request_duration_seconds",
			Help:    "Time to answer a request, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"operation"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "identities_rate_limit_rejections_total",
			Help: "Requests answered 429 because the client's budget was spent.",
		}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "identities_response_violations_total",
			Help: "Responses that did not conform to the contract, by operation.",
		}, []string{"operation"}),
		storeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "identities_store_call_duration_seconds",
			Help:    "Time of each store call, by method and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"method", "outcome"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.rateLimited, m.violations, m.storeLatency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request counts one answered request.
func (m *Metrics) Request(operation string, status int, took time.Duration) {
	m.requests.WithLabelValues(operation, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(operation).Observe(took.Seconds())
}

// RateLimited counts one request refused for its client's budget.
func (m *Metrics) RateLimited() { m.rateLimited.Inc() }

// Violation counts one response that broke the contract.
func (m *Metrics) Violation(operation string) { m.violations.WithLabelValues(operation).Inc() }

// Store returns s with the latency of each call observed.
func (m *Metrics) Store(s store.Identities) store.Identities { return timedStore{s, m.storeLatency} }

// timedStore observes the calls of the store it wraps.
type timedStore struct {
	s  store.Identities
	by *prometheus.HistogramVec
}

func (t timedStore) observe(method string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	t.by.WithLabelValues(method, outcome).Observe(time.Since(start).Seconds())
}

func (t timedStore) ListIdentities(ctx context.Context, q store.ListQuery) (p store.Page, err error) {
	defer func(start time.Time) { t.observe("ListIdentities", start, err) }(time.Now())
	return t.s.ListIdentities(ctx, q)
}

func (t timedStore) GetIdentity(ctx context.Context, companyID int64, family store.Family, id int64) (v store.IdentityView, err error) {
	defer func(start time.Time) { t.observe("GetIdentity", start, err) }(time.Now())
	return t.s.GetIdentity(ctx, companyID, family, id)
}

func (t timedStore) UpdateIdentity(ctx context.Context, companyID int64, family store.Family, id int64, change store.Change, now time.Time) (v store.IdentityView, err error) {
	defer func(start time.Time) { t.observe("UpdateIdentity", start, err) }(time.Now())
	return t.s.UpdateIdentity(ctx, companyID, family, id, change, now)
}

func (t timedStore) Authenticate(ctx context.Context, hash []byte, now time.Time) (p store.Principal, err error) {
	defer func(start time.Time) { t.observe("Authenticate", start, err) }(time.Now())
	return t.s.Authenticate(ctx, hash, now)
}

func (t timedStore) Ping(ctx context.Context) (err error) {
	defer func(start time.Time) { t.observe("Ping", start, err) }(time.Now())
	return t.s.Ping(ctx)
}
