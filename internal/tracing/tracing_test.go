package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTracesGoWhereTheEnvironmentSays: with OTEL_EXPORTER_OTLP_ENDPOINT set,
// a traced request's span reaches that collector when tracing stops;
// without it, the handler is left as it was. Not parallel: it sets the
// process's environment.
func TestTracesGoWhereTheEnvironmentSays(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	same, stop, err := Start(context.Background(), "test", "v0", h)
	require.NoError(t, err)
	require.NoError(t, stop(context.Background()))
	assert.False(t, Enabled())
	assert.NotNil(t, same)

	got := make(chan string, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- r.URL.Path
		assert.NotEmpty(t, body)
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	traced, stop, err := Start(context.Background(), "test", "v0", h)
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	traced.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	assert.Equal(t, http.StatusNoContent, rec.Code)
	require.NoError(t, stop(context.Background()), "flush")
	select {
	case path := <-got:
		assert.Equal(t, "/v1/traces", path)
	default:
		t.Fatal("no spans reached the collector")
	}

	t.Setenv("OTEL_SDK_DISABLED", "true")
	assert.False(t, Enabled(), "OTEL_SDK_DISABLED")
}
