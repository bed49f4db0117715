package client

import (
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// operationMethods maps every operation of api/openapi.yaml to the one client
// method that exposes it in full.
var operationMethods = map[string]any{
	opListInfrastructure:           (*InfrastructureService).List,
	opConnectInfrastructure:        (*InfrastructureService).Connect,
	opToggleInfrastructure:         (*InfrastructureService).SetAccess,
	opServiceAccountInfrastructure: (*InfrastructureService).SetServiceAccount,
	opListVersionControl:           (*VersionControlService).List,
	opConnectVersionControl:        (*VersionControlService).Connect,
	opToggleVersionControl:         (*VersionControlService).SetAccess,
	opServiceAccountVersionControl: (*VersionControlService).SetServiceAccount,
}

// shorthandMethods maps the convenience methods to the operation they call.
var shorthandMethods = map[string]string{
	"InfrastructureService.All":        opListInfrastructure,
	"InfrastructureService.Disconnect": opConnectInfrastructure,
	"VersionControlService.All":        opListVersionControl,
	"VersionControlService.Disconnect": opConnectVersionControl,
}

// methodName turns a method expression into "InfrastructureService.List".
func methodName(m any) string {
	full := runtime.FuncForPC(reflect.ValueOf(m).Pointer()).Name()
	full = full[strings.LastIndex(full, "/")+1:]
	full = strings.TrimPrefix(full, "client.")
	return strings.NewReplacer("(*", "", ")", "").Replace(full)
}

// operationOf is the operation a method (by methodName) calls, or "".
func operationOf(name string) string {
	for op, m := range operationMethods {
		if methodName(m) == name {
			return op
		}
	}
	return shorthandMethods[name]
}

// TestEveryOperationHasOneMethod checks the mapping against the document both
// ways: each operation has exactly one method, each mapped operation exists,
// and every exported service method is mapped. TestRequests checks that each
// method really calls its operation.
func TestEveryOperationHasOneMethod(t *testing.T) {
	t.Parallel()
	v := validator()
	inDoc := map[string]bool{}
	for path, item := range v.Document().Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
				continue
			}
			inDoc[op.OperationID] = true
			if _, ok := operationMethods[op.OperationID]; !ok {
				t.Errorf("operation %s (%s %s) has no client method", op.OperationID, method, path)
			}
		}
	}
	seen := map[string]string{}
	for op, m := range operationMethods {
		if !inDoc[op] {
			t.Errorf("method %s is mapped to %s, which the document does not have", methodName(m), op)
		}
		name := methodName(m)
		if prev, ok := seen[name]; ok {
			t.Errorf("method %s exposes both %s and %s", name, prev, op)
		}
		seen[name] = op
	}
	for name, op := range shorthandMethods {
		if !inDoc[op] {
			t.Errorf("shorthand %s is mapped to %s, which the document does not have", name, op)
		}
	}
	for _, svc := range []any{&InfrastructureService{}, &VersionControlService{}} {
		typ := reflect.TypeOf(svc)
		for i := range typ.NumMethod() {
			name := typ.Elem().Name() + "." + typ.Method(i).Name
			if operationOf(name) == "" {
				t.Errorf("exported method %s is not mapped to an operation", name)
			}
		}
	}
	if got := slices.Sorted(maps.Keys(inDoc)); len(got) != len(operationMethods) {
		t.Errorf("document has %d operations %v, the client maps %d", len(got), got, len(operationMethods))
	}
}
