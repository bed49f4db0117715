package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/identities-go/identities/api"
)

// This file checks api/openapi.yaml against the API reference (the seed
// renderings 000_4757b6ba49dda8ea.txt, the newest, which wins, and the older
// 001_53d0f28b8e9f4d38.txt, 002_ba2492ef29dff9b8.txt, 003_abe19a5b34cbf9b7.txt). Every
// expected value below is written out literally, copied from the seeds or,
// where the document deliberately deviates from them, from the deviation
// its description lists. Nothing is read back from the document itself, so
// dropping a bound, an enum member, a status or a field makes the test fail;
// TestSpecCheckerCatchesMutations proves it does, by mutating the loaded
// document. What the document adds where the seeds are silent (a length cap
// on q, a minimum on ids, 413, 415 and 429, the error body) is its own
// business: the server's tests hold the server to it, and this file leaves
// it alone.

// loadSpec loads and validates an OpenAPI document as the server does.
func loadSpec(data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return doc, nil
}

func ptr[T any](v T) *T { return &v }

// param is one expected parameter. A bound the seeds do not give (nil) is
// not checked.
type param struct {
	name, in string
	required bool
	// kind is the schema's type, with "/format" when it has one.
	kind      string
	min, max  *float64
	maxLength *uint64
	def       any // nil: no default
	enum      []string
}

// Seed: "page number >= 1, Default: 1". Integer, not number: the document's
// first deliberate deviation (ids and paging are integer/int64).
var pageParam = param{name: "page", in: "query", kind: "integer/int64", min: ptr(1.0), def: 1.0}

// Seed: "limit number [ 1 .. 50 ], Default: 20".
var limitParam = param{name: "limit", in: "query", kind: "integer/int64", min: ptr(1.0), max: ptr(50.0), def: 20.0}

// Seed: "q string".
var qParam = param{name: "q", in: "query", kind: "string"}

// Seed: "connectionId number".
var connectionIDParam = param{name: "connectionId", in: "query", kind: "integer/int64"}

// Seed: "sortDir string, Which direction to sort the data (default: ASC),
// Enum: "ASC" "DESC"".
var sortDirParam = param{name: "sortDir", in: "query", kind: "string", def: "ASC", enum: []string{"ASC", "DESC"}}

// Seed: "path Parameters id required number".
var idParam = param{name: "id", in: "path", required: true, kind: "integer/int64"}

// family holds what differs between the two identity families.
type family struct {
	name        string // path segment
	permission  string // seed: "Requires Connections: … permission"
	clientTypes []string
	sorts       []string
	toggleEnum  []string
	accessField [2]string // the family's two access timestamps
}

var families = []family{
	{
		name:       "infrastructure",
		permission: "Manage Infrastructure User Identities",
		clientTypes: []string{"AWS", "AWS_GOV_CLOUD", "DIGITAL_OCEAN", "GCP", "HEROKU", "AZURE",
			"AZURE_ORG_UNITS", "MONGO_DB_ATLAS", "CLOUDFLARE", "AWS_ORG_UNITS"},
		sorts: []string{"IDENTITY_ID", "USERNAME", "EMAIL", "CONNECTED_AT", "DISCONNECTED_AT", "SERVICE_ACCOUNT",
			"HAS_MFA", "ADMIN_ACCESS", "DB_ACCESS", "USER", "CLIENT_ID", "CLIENT_ALIAS", "CONNECTION_STATUS"},
		toggleEnum:  []string{"INFRASTRUCTURE_ADMIN_ACCESS", "INFRASTRUCTURE_DB_ACCESS"},
		accessField: [2]string{"adminAccess", "dbAccess"},
	},
	{
		name:       "version-control",
		permission: "Manage Version Control User Identities",
		clientTypes: []string{"BITBUCKET", "GITHUB", "GITHUB_ENTERPRISE", "GITLAB", "GITLAB_ON_PREM",
			"AZURE_REPOS", "AWS_CODECOMMIT"},
		sorts: []string{"IDENTITY_ID", "USERNAME", "EMAIL", "CONNECTED_AT", "DISCONNECTED_AT", "SERVICE_ACCOUNT",
			"HAS_MFA", "WRITE_ACCESS", "PUSH_PROD_CODE_ACCESS", "USER", "CLIENT_ID", "CONNECTION_STATUS"},
		toggleEnum:  []string{"VERSION_CONTROL_WRITE_ACCESS", "VERSION_CONTROL_PUSH_PROD_CODE_ACCESS"},
		accessField: [2]string{"writeAccess", "pushProductionCodeAccess"},
	},
}

// field is one expected property of a response object.
type field struct {
	name string
	// kind: "integer/int64", "string", "string/date-time", "string/date",
	// "boolean", "object", "array<…>".
	kind     string
	nullable bool
	// optional: shown in some samples only, so not required.
	optional bool
	// object names the expected fields of a nested object (or of the items
	// of an array of objects); nil when it is not checked further here.
	object func() []field
}

// identityFields are the fields of seed 000's identity samples, in order.
func identityFields(f family) []field {
	return []field{
		{name: "id", kind: "integer/int64"},
		{name: "identityId", kind: "string"},
		{name: "username", kind: "string"},
		{name: "email", kind: "string", nullable: true},
		{name: "connectedAt", kind: "string/date-time", nullable: true},
		{name: "disconnectedAt", kind: "string/date-time", nullable: true},
		// A timestamp in responses (a boolean in requests).
		{name: "serviceAccount", kind: "string/date-time", nullable: true},
		{name: "serviceAccountReason", kind: "string", nullable: true},
		{name: "user", kind: "object", nullable: true, object: userFields},
		{name: "serviceAccountDesignator", kind: "object", nullable: true, object: userFields},
		{name: "hasMfa", kind: "boolean"},
		{name: "connection", kind: "object", object: connectionFields},
		{name: "lastCheckedAt", kind: "string/date-time", nullable: true},
		{name: "createdAt", kind: "string/date-time"},
		{name: "updatedAt", kind: "string/date-time"},
		{name: f.accessField[0], kind: "string/date-time", nullable: true},
		{name: f.accessField[1], kind: "string/date-time", nullable: true},
	}
}

func userFields() []field {
	return []field{
		{name: "id", kind: "integer/int64"},
		{name: "entryId", kind: "string"},
		{name: "email", kind: "string"},
		{name: "firstName", kind: "string"},
		{name: "lastName", kind: "string"},
		{name: "jobTitle", kind: "string", nullable: true},
		{name: "drataTermsAgreedAt", kind: "string/date-time", nullable: true},
		{name: "createdAt", kind: "string/date-time"},
		{name: "updatedAt", kind: "string/date-time"},
		{name: "roles", kind: "array<string>"},
		{name: "backgroundChecks", kind: "array<object>", object: backgroundCheckFields},
		{name: "identities", kind: "array<object>", object: personIdentityFields},
		{name: "documents", kind: "array<object>", object: documentPageFields},
	}
}

func backgroundCheckFields() []field {
	return []field{
		{name: "id", kind: "integer/int64"},
		{name: "userId", kind: "integer/int64"},
		{name: "status", kind: "string"},
		{name: "caseId", kind: "string", nullable: true},
		{name: "caseInvitationId", kind: "string", nullable: true},
		{name: "manualCheckDate", kind: "string/date", nullable: true},
		{name: "manuallyCheckUrl", kind: "string", nullable: true},
		{name: "type", kind: "string"},
		{name: "source", kind: "string"},
		{name: "reportData", kind: "string", nullable: true},
		{name: "user", kind: "object", nullable: true},
		{name: "outOfScopeReason", kind: "string", nullable: true},
		{name: "outOfScopeAt", kind: "string/date-time", nullable: true},
		{name: "invitationEmail", kind: "string", nullable: true},
		{name: "linkedAt", kind: "string/date-time", nullable: true},
		{name: "createdAt", kind: "string/date-time"},
		{name: "updatedAt", kind: "string/date-time"},
	}
}

func personIdentityFields() []field {
	return []field{
		{name: "id", kind: "integer/int64"},
		{name: "identityId", kind: "string"},
		{name: "username", kind: "string"},
		{name: "connectedAt", kind: "string/date-time", nullable: true},
		{name: "disconnectedAt", kind: "string/date-time", nullable: true},
		{name: "hasMfa", kind: "boolean"},
		{name: "user", kind: "object", nullable: true},
		{name: "connection", kind: "object", nullable: true, object: connectionFields},
		{name: "hasIdp", kind: "boolean"},
		{name: "secondaryEmail", kind: "string", nullable: true},
		{name: "firstName", kind: "string", nullable: true},
		{name: "lastName", kind: "string", nullable: true},
		{name: "startedAt", kind: "string/date-time", nullable: true},
		{name: "separatedAt", kind: "string/date-time", nullable: true},
		{name: "isContractor", kind: "boolean"},
		{name: "jobTitle", kind: "string", nullable: true},
		{name: "managerId", kind: "string", nullable: true},
		{name: "managerName", kind: "string", nullable: true},
	}
}

func connectionFields() []field {
	return []field{
		// A decimal string in every sample ("1").
		{name: "id", kind: "string"},
		{name: "clientType", kind: "string"},
		{name: "state", kind: "string"},
		{name: "connected", kind: "boolean"},
		{name: "connectedAt", kind: "string/date-time", nullable: true},
		{name: "failedAt", kind: "string/date-time", nullable: true},
		{name: "companyId", kind: "string"},
		{name: "assignmentId", kind: "string", nullable: true},
		{name: "user", kind: "object", nullable: true},
		{name: "accountId", kind: "string", nullable: true},
		{name: "clientId", kind: "string", nullable: true},
		{name: "clientAlias", kind: "string", nullable: true},
		{name: "manuallyUpdatedAt", kind: "string/date-time", nullable: true},
		{name: "aliasUpdatedAt", kind: "string/date-time", nullable: true},
		{name: "deletedAt", kind: "string/date-time", nullable: true},
		{name: "requestorId", kind: "string", nullable: true},
		// An object in seed 000 ("product": { }); older renderings show "".
		{name: "product", kind: "object", nullable: true},
		{name: "writeAccessEnabled", kind: "boolean"},
		{name: "sourcePreference", kind: "string", nullable: true},
		{name: "securityLabel", kind: "string", nullable: true},
		{name: "jqlQuery", kind: "string", nullable: true},
		{name: "authorized", kind: "boolean"},
		{name: "workspaces", kind: "array<object>"},
		{name: "providerTypes", kind: "array<integer/int64>"},
		{name: "code", kind: "integer/int64", nullable: true},
		{name: "groupLabel", kind: "string", nullable: true},
	}
}

func documentPageFields() []field {
	return []field{
		{name: "data", kind: "array<object>", object: documentFields},
		{name: "page", kind: "integer/int64"},
		{name: "limit", kind: "integer/int64"},
		{name: "total", kind: "integer/int64"},
	}
}

// Seed 000 shows a document with every field null, and one without fileUrl.
func documentFields() []field {
	return []field{
		{name: "id", kind: "integer/int64", nullable: true},
		{name: "name", kind: "string", nullable: true},
		{name: "type", kind: "string", nullable: true},
		{name: "fileUrl", kind: "string", nullable: true, optional: true},
		{name: "renewalDate", kind: "string/date", nullable: true},
		{name: "createdAt", kind: "string/date-time", nullable: true},
		{name: "updatedAt", kind: "string/date-time", nullable: true},
	}
}

func pageFields(f family) []field {
	return []field{
		{name: "data", kind: "array<object>", object: func() []field { return identityFields(f) }},
		{name: "page", kind: "integer/int64"},
		{name: "limit", kind: "integer/int64"},
		{name: "total", kind: "integer/int64"},
	}
}

// bodyProp is one expected property of a request body.
type bodyProp struct {
	name      string
	kind      string
	required  bool
	nullable  bool
	maxLength *uint64
	enum      []string
}

// operation is one expected operation.
type operation struct {
	method, path, id string
	permission       string
	params           []param
	body             []bodyProp // nil: no request body
	statuses         []string
	// response is the expected 200 body: a page or an identity.
	response []field
}

// Seed 000 lists 200, 400, 401, 402, 403, 412 and 500 on the lists, and 404
// as well on the PUTs.
var (
	listStatuses = []string{"200", "400", "401", "402", "403", "412", "500"}
	putStatuses  = []string{"200", "400", "401", "402", "403", "404", "412", "500"}
)

func expectedOperations() []operation {
	var ops []operation
	for _, f := range families {
		base := "/user-identities/" + f.name
		// operationId stem: Infrastructure or VersionControl.
		stem := map[string]string{"infrastructure": "Infrastructure", "version-control": "VersionControl"}[f.name]
		ops = append(ops,
			operation{
				method: "GET", path: base, id: "list" + stem + "Identities", permission: f.permission,
				params: []param{
					pageParam, limitParam, qParam,
					{name: "clientType", in: "query", kind: "string", enum: f.clientTypes},
					connectionIDParam,
					// Seed: "Which type of sort (default: USERNAME)".
					{name: "sort", in: "query", kind: "string", def: "USERNAME", enum: f.sorts},
					sortDirParam,
				},
				statuses: listStatuses,
				response: pageFields(f),
			},
			operation{
				method: "PUT", path: base + "/{id}/connect", id: "connect" + stem + "Identity", permission: f.permission,
				params: []param{idParam},
				// Seed: "userId required number or null".
				body:     []bodyProp{{name: "userId", kind: "integer/int64", required: true, nullable: true}},
				statuses: putStatuses,
				response: identityFields(f),
			},
			operation{
				method: "PUT", path: base + "/{id}/toggle", id: "toggle" + stem + "Identity", permission: f.permission,
				params: []param{idParam},
				// Seed: "toggle required boolean", "toggleField string Enum: …".
				body: []bodyProp{
					{name: "toggle", kind: "boolean", required: true},
					{name: "toggleField", kind: "string", enum: f.toggleEnum},
				},
				statuses: putStatuses,
				response: identityFields(f),
			},
			operation{
				method: "PUT", path: base + "/{id}/service-account", id: "set" + stem + "ServiceAccount", permission: f.permission,
				params: []param{idParam},
				// Seed: "serviceAccount required boolean",
				// "serviceAccountReason required string <= 30000 characters".
				body: []bodyProp{
					{name: "serviceAccount", kind: "boolean", required: true},
					{name: "serviceAccountReason", kind: "string", required: true, maxLength: ptr(uint64(30000))},
				},
				statuses: putStatuses,
				response: identityFields(f),
			},
		)
	}
	return ops
}

// problems collects what the document gets wrong.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// kindOf describes a schema the way field.kind does, looking through an
// allOf wrapper of one schema. It also reports whether null is allowed, as
// OpenAPI 3.0.3 reads nullable: only where every schema that applies allows
// it (a wrapper with a type of its own must say nullable too).
func kindOf(ref *openapi3.SchemaRef) (kind string, nullable bool, s *openapi3.Schema) {
	if ref == nil || ref.Value == nil {
		return "<missing>", false, nil
	}
	s = ref.Value
	nullable = s.Nullable
	if len(s.AllOf) == 1 && len(s.Properties) == 0 && s.Items == nil {
		wrapper := s
		s = s.AllOf[0].Value
		nullable = s.Nullable && (wrapper.Type == nil || wrapper.Nullable)
	}
	if s.Type == nil || len(s.Type.Slice()) != 1 {
		return "<no single type>", nullable, s
	}
	kind = s.Type.Slice()[0]
	if s.Format != "" {
		kind += "/" + s.Format
	}
	if kind == "array" {
		inner, _, _ := kindOf(s.Items)
		kind = "array<" + inner + ">"
	}
	return kind, nullable, s
}

// checkObject checks that s has exactly the expected fields.
func checkObject(p *problems, where string, s *openapi3.Schema, want []field) {
	if s == nil {
		p.add("%s: no schema", where)
		return
	}
	if s.Type == nil || !s.Type.Is("object") {
		p.add("%s: type is not object", where)
	}
	names := make([]string, 0, len(want))
	for _, w := range want {
		names = append(names, w.name)
		at := where + "." + w.name
		ref, ok := s.Properties[w.name]
		if !ok {
			p.add("%s: property missing", at)
			continue
		}
		if required := slices.Contains(s.Required, w.name); required == w.optional {
			p.add("%s: required = %v, want %v", at, required, !w.optional)
		}
		kind, nullable, inner := kindOf(ref)
		if kind != w.kind {
			p.add("%s: kind = %s, want %s", at, kind, w.kind)
		}
		if nullable != w.nullable {
			p.add("%s: nullable = %v, want %v", at, nullable, w.nullable)
		}
		if w.object != nil && inner != nil {
			if inner.Items != nil {
				inner = inner.Items.Value
				at += "[]"
			}
			checkObject(p, at, inner, w.object())
		}
	}
	for name := range s.Properties {
		if !slices.Contains(names, name) {
			p.add("%s.%s: property not in the seeds", where, name)
		}
	}
}

func checkParam(p *problems, where string, got *openapi3.Parameter, want param) {
	if got.In != want.in {
		p.add("%s: in = %q, want %q", where, got.In, want.in)
	}
	if got.Required != want.required {
		p.add("%s: required = %v, want %v", where, got.Required, want.required)
	}
	kind, nullable, s := kindOf(got.Schema)
	if kind != want.kind {
		p.add("%s: kind = %s, want %s", where, kind, want.kind)
	}
	if nullable {
		p.add("%s: nullable", where)
	}
	if s == nil {
		return
	}
	if want.min != nil && !reflect.DeepEqual(s.Min, want.min) {
		p.add("%s: minimum = %s, want %s", where, fmtPtr(s.Min), fmtPtr(want.min))
	}
	if want.max != nil && !reflect.DeepEqual(s.Max, want.max) {
		p.add("%s: maximum = %s, want %s", where, fmtPtr(s.Max), fmtPtr(want.max))
	}
	if want.maxLength != nil && !reflect.DeepEqual(s.MaxLength, want.maxLength) {
		p.add("%s: maxLength = %s, want %s", where, fmtPtr(s.MaxLength), fmtPtr(want.maxLength))
	}
	if s.ExclusiveMin.IsTrue() || s.ExclusiveMax.IsTrue() {
		p.add("%s: exclusive bounds", where)
	}
	if !reflect.DeepEqual(s.Default, want.def) {
		p.add("%s: default = %#v, want %#v", where, s.Default, want.def)
	}
	checkEnum(p, where, s.Enum, want.enum)
}

func checkEnum(p *problems, where string, got []any, want []string) {
	gotStrings := make([]string, 0, len(got))
	for _, v := range got {
		str, ok := v.(string)
		if !ok {
			p.add("%s: enum member %#v is not a string", where, v)
			continue
		}
		gotStrings = append(gotStrings, str)
	}
	for _, w := range want {
		if !slices.Contains(gotStrings, w) {
			p.add("%s: enum lacks %s", where, w)
		}
	}
	for _, g := range gotStrings {
		if !slices.Contains(want, g) {
			p.add("%s: enum has %s, which the seeds do not list", where, g)
		}
	}
	if len(gotStrings) != len(want) {
		p.add("%s: enum has %d members, want %d", where, len(gotStrings), len(want))
	}
}

func fmtPtr[T any](v *T) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(*v)
}

// checkSpec compares doc with every expectation of this file.
func checkSpec(doc *openapi3.T) problems {
	var p problems
	ops := expectedOperations()

	// Exactly the eight operations, nothing else.
	var want, got []string
	for _, op := range ops {
		want = append(want, op.method+" "+op.path)
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		p.add("operations = %v, want %v", got, want)
	}

	// Security: bearer everywhere.
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
		p.add("components.securitySchemes.bearerAuth is not an http bearer scheme")
	}
	bearer := openapi3.SecurityRequirements{{"bearerAuth": []string{}}}

	for _, op := range ops {
		where := op.method + " " + op.path
		item := doc.Paths.Value(op.path)
		if item == nil {
			continue // reported above
		}
		o := item.GetOperation(op.method)
		if o == nil {
			continue
		}
		if o.OperationID != op.id {
			p.add("%s: operationId = %q, want %q", where, o.OperationID, op.id)
		}
		if perm, _ := o.Extensions["x-drata-permission"].(string); perm != op.permission {
			p.add("%s: x-drata-permission = %q, want %q", where, perm, op.permission)
		}
		security := doc.Security
		if o.Security != nil {
			security = *o.Security
		}
		if !reflect.DeepEqual(normaliseSecurity(security), normaliseSecurity(bearer)) {
			p.add("%s: security = %v, want bearerAuth", where, security)
		}

		// Parameters, path-level ones included.
		params := map[string]*openapi3.Parameter{}
		for _, list := range []openapi3.Parameters{item.Parameters, o.Parameters} {
			for _, ref := range list {
				if ref.Value != nil {
					params[ref.Value.Name] = ref.Value
				}
			}
		}
		var wantNames []string
		for _, w := range op.params {
			wantNames = append(wantNames, w.name)
			if got, ok := params[w.name]; ok {
				checkParam(&p, where+" parameter "+w.name, got, w)
			}
		}
		gotNames := slices.Sorted(maps.Keys(params))
		slices.Sort(wantNames)
		if !slices.Equal(gotNames, wantNames) {
			p.add("%s: parameters = %v, want %v", where, gotNames, wantNames)
		}

		checkBody(&p, where, o, op.body)
		checkResponses(&p, where, o, op)
	}
	return p
}

func normaliseSecurity(reqs openapi3.SecurityRequirements) []string {
	var out []string
	for _, req := range reqs {
		for name, scopes := range req {
			out = append(out, name+":"+strings.Join(scopes, ","))
		}
	}
	slices.Sort(out)
	return out
}

func checkBody(p *problems, where string, o *openapi3.Operation, want []bodyProp) {
	if want == nil {
		if o.RequestBody != nil {
			p.add("%s: has a request body, want none", where)
		}
		return
	}
	if o.RequestBody == nil || o.RequestBody.Value == nil {
		p.add("%s: no request body", where)
		return
	}
	rb := o.RequestBody.Value
	if !rb.Required {
		p.add("%s: request body not required", where)
	}
	// Seed: "Request Body schema: application/json", and nothing else.
	if types := slices.Sorted(maps.Keys(rb.Content)); !slices.Equal(types, []string{"application/json"}) {
		p.add("%s: request body media types = %v, want [application/json]", where, types)
	}
	mt := rb.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		p.add("%s: request body has no application/json schema", where)
		return
	}
	s := mt.Schema.Value
	where += " body"
	if s.Type == nil || !s.Type.Is("object") {
		p.add("%s: type is not object", where)
	}
	if s.Nullable {
		p.add("%s: the body itself is nullable", where)
	}
	// Undocumented properties are rejected (a deliberate deviation).
	if ap := s.AdditionalProperties; ap.Has == nil || *ap.Has || ap.Schema != nil {
		p.add("%s: additionalProperties is not false", where)
	}
	var names []string
	for _, w := range want {
		names = append(names, w.name)
		at := where + "." + w.name
		ref, ok := s.Properties[w.name]
		if !ok {
			p.add("%s: property missing", at)
			continue
		}
		if required := slices.Contains(s.Required, w.name); required != w.required {
			p.add("%s: required = %v, want %v", at, required, w.required)
		}
		kind, nullable, ps := kindOf(ref)
		if kind != w.kind {
			p.add("%s: kind = %s, want %s", at, kind, w.kind)
		}
		if nullable != w.nullable {
			p.add("%s: nullable = %v, want %v", at, nullable, w.nullable)
		}
		if ps == nil {
			continue
		}
		if !reflect.DeepEqual(ps.MaxLength, w.maxLength) {
			p.add("%s: maxLength = %s, want %s", at, fmtPtr(ps.MaxLength), fmtPtr(w.maxLength))
		}
		checkEnum(p, at, ps.Enum, w.enum)
	}
	for name := range s.Properties {
		if !slices.Contains(names, name) {
			p.add("%s.%s: property not in the seeds", where, name)
		}
	}
	for _, name := range s.Required {
		if !slices.Contains(names, name) {
			p.add("%s: requires %s, which is not a property", where, name)
		}
	}
}

// checkResponses checks that every status the seeds list is documented, with
// a JSON body, and the 200 body field by field.
func checkResponses(p *problems, where string, o *openapi3.Operation, op operation) {
	if o.Responses == nil {
		p.add("%s: no responses", where)
		return
	}
	for _, status := range op.statuses {
		at := where + " " + status
		ref := o.Responses.Value(status)
		if ref == nil || ref.Value == nil {
			p.add("%s: status missing", at)
			continue
		}
		mt := ref.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
			p.add("%s: no application/json schema", at)
			continue
		}
		if status == "200" {
			checkObject(p, at, mt.Schema.Value, op.response)
		}
	}
}

func TestSpecLoadsAndValidates(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec(api.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3 (the generator and validator do not handle 3.1)", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://public-api.drata.com/public" {
		t.Errorf("servers = %v, want the public API's one", doc.Servers)
	}
}

func TestSpecMatchesSeeds(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec(api.Spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range checkSpec(doc) {
		t.Error(problem)
	}
}

// specJSON is the committed document as JSON, which loads faster than its
// YAML; made once for all the mutations.
var specJSON = func() func(t *testing.T) []byte {
	once := sync.OnceValues(func() ([]byte, error) {
		doc, err := loadSpec(api.Spec)
		if err != nil {
			return nil, err
		}
		return json.Marshal(doc)
	})
	return func(t *testing.T) []byte {
		t.Helper()
		b, err := once()
		require.NoError(t, err)
		return b
	}
}()

// A checker that cannot fail is a defect: each mutation below is a plausible
// change of the document, made to the loaded document rather than to its
// text (so the case survives reformatting), which still validates; the
// checker must report it.
func TestSpecCheckerCatchesMutations(t *testing.T) {
	t.Parallel()
	schema := func(doc *openapi3.T, name string) *openapi3.Schema { return doc.Components.Schemas[name].Value }
	param := func(doc *openapi3.T, name string) *openapi3.Schema {
		return doc.Components.Parameters[name].Value.Schema.Value
	}
	op := func(doc *openapi3.T, method, path string) *openapi3.Operation {
		return doc.Paths.Value(path).GetOperation(method)
	}
	without := func(list []any, v any) []any {
		return slices.DeleteFunc(slices.Clone(list), func(x any) bool { return x == v })
	}
	unrequire := func(s *openapi3.Schema, name string) {
		s.Required = slices.DeleteFunc(slices.Clone(s.Required), func(x string) bool { return x == name })
	}
	const infraList, vcsToggle = "/user-identities/infrastructure", "/user-identities/version-control/{id}/toggle"
	for _, m := range []struct {
		name   string
		mutate func(doc *openapi3.T)
		want   string // a substring of one reported problem
	}{
		{"enum member dropped from a client type", func(d *openapi3.T) {
			s := schema(d, "InfrastructureClientType")
			s.Enum = without(s.Enum, "CLOUDFLARE")
		}, "enum lacks CLOUDFLARE"},
		{"enum member added to a client type", func(d *openapi3.T) {
			s := schema(d, "VersionControlClientType")
			s.Enum = append(s.Enum, "SVN")
		}, "enum has SVN"},
		{"sort value dropped", func(d *openapi3.T) {
			s := schema(d, "VersionControlSort")
			s.Enum = without(s.Enum, "PUSH_PROD_CODE_ACCESS")
		}, "enum lacks PUSH_PROD_CODE_ACCESS"},
		{"sort default changed", func(d *openapi3.T) { schema(d, "InfrastructureSort").Default = "EMAIL" }, "parameter sort: default"},
		{"sort direction dropped", func(d *openapi3.T) { schema(d, "SortDir").Enum = []any{"ASC"} }, "enum lacks DESC"},
		{"limit maximum dropped", func(d *openapi3.T) { param(d, "Limit").Max = nil }, "parameter limit: maximum = none, want 50"},
		{"limit maximum raised", func(d *openapi3.T) { param(d, "Limit").Max = ptr(100.0) }, "maximum = 100, want 50"},
		{"limit default changed", func(d *openapi3.T) { param(d, "Limit").Default = 10.0 }, "parameter limit: default"},
		{"page minimum dropped", func(d *openapi3.T) { param(d, "Page").Min = nil }, "parameter page: minimum = none"},
		{"page a number", func(d *openapi3.T) { param(d, "Page").Type = &openapi3.Types{"number"} }, "parameter page: kind = number/int64"},
		{"connectionId parameter dropped", func(d *openapi3.T) {
			o := op(d, "GET", infraList)
			o.Parameters = slices.DeleteFunc(slices.Clone(o.Parameters), func(p *openapi3.ParameterRef) bool { return p.Value.Name == "connectionId" })
		}, "parameters = "},
		{"operationId renamed", func(d *openapi3.T) { op(d, "PUT", vcsToggle).OperationID = "toggleVcIdentity" }, `operationId = "toggleVcIdentity"`},
		{"permission renamed", func(d *openapi3.T) {
			op(d, "PUT", vcsToggle).Extensions["x-drata-permission"] = "Manage Version Control Identities"
		}, "x-drata-permission"},
		{"security dropped", func(d *openapi3.T) { d.Security = nil }, "security = "},
		{"412 dropped from a list", func(d *openapi3.T) { op(d, "GET", infraList).Responses.Delete("412") }, "GET /user-identities/infrastructure 412: status missing"},
		{"404 dropped from every PUT", func(d *openapi3.T) {
			for _, item := range d.Paths.Map() {
				if item.Put != nil {
					item.Put.Responses.Delete("404")
				}
			}
		}, "/connect 404: status missing"},
		{"402 without a JSON body", func(d *openapi3.T) {
			r := *op(d, "PUT", vcsToggle).Responses.Value("402").Value
			r.Content = openapi3.NewContentWithSchema(openapi3.NewStringSchema(), []string{"text/plain"})
			op(d, "PUT", vcsToggle).Responses.Set("402", &openapi3.ResponseRef{Value: &r})
		}, "toggle 402: no application/json schema"},
		{"reason maxLength changed", func(d *openapi3.T) {
			schema(d, "ServiceAccountRequest").Properties["serviceAccountReason"].Value.MaxLength = ptr(uint64(3000))
		}, "maxLength = 3000, want 30000"},
		{"reason maxLength dropped", func(d *openapi3.T) {
			schema(d, "ServiceAccountRequest").Properties["serviceAccountReason"].Value.MaxLength = nil
		}, "maxLength = none, want 30000"},
		{"reason no longer required", func(d *openapi3.T) { unrequire(schema(d, "ServiceAccountRequest"), "serviceAccountReason") }, "serviceAccountReason: required = false"},
		{"toggle field enum member dropped", func(d *openapi3.T) {
			s := schema(d, "InfrastructureToggleField")
			s.Enum = without(s.Enum, "INFRASTRUCTURE_DB_ACCESS")
		}, "enum lacks INFRASTRUCTURE_DB_ACCESS"},
		{"toggle field enums swapped", func(d *openapi3.T) {
			schema(d, "VersionControlToggleRequest").Properties["toggleField"] = d.Components.Schemas["InfrastructureToggleField"]
		}, "enum lacks VERSION_CONTROL_WRITE_ACCESS"},
		{"extra body properties allowed", func(d *openapi3.T) {
			schema(d, "ConnectRequest").AdditionalProperties = openapi3.AdditionalProperties{}
		}, "additionalProperties is not false"},
		{"userId not nullable", func(d *openapi3.T) { schema(d, "ConnectRequest").Properties["userId"].Value.Nullable = false }, "userId: nullable = false, want true"},
		{"userId not required", func(d *openapi3.T) { unrequire(schema(d, "ConnectRequest"), "userId") }, "userId: required = false"},
		{"identity email not nullable", func(d *openapi3.T) {
			schema(d, "InfrastructureIdentity").Properties["email"].Value.Nullable = false
		}, ".email: nullable = false, want true"},
		{"identity dbAccess not required", func(d *openapi3.T) { unrequire(schema(d, "InfrastructureIdentity"), "dbAccess") }, ".dbAccess: required = false, want true"},
		{"identity dbAccess not nullable", func(d *openapi3.T) {
			schema(d, "InfrastructureIdentity").Properties["dbAccess"].Value.Nullable = false
		}, ".dbAccess: nullable = false"},
		{"designator not nullable", func(d *openapi3.T) {
			schema(d, "InfrastructureIdentity").Properties["serviceAccountDesignator"] = openapi3.NewSchemaRef("", &openapi3.Schema{
				Type: &openapi3.Types{openapi3.TypeObject}, AllOf: openapi3.SchemaRefs{d.Components.Schemas["User"]},
			})
		}, ".serviceAccountDesignator: nullable = false, want true"},
		{"identity's connection nullable", func(d *openapi3.T) {
			schema(d, "VersionControlIdentity").Properties["connection"] = d.Components.Schemas["NullableConnection"]
		}, ".connection: nullable = true, want false"},
		{"identity field renamed", func(d *openapi3.T) {
			s := schema(d, "VersionControlIdentity")
			s.Properties["pushProdCodeAccess"] = s.Properties["pushProductionCodeAccess"]
			delete(s.Properties, "pushProductionCodeAccess")
			unrequire(s, "pushProductionCodeAccess")
		}, ".pushProductionCodeAccess: property missing"},
		{"page total not required", func(d *openapi3.T) { unrequire(schema(d, "InfrastructureIdentityPage"), "total") }, ".total: required = false"},
		{"connection id a number", func(d *openapi3.T) {
			schema(d, "Connection").Properties["id"] = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{"integer"}, Format: "int64"}}
		}, ".connection.id: kind = integer/int64, want string"},
		{"user entryId not required", func(d *openapi3.T) { unrequire(schema(d, "User"), "entryId") }, ".user.entryId: required = false"},
	} {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			doc, err := openapi3.NewLoader().LoadFromData(specJSON(t))
			require.NoError(t, err)
			m.mutate(doc)
			require.NoError(t, doc.Validate(context.Background()), "the mutated document is invalid, so this case proves nothing")
			found := checkSpec(doc)
			require.NotEmpty(t, found, "the checker reports nothing for a document with %s", m.name)
			assert.True(t, slices.ContainsFunc(found, func(s string) bool { return strings.Contains(s, m.want) }),
				"no reported problem contains %q; got:\n%s", m.want, strings.Join(found, "\n"))
		})
	}
}

// TestNullableConnectionIsConnection: NullableConnection is Connection
// written out again with nullable (OpenAPI 3.0.3 readers reject null
// through an allOf of a non-nullable schema); nothing else may differ.
func TestNullableConnectionIsConnection(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec(api.Spec)
	require.NoError(t, err)
	plain := *doc.Components.Schemas["Connection"].Value
	nullable := *doc.Components.Schemas["NullableConnection"].Value
	require.False(t, plain.Nullable, "Connection")
	require.True(t, nullable.Nullable, "NullableConnection")
	nullable.Nullable, nullable.Description, nullable.Extensions = plain.Nullable, plain.Description, plain.Extensions
	a, err := json.Marshal(plain)
	require.NoError(t, err)
	b, err := json.Marshal(nullable)
	require.NoError(t, err)
	assert.JSONEq(t, string(a), string(b), "NullableConnection differs from Connection beyond nullable and its description")
}
