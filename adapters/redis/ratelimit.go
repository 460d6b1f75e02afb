package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/repurpose/repurpose/ports"
)

// gcraScript is the GCRA on one key holding the theoretical arrival time
// (TAT) in unix microseconds, a precision Lua's doubles keep exactly. Time
// comes from the caller's clock, not Redis's, so tests can control it; the
// key expires, in Redis time, once its TAT has passed, when it means nothing
// any more. It returns {allowed 0|1, retry after µs, remaining}.
//
// KEYS: the limit's key.
// ARGV: now µs, emission interval T µs, window W = Events*T µs, record 0|1,
// events n (1..Events).
var gcraScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '')
if tat == nil or tat < now then
  tat = now
end
local newTat = tat + interval * tonumber(ARGV[5])
local allowAt = newTat - window
if now < allowAt then
  return {0, allowAt - now, 0}
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000))
end
return {1, 0, math.floor((window - (newTat - now)) / interval)}
`)

// RateLimiter is a ports.RateLimiter in Redis (GCRA), so every replica of the
// API counts against the same limits. Each Hit or Peek is one script call.
type RateLimiter struct {
	client goredis.UniversalClient
	prefix string
	clock  ports.Clock
}

var _ ports.RateLimiter = (*RateLimiter)(nil)

// NewRateLimiter returns a limiter keeping its keys under prefix and reading
// time from clock. Replicas should run NTP-synchronised clocks: their skew
// shifts when events are allowed.
func NewRateLimiter(client goredis.UniversalClient, prefix string, clock ports.Clock) *RateLimiter {
	return &RateLimiter{client: client, prefix: prefix, clock: clock}
}

// Peek answers as Hit would, including Remaining as it would be after the
// event, without recording anything.
func (r *RateLimiter) Peek(ctx context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	return r.decide(ctx, key, limit, 1, false)
}

// Hit records one event under key when allowed; a refused event is not
// recorded.
func (r *RateLimiter) Hit(ctx context.Context, key string, limit ports.RateLimit) (ports.RateDecision, error) {
	return r.decide(ctx, key, limit, 1, true)
}

// HitN records n events when all of them fit (n is capped at
// limit.Events), in one script call.
func (r *RateLimiter) HitN(ctx context.Context, key string, limit ports.RateLimit, n int) (ports.RateDecision, error) {
	return r.decide(ctx, key, limit, n, true)
}

// Reset forgets every event recorded under key.
func (r *RateLimiter) Reset(ctx context.Context, key string) error {
	return interpretError("reset rate limit", r.client.Del(ctx, r.key(key)).Err())
}

func (r *RateLimiter) key(key string) string { return r.prefix + "rl:" + key }

func (r *RateLimiter) decide(ctx context.Context, key string, limit ports.RateLimit, n int, record bool) (ports.RateDecision, error) {
	if limit.Disabled() {
		return ports.RateDecision{Allowed: true, Remaining: math.MaxInt}, nil
	}
	// T is truncated to whole microseconds (at least one); the window
	// W = Events*T (not Per) then allows exactly Events in a burst whatever
	// the rounding.
	interval := max((limit.Per / time.Duration(limit.Events)).Microseconds(), 1)
	window := interval * int64(limit.Events)
	recordArg := "0"
	if record {
		recordArg = "1"
	}
	reply, err := gcraScript.Run(ctx, r.client, []string{r.key(key)},
		r.clock.Now().UnixMicro(), interval, window, recordArg, min(max(n, 1), limit.Events)).Int64Slice()
	if err != nil {
		return ports.RateDecision{}, interpretError("rate limit "+key, err)
	}
	if len(reply) != 3 {
		return ports.RateDecision{}, fmt.Errorf("rate limit %s: unexpected reply %v", key, reply)
	}
	return ports.RateDecision{
		Allowed:    reply[0] == 1,
		RetryAfter: time.Duration(reply[1]) * time.Microsecond,
		Remaining:  int(reply[2]),
	}, nil
}
