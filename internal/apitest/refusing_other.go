//go:build !unix

package apitest

import (
	"net"
	"testing"
)

// RefusingAddr returns a loopback address (host:port) at which connections
// are refused: a port listened on and closed again, which another program
// could take in between on systems without Unix sockets' bind.
func RefusingAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("apitest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
