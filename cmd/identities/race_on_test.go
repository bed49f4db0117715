//go:build race

package main

// buildFlags build the binary TestBinary runs as this test binary was built,
// so that it reuses the packages go test compiled instead of compiling them
// all again.
var buildFlags = []string{"-race"}
