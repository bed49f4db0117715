package store

import "slices"

// Run is a connection that a list's filter keeps, when the list is sorted
// on a connection's value: its id, its sort key (nil for NULL) and how many
// of the list's identities it has.
type Run struct {
	ID  int64
	Key *string
	N   int64
}

// MaxRuns is the most connections a page is laid out from; past it, a
// store walks the sort's index instead.
const MaxRuns = 64

// RunSlice is what a page takes of a group of runs (runs [First, End) of
// the ordered runs) that share one sort key: their identities merged in id
// order, skipping Skip and taking Take.
type RunSlice struct {
	First, End int
	Skip, Take int64
}

// LayOutRuns orders the kept runs by key with compare (NULL first, then
// the sort's order), reversed when desc, and returns them with the slices
// the page at offset of limit identities takes, in page order. Each
// connection's identities share one key, so a store reads just these
// slices, each run in id order: a page costs what it holds, whichever
// connections come first. It returns no slices when runs do not apply
// (no connection kept, or more than MaxRuns).
func LayOutRuns(kept []Run, compare func(a, b *string) int, desc bool, offset, limit int64) ([]Run, []RunSlice) {
	if len(kept) == 0 || len(kept) > MaxRuns {
		return nil, nil
	}
	runs := slices.Clone(kept)
	slices.SortStableFunc(runs, func(a, b Run) int { return compare(a.Key, b.Key) })
	if desc {
		slices.Reverse(runs)
	}
	var out []RunSlice
	var start int64
	for i := 0; i < len(runs) && start < offset+limit; {
		j := i + 1
		for j < len(runs) && compare(runs[i].Key, runs[j].Key) == 0 {
			j++
		}
		var count int64
		for _, r := range runs[i:j] {
			count += r.N
		}
		if start+count > offset {
			skip := max(offset-start, 0)
			out = append(out, RunSlice{First: i, End: j, Skip: skip, Take: min(count-skip, offset+limit-max(offset, start))})
		}
		start += count
		i = j
	}
	return runs, out
}
