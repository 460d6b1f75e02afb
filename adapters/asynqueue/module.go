package asynqueue

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Config is what the asynq module needs.
type Config struct {
	// RedisURL is redis://, rediss://, redis-socket:// or
	// redis-sentinel:// (asynq.ParseRedisURI).
	RedisURL string
	// Queue is the asynq queue name (default DefaultQueue).
	Queue string
	// PollInterval is how often an idle worker looks for tasks (the idle
	// pickup latency); 0 keeps the consumer's default.
	PollInterval time.Duration
}

// Module provides ports.Queue and ports.Consumer on asynq. The client and
// inspector connections close on stop; Consumer.Run owns its server.
var Module = fx.Module("asynqueue",
	fx.Provide(
		fx.Private,
		newRedisConnOpt,
		newLifecycleClient,
		newLifecycleInspector,
	),
	fx.Provide(
		fx.Annotate(func(c *asynq.Client, i *asynq.Inspector, cfg Config) *Queue {
			return NewQueue(c, QueueOptions{Queue: cfg.Queue, Inspector: i})
		}, fx.As(new(ports.Queue))),
		fx.Annotate(func(i *asynq.Inspector, cfg Config) *Inspector { return NewInspector(i, cfg.Queue) }, fx.As(new(ports.QueueInspector))),
		fx.Annotate(func(r asynq.RedisConnOpt, cfg Config, log *slog.Logger) *Consumer {
			return NewConsumer(r, ConsumerOptions{Queue: cfg.Queue, Logger: log, PollInterval: cfg.PollInterval})
		}, fx.As(new(ports.Consumer))),
	),
)

func newRedisConnOpt(cfg Config) (asynq.RedisConnOpt, error) {
	r, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("asynq redis url: %w", err)
	}
	return r, nil
}

func newLifecycleClient(lc fx.Lifecycle, r asynq.RedisConnOpt) *asynq.Client {
	c := asynq.NewClient(r)
	lc.Append(fx.StopHook(c.Close))
	return c
}

func newLifecycleInspector(lc fx.Lifecycle, r asynq.RedisConnOpt) *asynq.Inspector {
	i := asynq.NewInspector(r)
	lc.Append(fx.StopHook(i.Close))
	return i
}
