package porttest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/ports"
)

// FakeClock is a ports.Clock that moves only when told to, so tests of
// time-dependent behaviour (rate limits, expiry) need no sleeps. It is safe
// for concurrent use.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

var _ ports.Clock = (*FakeClock)(nil)

// NewFakeClock returns a clock stopped at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the clock's current time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRateLimiter is the contract suite of ports.RateLimiter. newLimiter
// returns a fresh limiter, with no recorded events, reading time from clock;
// each subtest gets its own limiter and clock and may run in parallel.
func TestRateLimiter(t *testing.T, newLimiter func(t *testing.T, clock ports.Clock) ports.RateLimiter) {
	t.Helper()
	start := time.Date(2030, time.January, 2, 3, 4, 5, 0, time.UTC)
	setup := func(t *testing.T) (ports.RateLimiter, *FakeClock) {
		t.Helper()
		clock := NewFakeClock(start)
		return newLimiter(t, clock), clock
	}
	ctx := context.Background()
	fiveASecond := ports.RateLimit{Events: 5, Per: time.Second}
	emission := fiveASecond.Per / time.Duration(fiveASecond.Events)

	t.Run("AllowsExactlyEventsThenRefuses", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		for i := range fiveASecond.Events {
			d, err := rl.Hit(ctx, "k", fiveASecond)
			require.NoError(t, err)
			require.True(t, d.Allowed, "hit %d", i+1)
			require.Zero(t, d.RetryAfter, "hit %d", i+1)
			require.Equal(t, fiveASecond.Events-1-i, d.Remaining, "hit %d", i+1)
		}
		d, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Zero(t, d.Remaining)
		require.Positive(t, d.RetryAfter)
		require.InDelta(t, float64(emission), float64(d.RetryAfter), float64(time.Millisecond),
			"RetryAfter should be about Per/Events")
	})

	t.Run("RefusedHitIsNotRecorded", func(t *testing.T) {
		t.Parallel()
		rl, clock := setup(t)
		exhaust(t, rl, "k", fiveASecond)
		first, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, first.Allowed)
		for range 10 {
			d, err := rl.Hit(ctx, "k", fiveASecond)
			require.NoError(t, err)
			require.False(t, d.Allowed)
			require.Equal(t, first.RetryAfter, d.RetryAfter, "refused hits must not push the next slot back")
		}
		clock.Advance(first.RetryAfter)
		d, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})

	t.Run("WaitingRetryAfterSucceeds", func(t *testing.T) {
		t.Parallel()
		rl, clock := setup(t)
		exhaust(t, rl, "k", fiveASecond)
		d, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, d.Allowed)

		clock.Advance(d.RetryAfter - time.Microsecond)
		early, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, early.Allowed, "a microsecond before RetryAfter is still too early")
		require.Positive(t, early.RetryAfter)

		clock.Advance(time.Microsecond)
		d, err = rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.True(t, d.Allowed, "waiting exactly RetryAfter must be enough")
		require.Zero(t, d.Remaining)

		d, err = rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, d.Allowed, "one slot was freed, and it was used")
	})

	t.Run("HitNConsumesNEventsAtOnce", func(t *testing.T) {
		t.Parallel()
		rl, clock := setup(t)
		d, err := rl.HitN(ctx, "k", fiveASecond, 3)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 2, d.Remaining)
		d, err = rl.HitN(ctx, "k", fiveASecond, 3)
		require.NoError(t, err)
		require.False(t, d.Allowed, "3 more don't fit in the 2 left")
		require.InDelta(t, float64(emission), float64(d.RetryAfter), float64(time.Millisecond), "one more emission interval frees the third")
		d, err = rl.HitN(ctx, "k", fiveASecond, 2)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the refused HitN recorded nothing")
		require.Zero(t, d.Remaining)

		clock.Advance(fiveASecond.Per)
		d, err = rl.HitN(ctx, "k", fiveASecond, 50)
		require.NoError(t, err)
		require.True(t, d.Allowed, "more than Events counts as a full bucket, so it can pass")
		d, err = rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.False(t, d.Allowed)
	})

	t.Run("RefillsOverPer", func(t *testing.T) {
		t.Parallel()
		rl, clock := setup(t)
		exhaust(t, rl, "k", fiveASecond)
		clock.Advance(fiveASecond.Per)
		d, err := rl.Hit(ctx, "k", fiveASecond)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, fiveASecond.Events-1, d.Remaining, "the whole burst is back after Per")

		// Well after the window the bucket is full, not fuller.
		clock.Advance(time.Hour)
		exhaust(t, rl, "k", fiveASecond)
	})

	t.Run("PeekDoesNotConsume", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		for range 3 * fiveASecond.Events {
			d, err := rl.Peek(ctx, "k", fiveASecond)
			require.NoError(t, err)
			require.True(t, d.Allowed)
			require.Equal(t, fiveASecond.Events-1, d.Remaining)
		}
		exhaust(t, rl, "k", fiveASecond)
	})

	t.Run("PeekAnswersLikeHit", func(t *testing.T) {
		t.Parallel()
		rl, clock := setup(t)
		for i := range 2*fiveASecond.Events + 2 {
			if i == fiveASecond.Events+2 {
				clock.Advance(emission + emission/2)
			}
			peek, err := rl.Peek(ctx, "k", fiveASecond)
			require.NoError(t, err)
			hit, err := rl.Hit(ctx, "k", fiveASecond)
			require.NoError(t, err)
			require.Equal(t, hit, peek, "step %d", i)
		}
	})

	t.Run("Reset", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		require.NoError(t, rl.Reset(ctx, "never-seen"))
		exhaust(t, rl, "k", fiveASecond)
		require.NoError(t, rl.Reset(ctx, "k"))
		exhaust(t, rl, "k", fiveASecond)
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		exhaust(t, rl, "login:alice", fiveASecond)
		exhaust(t, rl, "login:bob", fiveASecond)
		require.NoError(t, rl.Reset(ctx, "login:bob"))
		d, err := rl.Hit(ctx, "login:alice", fiveASecond)
		require.NoError(t, err)
		require.False(t, d.Allowed, "resetting one key must not reset another")
	})

	t.Run("DisabledAlwaysAllows", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		for _, limit := range []ports.RateLimit{{}, {Events: 0, Per: time.Second}, {Events: 5}, {Events: -1, Per: time.Minute}} {
			for range 100 {
				d, err := rl.Hit(ctx, "k", limit)
				require.NoError(t, err)
				require.True(t, d.Allowed, "%+v", limit)
				require.Zero(t, d.RetryAfter)
			}
			d, err := rl.Peek(ctx, "k", limit)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		// Disabled hits record nothing.
		exhaust(t, rl, "k", fiveASecond)
	})

	t.Run("ConcurrentHits", func(t *testing.T) {
		t.Parallel()
		rl, _ := setup(t)
		limit := ports.RateLimit{Events: 10, Per: time.Minute}
		var allowed atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				d, err := rl.Hit(ctx, "shared", limit)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, limit.Events, allowed.Load())
	})
}

// exhaust hits key until the limit refuses, requiring exactly limit.Events
// allowed hits first.
func exhaust(t *testing.T, rl ports.RateLimiter, key string, limit ports.RateLimit) {
	t.Helper()
	for i := range limit.Events {
		d, err := rl.Hit(context.Background(), key, limit)
		require.NoError(t, err)
		require.True(t, d.Allowed, "hit %d of %d on %q", i+1, limit.Events, key)
	}
	d, err := rl.Hit(context.Background(), key, limit)
	require.NoError(t, err)
	require.False(t, d.Allowed, "hit %d on %q", limit.Events+1, key)
}
