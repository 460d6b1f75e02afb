package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

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
	// RequireSafeRole refuses to start when tenant queries would run as a
	// role that row-level security does not bind (a superuser, a BYPASSRLS
	// role or a table owner: see CheckTenantRole); otherwise that is only
	// logged as a warning. Set in production.
	RequireSafeRole bool
}

// Module provides the pool, the UnitOfWork, the "database" health check and
// the pool metrics, migrates at start when configured, and then checks the
// role tenant queries run as (CheckTenantRole).
var Module = fx.Module("postgres",
	fx.Provide(
		newLifecyclePool,
		fx.Annotate(NewUnitOfWork, fx.As(new(ports.UnitOfWork))),
		fx.Annotate(NewJobRecovery, fx.As(new(ports.JobRecovery))),
		fx.Annotate(NewHealthCheck, fx.As(new(ports.HealthChecker)), fx.ResultTags(`group:"health"`)),
		fx.Annotate(NewPoolStatsCollector, fx.As(new(prometheus.Collector)), fx.ResultTags(`group:"metrics"`)),
	),
	// In this order: the check needs the role the migrations create.
	fx.Invoke(registerAutoMigrate, registerTenantRoleCheck),
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

func registerTenantRoleCheck(lc fx.Lifecycle, cfg Config, pool *pgxpool.Pool, log *slog.Logger) {
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		return checkTenantRoleAtStart(ctx, cfg, pool, log)
	}))
}

// checkTenantRoleAtStart fails when tenant transactions cannot switch to
// AppRole (no tenant query could run), and when they would run unbound by
// row-level security while cfg.RequireSafeRole is set; without it, the
// latter is only a warning, so a development database with a hand-altered
// role still starts.
func checkTenantRoleAtStart(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) error {
	role, err := CheckTenantRole(ctx, pool)
	if err != nil {
		return fmt.Errorf("tenant isolation check: %w", err)
	}
	if role.Safe() {
		log.Info("tenant queries run under row-level security", "role", role.Name)
		return nil
	}
	problems := strings.Join(role.Problems(), ", ")
	if cfg.RequireSafeRole {
		return fmt.Errorf("refusing to start: tenant queries would run as role %q, which %s, so row-level security "+
			"would not isolate workspaces; connect as a role that is a member of %s and is neither a superuser, "+
			"nor BYPASSRLS, nor the tables' owner", role.Name, problems, AppRole)
	}
	log.Warn("tenant queries are not bound by row-level security; this is refused in production",
		"role", role.Name, "problems", problems)
	return nil
}
