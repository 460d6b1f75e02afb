package bootstrap

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/repurpose/repurpose/adapters/asynqueue"
	"github.com/repurpose/repurpose/adapters/extract"
	"github.com/repurpose/repurpose/adapters/httpapi"
	"github.com/repurpose/repurpose/adapters/jwt"
	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/core/document"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/core/workspace"
	"github.com/repurpose/repurpose/migrations"
	"github.com/repurpose/repurpose/ports"
)

// Entry names a process the binary can run.
type Entry string

// The entry points of cmd/repurpose (the Lambda ones are in lambda.go).
const (
	Serve   Entry = "serve"
	Worker  Entry = "worker"
	Migrate Entry = "migrate"
)

// Entries lists every entry point, for the graph validation test.
var Entries = []Entry{Serve, Worker, Migrate, LambdaAPI, LambdaWorker, LambdaSweeper, LambdaMigrate}

// ErrWorkerNeedsRedis is returned for `worker` without REDIS_URL: without a
// shared queue the in-process worker of `serve` does the work.
var ErrWorkerNeedsRedis = errors.New("the worker needs REDIS_URL and DATABASE_URL; without them `serve` runs an in-process worker")

// ErrMigrateNeedsDatabase is returned for `migrate` without DATABASE_URL.
var ErrMigrateNeedsDatabase = errors.New("migrate needs DATABASE_URL (or MIGRATE_DATABASE_URL)")

// Options returns the fx options of entry for cfg.
func Options(cfg *Config, entry Entry, version string) (fx.Option, error) {
	log := cfg.Logger()
	common := fx.Options(
		fx.Supply(cfg, log),
		fx.Provide(func() ports.Clock { return ports.SystemClock{} }),
		fx.WithLogger(func() fxevent.Logger {
			l := &fxevent.SlogLogger{Logger: log}
			l.UseLogLevel(slog.LevelDebug)
			return l
		}),
		fx.StartTimeout(2*time.Minute),
	)
	pg := postgres.Config{URL: cfg.DatabaseURL, MigrateURL: cfg.MigrateDatabaseURL, AutoMigrate: cfg.AutoMigrate, Migrations: migrations.FS,
		RequireSafeRole: cfg.Production(), LazyConnect: entry.lambda()}
	switch entry {
	case Migrate:
		if cfg.DatabaseURL == "" && cfg.MigrateDatabaseURL == "" {
			return nil, ErrMigrateNeedsDatabase
		}
		return fx.Options(common, fx.Supply(pg), fx.Invoke(func(cfg postgres.Config, log *slog.Logger) error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			return postgres.RunMigrations(ctx, cfg, log)
		})), nil
	case Worker:
		if cfg.DatabaseURL == "" || cfg.RedisURL == "" {
			return nil, ErrWorkerNeedsRedis
		}
		return fx.Options(common,
			fx.Supply(pg, redis.Config{URL: cfg.RedisURL, Prefix: cfg.RedisKeyPrefix}, asynqueue.Config{RedisURL: cfg.RedisURL, Queue: cfg.QueueName, PollInterval: cfg.QueuePollInterval}),
			postgres.Module, redis.Module, asynqueue.Module, aiOptions(cfg, false),
			fx.Provide(redisEventBus, newWorker),
			fx.Supply(httpapi.ListenOptions{Listen: httpapi.ListenConfig{Addr: cfg.WorkerHTTPAddr},
				Handler: httpapi.Options{Version: version}}),
			httpapi.Module,
			fx.Invoke(runConsumer, runSweeper),
		), nil
	case LambdaWorker, LambdaSweeper, LambdaMigrate:
		return lambdaOptions(common, cfg, pg, entry)
	case Serve, LambdaAPI:
		if err := checkLambda(cfg, entry); err != nil {
			return nil, err
		}
		var memoryBackends []string
		opts := []fx.Option{common,
			fx.Supply(jwt.Config{Key: cfg.SigningKey(), Previous: toBytes(cfg.PreviousSecretKeys), TTL: time.Duration(cfg.AccessTokenMinutes) * time.Minute}),
			jwt.Module,
			fx.Provide(newAuthService, func(uow ports.UnitOfWork, clock ports.Clock) *workspace.Service {
				return workspace.NewService(uow, clock, workspace.Config{Limits: cfg.PlanLimits, PlatformAdmins: cfg.PlatformAdmins})
			}, func(uow ports.UnitOfWork, extractor ports.TextExtractor, clock ports.Clock, ws *workspace.Service) *document.Service {
				return document.NewService(uow, extractor, clock, ws.Limits)
			}, func(uow ports.UnitOfWork, q ports.Queue, bus ports.EventBus, clock ports.Clock, ws *workspace.Service, log *slog.Logger) *transformation.Service {
				return transformation.NewService(uow, q, bus, clock, ws.Limits, transformation.Config{Providers: providerNames(cfg)}, log)
			}),
			extract.Module,
			serveHTTP(entry),
			aiOptions(cfg, entry == LambdaAPI),
		}
		if cfg.DatabaseURL != "" {
			opts = append(opts, fx.Supply(pg), postgres.Module)
		} else {
			opts = append(opts, memory.StoreModule)
			memoryBackends = append(memoryBackends, "database")
		}
		if cfg.RedisURL != "" {
			opts = append(opts, fx.Supply(redis.Config{URL: cfg.RedisURL, Prefix: cfg.RedisKeyPrefix}), redis.Module, fx.Provide(redisEventBus))
		} else {
			opts = append(opts, memory.SessionModule, fx.Provide(func() ports.EventBus { return memory.NewEventBus() }))
			memoryBackends = append(memoryBackends, "redis")
		}
		// Without both PostgreSQL and Redis no separate worker can reach the
		// jobs, so serve runs them itself, on an in-process queue.
		switch {
		case entry == LambdaAPI:
			opts = append(opts, lambdaQueue(cfg))
		case cfg.RedisURL != "" && cfg.DatabaseURL != "":
			opts = append(opts, fx.Supply(asynqueue.Config{RedisURL: cfg.RedisURL, Queue: cfg.QueueName, PollInterval: cfg.QueuePollInterval}), asynqueue.Module)
		default:
			opts = append(opts, fx.Provide(
				func() *memory.Queue { return memory.NewQueue(memory.QueueOptions{}) },
				func(q *memory.Queue) ports.Queue { return q },
				func(q *memory.Queue) ports.Consumer { return q },
				func(q *memory.Queue) ports.QueueInspector { return q.Inspector() },
				newWorker,
			), fx.Invoke(runConsumer, runSweeper))
		}
		opts = append(opts, fx.Supply(httpapi.ListenOptions{
			Listen: httpapi.ListenConfig{Addr: cfg.HTTPAddr},
			Handler: httpapi.Options{Version: version, TrustProxyHeaders: cfg.TrustProxyHeaders, CORSOrigins: cfg.CORSOrigins,
				MaxBodyBytes: cfg.MaxBodySize, MaxUploadBytes: cfg.MaxUploadSize, MemoryBackends: memoryBackends},
		}), fx.Invoke(func(*auth.Service, *workspace.Service, *document.Service, *transformation.Service) {}))
		return fx.Options(opts...), nil
	}
	return nil, errors.New("unknown entry point " + string(entry))
}

// Warnings are the start-up notes of a configuration that works but is not
// fit for production.
func (c *Config) Warnings() []string {
	var w []string
	if c.generatedKey {
		w = append(w, "SECRET_KEY is unset: using a random key; tokens will not survive a restart")
	}
	if c.DatabaseURL == "" {
		w = append(w, "DATABASE_URL is unset: data is kept in memory and lost on exit")
	}
	if c.RedisURL == "" {
		w = append(w, "REDIS_URL is unset: sessions and rate limits are kept in this process only")
	}
	return w
}

func toBytes(keys []string) [][]byte {
	out := make([][]byte, 0, len(keys))
	for _, k := range keys {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, []byte(k))
		}
	}
	return out
}

func newAuthService(cfg *Config, uow ports.UnitOfWork, sessions ports.SessionStore, tokens ports.AccessTokens,
	limiter ports.RateLimiter, clock ports.Clock, log *slog.Logger, metrics auth.Metrics) (*auth.Service, error) {
	hasher, err := auth.NewHasher(cfg.BcryptRounds)
	if err != nil {
		return nil, err
	}
	return auth.NewService(uow, sessions, tokens, limiter, clock, hasher, auth.Config{
		RefreshTTL:         time.Duration(cfg.RefreshTokenDays) * 24 * time.Hour,
		MaxSessionsPerUser: cfg.MaxSessionsPerUser,
		AuthLimit:          cfg.AuthLimit,
	}, log, metrics), nil
}

func redisEventBus(c *goredis.Client, cfg redis.Config) ports.EventBus {
	return redis.NewEventBus(c, cfg.Prefix)
}

// providerNames are the AI providers a request may name: AI_PROVIDERS.
func providerNames(cfg *Config) []string {
	out := make([]string, 0, len(cfg.AIProviders))
	for _, p := range cfg.AIProviders {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newWorker(cfg *Config, uow ports.UnitOfWork, provider ports.AIProvider, bus ports.EventBus, clock ports.Clock, log *slog.Logger) *transformation.Worker {
	limits := workspace.NewService(uow, clock, workspace.Config{Limits: cfg.PlanLimits}).Limits
	return transformation.NewWorker(uow, provider, bus, clock, limits, transformation.WorkerConfig{HeartbeatEvery: cfg.JobHeartbeat}, log)
}

// runConsumer runs the worker on the queue for the life of the app: it
// starts with the app and, on stop, lets running jobs finish.
func runConsumer(lc fx.Lifecycle, cfg *Config, consumer ports.Consumer, w *transformation.Worker, log *slog.Logger) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() {
				defer close(done)
				if err := consumer.Run(ctx, cfg.WorkerConcurrency, w.Handle); err != nil && ctx.Err() == nil {
					log.Error("worker stopped", "err", err)
				}
			}()
			log.Info("worker started", "concurrency", cfg.WorkerConcurrency)
			return nil
		},
		OnStop: func(stop context.Context) error {
			cancel()
			select {
			case <-done:
				w.Close()
				return nil
			case <-stop.Done():
				return stop.Err()
			}
		},
	})
}

// runSweeper runs the sweeper next to the consumer, for the life of the app.
func runSweeper(lc fx.Lifecycle, cfg *Config, recovery ports.JobRecovery, uow ports.UnitOfWork, q ports.Queue, clock ports.Clock, log *slog.Logger) {
	s := transformation.NewSweeper(recovery, uow, q, clock, transformation.SweeperConfig{StalledAfter: cfg.JobStalledAfter}, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			go func() { defer close(done); s.Run(ctx, cfg.SweepInterval) }()
			return nil
		},
		OnStop: func(context.Context) error { cancel(); <-done; return nil },
	})
}
