//go:build race

package main

import "os"

// buildFlags build the binary TestBinary runs as this test binary was built,
// so that it reuses the packages go test compiled instead of compiling them
// all again.
var buildFlags = []string{"-race"}

func init() {
	// A program built with the race detector waits a second before it
	// exits, for reports from goroutines still running; the tests wait on
	// each run of the binary, so it exits at once. Races are still
	// reported, and fail the run, as before.
	os.Setenv("GORACE", "atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}
