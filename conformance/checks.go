package conformance

import (
	"fmt"
	"slices"
	"strings"

	embedded "github.com/identities-go/identities/api"
)

// The names of the checks. They are stable: CI configurations and
// reports refer to them. The filter checks are named after the document's
// filter parameters: "filter." and the parameter ("filter.clientType").
const (
	checkContract        = "contract.response"
	checkPageLimit       = "paging.limit"
	checkPageFull        = "paging.full-pages"
	checkPageEcho        = "paging.echo"
	checkPageTotal       = "paging.total-stable"
	checkPageWalk        = "paging.walk"
	checkPagePastEnd     = "paging.past-end"
	checkPageDefault     = "paging.default-limit"
	checkSortOrder       = "sort.order"
	filterCheckPrefix    = "filter."
	checkAuthMissing     = "auth.missing-token"
	checkAuthMalformed   = "auth.malformed-token"
	checkAuthScheme      = "auth.wrong-scheme"
	checkAuthReadOnly    = "auth.read-only-key"
	checkAuthTenant      = "auth.tenant-isolation"
	checkMethod          = "http.method-not-allowed"
	checkInvalidID       = "input.invalid-id"
	checkNegative        = "input.negative"
	checkPositive        = "input.positive"
	checkWriteRead       = "write.read-your-writes"
	checkWriteIsolated   = "write.isolated"
	checkWriteIdempotent = "write.idempotent"
	checkWriteRestored   = "write.restored"
)

// invalidIDs are RESTler's ids that are not positive int64s.
var invalidIDs = []string{"0", "-1", "1e3", "1.5", "99999999999999999999", "1?x=1", "1/1"}

type checkDef struct{ name, rule string }

// catalogue lists every check with the documented rule it enforces, in
// report order; numbers and names come from the document.
func (c *checker) catalogue() []checkDef {
	defLimit, maxLimit := "the default", "the maximum"
	var sortKeys []string
	var filterDefs []checkDef
	seenFilter := map[string]bool{}
	for _, f := range c.api.families {
		if f.limit != nil && f.limit.def != nil {
			defLimit = fmt.Sprint(*f.limit.def)
		}
		if f.limit != nil && f.limit.max != nil {
			maxLimit = fmt.Sprint(*f.limit.max)
		}
		for _, k := range f.sorts {
			if len(k.parts) > 1 || (len(k.parts) == 1 && len(k.parts[0]) > 1) {
				sortKeys = append(sortKeys, k.member+": "+k.describe())
			}
		}
		for _, fl := range f.filters {
			if seenFilter[fl.param] {
				continue
			}
			seenFilter[fl.param] = true
			filterDefs = append(filterDefs, checkDef{filterCheckPrefix + fl.param, fl.rule()})
		}
	}
	slices.Sort(sortKeys)
	sortKeys = slices.Compact(sortKeys)
	nulls := "empty values together at one end"
	if c.api.emptyFirst {
		nulls = "empty timestamps first in ascending order and last in descending order, other empty values together at one end"
	}
	setByAPI := make([]string, 0, len(c.api.setByAPI))
	for k := range c.api.setByAPI {
		setByAPI = append(setByAPI, k)
	}
	slices.Sort(setByAPI)
	defs := []checkDef{
		{checkContract, "every answer has a status the document lists for its operation, and its content type, headers and body match the document"},
		{checkPageLimit, "a page's data holds at most `limit` items (" + defLimit + " when `limit` is left out)"},
		{checkPageFull, "every page before the last holds exactly `limit` items, and the last one the rest of `total`"},
		{checkPageEcho, "`page` and `limit` are those asked for (1 and " + defLimit + " when left out)"},
		{checkPageTotal, "`total` is the same on every page of a walk"},
		{checkPageWalk, "walking every page returns each identity exactly once, `total` in all, in the same sequence whatever the page size (1 to " + maxLimit + ")"},
		{checkPagePastEnd, "a page past the last one is empty and has the same `total`"},
		{checkPageDefault, "without `limit`, a page holds the document's default of " + defLimit + " items unless fewer are left"},
		{checkSortOrder, "every `sort` × `sortDir` orders by its key (" + strings.Join(sortKeys, "; ") + "; other members: the field of the same name), ties broken by `id` in the same direction, " + nulls + "; without `sort`, the document's default"},
	}
	defs = append(defs, filterDefs...)
	defs = append(defs,
		checkDef{checkAuthMissing, "every operation answers a request without a key with 401"},
		checkDef{checkAuthMalformed, "every operation answers a malformed or unknown key with 401"},
		checkDef{checkAuthScheme, "every operation answers a key sent with a scheme other than Bearer with 401"},
		checkDef{checkAuthReadOnly, "a key without write scopes (--read-token) is answered 403 on every PUT, and nothing changes"},
		checkDef{checkAuthTenant, "another company's identities (--other-token) answer exactly as ids that do not exist, and never appear in lists or searches"},
		checkDef{checkMethod, "a method the document does not list for a path answers 405 with an Allow header naming the methods it does list"},
		checkDef{checkInvalidID, "an id that is not a positive int64 (" + strings.Join(invalidIDs, ", ") + ") answers 4xx"},
		checkDef{checkNegative, "a request the document's schemas forbid (generated from them) answers 4xx with a JSON error body"},
		checkDef{checkPositive, "a request the document's schemas allow (generated from them) is accepted: a list answers 2xx; a PUT to an id that does not exist answers 404, not a validation error"},
		checkDef{checkWriteRead, "a PUT answers 200 with the identity as changed, and the list then shows exactly that identity"},
		checkDef{checkWriteIsolated, "a PUT changes only the identity it names"},
		checkDef{checkWriteIdempotent, "repeating a PUT returns the same body and changes nothing"},
		checkDef{checkWriteRestored, "the checker puts back everything it changed but the fields the API sets itself (" + strings.Join(setByAPI, ", ") + "), whose changes it lists"},
	)
	return defs
}

// describe says what a sort key reads.
func (k *sortKey) describe() string {
	parts := make([]string, len(k.parts))
	for i, p := range k.parts {
		parts[i] = strings.Join(p, ".")
	}
	return strings.Join(parts, " + ")
}

// rule is the documented rule of a filter.
func (fl *filter) rule() string {
	var fields []string
	for _, f := range fl.fields {
		fields = append(fields, strings.Join(f, "."))
	}
	switch {
	case fl.kind == filterEquals:
		return fmt.Sprintf("`%s` returns only, and all, the identities whose %s is the value given", fl.param, fields[0])
	case fl.exact:
		return fmt.Sprintf("`%s` returns only, and all, the identities whose %s contains it, ignoring case", fl.param, strings.Join(fields, ", "))
	}
	return fmt.Sprintf("`%s` returns only identities with a text field that contains it, ignoring case (the document does not say which fields)", fl.param)
}

// CheckInfo names a check and the documented rule it enforces.
type CheckInfo struct{ Name, Rule string }

// Checks lists the checks of a run against spec (nil: the embedded
// document), in report order.
func Checks(spec []byte) ([]CheckInfo, error) {
	if spec == nil {
		spec = embedded.Spec
	}
	model, err := loadAPI(spec, "/")
	if err != nil {
		return nil, err
	}
	c := &checker{api: model}
	var out []CheckInfo
	for _, d := range c.catalogue() {
		out = append(out, CheckInfo{Name: d.name, Rule: d.rule})
	}
	return out, nil
}
