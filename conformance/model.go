package conformance

import (
	"fmt"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/conformance/inputs"
	"github.com/identities-go/identities/contract"
)

// api is what the checker knows of the document in use. Every operation,
// parameter, enum member, bound and default comes from the document; the
// only knowledge written here is what the names of the paging contract
// (page, limit, sort, sortDir, data, total) mean.
type api struct {
	v              *contract.Validator
	doc            *openapi3.T
	title, version string
	// serverPaths are the base paths of the document's servers ("/public").
	serverPaths []string
	families    []*family
	paths       []pathInfo
	// setByAPI are the fields the PUT descriptions say the API sets itself
	// ("Every change sets `updatedAt`"): no request can set them back.
	setByAPI map[string]bool
	// emptyFirst records that the list descriptions put empty timestamps
	// first in ascending order.
	emptyFirst bool
	// missingID is an identity id within the document's bounds that no
	// server should hold.
	missingID int64
}

// pathInfo is one path of the document and the methods it serves.
type pathInfo struct {
	template string
	methods  []string
	hasParam bool
}

// intParam is an integer query parameter with its bounds and default.
type intParam struct {
	name     string
	min, max *int64
	def      *int64
}

// family is one list operation and the operations on its items.
type family struct {
	name     string // the list path's last segment: "infrastructure"
	listPath string
	listOp   string
	item     *openapi3.Schema
	query    []*openapi3.Parameter // the list's query parameters, in the document's order

	page, limit *intParam
	sortParam   string
	sorts       []*sortKey // one per member, in the document's order
	defaultSort string
	dirParam    string
	asc, desc   string
	defaultDir  string
	filters     []*filter
	mutations   []*mutation
}

// keyKind is how a sort key's values compare.
type keyKind int

const (
	keyText keyKind = iota
	keyTime
	keyBool
	keyNumber
)

// sortKey is what one sort member orders by: the values at parts (joined
// with spaces when there are several), or nothing known.
type sortKey struct {
	member string
	parts  [][]string
	kind   keyKind
}

// filterKind is how a filter selects identities.
type filterKind int

const (
	filterEquals   filterKind = iota // the value at field equals the parameter
	filterContains                   // one of fields contains it, ignoring case
)

// filter is a list parameter that keeps some identities.
type filter struct {
	param   string
	kind    filterKind
	fields  [][]string
	members []string // the enum's members, when the parameter has one
	// exact says whether the fields are known from the document, so that
	// "every match is returned" can be checked, not only "only matches".
	exact bool
}

// mutKind is what a PUT does to an identity.
type mutKind int

const (
	mutLink mutKind = iota // sets or clears a linked object by its id
	mutFlag                // sets or clears the timestamp flag an enum names
	mutMark                // sets or clears a timestamp named like a boolean
)

// mutation is one PUT on an identity, as its request schema describes it.
type mutation struct {
	opID     string
	path     string // the template, "{id}" included
	idParam  string
	kind     mutKind
	prop     string // link: userId; flag, mark: the boolean
	field    string // link: user; mark: serviceAccount
	enumProp string // flag: toggleField
	flags    []flagField
	extra    map[string]any   // other required properties, with harmless values
	body     *openapi3.Schema // the request body's schema
	notFound bool             // the operation documents 404
}

// flagField pairs an enum member with the identity field it sets.
type flagField struct{ member, field string }

// loadAPI builds the model of spec served under basePath.
func loadAPI(spec []byte, basePath string) (*api, error) {
	v, err := contract.Load(spec, basePath)
	if err != nil {
		return nil, err
	}
	doc := v.Document()
	a := &api{v: v, doc: doc, setByAPI: map[string]bool{}, missingID: 1<<53 - 1}
	if doc.Info != nil {
		a.title, a.version = doc.Info.Title, doc.Info.Version
	}
	for _, s := range v.Servers() {
		if u, err := url.Parse(s.URL); err == nil && strings.Trim(u.Path, "/") != "" {
			a.serverPaths = append(a.serverPaths, "/"+strings.Trim(u.Path, "/"))
		}
	}
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		pi := pathInfo{template: p, hasParam: strings.Contains(p, "{")}
		for method := range item.Operations() {
			pi.methods = append(pi.methods, method)
		}
		slices.Sort(pi.methods)
		a.paths = append(a.paths, pi)
		if op := item.Get; op != nil && !pi.hasParam {
			if f := a.listFamily(p, item, op); f != nil {
				a.families = append(a.families, f)
			}
		}
	}
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for _, f := range a.families {
			if item.Put != nil && strings.HasPrefix(p, f.listPath+"/{") {
				if m := a.mutation(f, p, item, item.Put); m != nil {
					f.mutations = append(f.mutations, m)
				}
			}
		}
	}
	if len(a.families) == 0 {
		return nil, fmt.Errorf("conformance: the document has no list operation (a GET answering data, page, limit and total)")
	}
	return a, nil
}

// params are the resolved parameters of op on item, path-level first.
func params(item *openapi3.PathItem, op *openapi3.Operation) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, p := range ps {
			if p != nil && p.Value != nil {
				out = append(out, p.Value)
			}
		}
	}
	return out
}

func paramSchema(p *openapi3.Parameter) *openapi3.Schema {
	if p.Schema == nil {
		return nil
	}
	return p.Schema.Value
}

// jsonSchema is the schema of the JSON content of a response or body.
func jsonSchema(content openapi3.Content) *openapi3.Schema {
	mt := content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// listFamily recognises a list operation: a GET whose 200 answer holds
// data (an array of objects), page, limit and total.
func (a *api) listFamily(p string, item *openapi3.PathItem, op *openapi3.Operation) *family {
	resp := op.Responses.Status(200)
	if resp == nil || resp.Value == nil {
		return nil
	}
	page := jsonSchema(resp.Value.Content)
	props := inputs.Properties(page)
	data := props["data"]
	if data == nil || data.Items == nil || data.Items.Value == nil || props["total"] == nil || props["page"] == nil || props["limit"] == nil {
		return nil
	}
	f := &family{name: path.Base(p), listPath: p, listOp: op.OperationID, item: data.Items.Value}
	desc := flatten(op.Description)
	if strings.Contains(desc, "empty values first") {
		a.emptyFirst = true
	}
	for _, prm := range params(item, op) {
		if prm.In != openapi3.ParameterInQuery {
			continue
		}
		f.query = append(f.query, prm)
		s := paramSchema(prm)
		members := enumOf(s)
		switch {
		case prm.Name == "page" && isType(s, "integer"):
			f.page = intParamOf(prm)
		case prm.Name == "limit" && isType(s, "integer"):
			f.limit = intParamOf(prm)
		case hasDirections(members):
			f.dirParam = prm.Name
			for _, m := range members {
				switch strings.ToUpper(m) {
				case "ASC":
					f.asc = m
				case "DESC":
					f.desc = m
				}
			}
			f.defaultDir, _ = s.Default.(string)
			if f.defaultDir == "" {
				f.defaultDir = f.asc
			}
		case prm.Name == "sort" && len(members) > 0:
			f.sortParam = prm.Name
			f.defaultSort, _ = s.Default.(string)
			described := describedKeys(desc, f.item)
			for _, m := range members {
				k := described[m]
				if k == nil {
					k = namedKey(m, f.item)
				}
				f.sorts = append(f.sorts, k)
			}
		default:
			if fl := filterOf(prm, f.item, desc); fl != nil {
				f.filters = append(f.filters, fl)
			}
		}
	}
	return f
}

func hasDirections(members []string) bool {
	var asc, desc bool
	for _, m := range members {
		asc = asc || strings.EqualFold(m, "ASC")
		desc = desc || strings.EqualFold(m, "DESC")
	}
	return asc && desc
}

func intParamOf(p *openapi3.Parameter) *intParam {
	s := paramSchema(p)
	ip := &intParam{name: p.Name}
	if s.Min != nil {
		ip.min = ptr(int64(*s.Min))
	}
	if s.Max != nil {
		ip.max = ptr(int64(*s.Max))
	}
	if d, ok := toInt64(s.Default); ok {
		ip.def = &d
	}
	return ip
}

func ptr[T any](v T) *T { return &v }

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n == math.Trunc(n) {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	}
	return 0, false
}

// describedPattern finds, in a list description, what sorts order by when
// their name alone does not say: "`USER`: the linked user's first and last
// name; `CLIENT_ID`, `CLIENT_ALIAS`: the connection's client id and alias".
var describedPattern = regexp.MustCompile("((?:`[A-Z][A-Z0-9_]*`(?:,\\s*|\\s+and\\s+|\\s+)?)+):\\s*the\\s+(?:[a-z]+\\s+)*?([a-z]+)'s\\s+([^;)]+)")

var phraseSep = regexp.MustCompile(`,\s*|\s+and\s+`)

// describedKeys reads the sort keys the description spells out.
func describedKeys(desc string, item *openapi3.Schema) map[string]*sortKey {
	out := map[string]*sortKey{}
	for _, m := range describedPattern.FindAllStringSubmatch(desc, -1) {
		var names []string
		for _, b := range backticked.FindAllStringSubmatch(m[1], -1) {
			names = append(names, b[1])
		}
		obj := propertyNamed(item, words(m[2]))
		if obj == "" {
			continue
		}
		objSchema := inputs.Properties(item)[obj]
		phrases := phraseSep.Split(strings.TrimSpace(m[3]), -1)
		resolve := func(phrase string) []string {
			if p := propertyDescribed(objSchema, phrase); p != "" {
				return []string{obj, p}
			}
			return nil
		}
		switch {
		case len(names) == 1: // one key of several parts: "first and last name"
			k := &sortKey{member: names[0], kind: keyText}
			for _, ph := range phrases {
				if part := resolve(ph); part != nil {
					k.parts = append(k.parts, part)
				}
			}
			if len(k.parts) == len(phrases) {
				if len(k.parts) == 1 {
					k.kind = kindOf(leaf(item, k.parts[0]))
				}
				out[names[0]] = k
			}
		case len(names) == len(phrases): // one part each: "client id, alias and state"
			for i, name := range names {
				if part := resolve(phrases[i]); part != nil {
					out[name] = &sortKey{member: name, parts: [][]string{part}, kind: kindOf(leaf(item, part))}
				}
			}
		}
	}
	return out
}

// namedKey is the key of a sort named like a property of the identity
// (EMAIL: email, PUSH_PROD_CODE_ACCESS: pushProductionCodeAccess); one
// with no parts when none is.
func namedKey(member string, item *openapi3.Schema) *sortKey {
	k := &sortKey{member: member}
	if p := propertyNamed(item, words(member)); p != "" {
		k.parts = [][]string{{p}}
		k.kind = kindOf(inputs.Properties(item)[p])
	}
	return k
}

// leaf is the schema at a path of property names.
func leaf(s *openapi3.Schema, at []string) *openapi3.Schema {
	for _, name := range at {
		s = inputs.Properties(s)[name]
		if s == nil {
			return nil
		}
	}
	return s
}

func kindOf(s *openapi3.Schema) keyKind {
	switch {
	case s == nil:
		return keyText
	case isType(s, "string") && s.Format == "date-time":
		return keyTime
	case isType(s, "boolean"):
		return keyBool
	case isType(s, "integer"), isType(s, "number"):
		return keyNumber
	}
	return keyText
}

// filterOf recognises a filter parameter: an enum equal to a field of the
// same name (clientType: connection.clientType), an id of an object
// (connectionId: connection.id), or a text the description says which
// fields contain ("`q` keeps identities whose `identityId`, `username` or
// `email` contains it").
func filterOf(p *openapi3.Parameter, item *openapi3.Schema, desc string) *filter {
	s := paramSchema(p)
	ws := words(p.Name)
	if members := enumOf(s); len(members) > 0 {
		if at := findField(item, ws); at != nil {
			return &filter{param: p.Name, kind: filterEquals, fields: [][]string{at}, members: members, exact: true}
		}
		return nil
	}
	if isType(s, "integer") && len(ws) > 1 && ws[len(ws)-1] == "id" {
		if obj := propertyNamed(item, ws[:len(ws)-1]); obj != "" && inputs.Properties(inputs.Properties(item)[obj])["id"] != nil {
			return &filter{param: p.Name, kind: filterEquals, fields: [][]string{{obj, "id"}}, exact: true}
		}
		return nil
	}
	if !isType(s, "string") {
		return nil
	}
	f := &filter{param: p.Name, kind: filterContains}
	for _, sentence := range strings.Split(desc, "- ") {
		if !strings.HasPrefix(strings.TrimSpace(sentence), "`"+p.Name+"`") {
			continue
		}
		for _, b := range backticked.FindAllStringSubmatch(sentence, -1) {
			if props := inputs.Properties(item); props[b[1]] != nil && isType(props[b[1]], "string") {
				f.fields = append(f.fields, []string{b[1]})
			}
		}
	}
	f.exact = len(f.fields) > 0
	if !f.exact { // only "every result contains it somewhere" can be checked
		for name, ps := range inputs.Properties(item) {
			if isType(ps, "string") {
				f.fields = append(f.fields, []string{name})
			}
		}
		slices.SortFunc(f.fields, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	}
	return f
}

// findField finds the field named ws on the identity or on one of the
// objects it holds.
func findField(item *openapi3.Schema, ws []string) []string {
	if p := propertyNamed(item, ws); p != "" {
		return []string{p}
	}
	props := inputs.Properties(item)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if isType(props[n], "object") {
			if p := propertyNamed(props[n], ws); p != "" {
				return []string{n, p}
			}
		}
	}
	return nil
}

// setsPattern finds the fields a PUT description says the API sets.
var setsPattern = regexp.MustCompile("sets\\s+`([A-Za-z0-9_]+)`")

// mutation recognises what a PUT on an identity does from its request
// schema: links an object by id (userId: user), sets a timestamp flag an
// enum names (toggle + toggleField), or marks a timestamp named like its
// boolean (serviceAccount).
func (a *api) mutation(f *family, p string, item *openapi3.PathItem, op *openapi3.Operation) *mutation {
	m := &mutation{opID: op.OperationID, path: p, extra: map[string]any{}, notFound: op.Responses.Status(404) != nil}
	for _, prm := range params(item, op) {
		if prm.In == openapi3.ParameterInPath {
			m.idParam = prm.Name
		}
	}
	for _, s := range setsPattern.FindAllStringSubmatch(op.Description, -1) {
		if inputs.Properties(f.item)[s[1]] != nil {
			a.setByAPI[s[1]] = true
		}
	}
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	m.body = jsonSchema(op.RequestBody.Value.Content)
	props := inputs.Properties(m.body)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	slices.Sort(names)
	itemProps := inputs.Properties(f.item)
	var boolProp string
	for _, n := range names {
		s := props[n]
		ws := words(n)
		switch {
		case isType(s, "integer") && s.Nullable && len(ws) > 1 && ws[len(ws)-1] == "id":
			if obj := propertyNamed(f.item, ws[:len(ws)-1]); obj != "" && inputs.Properties(itemProps[obj])["id"] != nil {
				m.kind, m.prop, m.field = mutLink, n, obj
				return m
			}
		case isType(s, "boolean") && boolProp == "":
			boolProp = n
		case len(enumOf(s)) > 0 && m.enumProp == "":
			var flags []flagField
			for _, member := range enumOf(s) {
				if field := flagFieldOf(f.item, member); field != "" {
					flags = append(flags, flagField{member, field})
				}
			}
			if len(flags) == len(enumOf(s)) {
				m.enumProp, m.flags = n, flags
			}
		}
	}
	switch {
	case boolProp != "" && m.enumProp != "":
		m.kind, m.prop = mutFlag, boolProp
	case boolProp != "" && propertyNamed(f.item, words(boolProp)) != "":
		m.kind, m.prop, m.field = mutMark, boolProp, propertyNamed(f.item, words(boolProp))
	default:
		return nil
	}
	for _, n := range required(m.body) {
		if n != m.prop && n != m.enumProp && isType(props[n], "string") {
			m.extra[n] = writeReason
		}
	}
	return m
}

// flagFieldOf is the nullable timestamp of the identity that an enum
// member names by its last words (INFRASTRUCTURE_DB_ACCESS: dbAccess).
func flagFieldOf(item *openapi3.Schema, member string) string {
	mw := words(member)
	best, bestLen := "", 0
	for name, s := range inputs.Properties(item) {
		pw := words(name)
		if s.Nullable && s.Format == "date-time" && suffixWords(pw, mw) && len(pw) > bestLen {
			best, bestLen = name, len(pw)
		}
	}
	return best
}

// family returns the family of a name, or nil.
func (a *api) family(name string) *family {
	for _, f := range a.families {
		if f.name == name {
			return f
		}
	}
	return nil
}

// walkLimit is the page size that walks a family of total identities in
// about three pages, within the document's bounds.
func (f *family) walkLimit(total int) int {
	n := int64(max(1, (total+2)/3))
	return int(f.clampLimit(n))
}

// maxLimit is the largest page the document allows (50), or 50.
func (f *family) maxLimit() int {
	return int(f.clampLimit(math.MaxInt32))
}

func (f *family) clampLimit(n int64) int64 {
	if f.limit == nil {
		return min(n, 50)
	}
	if f.limit.max != nil {
		n = min(n, *f.limit.max)
	} else {
		n = min(n, 50)
	}
	if f.limit.min != nil {
		n = max(n, *f.limit.min)
	}
	return n
}

// itemPath is a PUT path with the id filled in as it is written.
func (m *mutation) itemPath(id string) string {
	return strings.Replace(m.path, "{"+m.idParam+"}", id, 1)
}
