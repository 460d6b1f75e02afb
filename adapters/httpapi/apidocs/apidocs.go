// Package apidocs serves the interactive API documentation, Swagger UI and
// ReDoc, from files embedded in the binary, so the docs work with no internet
// access and no CDN. The vendor files in assets/ are pinned npm releases copied
// by scripts/update-docs-assets.sh (`make docs-assets`); the HTML pages and the
// small initializer script are ours and carry no inline script, so the pages
// run under ContentSecurityPolicy.
//
// Mounting, e.g. with net/http's ServeMux:
//
//	mux.Handle("GET /docs", apidocs.SwaggerUI("/openapi.json"))
//	mux.Handle("GET /redoc", apidocs.ReDoc("/openapi.json"))
//	mux.Handle("GET "+apidocs.AssetsPrefix, apidocs.Assets())
package apidocs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssetsPrefix is the URL path under which the pages expect Assets to be
// mounted; an asset named "x.js" is fetched from AssetsPrefix+"x.js".
const AssetsPrefix = "/docs/assets/"

// ContentSecurityPolicy is the policy the docs pages need, and the one their
// handlers send, replacing any stricter policy a middleware set earlier.
// Scripts and styles come only from this origin (styles also inline: Swagger
// UI and ReDoc set style attributes and ReDoc injects <style> elements); images
// may be data: URLs (Swagger UI's icons); ReDoc runs its search index in a
// Worker created from a blob: URL (without blob: search breaks). "Try it out"
// calls the API on this origin (connect-src falls back to default-src 'self').
// The one outside URL either bundle loads, ReDoc's sidebar logo from
// cdn.redoc.ly, is blocked by img-src and hidden by ReDoc when it fails, so
// the pages make no request off this origin.
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; " +
	"worker-src 'self' blob:; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

//go:embed assets/*
var assetFS embed.FS

//go:embed page.html.tmpl
var pageTemplateText string

// immutableMaxAge is how long a browser may keep an asset fetched through a
// URL carrying the asset's current content hash (?v=...): that URL's content
// never changes, since new content means a new hash in the pages.
const immutableMaxAge = 365 * 24 * time.Hour

// asset is one embedded file, ready to serve.
type asset struct {
	name        string
	contentType string
	data        []byte
	// version is a short content hash: the pages append ?v=<version> to the
	// asset's URL so a new build busts browser caches.
	version string
	etag    string

	gzipOnce sync.Once
	gzipData []byte // nil until first needed, or if compression failed
}

// contentTypes maps the extensions found in assets/ to the media types they
// are served with; the test fails if an asset's extension is missing here.
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8",
}

// assets returns every embedded file by its name under AssetsPrefix. The
// files are hashed on first use, not at start: a cold start (Lambda) that
// never serves the docs never pays for it.
var assets = sync.OnceValue(loadAssets)

// buildTime stands in for the files' modification time (embed keeps none), so
// If-Modified-Since works across requests to one process.
var buildTime = time.Now().UTC().Truncate(time.Second)

func loadAssets() map[string]*asset {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		panic(fmt.Sprintf("apidocs: read embedded assets: %v", err))
	}
	m := make(map[string]*asset, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := assetFS.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(fmt.Sprintf("apidocs: read embedded asset %s: %v", e.Name(), err))
		}
		sum := sha256.Sum256(data)
		version := hex.EncodeToString(sum[:6])
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			ct = "application/octet-stream"
		}
		m[e.Name()] = &asset{
			name:        e.Name(),
			contentType: ct,
			data:        data,
			version:     version,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
	}
	return m
}

// assetURL returns the URL the pages use for the named asset. It panics on an
// unknown name: that is a bug in this package, caught by its tests.
func assetURL(name string) string {
	a, ok := assets()[name]
	if !ok {
		panic("apidocs: page references unknown asset " + name)
	}
	return AssetsPrefix + name + "?v=" + a.version
}

var pageTemplate = template.Must(template.New("page").
	Funcs(template.FuncMap{"asset": assetURL}).
	Parse(pageTemplateText))

// pageData fills page.html.tmpl.
type pageData struct {
	Title     string
	HTMLClass string
	MountID   string
	SpecURL   string
	Styles    []string
	Scripts   []string
}

// SwaggerUI returns the handler of the Swagger UI page, which loads the
// OpenAPI document from specURL (a same-origin path such as "/openapi.json":
// the page's policy allows no other origin) and lets users try requests.
// The page is rendered once, at its first request.
func SwaggerUI(specURL string) http.Handler {
	return newPage(pageData{
		Title:     "API reference · Swagger UI",
		HTMLClass: "swagger-ui-page",
		MountID:   "swagger-ui",
		SpecURL:   specURL,
		Styles:    []string{"swagger-ui.css"},
		Scripts:   []string{"swagger-ui-bundle.js"},
	})
}

// ReDoc returns the handler of the ReDoc page, a read-only three-panel
// rendering of the OpenAPI document at specURL (a same-origin path).
// The page is rendered once, at its first request.
func ReDoc(specURL string) http.Handler {
	return newPage(pageData{
		Title:   "API reference · ReDoc",
		MountID: "redoc",
		SpecURL: specURL,
		Scripts: []string{"redoc.standalone.js"},
	})
}

// page serves one HTML page, rendered at its first request.
type page struct {
	render func() renderedPage
}

type renderedPage struct {
	body []byte
	etag string
}

func newPage(d pageData) *page {
	return &page{render: sync.OnceValue(func() renderedPage { return renderPage(d) })}
}

func renderPage(d pageData) renderedPage {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		// Only a bug in the template or in assetURL's callers gets here.
		panic(fmt.Sprintf("apidocs: render %s page: %v", d.MountID, err))
	}
	sum := sha256.Sum256(buf.Bytes())
	return renderedPage{body: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// ServeHTTP answers GET and HEAD with the page and its content security
// policy; the page is revalidated on each visit (it names the assets'
// current versions), and answered 304 when unchanged.
func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	rp := p.render()
	h.Set("ETag", rp.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(rp.body))
}

// Assets returns the handler of the embedded files. It expects the full
// request path, AssetsPrefix+name, so mount it at AssetsPrefix as it is (no
// http.StripPrefix needed); a path that http.StripPrefix already cut down to
// the name (or "/"+name) is accepted too.
// Anything but an embedded file's name is 404.
//
// A request whose ?v= matches the file's current content hash (the URLs the
// pages use) may be cached for a year as immutable; any other must be
// revalidated (ETag). Text files are sent gzip-compressed to clients that
// accept it.
func Assets() http.Handler {
	return http.HandlerFunc(serveAsset)
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, AssetsPrefix), "/")
	a, ok := assets()[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(immutableMaxAge.Seconds()))+", immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	body, etag := a.data, a.etag
	if a.compressible() {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if gz := a.gzipped(); gz != nil {
				h.Set("Content-Encoding", "gzip")
				body, etag = gz, strings.TrimSuffix(a.etag, `"`)+`-gzip"`
			}
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", buildTime, bytes.NewReader(body))
}

// compressible reports whether the file is text big enough for gzip to pay.
func (a *asset) compressible() bool {
	return strings.HasPrefix(a.contentType, "text/") && len(a.data) >= 1024
}

// gzipped returns the file gzip-compressed, compressing it on first use (so
// a process that never serves the docs never pays for it), or nil if that
// fails.
func (a *asset) gzipped() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return
		}
		if _, err := zw.Write(a.data); err != nil {
			return
		}
		if err := zw.Close(); err != nil {
			return
		}
		a.gzipData = buf.Bytes()
	})
	return a.gzipData
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip:
// listed with a non-zero q, or not listed while "*" has a non-zero q.
func acceptsGzip(header string) bool {
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				f = 0
			}
			q = f
		}
		switch strings.ToLower(strings.TrimSpace(coding)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
