//go:build tools

// Package tools pins the code generator this module runs with go generate.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
