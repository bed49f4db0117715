//go:build !race

package main

// buildFlags build the binary TestBinary runs as this test binary was built,
// so that it reuses the packages go test compiled.
var buildFlags []string
