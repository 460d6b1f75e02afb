package memory

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/repurpose/repurpose/ports"
)

// rateSweepBatch is how many entries each Hit examines, beyond its own key,
// to drop expired ones: like Redis's active expiry, sampling a few entries per
// write keeps the map proportional to the keys seen within their windows
// without ever walking all of it under the lock.
const rateSweepBatch = 16

// RateLimiter is a ports.RateLimiter in process memory (GCRA). It only limits
// within one process; deployments with several replicas use the Redis one.
type RateLimiter struct {
	clock ports.Clock

	mu sync.Mutex
	// tats holds each key's theoretical arrival time. An entry whose TAT is
	// not after now is equivalent to no entry, so it is dropped.
	tats map[string]time.Time
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter reading time from clock.
func NewRateLimiter(clock ports.Clock) *RateLimiter {
	return &RateLimiter{clock: clock, tats: make(map[string]time.Time)}
}

// Peek answers as Hit would, including Remaining as it would be after the
// event, without recording anything.
func (r *RateLimiter) Peek(_ context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	return r.decide(key, limit, 1, false), nil
}

// Hit records one event under key when allowed; a refused event is not
// recorded.
func (r *RateLimiter) Hit(_ context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	return r.decide(key, limit, 1, true), nil
}

// HitN records n events when all of them fit (n is capped at
// limit.Events).
func (r *RateLimiter) HitN(_ context.Context, key string, limit ports.RateLimit, n int) (ports.RateDecision, error) {
	return r.decide(key, limit, n, true), nil
}

// Reset forgets every event recorded under key.
func (r *RateLimiter) Reset(_ context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tats, key)
	return nil
}

func (r *RateLimiter) decide(key string, limit ports.RateLimit, n int, record bool) ports.RateDecision {
	if limit.Disabled() {
		return ports.RateDecision{Allowed: true, Remaining: math.MaxInt}
	}
	// The emission interval T is truncated to whole nanoseconds; the window
	// W = Events*T (not Per) then allows exactly Events in a burst whatever
	// the rounding.
	interval := max(limit.Per/time.Duration(limit.Events), 1)
	window := interval * time.Duration(limit.Events)

	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	tat, ok := r.tats[key]
	if !ok || !tat.After(now) {
		tat = now
		delete(r.tats, key)
	}
	newTat := tat.Add(interval * time.Duration(min(max(n, 1), limit.Events)))
	if allowAt := newTat.Add(-window); now.Before(allowAt) {
		return ports.RateDecision{RetryAfter: allowAt.Sub(now)}
	}
	if record {
		r.tats[key] = newTat
		r.sweep(now, key)
	}
	return ports.RateDecision{Allowed: true, Remaining: int((window - newTat.Sub(now)) / interval)}
}

// sweep drops up to rateSweepBatch expired entries other than keep. Map
// iteration starts at a random position, so successive sweeps sample the
// whole map. r.mu must be held.
func (r *RateLimiter) sweep(now time.Time, keep string) {
	n := 0
	for k, tat := range r.tats {
		if n == rateSweepBatch {
			return
		}
		n++
		if k != keep && !tat.After(now) {
			delete(r.tats, k)
		}
	}
}
