package main

import (
	"bytes"
	"context"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestVersion: `version` and `--version` print one line naming the module
// version, the commit and the Go version the program was built with.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errOut bytes.Buffer
		assert.Equal(t, exitOK, run(context.Background(), args, &out, &errOut), "%v: %s", args, errOut.String())
		assert.Regexp(t, `^identities \S+ \(commit \S+, `+runtime.Version()+`\)\n$`, out.String(), "%v", args)
	}
}
