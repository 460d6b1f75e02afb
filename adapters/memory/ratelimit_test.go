package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	porttest.TestRateLimiter(t, func(t *testing.T, clock ports.Clock) ports.RateLimiter {
		return NewRateLimiter(clock)
	})
}

// TestRateLimiterDropsExpired proves keys whose window has passed are pruned
// by later hits on other keys, so the map does not grow without bound.
func TestRateLimiterDropsExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := porttest.NewFakeClock(time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC))
	rl := NewRateLimiter(clock)
	limit := ports.RateLimit{Events: 10, Per: time.Second}
	for i := range 1000 {
		_, err := rl.Hit(ctx, fmt.Sprintf("ip:%d", i), limit)
		require.NoError(t, err)
	}
	size := func() int {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		return len(rl.tats)
	}
	require.Equal(t, 1000, size(), "entries within their window are kept")

	clock.Advance(time.Second)
	for i := 0; size() > 1; i++ {
		require.Less(t, i, 1000, "expired entries are not pruned (%d left)", size())
		clock.Advance(time.Second)
		_, err := rl.Hit(ctx, "busy", limit)
		require.NoError(t, err)
	}

	// Peeking an expired key drops it too.
	clock.Advance(time.Second)
	_, err := rl.Peek(ctx, "busy", limit)
	require.NoError(t, err)
	require.Zero(t, size())
}
