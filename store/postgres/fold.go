package postgres

import "strings"

// fold is how q and the searched fields are compared: Unicode lower case,
// as Go's strings.ToLower has it. PostgreSQL's lower() differs from it
// beyond ASCII, so the store folds in Go and writes the folded copies.
func fold(s string) string { return strings.ToLower(s) }

// asciiLower folds ASCII letters only, as the text sorts compare (SQLite's
// NOCASE; lower() under COLLATE "C" in the schema).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// likeEscaper escapes what LIKE treats specially, with LIKE's default
// escape character, the backslash.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern is the LIKE pattern of the texts that hold term.
func containsPattern(term string) string { return "%" + likeEscaper.Replace(term) + "%" }
