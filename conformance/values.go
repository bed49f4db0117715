package conformance

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// sortedKeys are the members of both objects, in name order.
func sortedKeys(a, b map[string]any) []string {
	keys := maps.Keys(a)
	out := slices.Collect(keys)
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// brief shows a JSON value in a message: an object by its id.
func brief(v any) string {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["id"]; ok {
			return fmt.Sprintf("{id: %s …}", text(id))
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "…"
	}
	return string(b)
}
