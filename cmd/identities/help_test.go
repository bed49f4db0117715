package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHelpEverywhere: -h works on every command and subcommand, help
// COMMAND says the same as COMMAND -h, shell completion is generated, and a
// wrong command gets one line and exit 2.
func TestHelpEverywhere(t *testing.T) {
	t.Parallel()
	exec := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), args, &out, &out)
		return code, out.String()
	}
	for name, cmd := range commands {
		code, text := exec(name, "-h")
		assert.Equal(t, exitOK, code, "%s -h: %s", name, text)
		assert.Contains(t, text, "usage: identities "+name, "%s -h", name)
		_, viaHelp := exec("help", name)
		assert.Equal(t, text, viaHelp, "help %s", name)
		for _, sub := range cmd.subs {
			code, text := exec(name, sub.name, "-h")
			assert.Equal(t, exitOK, code, "%s %s -h: %s", name, sub.name, text)
			assert.Contains(t, strings.ToLower(text), "usage", "%s %s -h", name, sub.name)
		}
	}
	code, text := exec("completion", "bash")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, text, "bash completion")
	for _, wrong := range [][]string{{"serv"}, {"keys", "lsit"}} {
		code, text := exec(wrong...)
		assert.Equal(t, exitUsage, code, "%v", wrong)
		assert.Equal(t, 1, strings.Count(text, "\n"), "%v: one line: %q", wrong, text)
	}
}
