package sqlite

import (
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"strconv"
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
	// search_tokens(company_id, family, search) is what the search index
	// holds of a row.
	err = sqlite.RegisterDeterministicScalarFunction("search_tokens", 3, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		company, ok1 := args[0].(int64)
		family, ok2 := args[1].(int64)
		text, ok3 := args[2].(string)
		if !ok1 || !ok2 || !ok3 {
			return nil, fmt.Errorf("search_tokens: want (integer, integer, text), got (%T, %T, %T)", args[0], args[1], args[2])
		}
		return searchTokens(company, family, text), nil
	})
	if err != nil {
		panic(fmt.Sprintf("sqlite: register search_tokens: %v", err))
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

// trigram is the length, in characters, of the pieces the search index
// holds.
const trigram = 3

// searchTokens is what the search index holds of one row: one token for
// each trigram of text followed by two newlines, in order, naming the row's
// company and family and the trigram's bytes in hex ("c12f1x616263" for
// "abc" of company 12, family 1). Thanks to the newlines every character
// of text starts a token, so a term of any length is found: see
// searchQuery.
func searchTokens(companyID, family int64, text string) string {
	return tokens(tokenPrefix(companyID, family), []rune(text+"\n\n"), trigram)
}

// searchQuery is the search index query for the rows of a company and
// family whose text holds term, which holds no newline. A term of three or
// more characters is the phrase of its trigrams' tokens; a shorter one
// asks for the tokens that begin with it.
func searchQuery(companyID, family int64, term string) string {
	r := []rune(term)
	prefix := tokenPrefix(companyID, family)
	if len(r) >= trigram {
		return `"` + tokens(prefix, r, trigram) + `"`
	}
	return `"` + tokens(prefix, r, len(r)) + `"*`
}

func tokenPrefix(companyID, family int64) string {
	return "c" + strconv.FormatInt(companyID, 10) + "f" + strconv.FormatInt(family, 10) + "x"
}

// tokens writes a token for each piece of r of n characters, in order.
func tokens(prefix string, r []rune, n int) string {
	var b strings.Builder
	b.Grow(max(len(r)-n+1, 0) * (len(prefix) + 2*n + 1))
	for i := 0; i+n <= len(r); i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.WriteString(hex.EncodeToString([]byte(string(r[i : i+n]))))
	}
	return b.String()
}
