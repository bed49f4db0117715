// Package docsui serves an interactive reference of an OpenAPI document:
// Swagger UI, vendored in assets/ (see assets/README.md) and built into the
// binary, so the page loads nothing from another host.
package docsui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// files are the vendored Swagger UI files (assets/) and the script that
// starts it (docs.js).
//
//go:embed assets docs.js
var files embed.FS

// ContentSecurityPolicy is sent with every answer: the page runs only its own
// scripts and style sheets, talks only to its own origin, and shows images
// from itself or data: URIs (Swagger UI's icons). Swagger UI needs nothing
// inline: the styles it sets from script are not style sheets.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Config says where the page is and what it shows.
type Config struct {
	// Prefix is the page's path, such as "/docs"; its files are served
	// under Prefix + "/".
	Prefix string
	// SpecURL is where the page loads the document from, such as
	// "/openapi.yaml".
	SpecURL string
	// APIBase, when set, is the one server the page's "Try it out" sends
	// requests to (this server's base path, such as "/public"), in place of
	// the document's servers. Empty keeps the document's servers.
	APIBase string
}

// Handler serves the page at cfg.Prefix and its files under cfg.Prefix + "/".
// Mount it on both patterns:
//
//	mux.Handle("GET /docs", h)
//	mux.Handle("GET /docs/", h)
func Handler(cfg Config) http.Handler {
	prefix := "/" + strings.Trim(cfg.Prefix, "/")
	if prefix == "/" {
		prefix = ""
	}
	var page bytes.Buffer
	err := pageTemplate.Execute(&page, struct{ Prefix, SpecURL, APIBase string }{prefix, cfg.SpecURL, cfg.APIBase})
	if err != nil {
		panic("docsui: page template: " + err.Error()) // the template and its data are fixed
	}
	h := &handler{prefix: prefix, files: map[string]*file{}, page: newFile("index.html", page.Bytes())}
	for name, f := range assets() {
		h.files[prefix+"/"+name] = f
	}
	return h
}

// assets are the files every page loads, by name, shared by the handlers
// of the process. A vendored file with a gzip twin (name.gz, made by make
// docs-assets) is sent as that to clients that accept it: nothing is
// compressed at run time.
var assets = sync.OnceValue(func() map[string]*file {
	m := map[string]*file{}
	dir, _ := fs.Sub(files, "assets")
	_ = fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "README.md" || path.Ext(p) == ".gz" {
			return err
		}
		data, err := fs.ReadFile(dir, p)
		if err != nil {
			return err
		}
		f := newFile(p, data)
		if gz, err := fs.ReadFile(dir, p+".gz"); err == nil {
			f.gzipped = gz
		}
		m[p] = f
		return nil
	})
	js, _ := files.ReadFile("docs.js")
	m["docs.js"] = newFile("docs.js", js)
	return m
})

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<link rel="stylesheet" href="{{.Prefix}}/swagger-ui.css">
<link rel="icon" type="image/png" href="{{.Prefix}}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-spec-url="{{.SpecURL}}" data-api-base="{{.APIBase}}"></div>
<script src="{{.Prefix}}/swagger-ui-bundle.js"></script>
<script src="{{.Prefix}}/docs.js"></script>
</body>
</html>
`))

type handler struct {
	prefix string
	page   *file
	files  map[string]*file // by request path
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := h.files[r.URL.Path]
	if r.URL.Path == h.prefix || r.URL.Path == h.prefix+"/" {
		f = h.page
	}
	if f == nil {
		http.NotFound(w, r)
		return
	}
	f.serve(w, r)
}

// file is one file to serve, with its gzip form when it has one.
type file struct {
	name, contentType, etag string
	data, gzipped           []byte
}

func newFile(name string, data []byte) *file {
	sum := sha256.Sum256(data)
	return &file{name: name, data: data, contentType: contentType(name), etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

func (f *file) serve(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", "no-cache") // revalidated by ETag, so a new binary's files are seen at once
	data, etag := f.data, f.etag
	if f.gzipped != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			data, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("ETag", etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(data))
}

// contentType is fixed here rather than read from the system's MIME tables,
// which differ between machines.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".png":
		return "image/png"
	default:
		return "text/plain; charset=utf-8"
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(strings.TrimSpace(q), " ", "") != "q=0" {
			return true
		}
	}
	return false
}
