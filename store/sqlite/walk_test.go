package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/seed"
	"github.com/identities-go/identities/store"
)

// When q's matches gather at the far end of the sort's order, the walk of
// the sort's index gives up after its budget and the page comes from the
// matches, one statement more; from the near end the walk finds the page
// at once. Both give the same pages as sorting the matches by hand.
func TestLateMatchesEndTheWalk(t *testing.T) {
	ctx := context.Background()
	d, err := seed.Generate(seed.Options{Companies: 1, Identities: 500, Seed: 3})
	require.NoError(t, err)
	// One in five infrastructure identities matches "late", and sorts
	// after every other.
	var want []int64
	for i := range d.Identities {
		it := &d.Identities[i]
		if it.Family != store.Infrastructure {
			continue
		}
		if i%5 == 0 {
			it.IdentityID = fmt.Sprintf("zz-late-%04d", i)
			want = append(want, it.ID)
		} else {
			it.IdentityID = fmt.Sprintf("aa-%04d", i)
		}
	}
	require.Len(t, want, 100)
	var n atomic.Int64
	s := openCounting(t, &n)
	defer s.Close()
	require.NoError(t, s.Load(ctx, store.Whole(d)))

	list := func(desc bool, page int64) (ids []int64, statements int64) {
		t.Helper()
		before := n.Load()
		got, err := s.ListIdentities(ctx, store.ListQuery{CompanyID: d.Companies[0].ID, Family: store.Infrastructure,
			Page: page, Limit: 5, Q: "LATE", Sort: store.SortIdentityID, Descending: desc})
		require.NoError(t, err)
		require.EqualValues(t, 100, got.Total)
		for _, v := range got.Items {
			require.True(t, strings.Contains(v.Identity.IdentityID, "late"))
			ids = append(ids, v.Identity.ID)
		}
		return ids, n.Load() - before
	}
	// want is in identityId order: the ids rise with the index i.
	asc, lateStatements := list(false, 3)
	assert.Equal(t, want[10:15], asc)
	desc, earlyStatements := list(true, 3)
	rev := slices.Clone(want)
	slices.Reverse(rev)
	assert.Equal(t, rev[10:15], desc)
	assert.Equal(t, earlyStatements+1, lateStatements, "the walk from the far end gives up; from the near end it finds the page")
}
