// Package httpapi is the driving HTTP adapter: the router, middleware,
// handlers, OpenAPI document and docs pages, mapping core errors to
// statuses in one table.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"

	"github.com/repurpose/repurpose/adapters/httpapi/apidocs"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/core/document"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/core/workspace"
	"github.com/repurpose/repurpose/ports"
)

// Options configures the HTTP adapter.
type Options struct {
	Version string
	// TrustProxyHeaders makes X-Forwarded-For the client address.
	TrustProxyHeaders bool
	// CORSOrigins is the CORS allow-list; empty allows no cross-origin use.
	CORSOrigins []string
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64
	// MaxUploadBytes bounds an uploaded file (MAX_UPLOAD_SIZE).
	MaxUploadBytes int64
	// MemoryBackends names the checks served by in-memory adapters
	// (reported healthy without a probe), e.g. "database", "redis".
	MemoryBackends []string
}

// Deps are the use cases and adapters the handlers call.
type Deps struct {
	// Auth serves /api/auth; nil leaves only the operations routes (the
	// worker's own listener).
	Auth *auth.Service
	// Workspaces serves the tenancy routes (with Auth).
	Workspaces *workspace.Service
	// Documents serves /api/documents (with Auth).
	Documents *document.Service
	// Transformations and Events serve /api/transformations (with Auth).
	Transformations *transformation.Service
	Events          ports.EventBus
	// Inspector serves /api/system (with Workspaces, for the admin check).
	Inspector ports.QueueInspector
	// Providers serves /api/providers (with Workspaces).
	Providers ProviderDirectory
	Health    []ports.HealthChecker
	Metrics   *Metrics
	Log       *slog.Logger
}

const bearerScheme = "bearer"

// schemaPrefix is where the OpenAPI document keeps the schemas of bodies
// (huma.DefaultConfig's).
const schemaPrefix = "#/components/schemas/"

// installErrorModel swaps huma's (package-global) error constructors for
// ours once, so parallel tests building several handlers don't race.
var installErrorModel sync.Once

// installProblems makes huma render its errors as our problems.
func installProblems() {
	installErrorModel.Do(func() {
		huma.NewError = humaNewError
		huma.NewErrorWithContext = humaNewErrorWithContext
	})
}

// server carries what the handlers share.
type server struct {
	opts Options
	deps Deps
	api  huma.API
	log  *slog.Logger
}

// NewHandler builds the whole HTTP surface. The schemas of the bodies are
// generated when first read (lazySchemas), not here.
func NewHandler(opts Options, deps Deps) http.Handler {
	return newHandler(opts, deps, newLazySchemas(schemaPrefix, huma.DefaultSchemaNamer))
}

// newHandler is NewHandler with the registry of the schemas.
func newHandler(opts Options, deps Deps, schemas huma.Registry) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxUploadBytes <= 0 {
		opts.MaxUploadBytes = 10 << 20
	}
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics()
	}
	s := &server{opts: opts, deps: deps, log: deps.Log}

	router := chi.NewRouter()
	router.Use(requestMeta(opts.TrustProxyHeaders), observe(deps.Log, deps.Metrics), recoverPanics(deps.Log), securityHeaders)
	if len(opts.CORSOrigins) > 0 {
		router.Use(cors.Handler(cors.Options{
			AllowedOrigins: opts.CORSOrigins, AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders: []string{"Authorization", "Content-Type", "If-Match", "X-Request-ID"},
			ExposedHeaders: []string{"X-Request-ID", "Retry-After", "ETag", "WWW-Authenticate"}, MaxAge: 600,
		}))
	}
	router.Use(middleware.StripSlashes, limitBodies(func(r *http.Request) int64 {
		if r.URL.Path == "/api/documents/upload" {
			return opts.MaxUploadBytes + multipartOverhead
		}
		return opts.MaxBodyBytes
	}))
	router.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, newProblem(http.StatusNotFound, "no such route", nil))
	})
	router.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, "method not allowed on this route", nil))
	})

	cfg := huma.DefaultConfig("Repurpose API", opts.Version)
	cfg.Components.Schemas = schemas
	cfg.Info.Description = "Multi-tenant content transformation platform. Authenticate with POST /api/auth/token, " +
		"then send `Authorization: Bearer <access_token>`."
	cfg.DocsPath = ""    // our own offline pages below
	cfg.OpenAPIPath = "" // serveOpenAPI below
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in responses
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "An access token from /api/auth/token or /api/auth/refresh."},
	}
	installProblems()
	s.api = humachi.New(router, cfg)
	s.api.UseMiddleware(s.authenticate)

	if deps.Auth != nil {
		s.registerAuth()
	}
	if deps.Auth != nil && deps.Workspaces != nil {
		s.registerWorkspaces()
	}
	if deps.Auth != nil && deps.Documents != nil {
		s.registerDocuments()
	}
	if deps.Auth != nil {
		s.registerTransformationCatalog()
	}
	if deps.Auth != nil && deps.Transformations != nil && deps.Events != nil {
		router.Get("/api/ws", s.websocketHandler)
		s.plainRoute(http.MethodGet, "/api/ws", "websocket", "Live transformation events (WebSocket)", "Real time", "application/json",
			"Upgrade to a WebSocket; pass the access token as ?token= or Authorization. Messages {type, data, timestamp}: "+
				"connection_established, then transformation_started|progress|completed|failed|cancelled of the token's workspace; "+
				"send {\"type\":\"ping\"} for a pong. Closed (1008) when the session ends.")
		s.registerTransformations()
		if deps.Inspector != nil && deps.Workspaces != nil {
			s.registerSystem()
		}
		if deps.Providers != nil && deps.Workspaces != nil {
			s.registerProviders()
		}
		s.registerPresets()
	}
	s.registerOperations(router)
	return router
}

// authenticate resolves the bearer token of operations that declare the
// bearer security requirement and puts the identity into the context.
func (s *server) authenticate(ctx huma.Context, next func(huma.Context)) {
	if len(ctx.Operation().Security) == 0 {
		next(ctx)
		return
	}
	token, ok := bearerToken(ctx.Header("Authorization"))
	if !ok {
		s.deps.Metrics.AuthFailure("missing_token")
		s.writeHumaProblem(ctx, newProblem(http.StatusUnauthorized, "not authenticated", nil))
		return
	}
	id, err := s.deps.Auth.Authenticate(ctx.Context(), token)
	if err != nil {
		s.writeHumaProblem(ctx, problemFor(ctx.Context(), s.log, err))
		return
	}
	next(huma.WithContext(ctx, core.WithIdentity(ctx.Context(), id)))
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != "" && len(token) <= 4096
}

func (s *server) writeHumaProblem(ctx huma.Context, p *Problem) {
	if p.RequestID == "" {
		p.RequestID = core.RequestMetaFrom(ctx.Context()).RequestID
	}
	for k, vs := range p.headers {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// fail converts an error returned by the core into the problem huma renders.
func (s *server) fail(ctx context.Context, err error) error {
	return problemFor(ctx, s.log, err)
}

// public applies the server-wide settings every operation shares: the body
// limit (so huma answers 413 itself) and the statuses any route may give.
func (s *server) public(op huma.Operation) huma.Operation {
	op.MaxBodyBytes = s.opts.MaxBodyBytes
	return op
}

// secured is public plus a required bearer token (and its 401).
func (s *server) secured(op huma.Operation) huma.Operation {
	op = s.public(op)
	op.Security = []map[string][]string{{bearerScheme: {}}}
	op.Errors = append(op.Errors, http.StatusUnauthorized)
	return op
}

// plainRoute documents a route served outside huma (HTML, Prometheus text).
func (s *server) plainRoute(method, path, id, summary, tag, contentType, description string) {
	s.api.OpenAPI().AddOperation(&huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{tag},
		Responses: map[string]*huma.Response{"200": {Description: description, Content: map[string]*huma.MediaType{
			contentType: {Schema: &huma.Schema{Type: "string"}},
		}}},
	})
}

func (s *server) registerOperations(router chi.Router) {
	huma.Register(s.api, s.public(huma.Operation{
		OperationID: "liveness", Method: http.MethodGet, Path: "/healthz", Summary: "Liveness probe", Tags: []string{"Operations"},
	}), func(ctx context.Context, _ *struct{}) (*probeOutput, error) {
		return &probeOutput{Body: probeBody{Status: "ok"}}, nil
	})
	huma.Register(s.api, s.public(huma.Operation{
		OperationID: "readiness", Method: http.MethodGet, Path: "/readyz", Summary: "Readiness probe",
		Description: "503 until every configured dependency (PostgreSQL, Redis) answers.", Tags: []string{"Operations"},
		Errors: []int{http.StatusServiceUnavailable},
	}), s.readyz)
	huma.Register(s.api, s.public(huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/api/health", Summary: "Health with dependency checks", Tags: []string{"Operations"},
	}), s.health)

	router.Get("/metrics", s.deps.Metrics.Handler().ServeHTTP)
	s.plainRoute(http.MethodGet, "/metrics", "metrics", "Prometheus metrics", "Operations", "text/plain", "Prometheus text exposition format")

	docsPage := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Security-Policy", apidocs.ContentSecurityPolicy)
			h.ServeHTTP(w, r)
		})
	}
	serveOpenAPI(router, s.api)
	router.Get("/docs", docsPage(apidocs.SwaggerUI("/openapi.json")).ServeHTTP)
	router.Get("/redoc", docsPage(apidocs.ReDoc("/openapi.json")).ServeHTTP)
	router.Get("/docs/assets/*", docsPage(apidocs.Assets()).ServeHTTP)
	s.plainRoute(http.MethodGet, "/docs", "swaggerUI", "Swagger UI (offline)", "Operations", "text/html", "HTML page")
	s.plainRoute(http.MethodGet, "/redoc", "redoc", "ReDoc (offline)", "Operations", "text/html", "HTML page")
}

type probeBody struct {
	Status string `json:"status" example:"ok"`
}

type probeOutput struct {
	Body probeBody
}

// CheckResult is one dependency's health.
type CheckResult struct {
	Status    string  `json:"status" enum:"ok,down,not_configured" doc:"ok, down, or not_configured when the deployment has no such dependency yet"`
	Backend   string  `json:"backend,omitempty" doc:"memory when served in-process"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	Error     string  `json:"error,omitempty" doc:"Why the check failed (no internals)"`
}

type healthBody struct {
	Status  string                 `json:"status" enum:"healthy,degraded"`
	Version string                 `json:"version"`
	Checks  map[string]CheckResult `json:"checks"`
}

type healthOutput struct {
	Body healthBody
}

// healthCheckNames are the checks /api/health always reports.
var healthCheckNames = []string{"database", "redis", "queue", "ai_providers"}

func (s *server) runChecks(ctx context.Context) (map[string]CheckResult, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	results := make(map[string]CheckResult, len(healthCheckNames))
	for _, name := range healthCheckNames {
		results[name] = CheckResult{Status: "not_configured"}
	}
	for _, name := range s.opts.MemoryBackends {
		results[name] = CheckResult{Status: "ok", Backend: "memory"}
	}
	type named struct {
		name string
		res  CheckResult
	}
	ch := make(chan named, len(s.deps.Health))
	for _, c := range s.deps.Health {
		go func(c ports.HealthChecker) {
			start := time.Now()
			err := c.Check(ctx)
			r := CheckResult{Status: "ok", LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				s.log.WarnContext(ctx, "health check failed", "check", c.Name(), "err", err)
				r.Status, r.Error = "down", "not answering"
			}
			ch <- named{c.Name(), r}
		}(c)
	}
	healthy := true
	for range s.deps.Health {
		n := <-ch
		results[n.name] = n.res
		healthy = healthy && (n.res.Status == "ok" || !readinessCheck(n.name))
	}
	return results, healthy
}

// readinessCheck reports whether a failing check makes the instance not
// ready. The AI providers' outage degrades /api/health but keeps the
// instance in service: jobs wait in the queue and the API still answers.
func readinessCheck(name string) bool { return name != "ai_providers" }

func (s *server) readyz(ctx context.Context, _ *struct{}) (*probeOutput, error) {
	if _, ok := s.runChecks(ctx); !ok {
		return nil, newProblem(http.StatusServiceUnavailable, "a dependency is not answering", nil)
	}
	return &probeOutput{Body: probeBody{Status: "ready"}}, nil
}

func (s *server) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	checks, _ := s.runChecks(ctx)
	status := "healthy"
	for _, c := range checks {
		if c.Status == "down" {
			status = "degraded"
		}
	}
	return &healthOutput{Body: healthBody{Status: status, Version: s.opts.Version, Checks: checks}}, nil
}

// serveOpenAPI serves the OpenAPI document at /openapi.json, /openapi.yaml
// and their OpenAPI 3.0 downgrades (-3.0.json, -3.0.yaml), each rendered
// once, at its first request. huma's own handlers (OpenAPIPath) cache the
// rendering without synchronisation: concurrent first requests raced.
// Renderings share one lock, as they read the same document.
func serveOpenAPI(router chi.Router, api huma.API) {
	var mu sync.Mutex
	for _, doc := range []struct {
		path, contentType string
		render            func(*huma.OpenAPI) ([]byte, error)
	}{
		{"/openapi.json", "application/openapi+json", func(o *huma.OpenAPI) ([]byte, error) { return json.Marshal(o) }},
		{"/openapi-3.0.json", "application/openapi+json", (*huma.OpenAPI).Downgrade},
		{"/openapi.yaml", "application/openapi+yaml", (*huma.OpenAPI).YAML},
		{"/openapi-3.0.yaml", "application/openapi+yaml", (*huma.OpenAPI).DowngradeYAML},
	} {
		body := sync.OnceValues(func() ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			return doc.render(api.OpenAPI())
		})
		router.Get(doc.path, func(w http.ResponseWriter, r *http.Request) {
			b, err := body()
			if err != nil {
				writeProblem(w, r, newProblem(http.StatusInternalServerError, "the OpenAPI document could not be rendered", nil))
				return
			}
			w.Header().Set("Content-Type", doc.contentType)
			_, _ = w.Write(b)
		})
	}
}
