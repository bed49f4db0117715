//go:build unix

package apitest_test

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/internal/apitest"
)

// TestRefusingAddrRefuses: a connection is refused, and the port cannot be
// taken while the test runs.
func TestRefusingAddrRefuses(t *testing.T) {
	t.Parallel()
	addr := apitest.RefusingAddr(t)
	_, err := net.Dial("tcp", addr)
	require.True(t, errors.Is(err, syscall.ECONNREFUSED), "dial %s: %v", addr, err)
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("%s could be listened on while reserved", addr)
	}
}
