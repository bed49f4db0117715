package sqlite

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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
	return tokens(tokenPrefix(companyID, family), text+"\n\n", trigram)
}

// searchQuery is the search index query for the rows of a company and
// family whose text holds term, which holds no newline. A term of three or
// more characters is the phrase of its trigrams' tokens; a shorter one
// asks for the tokens that begin with it.
func searchQuery(companyID, family int64, term string) string {
	prefix := tokenPrefix(companyID, family)
	if n := utf8.RuneCountInString(term); n < trigram {
		return `"` + tokens(prefix, term, n) + `"*`
	}
	return `"` + tokens(prefix, term, trigram) + `"`
}

func tokenPrefix(companyID, family int64) string {
	return "c" + strconv.FormatInt(companyID, 10) + "f" + strconv.FormatInt(family, 10) + "x"
}

// tokens writes a token for each piece of s of n characters, in order: the
// prefix, then the piece's UTF-8 bytes in hex, a byte that is not UTF-8
// standing for U+FFFD. The search index is filled with it row by row, so it
// writes into one buffer and converts nothing piece by piece.
func tokens(prefix, s string, n int) string {
	if n <= 0 {
		return prefix // the one empty piece
	}
	var starts [trigram + 1]int // where the last characters start, as a ring
	var b []byte
	k := 0 // characters seen
	for i := 0; ; {
		if k >= n {
			if len(b) > 0 {
				b = append(b, ' ')
			} else {
				b = make([]byte, 0, len(s)*(len(prefix)+2*n+1))
			}
			b = append(b, prefix...)
			b = appendHexRunes(b, s[starts[(k-n)%len(starts)]:i])
		}
		if i == len(s) {
			break
		}
		starts[k%len(starts)] = i
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		k++
	}
	return string(b)
}

// appendHexRunes appends the hex of piece's UTF-8 bytes to b, with U+FFFD's
// for a byte that is not UTF-8, as converting piece to runes would.
func appendHexRunes(b []byte, piece string) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < len(piece); {
		if c := piece[i]; c < utf8.RuneSelf { // most text: about 15% faster than the general path
			b = append(b, digits[c>>4], digits[c&15])
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(piece[i:])
		if r == utf8.RuneError && w == 1 {
			b = append(b, "efbfbd"...)
		} else {
			for _, c := range []byte(piece[i : i+w]) {
				b = append(b, digits[c>>4], digits[c&15])
			}
		}
		i += w
	}
	return b
}
