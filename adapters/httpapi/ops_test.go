package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/httpapi/apidocs"
)

func TestRequestIDIsEchoedOnlyWhenWellFormed(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	r := a.do("GET", "/healthz", nil, "X-Request-ID", "abc-123.def:456")
	require.Equal(t, "abc-123.def:456", r.header.Get("X-Request-ID"))

	uuidPattern := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, bad := range []string{"has spaces in it", strings.Repeat("x", 200), "<script>alert(1)</script>", "a\tb"} {
		r := a.do("GET", "/healthz", nil, "X-Request-ID", bad)
		require.Regexp(t, uuidPattern, r.header.Get("X-Request-ID"), bad)
	}
	r = a.do("GET", "/healthz", nil)
	require.Regexp(t, uuidPattern, r.header.Get("X-Request-ID"))
	// Problems carry the id too.
	p := a.do("GET", "/api/auth/me", nil, "X-Request-ID", "trace-me-42")
	require.Equal(t, "trace-me-42", p.str("request_id"))
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	for _, r := range []response{
		a.do("GET", "/healthz", nil),
		a.do("GET", "/api/auth/me", nil),
		a.do("GET", "/no/such/route", nil),
		a.do("GET", "/docs", nil),
	} {
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
		require.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
		require.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"))
		require.NotEmpty(t, r.header.Get("Content-Security-Policy"))
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	r := a.do("GET", "/api/nope", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	require.NotEmpty(t, r.str("detail"))
	require.Equal(t, http.StatusMethodNotAllowed, a.do("PUT", "/api/auth/me", nil).status)
}

func TestCORS(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"CORS_ORIGINS": "https://app.example.com"})
	ok := a.do("OPTIONS", "/api/auth/me", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization")
	require.Equal(t, "https://app.example.com", ok.header.Get("Access-Control-Allow-Origin"))
	bad := a.do("OPTIONS", "/api/auth/me", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "GET")
	require.Empty(t, bad.header.Get("Access-Control-Allow-Origin"))
	plain := a.do("GET", "/healthz", nil, "Origin", "https://app.example.com")
	require.Equal(t, "https://app.example.com", plain.header.Get("Access-Control-Allow-Origin"))
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	r := a.do("GET", "/openapi.json", nil)
	require.Equal(t, http.StatusOK, r.status)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.raw, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"), doc.OpenAPI)

	// Every route the router serves is documented (bar the docs' own assets
	// and the alternative YAML form of the document).
	router, ok := a.handler.(chi.Routes)
	require.True(t, ok)
	require.NoError(t, chi.Walk(router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/docs/assets") || strings.HasPrefix(route, "/openapi") {
			return nil
		}
		ops, ok := doc.Paths[route]
		require.True(t, ok, "route %s %s is missing from the OpenAPI document", method, route)
		require.Contains(t, ops, strings.ToLower(method), "route %s %s", method, route)
		return nil
	}))
	for _, path := range []string{"/api/auth/register", "/api/auth/token", "/api/auth/refresh", "/api/auth/logout", "/api/auth/me",
		"/api/auth/sessions", "/api/auth/sessions/{id}", "/api/auth/change-password", "/api/health", "/healthz", "/readyz", "/metrics"} {
		require.Contains(t, doc.Paths, path)
	}
	// Request and response schemas are there, not just the paths.
	register := doc.Paths["/api/auth/register"]["post"]
	require.Contains(t, register, "requestBody")
	require.Contains(t, register["responses"], "201")
	require.Contains(t, register["responses"], "422")
	token := doc.Paths["/api/auth/token"]["post"]["requestBody"].(map[string]any)["content"].(map[string]any)
	require.Contains(t, token, "application/x-www-form-urlencoded")
	require.Contains(t, token, "application/json")
	me := doc.Paths["/api/auth/me"]["get"]
	require.NotEmpty(t, me["security"])
	require.Contains(t, me["responses"], "401")
}

func TestDocsPagesWorkOffline(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	for _, path := range []string{"/docs", "/redoc"} {
		r := a.do("GET", path, nil)
		require.Equal(t, http.StatusOK, r.status, path)
		require.Contains(t, r.header.Get("Content-Type"), "text/html")
		require.Equal(t, apidocs.ContentSecurityPolicy, r.header.Get("Content-Security-Policy"))
		require.NotRegexp(t, `(src|href)="https?://`, string(r.raw), "no CDN")
		for _, m := range regexp.MustCompile(`(?:src|href)="(/docs/assets/[^"]+)"`).FindAllStringSubmatch(string(r.raw), -1) {
			asset := a.do("GET", m[1], nil)
			require.Equal(t, http.StatusOK, asset.status, m[1])
			require.NotEmpty(t, asset.raw, m[1])
		}
	}
}

func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		require.Equal(t, http.StatusOK, a.do("GET", "/healthz", nil).status)
		require.Equal(t, http.StatusOK, a.do("GET", "/readyz", nil).status)
		h := a.do("GET", "/api/health", nil)
		require.Equal(t, http.StatusOK, h.status)
		require.Equal(t, "healthy", h.str("status"))
		require.Equal(t, "test", h.str("version"))
		checks := h.body["checks"].(map[string]any)
		for _, name := range []string{"database", "redis", "queue", "ai_providers"} {
			require.Contains(t, checks, name)
		}
		require.Equal(t, "ok", checks["database"].(map[string]any)["status"])
		require.Equal(t, "ok", checks["redis"].(map[string]any)["status"])
		require.Equal(t, "ok", checks["ai_providers"].(map[string]any)["status"])
		if b.name == "memory" {
			require.Equal(t, "memory", checks["database"].(map[string]any)["backend"])
		}
	})
}

// With no AI provider answering, /api/health is degraded but the
// instance stays ready: jobs wait, the API serves.
func TestHealthWhenNoAIProviderAnswers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"PLUGIN_MODE": "plugin", "PLUGIN_DIR": t.TempDir()})
	require.Equal(t, http.StatusOK, a.do("GET", "/readyz", nil).status)
	h := a.do("GET", "/api/health", nil)
	require.Equal(t, http.StatusOK, h.status)
	require.Equal(t, "degraded", h.str("status"))
	require.Equal(t, "down", h.body["checks"].(map[string]any)["ai_providers"].(map[string]any)["status"])
}

func TestReadinessAndAuthWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "RATE_LIMIT_AUTH": "5/15m"})
	require.Equal(t, http.StatusOK, a.do("GET", "/healthz", nil).status, "liveness does not depend on Redis")
	ready := a.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, ready.status)
	h := a.do("GET", "/api/health", nil)
	require.Equal(t, http.StatusOK, h.status)
	require.Equal(t, "degraded", h.str("status"))
	redisCheck := h.body["checks"].(map[string]any)["redis"].(map[string]any)
	require.Equal(t, "down", redisCheck["status"])
	require.NotContains(t, string(h.raw), "127.0.0.1:1", "no internals")

	// Auth fails closed: no unlimited guessing while the limiter is gone.
	r := a.do("POST", "/api/auth/token", map[string]any{"email": "a@example.com", "password": "whatever password"})
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.NotContains(t, string(r.raw), "connection refused")
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("metrics")
		a.do("GET", "/api/auth/me", nil, bearer(acc.access)...)
		a.do("GET", "/api/auth/me", nil, bearer("garbage")...)
		r := a.do("GET", "/metrics", nil)
		require.Equal(t, http.StatusOK, r.status)
		text := string(r.raw)
		require.Contains(t, text, `repurpose_http_requests_total{method="GET",route="/api/auth/me",status="200"} 1`)
		require.Contains(t, text, `repurpose_http_requests_total{method="GET",route="/api/auth/me",status="401"} 1`)
		require.Contains(t, text, `repurpose_http_request_duration_seconds_bucket{method="GET",route="/api/auth/me"`)
		require.Contains(t, text, `repurpose_auth_failures_total{reason="invalid_token"} 1`)
		if b.name != "memory" {
			require.Contains(t, text, "repurpose_db_pool_total_connections")
		}
	})
}
