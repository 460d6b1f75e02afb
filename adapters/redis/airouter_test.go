package redis_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/localai"
	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
)

// Two routers (two workers) on one Redis share a provider's request limit:
// together they get exactly the limit through.
func TestRouterLimitIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	client := testinfra.RedisClient(t)
	prefix := testinfra.RedisPrefix(t, client)
	const perMinute = 5
	newRouter := func() *airouter.Router {
		r, err := airouter.New(airouter.Config{Order: []string{"local"},
			Limits: map[string]airouter.Limits{"local": {RequestsPerMinute: perMinute}}},
			airouter.Deps{Providers: map[string]ports.AIProvider{"local": localai.New()},
				Limiter:  redis.NewRateLimiter(client, prefix, ports.SystemClock{}),
				Fallback: memory.NewRateLimiter(ports.SystemClock{})})
		require.NoError(t, err)
		return r
	}
	routers := []*airouter.Router{newRouter(), newRouter()}
	req := ports.AIRequest{Type: "SUMMARY", Parameters: map[string]any{"length": "short", "style": "paragraph"},
		Title: "Shared limits", Text: "Limits hold across workers. Each worker asks Redis. The bucket is one."}

	var served, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := routers[i%2].Generate(context.Background(), req)
			if err == nil {
				served.Add(1)
				return
			}
			if core.ErrorCode(err) == core.ERATELIMIT {
				limited.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, perMinute, served.Load(), "the two instances together stay within the shared limit")
	require.EqualValues(t, 12-perMinute, limited.Load())
}
