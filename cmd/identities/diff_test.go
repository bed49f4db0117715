package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
)

// diffDocs writes api/openapi.yaml and edited copies of it into a directory.
type diffDocs struct {
	dir                            string
	old, breaking, major, additive string
}

func writeDiffDocs(t *testing.T) diffDocs {
	t.Helper()
	dir := t.TempDir()
	edit := func(doc []byte, old, new string) []byte {
		t.Helper()
		require.Equal(t, 1, bytes.Count(doc, []byte(old)), "%q must be in the document once", old)
		return bytes.Replace(doc, []byte(old), []byte(new), 1)
	}
	write := func(name string, doc []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, doc, 0o600))
		return p
	}
	breaking := edit(api.Spec, "        - HEROKU\n", "")
	return diffDocs{
		dir:      dir,
		old:      write("old.yaml", api.Spec),
		breaking: write("breaking.yaml", breaking),
		major:    write("major.yaml", edit(breaking, "\n  version: 1.0.0\n", "\n  version: 2.0.0\n")),
		additive: write("additive.yaml", edit(api.Spec, "        - AWS_ORG_UNITS\n", "        - AWS_ORG_UNITS\n        - ORACLE\n")),
	}
}

func runDiff(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"diff"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestDiffCommandExitCodes(t *testing.T) {
	t.Parallel()
	d := writeDiffDocs(t)
	bad := filepath.Join(d.dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("openapi: 3.0.3\ninfo: [\n"), 0o600))
	cases := []struct {
		name   string
		args   []string
		code   int
		stderr string // a line of stderr, when set
	}{
		{"no change", []string{d.old, d.old}, exitOK, ""},
		{"a breaking change", []string{d.old, d.breaking}, exitFailure, "identities diff: 1 change at ERR or above"},
		{"an addition", []string{d.old, d.additive}, exitOK, ""},
		{"an addition, failing on WARN", []string{"--fail-on", "WARN", d.old, d.additive}, exitOK, ""},
		{"an addition, failing on INFO", []string{"--fail-on", "info", d.old, d.additive}, exitFailure, "identities diff: 1 change at INFO or above"},
		{"flags after the documents", []string{d.old, d.breaking, "--format", "json"}, exitFailure, ""},
		{"gate: a breaking change without a new major", []string{"--gate", d.old, d.breaking}, exitFailure, "identities diff: gate failed: 1 change at ERR or above from 1.0.0, and info.version 1.0.0 keeps major 1: undo them, or raise info.version to 2.0.0"},
		{"gate: a breaking change with a new major", []string{"--gate", d.old, d.major}, exitOK, "identities diff: gate passed: 1 change at ERR or above, allowed: info.version's major goes from 1 (1.0.0) to 2 (2.0.0)"},
		{"gate: an addition", []string{"--gate", d.old, d.additive}, exitOK, "identities diff: gate passed: no change at ERR or above from 1.0.0 to 1.0.0"},
		{"no documents", nil, exitUsage, "identities diff: missing the OLD and NEW documents (identities diff OLD NEW)"},
		{"one document", []string{d.old}, exitUsage, "identities diff: missing the OLD and NEW documents (identities diff OLD NEW)"},
		{"three documents", []string{d.old, d.old, d.old}, exitUsage, "identities diff: unexpected arguments: " + d.old},
		{"an unknown format", []string{"--format", "html", d.old, d.old}, exitUsage, `identities diff: --format: unknown format "html": want text, json or markdown`},
		{"an unknown level", []string{"--fail-on", "FATAL", d.old, d.old}, exitUsage, `identities diff: --fail-on: unknown level "FATAL": want ERR, WARN or INFO`},
		{"a missing file", []string{d.old, filepath.Join(d.dir, "nope.yaml")}, exitUsage, ""},
		{"a document that does not parse", []string{bad, d.old}, exitUsage, ""},
		{"help", []string{"-h"}, exitOK, "usage: identities diff [flags] OLD NEW"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runDiff(c.args...)
			assert.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			if c.stderr != "" {
				assert.Contains(t, strings.Split(stderr, "\n"), c.stderr)
			}
			if c.code == exitUsage && c.name != "help" {
				assert.Empty(t, stdout)
				assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line of error: %q", stderr)
				assert.True(t, strings.HasPrefix(stderr, "identities diff: "), stderr)
			}
		})
	}
}

func TestDiffCommandFormats(t *testing.T) {
	t.Parallel()
	d := writeDiffDocs(t)

	code, stdout, _ := runDiff(d.old, d.breaking)
	require.Equal(t, exitFailure, code)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.Len(t, lines, 2, stdout)
	assert.Equal(t, d.old+" (1.0.0) -> "+d.breaking+" (1.0.0): 1 ERR, 0 WARN, 0 INFO", lines[0])
	assert.Equal(t, "ERR   GET /user-identities/infrastructure: removed the enum value 'HEROKU' from the 'query' request parameter 'clientType' [request-parameter-enum-value-removed]", lines[1])

	code, stdout, _ = runDiff("--format", "json", d.old, d.major)
	require.Equal(t, exitFailure, code)
	var report struct {
		Base, Revision struct{ Source, Version string }
		Findings       []struct{ Level, Rule, Text, Method, Path, OperationID string }
		Summary        map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &report), stdout)
	assert.Equal(t, "1.0.0", report.Base.Version)
	assert.Equal(t, "2.0.0", report.Revision.Version)
	assert.Equal(t, map[string]int{"ERR": 1, "WARN": 0, "INFO": 1}, report.Summary)
	require.NotEmpty(t, report.Findings)
	f := report.Findings[0]
	assert.Equal(t, "ERR", f.Level)
	assert.Equal(t, "request-parameter-enum-value-removed", f.Rule)
	assert.Equal(t, "listInfrastructureIdentities", f.OperationID)
	assert.Equal(t, "GET", f.Method)
	assert.Contains(t, f.Text, "`HEROKU`")

	code, stdout, stderr := runDiff("--gate", "--format", "markdown", d.old, d.major)
	require.Equal(t, exitOK, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "## 2.0.0\n\nChanges since 1.0.0"), stdout)
	assert.Contains(t, stdout, "### Breaking changes (ERR)\n\n- `GET /user-identities/infrastructure`: removed the enum value `HEROKU` from the `query` request parameter `clientType` (`request-parameter-enum-value-removed`)\n")
	assert.Contains(t, stdout, "### Other changes (INFO)\n\n- `info`: the API version changed from `1.0.0` to `2.0.0` (`api-version-changed`)\n")
}

// TestCheckBreakingOnTheRepository runs what make check-breaking runs.
func TestCheckBreakingOnTheRepository(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runDiff("--gate", "--format", "markdown", "../../api/released/openapi.yaml", "../../api/openapi.yaml")
	require.Equal(t, exitOK, code, "%s%s", stdout, stderr)
	assert.Contains(t, stderr, "gate passed")
}
