package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// runAsProgram, in a process's environment, makes this test binary run the
// program instead of the tests. Tests that run the program as users do, in
// processes of their own, start this binary again with it set: the program
// is then exactly what go test compiled, and no test waits on a build.
const runAsProgram = "IDENTITIES_TEST_RUN_AS_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(runAsProgram) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// programCommand is exec.Command for the program: see runAsProgram. Built
// with the race detector, the program would wait a second before it exits,
// for reports from goroutines still running; the tests wait on each run, so
// it exits at once. Races are still reported, and fail the run.
func programCommand(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), runAsProgram+"=1", "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	return cmd
}
