package postgres

import (
	"context"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Config is what the PostgreSQL module needs.
type Config struct {
	// URL is the connection string the application uses.
	URL string
	// MigrateURL is used for migrations when set (a role allowed to change
	// the schema); URL otherwise.
	MigrateURL string
	// AutoMigrate applies pending migrations at start.
	AutoMigrate bool
	// Migrations are the embedded SQL files.
	Migrations fs.FS
}

// Module provides the pool, the UnitOfWork, the "database" health check and
// the pool metrics, and migrates at start when configured.
var Module = fx.Module("postgres",
	fx.Provide(
		newLifecyclePool,
		fx.Annotate(NewUnitOfWork, fx.As(new(ports.UnitOfWork))),
		fx.Annotate(NewHealthCheck, fx.As(new(ports.HealthChecker)), fx.ResultTags(`group:"health"`)),
		fx.Annotate(NewPoolStatsCollector, fx.As(new(prometheus.Collector)), fx.ResultTags(`group:"metrics"`)),
	),
	fx.Invoke(registerAutoMigrate),
)

func newLifecyclePool(lc fx.Lifecycle, cfg Config) (*pgxpool.Pool, error) {
	pool, err := NewPool(context.Background(), cfg.URL)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(pool.Close))
	return pool, nil
}

func registerAutoMigrate(lc fx.Lifecycle, cfg Config, log *slog.Logger) {
	if !cfg.AutoMigrate {
		return
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		return RunMigrations(ctx, cfg, log)
	}))
}

// RunMigrations applies pending migrations with MigrateURL (or URL).
func RunMigrations(ctx context.Context, cfg Config, log *slog.Logger) error {
	url := cfg.MigrateURL
	if url == "" {
		url = cfg.URL
	}
	if err := Migrate(ctx, url, cfg.Migrations); err != nil {
		return err
	}
	log.Info("database migrations applied")
	return nil
}
