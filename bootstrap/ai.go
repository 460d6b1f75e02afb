package bootstrap

import (
	"context"
	"fmt"
	"log/slog"

	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/aiproviders"
	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/ports"
)

// aiOptions provide the failover router over the providers of
// AI_PROVIDERS, as *airouter.Router and as ports.AIProvider. Each provider
// is its plugin from PLUGIN_DIR (PLUGIN_MODE auto or plugin) or the same
// provider compiled in (auto, when there is no plugin for it; builtin, as
// on Lambda). The plugin host starts and stops with the app.
func aiOptions(cfg *Config, builtinOnly bool) fx.Option {
	mode := cfg.PluginMode
	if builtinOnly {
		mode = "builtin"
	}
	provideRouter := func(lc fx.Lifecycle, limiter ports.RateLimiter, clock ports.Clock, log *slog.Logger) (*airouter.Router, error) {
		var host pluginHost
		if mode != "builtin" {
			h, err := newPluginHost(cfg, mode, log.With("component", "aiplugin"))
			if err != nil {
				return nil, err
			}
			if h != nil {
				host = h
				lc.Append(fx.Hook{OnStart: host.Start, OnStop: host.Stop})
			}
		}
		providers := map[string]ports.AIProvider{}
		for _, name := range providerNames(cfg) {
			var builtin ports.AIProvider
			if mode != "plugin" {
				p, err := aiproviders.New(name, cfg.getenv)
				if err != nil {
					return nil, fmt.Errorf("AI provider %s: %w", name, err)
				}
				builtin = p
			}
			providers[name] = &pluginOrBuiltin{name: name, host: host, builtin: builtin}
		}
		return airouter.New(airouter.Config{
			Order:            providerNames(cfg),
			Attempts:         cfg.AIMaxAttempts,
			Deadline:         cfg.AIDeadline,
			FailureThreshold: cfg.AICircuitFailures,
			OpenFor:          cfg.AICircuitOpenFor,
			Limits:           cfg.AILimits,
			Prices:           cfg.AIPrices,
		}, airouter.Deps{Providers: providers, Limiter: limiter, Fallback: memory.NewRateLimiter(clock), Clock: clock, Log: log})
	}
	return fx.Provide(provideRouter, func(r *airouter.Router) ports.AIProvider { return r },
		fx.Annotate(func(r *airouter.Router) ports.HealthChecker { return aiHealth{r} }, fx.ResultTags(`group:"health"`)))
}

// pluginHost runs the provider plugins of PLUGIN_DIR: an aiplugin.Host,
// which only builds without the noaiplugins tag (see ai_plugins.go).
type pluginHost interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	// Providers are the running plugins by provider name.
	Providers() map[string]ports.AIProvider
}

// pluginOrBuiltin is one provider of the router: its plugin when the host
// runs one of that name, else the compiled-in provider (nil in plugin
// mode: then the call fails as unavailable, and the router fails over).
type pluginOrBuiltin struct {
	name    string
	host    pluginHost // nil without plugins
	builtin ports.AIProvider
}

var _ ports.AIProvider = (*pluginOrBuiltin)(nil)

func (p *pluginOrBuiltin) resolve() (ports.AIProvider, error) {
	if p.host != nil {
		if plugin := p.host.Providers()[p.name]; plugin != nil {
			return plugin, nil
		}
	}
	if p.builtin != nil {
		return p.builtin, nil
	}
	return nil, core.AIUnavailable(p.name, fmt.Errorf("no %s plugin in the plugin directory", p.name))
}

func (p *pluginOrBuiltin) Info(ctx context.Context) (ports.AIProviderInfo, error) {
	provider, err := p.resolve()
	if err != nil {
		return ports.AIProviderInfo{}, err
	}
	return provider.Info(ctx)
}

func (p *pluginOrBuiltin) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	provider, err := p.resolve()
	if err != nil {
		return ports.AIResult{}, err
	}
	return provider.Generate(ctx, req)
}

func (p *pluginOrBuiltin) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	provider, err := p.resolve()
	if err != nil {
		return ports.AIResult{}, err
	}
	return provider.GenerateStream(ctx, req, onDelta)
}

// aiHealth is the "ai_providers" check of /api/health.
type aiHealth struct{ router *airouter.Router }

func (aiHealth) Name() string                      { return "ai_providers" }
func (h aiHealth) Check(ctx context.Context) error { return h.router.Check(ctx) }
