// Package redis implements the ports kept in Redis: login sessions
// (SessionStore) and rate limits (RateLimiter), plus its health check. Every
// multi-key change is one Lua script so it stays atomic across replicas of
// the API. Scripts build some key names from the prefix, so the adapter needs
// a single Redis primary (standalone or Sentinel), not Redis Cluster.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Timeouts of clients made by NewClient, unless the URL sets its own
// (dial_timeout, read_timeout, write_timeout query parameters).
const (
	dialTimeout  = 5 * time.Second
	readTimeout  = 3 * time.Second
	writeTimeout = 3 * time.Second
)

// NewClient returns a client for a redis:// or rediss:// URL. It does not
// connect: connections are opened on first use, so a process can start while
// Redis is still coming up and report it through the health check.
func NewClient(url string) (*goredis.Client, error) {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = dialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = readTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = writeTimeout
	}
	return goredis.NewClient(opts), nil
}

// HealthCheck reports whether Redis answers a PING.
type HealthCheck struct {
	client goredis.UniversalClient
}

var _ ports.HealthChecker = (*HealthCheck)(nil)

// NewHealthCheck returns the health check of client's server.
func NewHealthCheck(client goredis.UniversalClient) *HealthCheck {
	return &HealthCheck{client: client}
}

// Name returns "redis", the key of the check in /api/health.
func (h *HealthCheck) Name() string { return "redis" }

// Check returns nil when Redis answers a PING within ctx's deadline.
func (h *HealthCheck) Check(ctx context.Context) error {
	if err := h.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", err)
	}
	return nil
}

// interpretError translates a go-redis error at the adapter boundary:
// redis.Nil (a missing key, or a script returning nil) becomes
// core.ErrNotFound; any other error is wrapped with op.
func interpretError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, goredis.Nil):
		return core.ErrNotFound
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}
