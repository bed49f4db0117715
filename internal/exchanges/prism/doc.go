// Package prism replays the recorded exchanges of internal/exchanges through
// Stoplight Prism's validating proxy; see TestPrism. It has tests only and
// imports neither the server nor a store, so make replay-prism builds
// little besides the test.
package prism
