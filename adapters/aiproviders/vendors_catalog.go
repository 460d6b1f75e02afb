//go:build noaisdks

package aiproviders

import (
	"context"
	"errors"
	"time"

	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// errNoSDK is why a catalog provider does not generate.
var errNoSDK = errors.New("this binary is built without the vendor SDKs (-tags noaisdks); the worker runs transformations")

// newVendor builds the catalog entry of the vendor called name: the Lambda
// API function lists providers and their models (GET /api/providers/...)
// and enqueues transformations, but never calls a vendor, and linking the
// SDKs made its binary 2.5 times larger and its cold start slower. Its keys
// are not required here: the worker function, built with the SDKs, checks
// them.
func newVendor(name string, env func(string) string, _ time.Duration) (ports.AIProvider, error) {
	model := env(modelSettings[name].variable)
	if model == "" {
		model = modelSettings[name].fallback
	}
	return catalogProvider{name: name, model: model}, nil
}

// modelSettings are each vendor's model variable and default model.
var modelSettings = map[string]struct{ variable, fallback string }{
	catalog.OpenAI:    {"OPENAI_MODEL", catalog.OpenAIDefaultModel},
	catalog.Anthropic: {"ANTHROPIC_MODEL", catalog.AnthropicDefaultModel},
}

// catalogProvider names a vendor's model and refuses to generate.
type catalogProvider struct{ name, model string }

func (p catalogProvider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: p.name, Models: []string{p.model}}, nil
}

func (p catalogProvider) Generate(context.Context, ports.AIRequest) (ports.AIResult, error) {
	return ports.AIResult{}, core.AIUnavailable(p.name, errNoSDK)
}

func (p catalogProvider) GenerateStream(ctx context.Context, req ports.AIRequest, _ func(string) error) (ports.AIResult, error) {
	return p.Generate(ctx, req)
}
