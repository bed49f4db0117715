package store

// RunSlice is what a page takes of a group of runs (runs [First, End) of a
// sorted list) that share one sort key: their identities merged in id
// order, skipping Skip and taking Take.
type RunSlice struct {
	First, End int
	Skip, Take int64
}

// PageOfRuns lays out n runs, already in sort order, and returns the slices
// that the page at offset of limit identities takes, in page order. Runs i
// and j belong to one group when same(i, j); size(i) is run i's count. A
// store sorting on a connection's value under a connection filter reads
// just these slices, so a page costs what it holds.
func PageOfRuns(n int, same func(i, j int) bool, size func(i int) int64, offset, limit int64) []RunSlice {
	var out []RunSlice
	var start int64
	for i := 0; i < n && start < offset+limit; {
		j := i + 1
		for j < n && same(i, j) {
			j++
		}
		var count int64
		for k := i; k < j; k++ {
			count += size(k)
		}
		if start+count > offset {
			skip := max(offset-start, 0)
			out = append(out, RunSlice{First: i, End: j, Skip: skip, Take: min(count-skip, offset+limit-max(offset, start))})
		}
		start += count
		i = j
	}
	return out
}
