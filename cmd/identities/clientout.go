package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/identities-go/identities/client"
	"github.com/identities-go/identities/gen"
)

// row is what the table shows of an identity of either family.
type row struct {
	id                   int64
	identityID, username string
	email                *string
	user                 *gen.User
	connection           gen.Connection
	mfa                  bool
	access               [2]*time.Time // the family's two access flags
	serviceAccount       *time.Time
}

// sink receives the identities of list --all one by one.
type sink interface {
	item(v any, r row) error
	// flush writes what is buffered, without ending the output.
	flush() error
	// close ends the output.
	close() error
}

// table prints identities as aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, access [2]string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	fmt.Fprintf(t.tw, "ID\tIDENTITY ID\tUSERNAME\tEMAIL\tUSER\tCONNECTION\tMFA\t%s\t%s\tSERVICE ACCOUNT\n", access[0], access[1])
	return t
}

func (t *table) add(r row) {
	user := "-"
	if r.user != nil {
		user = clean(fmt.Sprintf("%d %s %s", r.user.Id, r.user.FirstName, r.user.LastName))
	}
	conn := r.connection.ClientType
	if a := r.connection.ClientAlias; a != nil && *a != "" {
		conn += "/" + *a
	}
	email := ""
	if r.email != nil {
		email = *r.email
	}
	fmt.Fprintln(t.tw, strings.Join([]string{
		strconv.FormatInt(r.id, 10), clean(r.identityID), clean(r.username), clean(email), user, clean(conn),
		yesNo(r.mfa), yesNo(r.access[0] != nil), yesNo(r.access[1] != nil), yesNo(r.serviceAccount != nil),
	}, "\t"))
}

func (t *table) item(_ any, r row) error { t.add(r); return nil }
func (t *table) flush() error            { return t.tw.Flush() }
func (t *table) close() error            { return t.tw.Flush() }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// clean makes a text from the API safe for one table cell or error line:
// control characters (tabs, newlines, terminal escapes) and bidirectional
// overrides become U+FFFD; an empty text becomes "-".
func clean(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return unicode.ReplacementChar
		}
		return r
	}, s)
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// jsonArray prints identities as one JSON array, item by item.
type jsonArray struct {
	w io.Writer
	n int
}

func (a *jsonArray) item(v any, _ row) error {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if a.n == 0 {
		sep = "[\n  "
	}
	a.n++
	_, err = io.WriteString(a.w, sep+string(b))
	return err
}

func (a *jsonArray) flush() error { return nil }

func (a *jsonArray) close() error {
	end := "\n]\n"
	if a.n == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(a.w, end)
	return err
}

// progress counts the identities of list --all on one line of stderr, when
// stderr is a terminal, at most ten times a second.
type progress struct {
	w  io.Writer
	on bool
	// n counts the identities taken, and skipped those of the pages before
	// the walk's first.
	n, skipped int64
	last       time.Time
	printed    bool
}

// add counts one identity, of the page resp answered.
func (p *progress) add(resp *client.Response) {
	if p.n == 0 {
		p.skipped = max(resp.Page-1, 0) * resp.Limit
	}
	p.n++
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.printed = true
	fmt.Fprintf(p.w, "\r%d of %d identities so far…", p.skipped+p.n, resp.Total)
}

// done clears the progress line.
func (p *progress) done() {
	if p.printed {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.printed = false
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
