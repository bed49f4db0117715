//go:build race

package contract_test

// raceEnabled lets the differential tests check fewer mutations under the
// race detector, which slows kin-openapi down several times.
const raceEnabled = true
