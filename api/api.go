// Package api holds the OpenAPI document of the User Identities API, the single
// source of truth from which gen/ is generated.
package api

import _ "embed"

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config codegen/types.yaml openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config codegen/client.yaml openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config codegen/server.yaml openapi.yaml

// Spec is the committed OpenAPI 3.0.3 document, byte for byte.
//
//go:embed openapi.yaml
var Spec []byte
