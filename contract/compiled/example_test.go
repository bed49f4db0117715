package compiled_test

import (
	"errors"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/identities-go/identities/contract/compiled"
)

func Example() {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(`
openapi: 3.0.3
info: {title: example, version: "1"}
paths: {}
components:
  schemas:
    Page:
      type: object
      required: [data, total]
      additionalProperties: false
      properties:
        data: {type: array, items: {$ref: '#/components/schemas/Item'}}
        total: {type: integer, minimum: 0}
    Item:
      type: object
      nullable: true
      required: [id, at]
      properties:
        id: {type: integer, format: int64}
        at: {type: string, format: date-time}
`))
	if err != nil {
		panic(err)
	}
	page, err := compiled.Compile(doc.Components.Schemas["Page"])
	if err != nil {
		panic(err)
	}
	fmt.Println(page.Validate([]byte(`{"data":[{"id":1,"at":"2025-07-01T16:45:55Z"},null],"total":2}`)))
	var ce *compiled.Error
	if errors.As(page.Validate([]byte(`{"data":[{"id":1.5}],"total":-1,"next":2}`)), &ce) {
		for _, v := range ce.Violations {
			fmt.Printf("%s: %s\n", v.Path, v.Reason)
		}
	}
	// Output:
	// <nil>
	// /data/0/id: value must be an integer
	// /data/0/at: property "at" is missing
	// /total: number must be at least 0
	// /next: property "next" is unsupported
}
