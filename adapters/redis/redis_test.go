package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	client := testinfra.RedisClient(t)
	porttest.TestSessionStore(t, func(t *testing.T) ports.SessionStore {
		return redis.NewSessionStore(client, testinfra.RedisPrefix(t, client))
	})
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	client := testinfra.RedisClient(t)
	porttest.TestRateLimiter(t, func(t *testing.T, clock ports.Clock) ports.RateLimiter {
		return redis.NewRateLimiter(client, testinfra.RedisPrefix(t, client), clock)
	})
}

// TestRateLimiterKeyExpires checks that keys carry a TTL of the remaining
// window, so Redis never accumulates keys of clients long gone.
func TestRateLimiterKeyExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testinfra.RedisClient(t)
	prefix := testinfra.RedisPrefix(t, client)
	rl := redis.NewRateLimiter(client, prefix, ports.SystemClock{})
	limit := ports.RateLimit{Events: 10, Per: time.Minute}
	for range 3 {
		d, err := rl.Hit(ctx, "k", limit)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	ttl, err := client.PTTL(ctx, prefix+"rl:k").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 17*time.Second)
	require.LessOrEqual(t, ttl, 18*time.Second, "three events of a 6s interval")

	_, err = rl.Peek(ctx, "other", limit)
	require.NoError(t, err)
	n, err := client.Exists(ctx, prefix+"rl:other").Result()
	require.NoError(t, err)
	require.Zero(t, n, "Peek writes nothing")
}

// TestSessionKeysExpire checks that every key of a session carries the
// session's expiry, including rotated-away refresh hashes.
func TestSessionKeysExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	client := testinfra.RedisClient(t)
	prefix := testinfra.RedisPrefix(t, client)
	st := redis.NewSessionStore(client, prefix)
	now := time.Now().UTC()
	s := core.Session{ID: uuid.New(), UserID: uuid.New(), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
	_, err := st.Create(ctx, s, "h1", 5)
	require.NoError(t, err)
	exp := now.Add(2 * time.Hour)
	_, err = st.Rotate(ctx, "h1", "h2", now, exp)
	require.NoError(t, err)
	for _, key := range []string{
		"session:" + s.ID.String(),
		"refresh:h1",
		"refresh:h2",
		"user:" + s.UserID.String() + ":sessions",
	} {
		at, err := client.PExpireTime(ctx, prefix+key).Result()
		require.NoError(t, err, key)
		require.Equal(t, exp.UnixMilli(), at.Milliseconds(), key)
	}
}

func TestNewClientDoesNotConnect(t *testing.T) {
	t.Parallel()
	c, err := redis.NewClient("redis://127.0.0.1:1/0")
	require.NoError(t, err, "nothing listens on port 1: NewClient must not connect")
	t.Cleanup(func() { _ = c.Close() })
	require.Equal(t, 5*time.Second, c.Options().DialTimeout)
	require.Equal(t, 3*time.Second, c.Options().ReadTimeout)
	require.Equal(t, 3*time.Second, c.Options().WriteTimeout)

	h := redis.NewHealthCheck(c)
	require.Equal(t, "redis", h.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	require.Error(t, h.Check(ctx), "nothing answers on port 1")

	_, err = redis.NewClient("http://not-redis")
	require.Error(t, err)
}

func TestHealthCheck(t *testing.T) {
	t.Parallel()
	client := testinfra.RedisClient(t)
	require.NoError(t, redis.NewHealthCheck(client).Check(context.Background()))
}

func BenchmarkSessionGet(b *testing.B) {
	ctx := context.Background()
	client := testinfra.RedisClient(b)
	st := redis.NewSessionStore(client, testinfra.RedisPrefix(b, client))
	now := time.Now().UTC()
	s := core.Session{
		ID: uuid.New(), UserID: uuid.New(), WorkspaceID: uuid.New(),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour),
		UserAgent: "Mozilla/5.0 (bench)", IPAddress: "203.0.113.7",
	}
	_, err := st.Create(ctx, s, "h", 5)
	require.NoError(b, err)
	for b.Loop() {
		if _, err := st.Get(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
	}
}
