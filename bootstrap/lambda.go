package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	awslambda "github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/httpapi"
	lambdaadapter "github.com/repurpose/repurpose/adapters/lambda"
	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/adapters/sqs"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/ports"
)

// The entry points of the Lambda functions (functions/api, functions/worker,
// functions/sweeper): the same graphs as serve and worker, with SQS for the
// queue and API Gateway, SQS and a schedule driving them.
const (
	LambdaAPI     Entry = "lambda-api"
	LambdaWorker  Entry = "lambda-worker"
	LambdaSweeper Entry = "lambda-sweeper"
	// LambdaMigrate is functions/migrate: the CloudFormation custom
	// resource that migrates the database on every deploy, so no cold
	// start of the API migrates.
	LambdaMigrate Entry = "lambda-migrate"
)

// lambda reports whether e is the entry of a Lambda function. Their cold
// start makes no round trip to PostgreSQL (postgres.Config.LazyConnect):
// the pool connects, and checks the role tenant queries run as, when the
// first event needs it.
func (e Entry) lambda() bool {
	return e == LambdaAPI || e == LambdaWorker || e == LambdaSweeper || e == LambdaMigrate
}

// ErrLambdaNeedsServices is returned for a Lambda entry without
// DATABASE_URL, REDIS_URL (the API and worker) or QUEUE_URL (the API and
// sweeper): a function keeps no state of its own.
var ErrLambdaNeedsServices = errors.New("the Lambda functions need DATABASE_URL, REDIS_URL and QUEUE_URL")

// queueURL is QUEUE_URL, or SQS_QUEUE_URL.
func (c *Config) queueURL() string {
	if c.QueueURL != "" {
		return c.QueueURL
	}
	return c.SQSQueueURL
}

// checkLambda returns ErrLambdaNeedsServices when entry is a Lambda entry
// and cfg lacks what it needs; nil for any other entry.
func checkLambda(cfg *Config, entry Entry) error {
	missing := false
	switch entry {
	case LambdaAPI:
		missing = cfg.DatabaseURL == "" || cfg.RedisURL == "" || cfg.queueURL() == ""
	case LambdaWorker:
		missing = cfg.DatabaseURL == "" || cfg.RedisURL == ""
	case LambdaSweeper:
		missing = cfg.DatabaseURL == "" || cfg.queueURL() == ""
	case LambdaMigrate:
		missing = cfg.DatabaseURL == "" && cfg.MigrateDatabaseURL == ""
	}
	if missing {
		return ErrLambdaNeedsServices
	}
	return nil
}

// lambdaQueue is the queue of the Lambda API and sweeper: SQS.
func lambdaQueue(cfg *Config) fx.Option {
	return fx.Options(fx.Supply(sqs.Config{QueueURL: cfg.queueURL(), Endpoint: cfg.SQSEndpoint}), sqs.Module)
}

// lambdaOptions are the graphs of the Lambda entries; LambdaAPI is the
// serve graph (see Options) and is not built here.
func lambdaOptions(common fx.Option, cfg *Config, pg postgres.Config, entry Entry) (fx.Option, error) {
	if err := checkLambda(cfg, entry); err != nil {
		return nil, err
	}
	switch entry {
	case LambdaWorker:
		return fx.Options(common,
			fx.Supply(pg, redis.Config{URL: cfg.RedisURL, Prefix: cfg.RedisKeyPrefix}),
			postgres.Module, redis.Module,
			aiOptions(cfg, true), // providers compiled in, behind the same failover router
			fx.Provide(redisEventBus, newWorker),
			workerQueue(cfg),
			fx.Provide(func(p sqsWorkerParams) awslambda.Handler {
				p.Lifecycle.Append(fx.StopHook(p.Worker.Close))
				// With the queue's URL, a failed record comes back after a
				// backoff rather than the whole visibility timeout.
				delayer, _ := p.Queue.(lambdaadapter.VisibilityDelayer)
				// A job deferred by its busy workspace is sent again as a
				// new message, so waiting never counts toward the DLQ.
				resender, _ := p.Queue.(lambdaadapter.DelayedEnqueuer)
				return awslambda.NewHandler(lambdaadapter.NewSQSWorker(p.Worker.Handle, lambdaadapter.SQSWorkerOptions{
					Concurrency: cfg.WorkerConcurrency, Logger: p.Log, Retry: delayer, Resend: resender}).Handle)
			}),
		), nil
	case LambdaSweeper:
		return fx.Options(common,
			fx.Supply(pg), postgres.Module, lambdaQueue(cfg),
			fx.Provide(func(recovery ports.JobRecovery, uow ports.UnitOfWork, q ports.Queue, clock ports.Clock, log *slog.Logger) awslambda.Handler {
				s := transformation.NewSweeper(recovery, uow, q, clock, transformation.SweeperConfig{}, log)
				return awslambda.NewHandler(func(ctx context.Context) error {
					_, _, err := s.Sweep(ctx)
					return err
				})
			}),
		), nil
	case LambdaMigrate:
		return fx.Options(common, fx.Supply(pg), fx.Provide(func(pg postgres.Config, log *slog.Logger) awslambda.Handler {
			return awslambda.NewHandler(cfn.LambdaWrap(MigrationsResource(pg, log)))
		})), nil
	}
	return nil, errors.New("unknown Lambda entry point " + string(entry))
}

// MigrationsResourceID is the physical id of the Migrations custom
// resource of template.yaml: constant, so an update never makes
// CloudFormation delete the "previous" resource.
const MigrationsResourceID = "repurpose-database-migrations"

// MigrationsResource is the CloudFormation custom resource behind
// functions/migrate: creating or updating it (every deploy that changes the
// function's code) applies the pending migrations with MIGRATE_DATABASE_URL,
// and a failure fails the deploy, which CloudFormation rolls back; deleting
// it (the stack, or a rollback) changes nothing in the database.
func MigrationsResource(pg postgres.Config, log *slog.Logger) cfn.CustomResourceFunction {
	return func(ctx context.Context, e cfn.Event) (string, map[string]any, error) {
		if e.RequestType == cfn.RequestDelete {
			return MigrationsResourceID, nil, nil
		}
		return MigrationsResourceID, nil, postgres.RunMigrations(ctx, pg, log)
	}
}

// sqsWorkerParams are what the Lambda worker's handler needs; the queue is
// there when QUEUE_URL is set.
type sqsWorkerParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Worker    *transformation.Worker
	Log       *slog.Logger
	Queue     ports.Queue `optional:"true"`
}

// workerQueue gives the Lambda worker the SQS queue its records come from,
// when QUEUE_URL names it.
func workerQueue(cfg *Config) fx.Option {
	if cfg.queueURL() == "" {
		return fx.Options()
	}
	return lambdaQueue(cfg)
}

// serveHTTP is the HTTP side of the serve graph: a server, or for the
// Lambda API the handler behind API Gateway.
func serveHTTP(entry Entry) fx.Option {
	if entry != LambdaAPI {
		return httpapi.Module
	}
	return fx.Options(httpapi.HandlerModule, fx.Provide(func(h http.Handler) awslambda.Handler {
		return awslambda.NewHandler(lambdaadapter.NewAPI(h).Handle)
	}))
}

// RunLambda is the whole main of a Lambda function: it builds and starts
// entry's graph once per execution environment (the cold start), then
// hands its handler to the Lambda runtime, which calls it for every event
// until the environment is shut down. A graph that fails to start exits
// the process, which Lambda reports as an init error.
func RunLambda(entry Entry, version string) {
	handler, err := startCold(entry, version)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", entry, err)
		os.Exit(1)
	}
	awslambda.Start(handler)
}

// coldStartMemoryLimit bounds the heap while startCold holds the garbage
// collector off: far above what a start allocates (a few MB), far below the
// smallest Lambda memory size (128 MB).
const coldStartMemoryLimit = 64 << 20

// startCold is StartLambda with the garbage collector held off (unless the
// heap reaches coldStartMemoryLimit): the start allocates a few MB of graph
// and schema values, and collecting them in the middle of the start only
// delays the first event (by about 1 ms, measured under the emulator).
// The collector's settings are back before the first event.
func startCold(entry Entry, version string) (awslambda.Handler, error) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(coldStartMemoryLimit))
	return StartLambda(context.Background(), entry, version)
}

// StartLambda loads the configuration, starts entry's graph and returns
// its Lambda handler. The app is never stopped: Lambda freezes and then
// discards the execution environment.
func StartLambda(ctx context.Context, entry Entry, version string) (awslambda.Handler, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	opts, err := Options(cfg, entry, version)
	if err != nil {
		return nil, err
	}
	var handler awslambda.Handler
	app := fx.New(opts, fx.Populate(&handler))
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return nil, err
	}
	return handler, nil
}
