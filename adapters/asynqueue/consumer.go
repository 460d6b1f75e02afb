package asynqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// ConsumerOptions tunes the asynq server behind Consumer. Zero values take
// the defaults.
type ConsumerOptions struct {
	// Queue is the asynq queue name (default DefaultQueue).
	Queue string
	// RetryDelay computes the delay before a retry (default: asynq's
	// exponential backoff with jitter).
	RetryDelay asynq.RetryDelayFunc
	// PollInterval is how often an idle server looks for new tasks; asynq
	// polls rather than blocks, so it bounds the pickup latency (default
	// 100ms, asynq's own default being 1s).
	PollInterval time.Duration
	// DelayedTaskCheckInterval is how often retries whose delay is over
	// are moved back to the queue (default: asynq's, 5s).
	DelayedTaskCheckInterval time.Duration
	// ShutdownTimeout is how long running handlers may take to finish once
	// Run's ctx is done; after it their tasks go back to the queue and
	// their contexts are cancelled (default 10s).
	ShutdownTimeout time.Duration
	// Logger receives asynq's logs (default slog.Default()).
	Logger *slog.Logger
}

// Consumer delivers asynq tasks to a ports.JobHandler.
type Consumer struct {
	redis asynq.RedisConnOpt
	opts  ConsumerOptions
}

var _ ports.Consumer = (*Consumer)(nil)

// NewConsumer returns a consumer of the tasks of opts.Queue on redis.
func NewConsumer(redis asynq.RedisConnOpt, opts ConsumerOptions) *Consumer {
	if opts.Queue == "" {
		opts.Queue = DefaultQueue
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Consumer{redis: redis, opts: opts}
}

// Run runs an asynq server with concurrency workers until ctx is done, then
// shuts it down gracefully and returns once every handler has returned.
//
// A handler's nil or core.ErrNotFound finishes the task. A payload that is
// not a job is the one permanent error identified here: it is archived at
// once (asynq.SkipRetry), as no retry can fix it. Any other error is
// returned to asynq, which retries with its backoff up to the task's
// MaxRetry and then archives the task; one wrapping ports.ErrDeferred is
// retried without counting.
func (c *Consumer) Run(ctx context.Context, concurrency int, handle ports.JobHandler) error {
	if concurrency < 1 {
		concurrency = 1
	}
	// Handler contexts outlive ctx through the graceful shutdown; abort
	// cancels those still running after it.
	base, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	var running sync.WaitGroup

	srv := asynq.NewServer(c.redis, asynq.Config{
		Concurrency:    concurrency,
		BaseContext:    func() context.Context { return base },
		Queues:         map[string]int{c.opts.Queue: 1},
		RetryDelayFunc: c.opts.RetryDelay,
		// A deferred job is retried without counting against MaxRetry.
		IsFailure:                func(err error) bool { return !errors.Is(err, ports.ErrDeferred) },
		TaskCheckInterval:        c.opts.PollInterval,
		DelayedTaskCheckInterval: c.opts.DelayedTaskCheckInterval,
		ShutdownTimeout:          c.opts.ShutdownTimeout,
		Logger:                   slogLogger{c.opts.Logger},
		LogLevel:                 asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TaskType, func(ctx context.Context, t *asynq.Task) error {
		running.Add(1)
		defer running.Done()
		return process(ctx, t, handle)
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start asynq server: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	abort()
	running.Wait()
	return nil
}

func process(ctx context.Context, t *asynq.Task, handle ports.JobHandler) error {
	var job ports.Job
	if err := json.Unmarshal(t.Payload(), &job); err != nil {
		return fmt.Errorf("decode job: %w: %w", err, asynq.SkipRetry)
	}
	err := handle(ctx, job)
	if err == nil || errors.Is(err, core.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("transformation %s: %w", job.TransformationID, err)
}

// slogLogger routes asynq's logs to slog.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l slogLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l slogLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l slogLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }

// Fatal logs and exits, as asynq's Logger contract requires.
func (l slogLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
	os.Exit(1)
}
