package server_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/testserver"
	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/server"
)

// BenchmarkListPageValidation serves the 50-identity page with response
// validation strict and off, as sub-benchmarks so that benchstat puts them
// side by side (-col /validation): the difference is what the check costs.
func BenchmarkListPageValidation(b *testing.B) {
	for _, mode := range []server.ValidationMode{server.ValidationStrict, server.ValidationOff} {
		b.Run("validation="+string(mode), func(b *testing.B) { benchmarkListPage50(b, mode) })
	}
}

// BenchmarkListPageValidationPaired serves the page with validation strict
// and off in turn, every iteration, so that both see the same machine load,
// and reports each one's time per page and their ratio.
func BenchmarkListPageValidationPaired(b *testing.B) {
	e := testserver.Start(b, testserver.Options{Seed: &seed.Options{Companies: 3, Identities: 100, Seed: 7}})
	handlers := make([]http.Handler, 2)
	for i, mode := range []server.ValidationMode{server.ValidationStrict, server.ValidationOff} {
		h, err := server.New(server.Config{Store: e.Store, ResponseValidation: mode, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(b, err)
		handlers[i] = h
	}
	const target = "/public/user-identities/infrastructure?limit=50&sort=USER"
	var spent [2]time.Duration
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for j := range 2 {
			i := (n + j) % 2 // alternate which goes first
			start := time.Now()
			serveBench(b, handlers[i], http.MethodGet, target, e.Keys.ReadWrite, "")
			spent[i] += time.Since(start)
		}
		n++
	}
	b.ReportMetric(float64(spent[0].Nanoseconds())/float64(n), "strict-ns/page")
	b.ReportMetric(float64(spent[1].Nanoseconds())/float64(n), "off-ns/page")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "strict/off")
}
