package sqlite_test

import (
	"testing"

	"github.com/identities-go/identities/internal/scaledb"
	"github.com/identities-go/identities/store"
)

// BenchmarkScaleList is scaledb's table of list pages on SQLite stores of
// each -scale size.
func BenchmarkScaleList(b *testing.B) {
	stores := map[int]store.Identities{}
	for _, n := range scaledb.Sizes(b) {
		stores[n] = scaledb.Open(b, n)
	}
	scaledb.BenchmarkList(b, stores)
}
