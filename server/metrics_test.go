package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/metrics"
)

// TestMetricsAfterTraffic: after a few requests, /metrics holds the series
// an operator watches, with their labels: requests by operation and status,
// their latency, rate-limit rejections, and store calls.
func TestMetricsAfterTraffic(t *testing.T) {
	t.Parallel()
	e := testserver.Start(t, testserver.Options{RateLimit: 3, Metrics: metrics.New()})
	send := func(token string) int {
		return apitest.Do(t, nil, apitest.Request{Method: http.MethodGet, URL: e.URL + "/user-identities/infrastructure?limit=1", Key: token}).Status
	}
	require.Equal(t, http.StatusOK, send(e.Keys.ReadWrite))
	require.Equal(t, http.StatusOK, send(e.Keys.ReadWrite))
	require.Equal(t, http.StatusUnauthorized, send(""))
	require.Equal(t, http.StatusTooManyRequests, send(e.Keys.ReadWrite))

	resp, err := http.Get(e.Server.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	text := string(body)

	value := func(series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
		if !assert.NotNil(t, m, "no series %s in:\n%s", series, text) {
			return -1
		}
		v, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, 2.0, value(`identities_http_requests_total{operation="listInfrastructureIdentities",status="200"}`))
	assert.Equal(t, 1.0, value(`identities_http_requests_total{operation="listInfrastructureIdentities",status="401"}`))
	assert.Equal(t, 1.0, value(`identities_http_requests_total{operation="",status="429"}`), "rejected before routing")
	assert.Equal(t, 1.0, value(`identities_rate_limit_rejections_total`))
	assert.Equal(t, 3.0, value(`identities_http_request_duration_seconds_count{operation="listInfrastructureIdentities"}`))
	assert.Equal(t, 2.0, value(`identities_store_call_duration_seconds_count{method="ListIdentities",outcome="ok"}`))
	assert.Equal(t, 2.0, value(`identities_store_call_duration_seconds_count{method="Authenticate",outcome="ok"}`))
	assert.Contains(t, text, "go_goroutines ")
}
