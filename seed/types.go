package seed

import (
	"fmt"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/api"
	"github.com/identities-go/identities/store"
)

// clientTypes are the client types the document lists for each family's
// connections, in the document's order, read once.
var clientTypes = sync.OnceValues(func() (map[store.Family][]string, error) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		return nil, fmt.Errorf("seed: load the document: %w", err)
	}
	out := map[store.Family][]string{}
	for family, schema := range map[store.Family]string{store.Infrastructure: "InfrastructureClientType", store.VersionControl: "VersionControlClientType"} {
		ref := doc.Components.Schemas[schema]
		if ref == nil || ref.Value == nil || len(ref.Value.Enum) == 0 {
			return nil, fmt.Errorf("seed: the document has no enum schema %s", schema)
		}
		for _, v := range ref.Value.Enum {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("seed: %s lists %v, not a string", schema, v)
			}
			out[family] = append(out[family], s)
		}
	}
	return out, nil
})
