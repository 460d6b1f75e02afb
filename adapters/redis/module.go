package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Config is what the Redis module needs.
type Config struct {
	URL string
	// Prefix namespaces every key, so one Redis can serve several
	// deployments (and tests).
	Prefix string
}

// Module provides the Redis client, sessions, the shared rate limiter and
// the "redis" health check.
var Module = fx.Module("redis",
	fx.Provide(
		newLifecycleClient,
		fx.Annotate(func(c *goredis.Client, cfg Config) *SessionStore { return NewSessionStore(c, cfg.Prefix) }, fx.As(new(ports.SessionStore))),
		fx.Annotate(func(c *goredis.Client, cfg Config, clock ports.Clock) *RateLimiter {
			return NewRateLimiter(c, cfg.Prefix, clock)
		}, fx.As(new(ports.RateLimiter))),
		fx.Annotate(func(c *goredis.Client) *HealthCheck { return NewHealthCheck(c) },
			fx.As(new(ports.HealthChecker)), fx.ResultTags(`group:"health"`)),
	),
)

// slogPrintf routes go-redis's internal log lines (dial retries and the
// like) to slog at debug level; failures reach callers as errors anyway.
type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

var setRedisLogger sync.Once

func newLifecycleClient(lc fx.Lifecycle, cfg Config, log *slog.Logger) (*goredis.Client, error) {
	setRedisLogger.Do(func() { goredis.SetLogger(slogPrintf{log}) })
	c, err := NewClient(cfg.URL)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StopHook(c.Close))
	return c, nil
}
