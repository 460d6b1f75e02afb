package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/core/document"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/core/workspace"
)

type noProviders struct{}

func (noProviders) Status(context.Context) []airouter.ProviderStatus { return nil }
func (noProviders) Models(context.Context) []airouter.ProviderModels { return nil }

// everyRoute are deps with which the handler registers every route; the
// services are never called.
func everyRoute() Deps {
	return Deps{Auth: &auth.Service{}, Workspaces: &workspace.Service{}, Documents: &document.Service{},
		Transformations: &transformation.Service{}, Events: memory.NewEventBus(),
		Inspector: memory.NewQueue(memory.QueueOptions{}).Inspector(), Providers: noProviders{},
		Log: slog.New(slog.DiscardHandler)}
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	return rec.Body.String()
}

// TestLazySchemasDocumentEveryRouteAsBefore compares the OpenAPI document
// of the handler (lazy schemas) with the one of the same handler on huma's
// own registry, which generates every schema at registration.
func TestLazySchemasDocumentEveryRouteAsBefore(t *testing.T) {
	t.Parallel()
	eager := newHandler(Options{Version: "test"}, everyRoute(), huma.NewMapRegistry(schemaPrefix, huma.DefaultSchemaNamer))
	lazy := NewHandler(Options{Version: "test"}, everyRoute())
	for _, path := range []string{"/openapi.json", "/openapi.yaml", "/openapi-3.0.json"} {
		want := get(t, eager, path)
		require.Contains(t, want, `UserBody`, "the document has the schemas of the bodies")
		require.Equal(t, want, get(t, lazy, path), path)
	}
}

type greetingInput struct {
	Body struct {
		Name string `json:"name" minLength:"2" maxLength:"10"`
	}
}

type greetingBody struct {
	Message string `json:"message"`
}

type greetingOutput struct {
	Body greetingBody
}

// greetingAPI is the handler of a huma API on reg with one operation,
// POST /greet.
func greetingAPI(reg huma.Registry) http.Handler {
	installProblems() // as NewHandler, which other tests run meanwhile, does
	router := chi.NewRouter()
	cfg := huma.DefaultConfig("test", "1")
	cfg.Components.Schemas = reg
	cfg.CreateHooks = nil
	api := humachi.New(router, cfg)
	huma.Register(api, huma.Operation{OperationID: "greet", Method: http.MethodPost, Path: "/greet"},
		func(_ context.Context, in *greetingInput) (*greetingOutput, error) {
			return &greetingOutput{Body: greetingBody{Message: "hello " + in.Body.Name}}, nil
		})
	return router
}

func post(h http.Handler, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/greet", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	return rec
}

func TestLazySchemasGenerateOnFirstRead(t *testing.T) {
	t.Parallel()
	reg := newLazySchemas(schemaPrefix, huma.DefaultSchemaNamer)
	h := greetingAPI(reg)
	require.Empty(t, reg.inner.Map(), "registering generates no schema")
	require.Len(t, reg.pending, 3, "the request, the response and the error model")
	require.Contains(t, reg.pending, "GreetingInputBody")

	// Validating a request body reads its schema, and only that one.
	rec := post(h, `{"name": "x"}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	require.Contains(t, rec.Body.String(), "body.name")
	require.Len(t, reg.inner.Map(), 1)
	require.Len(t, reg.pending, 2)

	rec = post(h, `{"name": "ada"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"message": "hello ada"}`, rec.Body.String())

	// The document reads them all.
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(get(t, h, "/openapi.json")), &doc))
	require.Len(t, doc.Components.Schemas, 4, "and FieldProblem, of Problem")
	for _, name := range []string{"GreetingInputBody", "GreetingBody", "Problem", "FieldProblem"} {
		require.Contains(t, doc.Components.Schemas, name)
	}
	require.Empty(t, reg.pending)
}

// TestLazySchemasConcurrentFirstReads reads the schemas for the first time
// from concurrent requests and encodings of the registry (run with -race;
// huma's own handler of /openapi.json is not safe for concurrent first
// calls, whatever the registry).
func TestLazySchemasConcurrentFirstReads(t *testing.T) {
	t.Parallel()
	for range 20 {
		reg := newLazySchemas(schemaPrefix, huma.DefaultSchemaNamer)
		h := greetingAPI(reg)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if i%4 == 0 {
					b, err := json.Marshal(reg)
					if err != nil || !strings.Contains(string(b), "GreetingBody") {
						t.Errorf("encode: %v %s", err, b)
					}
					return
				}
				if rec := post(h, `{"name": "x"}`); rec.Code != http.StatusUnprocessableEntity {
					t.Errorf("invalid body: %d %s", rec.Code, rec.Body)
				}
				if rec := post(h, `{"name": "grace"}`); rec.Code != http.StatusOK {
					t.Errorf("valid body: %d %s", rec.Code, rec.Body)
				}
			})
		}
		wg.Wait()
	}
}

func TestLazySchemasRefuseTwoTypesOfOneName(t *testing.T) {
	t.Parallel()
	first := func() reflect.Type {
		type Item struct{ A int }
		return reflect.TypeFor[Item]()
	}()
	second := func() reflect.Type {
		type Item struct{ B string }
		return reflect.TypeFor[Item]()
	}()
	reg := newLazySchemas(schemaPrefix, huma.DefaultSchemaNamer)
	require.Equal(t, schemaPrefix+"Item", reg.Schema(first, true, "").Ref)
	require.Equal(t, schemaPrefix+"Item", reg.Schema(reflect.PointerTo(first), true, "").Ref, "the same type again")
	require.PanicsWithError(t, "duplicate name: Item, new type: "+second.String()+", existing type: "+first.String(), func() {
		reg.Schema(second, true, "")
	}, "at registration, as huma's registry does")
}

// The OpenAPI documents are rendered once, at their first request, however
// many arrive at once (huma's own handlers raced here: run under -race),
// with their content types.
func TestOpenAPIDocumentsConcurrentFirstRequests(t *testing.T) {
	t.Parallel()
	h := NewHandler(Options{Version: "test"}, everyRoute())
	types := map[string]string{"/openapi.json": "application/openapi+json", "/openapi-3.0.json": "application/openapi+json",
		"/openapi.yaml": "application/openapi+yaml", "/openapi-3.0.yaml": "application/openapi+yaml"}
	var mu sync.Mutex
	bodies := map[string]map[string]bool{}
	var wg sync.WaitGroup
	for range 4 {
		for path, contentType := range types {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				assert.Equal(t, http.StatusOK, rec.Code, path)
				assert.Equal(t, contentType, rec.Header().Get("Content-Type"), path)
				mu.Lock()
				defer mu.Unlock()
				if bodies[path] == nil {
					bodies[path] = map[string]bool{}
				}
				bodies[path][rec.Body.String()] = true
			})
		}
	}
	wg.Wait()
	for path := range types {
		require.Len(t, bodies[path], 1, "%s: one rendering", path)
	}
	require.Contains(t, get(t, h, "/openapi-3.0.yaml"), "openapi: 3.0")
}
