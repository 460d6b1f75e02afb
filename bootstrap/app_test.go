package bootstrap_test

import (
	"net/http"
	"strings"
	"testing"

	awslambda "github.com/aws/aws-lambda-go/lambda"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/ports"
)

// configs are the deployment modes each entry point is validated in.
var configs = map[string]map[string]string{
	"default": {},
	"postgres+redis": {
		"DATABASE_URL": "postgres://app@db.invalid:5432/repurpose",
		"REDIS_URL":    "redis://cache.invalid:6379/0",
	},
	"postgres only": {"DATABASE_URL": "postgres://app@db.invalid:5432/repurpose"},
	"redis only":    {"REDIS_URL": "redis://cache.invalid:6379/0"},
	"lambda": {
		"DATABASE_URL": "postgres://app@db.invalid:5432/repurpose",
		"REDIS_URL":    "redis://cache.invalid:6379/0",
		"QUEUE_URL":    "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
	},
}

// TestEveryEntryPointGraphIsValid builds the dependency graph of each entry
// point in each mode without running a constructor, so a missing or
// duplicated provider fails here rather than at start-up.
func TestEveryEntryPointGraphIsValid(t *testing.T) {
	t.Parallel()
	for mode, env := range configs {
		for _, entry := range bootstrap.Entries {
			t.Run(mode+"/"+string(entry), func(t *testing.T) {
				t.Parallel()
				cfg, err := bootstrap.ParseConfig(env)
				require.NoError(t, err)
				opts, err := bootstrap.Options(cfg, entry, "test")
				switch {
				case entry == bootstrap.Worker && (env["DATABASE_URL"] == "" || env["REDIS_URL"] == ""):
					require.ErrorIs(t, err, bootstrap.ErrWorkerNeedsRedis)
					return
				case entry == bootstrap.Migrate && env["DATABASE_URL"] == "":
					require.ErrorIs(t, err, bootstrap.ErrMigrateNeedsDatabase)
					return
				case lambdaMissing(entry, env):
					require.ErrorIs(t, err, bootstrap.ErrLambdaNeedsServices)
					return
				}
				require.NoError(t, err)
				require.NoError(t, fx.ValidateApp(opts))
			})
		}
	}
}

// lambdaMissing reports whether env lacks a service the Lambda entry needs.
func lambdaMissing(entry bootstrap.Entry, env map[string]string) bool {
	needs := map[bootstrap.Entry][]string{
		bootstrap.LambdaAPI:     {"DATABASE_URL", "REDIS_URL", "QUEUE_URL"},
		bootstrap.LambdaWorker:  {"DATABASE_URL", "REDIS_URL"},
		bootstrap.LambdaSweeper: {"DATABASE_URL", "QUEUE_URL"},
		bootstrap.LambdaMigrate: {"DATABASE_URL"}, // or MIGRATE_DATABASE_URL, which no config here sets
	}
	for _, name := range needs[entry] {
		if env[name] == "" {
			return true
		}
	}
	return false
}

// TestServeGraphProvidesTheAPI checks what serve wires, not only that it
// wires: the handler and the auth use cases over every port.
func TestServeGraphProvidesTheAPI(t *testing.T) {
	t.Parallel()
	cfg, err := bootstrap.ParseConfig(map[string]string{"HTTP_ADDR": "127.0.0.1:0", "BCRYPT_ROUNDS": "4"})
	require.NoError(t, err)
	opts, err := bootstrap.Options(cfg, bootstrap.Serve, "test")
	require.NoError(t, err)
	var (
		h        http.Handler
		svc      *auth.Service
		sessions ports.SessionStore
		limiter  ports.RateLimiter
		uow      ports.UnitOfWork
	)
	app := fx.New(opts, fx.NopLogger, fx.Populate(&h, &svc, &sessions, &limiter, &uow))
	require.NoError(t, app.Err())
	require.NotNil(t, h)
	require.NotNil(t, svc)
	require.Contains(t, strings.ToLower(typeName(sessions)), "memory")
	require.Contains(t, strings.ToLower(typeName(uow)), "memory")
}

func typeName(v any) string { return fmtType(v) }

// TestLambdaAPIGraphServesThroughTheRuntime checks what the Lambda API
// wires: a Lambda handler over the serve graph's http.Handler, the SQS
// queue, and no HTTP server of its own.
func TestLambdaAPIGraphServesThroughTheRuntime(t *testing.T) {
	t.Parallel()
	cfg, err := bootstrap.ParseConfig(configs["lambda"])
	require.NoError(t, err)
	opts, err := bootstrap.Options(cfg, bootstrap.LambdaAPI, "test")
	require.NoError(t, err)
	var (
		h       awslambda.Handler
		q       ports.Queue
		handler http.Handler
	)
	require.NoError(t, fx.ValidateApp(opts, fx.Populate(&h, &q, &handler)))
	app := fx.New(opts, fx.NopLogger, fx.Populate(&q), fx.Invoke(func(awslambda.Handler, http.Handler) {}))
	require.NoError(t, app.Err())
	require.Contains(t, typeName(q), "sqs.Queue")
}
