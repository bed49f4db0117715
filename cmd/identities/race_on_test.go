//go:build race

package main

import "os"

func init() {
	// A program built with the race detector waits a second before it
	// exits, for reports from goroutines still running; the tests wait on
	// each run of the program, so it exits at once. Races are still
	// reported, and fail the run, as before.
	os.Setenv("GORACE", "atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}
