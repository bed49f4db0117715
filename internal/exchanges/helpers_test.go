package exchanges_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/identities-go/identities/internal/exchanges"
)

// load reads the committed corpus.
func load(t *testing.T) *exchanges.Corpus {
	t.Helper()
	c, err := exchanges.Load(exchanges.File)
	require.NoError(t, err)
	require.NotEmpty(t, c.Exchanges)
	return c
}

// documentStatuses are the statuses the document lists for each operation.
func documentStatuses(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, item := range apitest.Validator(t).Document().Paths.Map() {
		for _, o := range item.Operations() {
			for code := range o.Responses.Map() {
				st, err := strconv.Atoi(code)
				require.NoError(t, err, "%s: response %q", o.OperationID, code)
				out[o.OperationID] = append(out[o.OperationID], st)
			}
			slices.Sort(out[o.OperationID])
		}
	}
	return out
}

// planted makes the planted exchanges from c.
func planted(t *testing.T, c *exchanges.Corpus) []exchanges.Exchange {
	t.Helper()
	out, err := c.Planted()
	require.NoError(t, err)
	require.Len(t, out, len(exchanges.Plants))
	return out
}
