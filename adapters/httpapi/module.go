package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/core/document"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/core/workspace"
	"github.com/repurpose/repurpose/ports"
)

// ListenConfig is where the HTTP server listens.
type ListenConfig struct {
	Addr string
}

type handlerParams struct {
	fx.In
	Options    ListenOptions
	Auth       *auth.Service      `optional:"true"`
	Workspaces *workspace.Service `optional:"true"`
	Documents  *document.Service  `optional:"true"`
	// Transformations and Events come together (serve); the worker's
	// listener has neither.
	Transformations *transformation.Service `optional:"true"`
	Events          ports.EventBus          `optional:"true"`
	Inspector       ports.QueueInspector    `optional:"true"`
	Providers       *airouter.Router        `optional:"true"`
	Health          []ports.HealthChecker   `group:"health"`
	Metrics         *Metrics
	Log             *slog.Logger
}

// ListenOptions bundles the listener and handler settings.
type ListenOptions struct {
	Listen  ListenConfig
	Handler Options
}

type metricsParams struct {
	fx.In
	Collectors []prometheus.Collector `group:"metrics"`
}

// HandlerModule provides the metrics and the handler (with the auth routes
// when an auth.Service is in the graph) without a server: the Lambda API
// serves the handler through API Gateway.
var HandlerModule = fx.Module("httpapi",
	fx.Provide(
		func(p metricsParams) *Metrics { return NewMetrics(p.Collectors...) },
		func(m *Metrics) auth.Metrics { return m },
		func(p handlerParams) http.Handler {
			return NewHandler(p.Options.Handler, Deps{Auth: p.Auth, Workspaces: p.Workspaces, Documents: p.Documents, Transformations: p.Transformations, Events: p.Events, Inspector: p.Inspector, Providers: providerDirectory(p.Providers), Health: p.Health, Metrics: p.Metrics, Log: p.Log})
		},
	),
)

// Module is HandlerModule with an HTTP server started and stopped with the
// application.
var Module = fx.Options(HandlerModule, fx.Invoke(registerServer))

func registerServer(lc fx.Lifecycle, opts ListenOptions, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Addr: opts.Listen.Addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", srv.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", srv.Addr, err)
			}
			log.Info("listening", "addr", ln.Addr().String())
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", "err", err)
				}
			}()
			return nil
		},
		OnStop: func(ctx context.Context) error { return srv.Shutdown(ctx) },
	})
}

// providerDirectory keeps a nil router a nil interface.
func providerDirectory(r *airouter.Router) ProviderDirectory {
	if r == nil {
		return nil
	}
	return r
}
