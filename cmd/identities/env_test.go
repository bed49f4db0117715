package main

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/identities-go/identities/internal/apitest"
	"github.com/stretchr/testify/assert"
)

// TestServeFlagsFromTheEnvironment: every serve flag reads IDENTITIES_<NAME>
// (named in --help), the command line wins over it, and a value the flag
// refuses is a usage error naming the variable. Not parallel: it sets the
// process's environment.
func TestServeFlagsFromTheEnvironment(t *testing.T) {
	var help bytes.Buffer
	assert.Equal(t, exitOK, run(context.Background(), []string{"serve", "-h"}, &help, &help))
	for _, name := range []string{"IDENTITIES_ADDR", "IDENTITIES_DB", "IDENTITIES_RATE_LIMIT", "IDENTITIES_RATE_LIMIT_REDIS"} {
		assert.Contains(t, help.String(), "[$"+name+"]")
	}

	db := filepath.Join(t.TempDir(), "env.db")
	t.Setenv("IDENTITIES_DB", db)
	t.Setenv("IDENTITIES_RATE_LIMIT", "7")
	t.Setenv("IDENTITIES_ADDR", "127.0.0.1:1") // the command line's --addr wins
	p := runInProcess(t, "serve", "--addr", "127.0.0.1:0")
	log := p.stderr.waitFor(t, "msg=serving ")
	assert.Contains(t, log, "db="+db)
	assert.Contains(t, log, "rate_limit=7")
	p.stop(t)

	t.Setenv("IDENTITIES_RATE_LIMIT", "many")
	var errOut bytes.Buffer
	assert.Equal(t, exitUsage, run(context.Background(), []string{"serve"}, &errOut, &errOut))
	assert.Contains(t, errOut.String(), "$IDENTITIES_RATE_LIMIT")
}

// TestBaseURLFromTheEnvironment: the client commands read the base URL from
// DRATA_API_BASE_URL when --base-url is not given.
func TestBaseURLFromTheEnvironment(t *testing.T) {
	addr := apitest.RefusingAddr(t)
	t.Setenv(baseURLEnv, "http://"+addr+"/from-env")
	t.Setenv(tokenEnv, "t")
	var out, errOut bytes.Buffer
	assert.Equal(t, exitNetwork, run(context.Background(), []string{"infrastructure", "list", "--retries", "0"}, &out, &errOut))
	assert.Contains(t, errOut.String(), addr)
}
