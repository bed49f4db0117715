package conformance

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// keyRef names which of the configured keys a request carries.
type keyRef int

const (
	keyMain keyRef = iota
	keyRead
	keyOther
	keyLiteral // auth.value is sent as it is; it is no secret
)

// auth is the Authorization header of a request: none when scheme is "".
type auth struct {
	scheme string // "Bearer", "Basic", ...
	key    keyRef
	value  string // keyLiteral's value; a suffix appended to a key otherwise
}

var (
	noAuth    = auth{}
	mainAuth  = auth{scheme: "Bearer", key: keyMain}
	readAuth  = auth{scheme: "Bearer", key: keyRead}
	otherAuth = auth{scheme: "Bearer", key: keyOther}
)

// request is one request the checker sends, kept whole so that it can be
// sent again, made smaller and shown as a curl line.
type request struct {
	method string
	// path is under the base URL, as it is written on the wire: an
	// invalid id such as "1?x=1" stays as it is.
	path  string
	query url.Values
	// body is sent as it is; nil sends none.
	body        []byte
	contentType string // default application/json when there is a body
	auth        auth
}

// get is a GET of path with query, with the main key.
func get(path string, query url.Values) request {
	return request{method: "GET", path: path, query: query, auth: mainAuth}
}

// put is a PUT of path with a JSON body, with the main key.
func put(path string, body any) request {
	return request{method: "PUT", path: path, body: mustJSON(body), auth: mainAuth}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("conformance: a body that is not JSON: " + err.Error()) // bodies are built here, of JSON values
	}
	return b
}

// with returns r with auth a.
func (r request) with(a auth) request {
	r.auth = a
	return r
}

// clone returns r with a query of its own.
func (r request) clone() request {
	r.query = cloneQuery(r.query)
	return r
}

func cloneQuery(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

// url is the request's full URL under base.
func (r request) url(base string) string {
	u := base + r.path
	if len(r.query) > 0 {
		sep := "?"
		if strings.Contains(r.path, "?") {
			sep = "&"
		}
		u += sep + r.query.Encode()
	}
	return u
}

// target is the method and URL, for reports.
func (r request) target(base string) string { return r.method + " " + r.url(base) }

// describe is the request's query (or path) for a subject line.
func (r request) describe() string {
	if len(r.query) == 0 {
		return "(no parameters)"
	}
	keys := slices.Sorted(maps.Keys(r.query))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range r.query[k] {
			if len(v) > 40 {
				v = v[:20] + "…(" + strconv.Itoa(len(v)) + " chars)"
			}
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// curl is a one-line shell command that sends r, naming secrets by the
// environment variables in env, never by their values.
func (r request) curl(base string, env [3]string) string {
	var b strings.Builder
	b.WriteString("curl -sS -g")
	if r.method != "GET" {
		b.WriteString(" -X " + r.method)
	}
	if r.auth.scheme != "" {
		var v string
		if r.auth.key == keyLiteral {
			v = r.auth.scheme + " " + r.auth.value
			b.WriteString(" -H " + shellQuote("Authorization: "+v))
		} else {
			// Double quotes, so the shell expands the variable.
			v = r.auth.scheme + " $" + env[r.auth.key] + r.auth.value
			b.WriteString(` -H "Authorization: ` + strings.ReplaceAll(v, `"`, `\"`) + `"`)
		}
	}
	if r.body != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		b.WriteString(" -H " + shellQuote("Content-Type: "+ct))
		b.WriteString(" --data-raw " + shellQuote(string(r.body)))
	}
	b.WriteString(" " + shellQuote(r.url(base)))
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
