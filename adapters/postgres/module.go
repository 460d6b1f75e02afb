package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
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
	// RequireSafeRole refuses tenant queries, and so the start unless
	// LazyConnect is set, when they would run as a role that row-level
	// security does not bind (a superuser, a BYPASSRLS role or a table
	// owner: see CheckTenantRole); otherwise that is only logged as a
	// warning. Set in production.
	RequireSafeRole bool
	// LazyConnect makes no round trip to the database at start (but the
	// migrations of AutoMigrate): the pool connects on first use, and the
	// tenant role check runs on its first connection, before any statement.
	// The Lambda functions set it, so that a cold start does not wait on
	// the database. Without it the check runs at start, which fails when it
	// does.
	LazyConnect bool
}

// Module provides the pool, the UnitOfWork, the "database" health check and
// the pool metrics, and migrates at start when configured. The pool checks
// the role tenant queries run as (CheckTenantRole) on its first connection,
// which it makes at start unless LazyConnect is set: no statement runs on
// it before the check passes.
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

func newLifecyclePool(lc fx.Lifecycle, cfg Config, log *slog.Logger) (*pgxpool.Pool, error) {
	pc, err := poolConfig(cfg.URL)
	if err != nil {
		return nil, err
	}
	guard := newTenantRoleGuard(AppRole, cfg.RequireSafeRole, log).afterConnect
	pc.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if err := registerTypes(ctx, conn); err != nil {
			return err
		}
		return guard(ctx, conn)
	}
	pool, err := newPool(context.Background(), pc)
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

// registerTenantRoleCheck makes the pool's first connection at start, after
// the migrations, unless cfg.LazyConnect is set: a database that is down or
// a role that fails the check (see tenantRoleGuard) then stops the start.
func registerTenantRoleCheck(lc fx.Lifecycle, cfg Config, pool *pgxpool.Pool) {
	if cfg.LazyConnect {
		return
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		conn, err := pool.Acquire(ctx)
		if errors.Is(err, ErrUnsafeTenantRole) {
			return fmt.Errorf("refusing to start: %w", err)
		}
		if err != nil {
			return err
		}
		conn.Release()
		return nil
	}))
}
