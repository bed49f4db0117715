package store

import (
	"cmp"
	"testing"

	"github.com/stretchr/testify/assert"
)

func compareKeys(a, b *string) int {
	if a == nil || b == nil {
		return cmp.Compare(boolInt(a != nil), boolInt(b != nil))
	}
	return cmp.Compare(*a, *b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestLayOutRuns(t *testing.T) {
	a, b := "a", "b"
	kept := []Run{{ID: 1, Key: &b, N: 3}, {ID: 2, Key: nil, N: 2}, {ID: 3, Key: &a, N: 4}, {ID: 4, Key: &b, N: 5}}

	// NULL first, then a, then the two b connections as one group.
	runs, page := LayOutRuns(kept, compareKeys, false, 0, 50)
	assert.Equal(t, []int64{2, 3, 1, 4}, ids(runs))
	assert.Equal(t, []RunSlice{{0, 1, 0, 2}, {1, 2, 0, 4}, {2, 4, 0, 8}}, page)

	// A page inside the b group skips into it; one across groups takes from each.
	_, page = LayOutRuns(kept, compareKeys, false, 7, 3)
	assert.Equal(t, []RunSlice{{2, 4, 1, 3}}, page)
	_, page = LayOutRuns(kept, compareKeys, false, 1, 3)
	assert.Equal(t, []RunSlice{{0, 1, 1, 1}, {1, 2, 0, 2}}, page)

	// Descending reverses the groups; the kept slice is left as it was.
	runs, page = LayOutRuns(kept, compareKeys, true, 0, 9)
	assert.Equal(t, []int64{4, 1, 3, 2}, ids(runs))
	assert.Equal(t, []RunSlice{{0, 2, 0, 8}, {2, 3, 0, 1}}, page)
	assert.Equal(t, int64(1), kept[0].ID)

	// Past the last identity, and without runs or with too many, no slices.
	_, page = LayOutRuns(kept, compareKeys, false, 14, 5)
	assert.Empty(t, page)
	_, page = LayOutRuns(nil, compareKeys, false, 0, 5)
	assert.Empty(t, page)
	_, page = LayOutRuns(make([]Run, MaxRuns+1), compareKeys, false, 0, 5)
	assert.Empty(t, page)
}

func ids(runs []Run) []int64 {
	var out []int64
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}
