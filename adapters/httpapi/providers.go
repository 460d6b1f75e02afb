package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
)

// ProviderDirectory is what /api/providers shows: the failover router's
// view of its providers.
type ProviderDirectory interface {
	Status(ctx context.Context) []airouter.ProviderStatus
	Models(ctx context.Context) []airouter.ProviderModels
}

type providerStatusOutput struct {
	Body struct {
		// Order is the failover order (AI_PROVIDERS).
		Order     []string                  `json:"order"`
		Providers []airouter.ProviderStatus `json:"providers"`
	}
}

type providerModelsOutput struct {
	Body struct {
		Providers []airouter.ProviderModels `json:"providers"`
		Count     int                       `json:"count"`
	}
}

// registerProviders serves GET /api/providers/status (platform admins) and
// GET /api/providers/models (any signed-in user).
func (s *server) registerProviders() {
	tags := []string{"AI providers"}
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "providerStatus", Method: http.MethodGet, Path: "/api/providers/status", Tags: tags,
		Summary:     "Each AI provider's health, circuit state, limits and models (platform admins)",
		Description: "Health is a live Info call to each provider (plugin or compiled in); the circuit state is this instance's breaker; requests_available reads the shared rate limit.",
		Errors:      []int{http.StatusForbidden},
	}), func(ctx context.Context, _ *struct{}) (*providerStatusOutput, error) {
		if !s.deps.Workspaces.IsPlatformAdmin(ctx) {
			return nil, s.fail(ctx, core.Errorf(core.EFORBIDDEN, "platform admins only (PLATFORM_ADMIN_EMAILS)"))
		}
		out := &providerStatusOutput{}
		out.Body.Providers = s.deps.Providers.Status(ctx)
		out.Body.Order = make([]string, 0, len(out.Body.Providers))
		for _, p := range out.Body.Providers {
			out.Body.Order = append(out.Body.Order, p.Name)
		}
		return out, nil
	})
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "providerModels", Method: http.MethodGet, Path: "/api/providers/models", Tags: tags,
		Summary: "The AI providers a transformation may name, with their models",
	}), func(ctx context.Context, _ *struct{}) (*providerModelsOutput, error) {
		out := &providerModelsOutput{}
		out.Body.Providers = s.deps.Providers.Models(ctx)
		out.Body.Count = len(out.Body.Providers)
		return out, nil
	})
}
