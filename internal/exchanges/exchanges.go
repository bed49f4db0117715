// Package exchanges holds a corpus of real request and response pairs
// recorded from the server (testdata/exchanges.json) and replays it through
// validators other than ours, so that every OpenAPI 3.0.3 reader of
// api/openapi.yaml is shown to agree with the one in contract/:
// libopenapi-validator in this package's tests, and Stoplight Prism's
// validating proxy in the tests of internal/exchanges/prism (make
// replay-prism). Plants, recorded answers broken on purpose, show that
// each of them can fail.
//
// Re-record the corpus after a change of the server or the document with
//
//	go test ./internal/exchanges -run TestRecord -args -record
//
// TestRecord fails while the committed corpus differs from what the server
// now answers.
package exchanges

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
)

// File is the committed corpus, relative to this package's directory.
const File = "testdata/exchanges.json"

// BasePath is where the recorded server served the API; recorded paths
// start with it.
const BasePath = "/public"

// Corpus is the recorded exchanges and how they were made.
type Corpus struct {
	// Note says where the file comes from.
	Note string `json:"note"`
	// Clock is the server's fixed clock while recording, RFC 3339.
	Clock string `json:"clock"`
	// Exchanges are in the order they were sent; later ones see the
	// changes of earlier ones.
	Exchanges []Exchange `json:"exchanges"`
}

// Exchange is one request and the server's answer to it.
type Exchange struct {
	// Name is unique in the corpus and is sent as the X-Request-Id, which
	// the server echoes.
	Name string `json:"name"`
	// Operation is the operationId the request is meant for.
	Operation string `json:"operation"`
	// InvalidRequest marks requests that break the document on purpose
	// (the 400s, a 415, a missing or non-bearer credential): every
	// validator must report them. Every other request conforms.
	InvalidRequest bool     `json:"invalidRequest,omitempty"`
	Request        Request  `json:"request"`
	Response       Response `json:"response"`
}

// Request is a recorded request.
type Request struct {
	Method string `json:"method"`
	// Path is the path under the server's root, BasePath included, with
	// the query as sent.
	Path string `json:"path"`
	// Header holds the headers that matter: X-Request-Id, Content-Type,
	// and Authorization, whose key is written as "{Name}", the name of a
	// testserver key (the secrets change on every run).
	Header map[string]string `json:"header,omitempty"`
	// Body is sent as it is; it need not be JSON.
	Body *string `json:"body,omitempty"`
}

// Response is a recorded answer.
type Response struct {
	Status int `json:"status"`
	// Header holds the headers a validator may read: Content-Type,
	// Cache-Control, WWW-Authenticate, Retry-After, X-RateLimit-* and
	// X-Request-Id.
	Header map[string]string `json:"header"`
	// Body is the JSON body, re-indented in the file.
	Body json.RawMessage `json:"body"`
}

// RecordedResponseHeaders are the response headers a recording keeps.
var RecordedResponseHeaders = []string{
	"Content-Type", "Cache-Control", "WWW-Authenticate", "Retry-After",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Request-Id",
}

// Load reads a corpus file.
func Load(path string) (*Corpus, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// Decode reads a corpus and checks that its names are unique.
func Decode(b []byte) (*Corpus, error) {
	var c Corpus
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("exchanges: %w", err)
	}
	seen := map[string]bool{}
	for _, x := range c.Exchanges {
		if x.Name == "" || seen[x.Name] {
			return nil, fmt.Errorf("exchanges: empty or repeated name %q", x.Name)
		}
		seen[x.Name] = true
	}
	return &c, nil
}

// Encode writes c as the committed file is written: indented, with a final
// newline, so that recording twice gives the same bytes.
func (c *Corpus) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// HTTPRequest builds x's request against base, a URL without a path
// ("http://127.0.0.1:8080"); trim is cut from the front of the recorded
// path first ("" or BasePath). The key placeholder stays as recorded.
func (x *Exchange) HTTPRequest(base, trim string) (*http.Request, error) {
	path, ok := strings.CutPrefix(x.Request.Path, trim)
	if !ok {
		return nil, fmt.Errorf("exchanges: %s: path %q is not under %q", x.Name, x.Request.Path, trim)
	}
	var body io.Reader
	if x.Request.Body != nil {
		body = strings.NewReader(*x.Request.Body)
	}
	r, err := http.NewRequest(x.Request.Method, base+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range x.Request.Header {
		r.Header.Set(k, v)
	}
	return r, nil
}

// HTTPResponse builds x's response to req, with the body as the server sent
// it (compact JSON and a newline).
func (x *Exchange) HTTPResponse(req *http.Request) *http.Response {
	body := x.Response.WireBody()
	h := http.Header{}
	for k, v := range x.Response.Header {
		h.Set(k, v)
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", x.Response.Status, http.StatusText(x.Response.Status)),
		StatusCode:    x.Response.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// Plant is a recorded answer changed so that it breaks the document: a
// validator that does not report it checks nothing.
type Plant struct {
	// Name is the new exchange's; From names the recorded one it changes.
	Name, From string
	// Change changes the decoded body and the response headers.
	Change func(body map[string]any, header map[string]string)
}

// firstIdentity is the identity a body holds: the body itself, or a page's
// first.
func firstIdentity(body map[string]any) map[string]any {
	if data, ok := body["data"].([]any); ok && len(data) > 0 {
		if it, ok := data[0].(map[string]any); ok {
			return it
		}
	}
	return body
}

// Plants break the rules the nullability fix is about, and plainer ones: a
// nested user that is not an object, an identity's connection that is null
// (Connection is nullable, an identity's connection is not), a required
// nullable field left out, a user nested in the connection's allOf that is
// not an object, an error code the document does not list, and a
// Retry-After that is not an integer.
var Plants = []Plant{
	{"planted-user-string", "infra-list-default", func(b map[string]any, _ map[string]string) {
		firstIdentity(b)["user"] = "Sally Smith"
	}},
	{"planted-connection-null", "infra-list-default", func(b map[string]any, _ map[string]string) {
		firstIdentity(b)["connection"] = nil
	}},
	{"planted-designator-missing", "vc-list-default", func(b map[string]any, _ map[string]string) {
		delete(firstIdentity(b), "serviceAccountDesignator")
	}},
	{"planted-connection-user-number", "vc-connect-link", func(b map[string]any, _ map[string]string) {
		if conn, ok := firstIdentity(b)["connection"].(map[string]any); ok {
			conn["user"] = 42
		}
	}},
	{"planted-error-code-unknown", "infra-connect-unknown-identity", func(b map[string]any, _ map[string]string) {
		b["code"] = "GONE"
	}},
	{"planted-retry-after-text", "vc-list-rate-limited", func(_ map[string]any, h map[string]string) {
		h["Retry-After"] = "soon"
	}},
}

// Planted makes the exchanges of Plants from c's.
func (c *Corpus) Planted() ([]Exchange, error) {
	byName := map[string]Exchange{}
	for _, x := range c.Exchanges {
		byName[x.Name] = x
	}
	var out []Exchange
	for _, p := range Plants {
		x, ok := byName[p.From]
		if !ok {
			return nil, fmt.Errorf("exchanges: plant %s: no exchange %s", p.Name, p.From)
		}
		var body map[string]any
		if err := json.Unmarshal(x.Response.Body, &body); err != nil {
			return nil, fmt.Errorf("exchanges: plant %s: %w", p.Name, err)
		}
		x.Name = p.Name
		x.Request.Header = maps.Clone(x.Request.Header)
		x.Request.Header["X-Request-Id"] = p.Name
		x.Response.Header = maps.Clone(x.Response.Header)
		x.Response.Header["X-Request-Id"] = p.Name
		p.Change(body, x.Response.Header)
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		x.Response.Body = raw
		out = append(out, x)
	}
	return out, nil
}

// WireBody is the body as the server sent it: compact JSON and a newline.
func (r *Response) WireBody() []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, r.Body); err != nil {
		return append([]byte(nil), r.Body...) // Decode accepted it, so this does not happen
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}
