package apidocs_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/httpapi/apidocs"
)

const specURL = "/openapi.json"

// newServer mounts the handlers as the HTTP adapter does, under a middleware
// that sets a strict policy first, as the adapter's security headers do.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/docs", apidocs.SwaggerUI(specURL))
	mux.Handle("/redoc", apidocs.ReDoc(specURL))
	mux.Handle(apidocs.AssetsPrefix, apidocs.Assets())
	strict := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		mux.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(strict)
	t.Cleanup(srv.Close)
	return srv
}

// response is what a test needs of an HTTP response, read whole.
type response struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, srv *httptest.Server, target string, header http.Header) (response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+target, nil)
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	// Ask for the identity encoding unless the test asks otherwise, so the
	// body is what the server sent (the transport would otherwise decode).
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{StatusCode: resp.StatusCode, Header: resp.Header}, body
}

var (
	srcHrefRE = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	anyURLRE  = regexp.MustCompile(`(?i)https?://`)
	inlineRE  = regexp.MustCompile(`(?i)<script\b[^>]*>\s*[^<\s]|\bon[a-z]+\s*=`)
)

// pageRefs returns the src and href values of an HTML page.
func pageRefs(t *testing.T, page []byte) []string {
	t.Helper()
	var refs []string
	for _, m := range srcHrefRE.FindAllSubmatch(page, -1) {
		refs = append(refs, string(m[1]))
	}
	require.NotEmpty(t, refs)
	return refs
}

func TestPages(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	for _, tc := range []struct {
		path    string
		mountID string
		bundle  string
	}{
		{"/docs", `id="swagger-ui"`, "swagger-ui-bundle.js"},
		{"/redoc", `id="redoc"`, "redoc.standalone.js"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv, tc.path, nil)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
			assert.Equal(t, apidocs.ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"),
				"the page must replace a stricter policy set before it")
			assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

			page := string(body)
			assert.Contains(t, page, tc.mountID)
			assert.Contains(t, page, `data-spec-url="`+specURL+`"`)
			assert.Contains(t, page, tc.bundle)
			assert.Contains(t, page, "docs-init.js")
			assert.NotRegexp(t, anyURLRE, page, "the page must not name any absolute URL")
			assert.NotRegexp(t, inlineRE, page, "no inline script or event handler attribute")

			for _, ref := range pageRefs(t, body) {
				if ref == specURL {
					continue // the <noscript> link to the spec
				}
				u, err := url.Parse(ref)
				require.NoError(t, err)
				assert.Empty(t, u.Scheme, ref)
				assert.Empty(t, u.Host, ref)
				assert.True(t, strings.HasPrefix(u.Path, apidocs.AssetsPrefix), "%s is not a local asset", ref)
			}
		})
	}
}

func TestPageRevalidation(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	resp, _ := get(t, srv, "/docs", nil)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	resp, _ = get(t, srv, "/docs", http.Header{"If-None-Match": {etag}})
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
}

func TestPageEscapesSpecURL(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	apidocs.ReDoc(`/spec"><script>alert(1)</script>`).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/redoc", nil))
	assert.NotContains(t, rec.Body.String(), "<script>alert")

	rec = httptest.NewRecorder()
	apidocs.SwaggerUI("javascript:alert(1)").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	assert.NotContains(t, rec.Body.String(), `="javascript:`, "a javascript: URL must not reach an attribute")
}

func TestPageRejectsOtherMethods(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	apidocs.SwaggerUI(specURL).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/docs", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

// TestReferencedAssets fetches every asset the pages reference and checks it
// is served whole, with its media type and a long-lived cache policy.
func TestReferencedAssets(t *testing.T) {
	t.Parallel()
	srv := newServer(t)

	wantType := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".png": "image/png",
	}
	seen := map[string]bool{}
	for _, pagePath := range []string{"/docs", "/redoc"} {
		_, body := get(t, srv, pagePath, nil)
		for _, ref := range pageRefs(t, body) {
			if ref == specURL || seen[ref] {
				continue
			}
			seen[ref] = true
			t.Run(ref, func(t *testing.T) {
				t.Parallel()
				resp, got := get(t, srv, ref, nil)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				u, err := url.Parse(ref)
				require.NoError(t, err)
				name := strings.TrimPrefix(u.Path, apidocs.AssetsPrefix)
				assert.Equal(t, wantType[path.Ext(name)], resp.Header.Get("Content-Type"))
				assert.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
				assert.NotEmpty(t, resp.Header.Get("ETag"))
				assert.Empty(t, resp.Header.Get("Content-Encoding"))

				want, err := os.ReadFile("assets/" + name)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(want, got), "served %s differs from assets/%s", ref, name)
			})
		}
	}
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "docs-init.js", "docs.css", "favicon-32x32.png"} {
		found := false
		for ref := range seen {
			found = found || strings.HasPrefix(ref, apidocs.AssetsPrefix+name+"?")
		}
		assert.True(t, found, "no page references %s", name)
	}
}

func TestAssetCaching(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const target = apidocs.AssetsPrefix + "docs-init.js"

	resp, _ := get(t, srv, target, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "public, no-cache", resp.Header.Get("Cache-Control"),
		"a URL without the current version must be revalidated")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)

	resp, _ = get(t, srv, target+"?v=stale", http.Header{"If-None-Match": {etag}})
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)
	assert.Equal(t, "public, no-cache", resp.Header.Get("Cache-Control"))
}

func TestAssetGzip(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	const target = apidocs.AssetsPrefix + "swagger-ui-bundle.js"
	want, err := os.ReadFile("assets/swagger-ui-bundle.js")
	require.NoError(t, err)

	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"*", true},
		{"identity", false},
		{"gzip;q=0", false},
		{"*;q=0.1, gzip;q=0", false},
	} {
		t.Run(tc.accept, func(t *testing.T) {
			t.Parallel()
			resp, body := get(t, srv, target, http.Header{"Accept-Encoding": {tc.accept}})
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
			assert.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
			if !tc.gzip {
				assert.Empty(t, resp.Header.Get("Content-Encoding"))
				assert.True(t, bytes.Equal(want, body))
				return
			}
			require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
			assert.Less(t, len(body), len(want)/2)
			zr, err := gzip.NewReader(bytes.NewReader(body))
			require.NoError(t, err)
			got, err := io.ReadAll(zr)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "gzip body does not decode to the asset")
		})
	}
}

func TestUnknownAssets(t *testing.T) {
	t.Parallel()
	srv := newServer(t)
	for _, target := range []string{
		apidocs.AssetsPrefix + "nope.js",
		apidocs.AssetsPrefix,
		apidocs.AssetsPrefix + "swagger-ui-bundle.js.map",
		apidocs.AssetsPrefix + "../apidocs.go",
		apidocs.AssetsPrefix + "%2e%2e%2fapidocs.go",
		apidocs.AssetsPrefix + "assets/docs.css",
	} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			resp, _ := get(t, srv, target, nil)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		})
	}
}

func TestAssetsUnderStripPrefix(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{apidocs.AssetsPrefix, strings.TrimSuffix(apidocs.AssetsPrefix, "/")} {
		h := http.StripPrefix(prefix, apidocs.Assets())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, apidocs.AssetsPrefix+"docs.css", nil))
		assert.Equal(t, http.StatusOK, rec.Code, prefix)
		assert.Equal(t, "text/css; charset=utf-8", rec.Header().Get("Content-Type"), prefix)
	}
}

// TestEveryAssetHasAKnownType keeps a newly copied file from being served as
// application/octet-stream, which browsers refuse to run under nosniff.
func TestEveryAssetHasAKnownType(t *testing.T) {
	t.Parallel()
	entries, err := os.ReadDir("assets")
	require.NoError(t, err)
	for _, e := range entries {
		rec := httptest.NewRecorder()
		apidocs.Assets().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, apidocs.AssetsPrefix+e.Name(), nil))
		assert.Equal(t, http.StatusOK, rec.Code, e.Name())
		assert.NotEqual(t, "application/octet-stream", rec.Header().Get("Content-Type"), e.Name())
	}
}
