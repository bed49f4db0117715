package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strings"

	sqlite "modernc.org/sqlite"
)

// fold is how q and the searched columns are compared: Unicode lower case.
func fold(s string) string { return strings.ToLower(s) }

func init() {
	// fold(text) lets queries match case-insensitively beyond ASCII.
	err := sqlite.RegisterDeterministicScalarFunction("fold", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case nil:
			return nil, nil
		case string:
			return fold(v), nil
		case []byte:
			return fold(string(v)), nil
		default:
			return nil, fmt.Errorf("fold: want text, got %T", v)
		}
	})
	if err != nil {
		panic(fmt.Sprintf("sqlite: register fold: %v", err))
	}
}

// searchText is what q looks in: each searched field folded, one a line.
// A term without a newline is found in it exactly when some field holds it.
func searchText(identityID, username string, email *string) string {
	e := ""
	if email != nil {
		e = *email
	}
	return fold(identityID) + "\n" + fold(username) + "\n" + fold(e)
}
