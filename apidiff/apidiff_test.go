package apidiff_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/oasdiff/oasdiff/load"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/apidiff"
)

// doc is a copy of api/openapi.yaml to edit.
type doc map[string]any

// parsed is api/openapi.yaml parsed once; spec copies it.
var parsed = sync.OnceValues(func() (map[string]any, error) {
	var d map[string]any // not doc, whose type yaml would give every nested object
	err := yaml.Unmarshal(api.Spec, &d)
	return d, err
})

// spec is a copy of api/openapi.yaml to edit.
func spec(t *testing.T) doc {
	t.Helper()
	d, err := parsed()
	require.NoError(t, err)
	return deepCopy(d).(map[string]any)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopy(e)
		}
		return c
	default:
		return v
	}
}

// base is api/openapi.yaml loaded once, shared by the comparisons (which
// only read it).
var base = sync.OnceValues(func() (*load.SpecInfo, error) { return apidiff.Load("openapi.yaml", api.Spec) })

// at is the object at keys, which must exist.
func (d doc) at(t *testing.T, keys ...string) map[string]any {
	t.Helper()
	m := map[string]any(d)
	for i, k := range keys {
		next, ok := m[k].(map[string]any)
		require.Truef(t, ok, "no object at %s", strings.Join(keys[:i+1], " > "))
		m = next
	}
	return m
}

// bytes is the edited document, as YAML.
func (d doc) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := yaml.Marshal(map[string]any(d))
	require.NoError(t, err)
	return b
}

// compare compares api/openapi.yaml with its edited copy.
func compare(t *testing.T, edited doc) *apidiff.Report {
	t.Helper()
	b, err := base()
	require.NoError(t, err)
	rev, err := apidiff.Load("edited.yaml", edited.bytes(t))
	require.NoError(t, err, "the edited document must still be valid")
	r, err := apidiff.Compare(b, rev)
	require.NoError(t, err)
	return r
}

func removeString(t *testing.T, list any, s string) []any {
	t.Helper()
	l, ok := list.([]any)
	require.True(t, ok, "not a list")
	i := slices.Index(l, any(s))
	require.GreaterOrEqual(t, i, 0, "%q is not in the list", s)
	return slices.Delete(slices.Clone(l), i, i+1)
}

const (
	listInfra  = "/user-identities/infrastructure"
	toggleVCS  = "/user-identities/version-control/{id}/toggle"
	connectInf = "/user-identities/infrastructure/{id}/connect"
)

func TestCompareLevels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(t *testing.T, d doc)
		rule  string        // a finding of this rule must be reported...
		level apidiff.Level // ...at this level, the report's highest
	}{
		{
			name: "remove an enum member of a request parameter",
			edit: func(t *testing.T, d doc) {
				s := d.at(t, "components", "schemas", "InfrastructureClientType")
				s["enum"] = removeString(t, s["enum"], "HEROKU")
			},
			rule: "request-parameter-enum-value-removed", level: apidiff.Err,
		},
		{
			name: "make an optional parameter required",
			edit: func(t *testing.T, d doc) {
				d.at(t, "components", "parameters", "Limit")["required"] = true
			},
			rule: "request-parameter-became-required", level: apidiff.Err,
		},
		{
			name: "remove a response property",
			edit: func(t *testing.T, d doc) {
				s := d.at(t, "components", "schemas", "InfrastructureIdentity")
				delete(s["properties"].(map[string]any), "dbAccess")
				s["required"] = removeString(t, s["required"], "dbAccess")
			},
			rule: "response-required-property-removed", level: apidiff.Err,
		},
		{
			name: "remove an operation",
			edit: func(t *testing.T, d doc) {
				delete(d.at(t, "paths"), toggleVCS)
			},
			rule: "api-path-removed-without-deprecation", level: apidiff.Err,
		},
		{
			name: "add a required request property",
			edit: func(t *testing.T, d doc) {
				s := d.at(t, "components", "schemas", "ConnectRequest")
				s["properties"].(map[string]any)["note"] = map[string]any{"type": "string"}
				s["required"] = append(s["required"].([]any), "note")
			},
			rule: "new-required-request-property", level: apidiff.Err,
		},
		{
			name: "narrow a request property's maxLength",
			edit: func(t *testing.T, d doc) {
				d.at(t, "components", "schemas", "ServiceAccountRequest", "properties", "serviceAccountReason")["maxLength"] = 100
			},
			rule: "request-property-max-length-decreased", level: apidiff.Err,
		},
		{
			name: "lower a parameter's maximum",
			edit: func(t *testing.T, d doc) {
				d.at(t, "components", "parameters", "Limit", "schema")["maximum"] = 20
			},
			rule: "request-parameter-max-decreased", level: apidiff.Err,
		},
		{
			name: "change a response property's type",
			edit: func(t *testing.T, d doc) {
				p := d.at(t, "components", "schemas", "InfrastructureIdentity", "properties", "id")
				p["type"] = "string"
				delete(p, "format")
				p["example"] = "1"
			},
			rule: "response-property-type-changed", level: apidiff.Err,
		},
		{
			name: "add an optional query parameter",
			edit: func(t *testing.T, d doc) {
				op := d.at(t, "paths", listInfra, "get")
				op["parameters"] = append(op["parameters"].([]any), map[string]any{
					"name": "hasMfa", "in": "query", "description": "Keep identities with or without MFA.",
					"schema": map[string]any{"type": "boolean"},
				})
			},
			rule: "new-optional-request-parameter", level: apidiff.Info,
		},
		{
			name: "widen a parameter's maxLength",
			edit: func(t *testing.T, d doc) {
				d.at(t, "components", "parameters", "Query", "schema")["maxLength"] = 512
			},
			rule: "request-parameter-max-length-increased", level: apidiff.Info,
		},
		{
			name: "raise a parameter's maximum",
			edit: func(t *testing.T, d doc) {
				d.at(t, "components", "parameters", "Limit", "schema")["maximum"] = 100
			},
			rule: "request-parameter-max-increased", level: apidiff.Info,
		},
		{
			name: "add an enum member to a request parameter",
			edit: func(t *testing.T, d doc) {
				s := d.at(t, "components", "schemas", "InfrastructureClientType")
				s["enum"] = append(s["enum"].([]any), "ORACLE")
			},
			rule: "request-parameter-enum-value-added", level: apidiff.Info,
		},
		{
			// oasdiff counts it as breaking (a client that switches over
			// the values meets one it does not know) unless the enum is
			// marked x-extensible-enum.
			name: "add an enum member to a response property",
			edit: func(t *testing.T, d doc) {
				p := d.at(t, "components", "schemas", "Error", "properties", "code")
				p["enum"] = append(p["enum"].([]any), "GONE")
			},
			rule: "response-property-enum-value-added", level: apidiff.Err,
		},
		{
			name: "add an operation",
			edit: func(t *testing.T, d doc) {
				paths := d.at(t, "paths")
				get := d.at(t, "paths", listInfra, "get")
				op := map[string]any{}
				for k, v := range get {
					op[k] = v
				}
				op["operationId"] = "listInfrastructureIdentitiesAgain"
				paths["/user-identities/infrastructure-again"] = map[string]any{"get": op}
			},
			rule: "endpoint-added", level: apidiff.Info,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := spec(t)
			c.edit(t, d)
			r := compare(t, d)
			for _, f := range r.Findings {
				t.Logf("%s %s %s: %s", f.Level, f.Rule, f.Where(), f.Text)
			}
			i := slices.IndexFunc(r.Findings, func(f apidiff.Finding) bool { return f.Rule == c.rule })
			require.GreaterOrEqualf(t, i, 0, "no %s finding", c.rule)
			f := r.Findings[i]
			assert.Equal(t, c.level, f.Level, "level of %s", c.rule)
			assert.Equal(t, c.level, r.Findings[0].Level, "the highest level of the report")
			assert.NotEmpty(t, f.Text)
			assert.Equal(t, "1.0.0", r.Base.Version)
			assert.Equal(t, "1.0.0", r.Revision.Version)
			assert.Equal(t, c.level == apidiff.Err, r.Has(apidiff.Err))
		})
	}
}

func TestCompareUnchanged(t *testing.T) {
	t.Parallel()
	r := compare(t, spec(t))
	assert.Empty(t, r.Findings)
	assert.False(t, r.Has(apidiff.Info))
	assert.True(t, r.Gate(apidiff.Err).Pass)
}

func TestFindingNamesTheOperation(t *testing.T) {
	t.Parallel()
	d := spec(t)
	s := d.at(t, "components", "schemas", "InfrastructureClientType")
	s["enum"] = removeString(t, s["enum"], "HEROKU")
	r := compare(t, d)
	require.Len(t, r.Findings, 1)
	f := r.Findings[0]
	assert.Equal(t, "GET", f.Method)
	assert.Equal(t, listInfra, f.Path)
	assert.Equal(t, "listInfrastructureIdentities", f.OperationID)
	assert.Equal(t, "GET "+listInfra, f.Where())
	assert.Contains(t, f.Text, "`HEROKU`")
	assert.Contains(t, f.Text, "`clientType`")
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"not YAML":             "{{{",
		"not OpenAPI":          "hello: world\n",
		"invalid OpenAPI":      "openapi: 3.0.3\ninfo: {title: x, version: 1.0.0}\npaths:\n  /x:\n    get:\n      responses: {}\n",
		"a dangling reference": strings.Replace(string(api.Spec), "'#/components/schemas/Error'", "'#/components/schemas/Nope'", 1),
	} {
		_, err := apidiff.Load(name, []byte(data))
		assert.Error(t, err, name)
	}
	_, err := apidiff.LoadFile("no/such/file.yaml")
	assert.Error(t, err)
}

func TestGate(t *testing.T) {
	t.Parallel()
	breaking := func(t *testing.T, version string) *apidiff.Report {
		d := spec(t)
		delete(d.at(t, "paths"), toggleVCS)
		d.at(t, "info")["version"] = version
		return compare(t, d)
	}
	additive := func(t *testing.T, version string) *apidiff.Report {
		d := spec(t)
		s := d.at(t, "components", "schemas", "InfrastructureClientType")
		s["enum"] = append(s["enum"].([]any), "ORACLE")
		d.at(t, "info")["version"] = version
		return compare(t, d)
	}
	cases := []struct {
		name   string
		report func(t *testing.T) *apidiff.Report
		failOn apidiff.Level
		pass   bool
		reason string
	}{
		{"a breaking change, version unchanged", func(t *testing.T) *apidiff.Report { return breaking(t, "1.0.0") }, apidiff.Err, false, "raise info.version to 2.0.0"},
		{"a breaking change in a minor release", func(t *testing.T) *apidiff.Report { return breaking(t, "1.1.0") }, apidiff.Err, false, "keeps major 1"},
		{"a breaking change in a new major", func(t *testing.T) *apidiff.Report { return breaking(t, "2.0.0") }, apidiff.Err, true, "from 1 (1.0.0) to 2 (2.0.0)"},
		{"a v-prefixed major", func(t *testing.T) *apidiff.Report { return breaking(t, "v2.0.0") }, apidiff.Err, true, "allowed"},
		{"a version that is not semver", func(t *testing.T) *apidiff.Report { return breaking(t, "next") }, apidiff.Err, false, "not a semantic version"},
		{"an addition in a minor release", func(t *testing.T) *apidiff.Report { return additive(t, "1.1.0") }, apidiff.Err, true, "no change at ERR"},
		{"an addition, failing on INFO", func(t *testing.T) *apidiff.Report { return additive(t, "1.1.0") }, apidiff.Info, false, "2 changes at INFO"}, // the enum member and the version
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := c.report(t).Gate(c.failOn)
			assert.Equal(t, c.pass, v.Pass, v.Reason)
			assert.Contains(t, v.Reason, c.reason)
		})
	}
}

// TestReleasedDocument is the gate of CI, run on the committed documents:
// api/released/openapi.yaml is a release, and api/openapi.yaml may change
// it only as the gate allows.
func TestReleasedDocument(t *testing.T) {
	t.Parallel()
	r, err := apidiff.CompareFiles("../api/released/openapi.yaml", "../api/openapi.yaml")
	require.NoError(t, err)
	_, err = apidiff.Major(r.Base.Version)
	require.NoError(t, err, "the released info.version")
	v := r.Gate(apidiff.Err)
	assert.True(t, v.Pass, v.Reason)
}

func TestRender(t *testing.T) {
	t.Parallel()
	d := spec(t)
	s := d.at(t, "components", "schemas", "InfrastructureClientType")
	s["enum"] = removeString(t, s["enum"], "HEROKU")
	op := d.at(t, "paths", listInfra, "get")
	op["parameters"] = append(op["parameters"].([]any), map[string]any{"name": "hasMfa", "in": "query", "schema": map[string]any{"type": "boolean"}})
	d.at(t, "info")["version"] = "2.0.0"
	r := compare(t, d)

	render := func(f apidiff.Format) string {
		var b bytes.Buffer
		require.NoError(t, r.Render(&b, f))
		return b.String()
	}

	text := render(apidiff.Text)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	require.Len(t, lines, 4, text)
	assert.Equal(t, "openapi.yaml (1.0.0) -> edited.yaml (2.0.0): 1 ERR, 0 WARN, 2 INFO", lines[0])
	assert.Regexp(t, `^ERR   GET /user-identities/infrastructure: .*'HEROKU'.* \[request-parameter-enum-value-removed\]$`, lines[1])
	assert.Contains(t, lines[2:], "INFO  info: the API version changed from '1.0.0' to '2.0.0' [api-version-changed]")
	assert.Regexp(t, `^INFO  GET /user-identities/infrastructure: .*'hasMfa'.* \[new-optional-request-parameter\]$`, lines[3])

	var got struct {
		Base     apidiff.Document
		Revision apidiff.Document
		Findings []apidiff.Finding
		Summary  map[string]int
	}
	require.NoError(t, json.Unmarshal([]byte(render(apidiff.JSON)), &got))
	assert.Equal(t, apidiff.Document{Source: "openapi.yaml", Version: "1.0.0"}, got.Base)
	assert.Equal(t, "2.0.0", got.Revision.Version)
	assert.Equal(t, map[string]int{"ERR": 1, "WARN": 0, "INFO": 2}, got.Summary)
	require.Len(t, got.Findings, 3)
	assert.Equal(t, apidiff.Err, got.Findings[0].Level)
	assert.Equal(t, "request-parameter-enum-value-removed", got.Findings[0].Rule)
	assert.Equal(t, "listInfrastructureIdentities", got.Findings[0].OperationID)

	md := render(apidiff.Markdown)
	assert.True(t, strings.HasPrefix(md, "## 2.0.0\n\nChanges since 1.0.0"), md)
	assert.Contains(t, md, "\n### Breaking changes (ERR)\n\n- `GET /user-identities/infrastructure`: ")
	assert.Contains(t, md, "`HEROKU`")
	assert.Contains(t, md, "(`request-parameter-enum-value-removed`)")
	assert.Contains(t, md, "\n### Other changes (INFO)\n")
	assert.NotContains(t, md, "(WARN)")

	empty := compare(t, spec(t))
	var b bytes.Buffer
	require.NoError(t, empty.Render(&b, apidiff.Markdown))
	assert.Equal(t, "## 1.0.0\n\nNo change to the contract since 1.0.0.\n", b.String())
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"ERR", "err", "Warn", "INFO"} {
		_, err := apidiff.ParseLevel(s)
		assert.NoError(t, err, s)
	}
	_, err := apidiff.ParseLevel("FATAL")
	assert.Error(t, err)
	for _, s := range []string{"text", "JSON", "markdown"} {
		_, err := apidiff.ParseFormat(s)
		assert.NoError(t, err, s)
	}
	_, err = apidiff.ParseFormat("html")
	assert.Error(t, err)
	_, err = apidiff.Major("1.2")
	assert.NoError(t, err, "x/mod/semver reads MAJOR.MINOR as MAJOR.MINOR.0")
}
