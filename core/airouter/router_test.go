package airouter_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

// scripted is a provider answering from a script of errors (nil: success);
// past the script it repeats the last entry.
type scripted struct {
	name   string
	mu     sync.Mutex
	script []error
	calls  int
	deltas []string
	block  bool // wait for ctx instead of answering
}

func (p *scripted) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: p.name, Models: []string{p.name + "-1"}}, nil
}

func (p *scripted) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return p.GenerateStream(ctx, req, func(string) error { return nil })
}

func (p *scripted) GenerateStream(ctx context.Context, _ ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	p.mu.Lock()
	i := min(p.calls, len(p.script)-1)
	p.calls++
	err, deltas, block := p.script[i], p.deltas, p.block
	p.mu.Unlock()
	for _, d := range deltas {
		if derr := onDelta(d); derr != nil {
			return ports.AIResult{}, derr
		}
	}
	if block {
		<-ctx.Done()
		return ports.AIResult{}, ctx.Err()
	}
	if err != nil {
		return ports.AIResult{}, err
	}
	return ports.AIResult{Text: "from " + p.name, Model: p.name + "-1", InputTokens: 1000, OutputTokens: 500}, nil
}

func (p *scripted) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func ok(name string) *scripted { return &scripted{name: name, script: []error{nil}} }

func failing(name string, errs ...error) *scripted { return &scripted{name: name, script: errs} }

var (
	serverError = core.AIUnavailable("x", errors.New("HTTP 500"))
	authError   = core.AIAuth("x", errors.New("HTTP 401"))
	unsupported = core.AIUnsupported("x", "custom")
)

// harness builds routers on a fake clock whose sleeps pass at once and are
// recorded.
type harness struct {
	clock  *porttest.FakeClock
	mu     sync.Mutex
	sleeps []time.Duration
}

func newHarness() *harness {
	return &harness{clock: porttest.NewFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))}
}

func (h *harness) router(t *testing.T, cfg airouter.Config, providers ...*scripted) *airouter.Router {
	t.Helper()
	m := map[string]ports.AIProvider{}
	for _, p := range providers {
		m[p.name] = p
		if cfg.Order == nil || len(cfg.Order) < len(providers) {
			cfg.Order = append(cfg.Order, p.name)
		}
	}
	r, err := airouter.New(cfg, airouter.Deps{
		Providers: m, Fallback: memory.NewRateLimiter(h.clock), Clock: h.clock,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			h.clock.Advance(d)
			return ctx.Err()
		},
		Jitter: func(d time.Duration) time.Duration { return d }, // the maximum: deterministic
	})
	require.NoError(t, err)
	return r
}

func (h *harness) slept() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.sleeps...)
}

var summary = ports.AIRequest{Type: "SUMMARY", Text: "Some text.", Prompt: "Summarise."}

func TestRouterRetriesWithBackoffThenFailsOver(t *testing.T) {
	t.Parallel()
	h := newHarness()
	first, second := failing("first", serverError), ok("second")
	r := h.router(t, airouter.Config{Attempts: 3, BaseBackoff: 100 * time.Millisecond}, first, second)

	res, err := r.Generate(context.Background(), summary)
	require.NoError(t, err)
	require.Equal(t, "second", res.Provider)
	require.Equal(t, "from second", res.Text)
	require.Equal(t, 3, first.Calls(), "every attempt on the first provider")
	require.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, h.slept(), "exponential backoff between attempts")
}

func TestRouterHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness()
	p := failing("only", core.AIRateLimited("only", 3*time.Second, nil), nil)
	r := h.router(t, airouter.Config{BaseBackoff: 100 * time.Millisecond}, p)
	res, err := r.Generate(context.Background(), summary)
	require.NoError(t, err)
	require.Equal(t, "only", res.Provider)
	require.Equal(t, []time.Duration{3 * time.Second}, h.slept(), "waits the provider's Retry-After, not the shorter backoff")
}

func TestRouterFailsOverAtOnceOnALongRetryAfter(t *testing.T) {
	t.Parallel()
	h := newHarness()
	first := failing("first", core.AIRateLimited("first", time.Hour, nil))
	second := ok("second")
	r := h.router(t, airouter.Config{MaxRetryAfter: 10 * time.Second}, first, second)
	res, err := r.Generate(context.Background(), summary)
	require.NoError(t, err)
	require.Equal(t, "second", res.Provider)
	require.Equal(t, 1, first.Calls())
	require.Empty(t, h.slept())
}

func TestRouterFinalErrorsDoNotFailOver(t *testing.T) {
	t.Parallel()
	for name, final := range map[string]error{"auth": authError, "invalid request": core.AIRejected("x", "content policy", nil)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness()
			first, second := failing("first", final), ok("second")
			r := h.router(t, airouter.Config{}, first, second)
			_, err := r.Generate(context.Background(), summary)
			require.ErrorIs(t, err, final)
			require.Equal(t, 1, first.Calls(), "a final error is not retried")
			require.Zero(t, second.Calls(), "nor failed over")
		})
	}
}

func TestRouterUnsupportedFailsOverWithoutRetry(t *testing.T) {
	t.Parallel()
	h := newHarness()
	first, second := failing("first", unsupported), ok("second")
	r := h.router(t, airouter.Config{}, first, second)
	res, err := r.Generate(context.Background(), summary)
	require.NoError(t, err)
	require.Equal(t, "second", res.Provider)
	require.Equal(t, 1, first.Calls())

	h2 := newHarness()
	r = h2.router(t, airouter.Config{}, failing("a", unsupported), failing("b", unsupported))
	_, err = r.Generate(context.Background(), summary)
	require.Equal(t, core.EUNSUPPORTED, core.ErrorCode(err), "no provider supports it: %v", err)
	require.Contains(t, core.AsError(err).Message, "SUMMARY")
}

func TestRouterNeverRetriesAfterStreamedOutput(t *testing.T) {
	t.Parallel()
	h := newHarness()
	first := failing("first", serverError)
	first.deltas = []string{"Half a sent"}
	second := ok("second")
	r := h.router(t, airouter.Config{}, first, second)
	var got []string
	_, err := r.GenerateStream(context.Background(), summary, func(d string) error { got = append(got, d); return nil })
	require.ErrorIs(t, err, serverError)
	require.Equal(t, []string{"Half a sent"}, got)
	require.Equal(t, 1, first.Calls(), "no retry once the caller has output")
	require.Zero(t, second.Calls(), "no failover either")
}

func TestRouterCircuitBreaker(t *testing.T) {
	t.Parallel()
	h := newHarness()
	flaky := failing("flaky", serverError, serverError, nil)
	backup := ok("backup")
	r := h.router(t, airouter.Config{Attempts: 1, FailureThreshold: 2, OpenFor: time.Minute}, flaky, backup)
	ctx := context.Background()

	for range 2 {
		res, err := r.Generate(ctx, summary)
		require.NoError(t, err)
		require.Equal(t, "backup", res.Provider)
	}
	require.Equal(t, 2, flaky.Calls())
	require.Equal(t, airouter.CircuitOpen, r.Status(ctx)[0].Circuit)

	res, err := r.Generate(ctx, summary)
	require.NoError(t, err)
	require.Equal(t, "backup", res.Provider)
	require.Equal(t, 2, flaky.Calls(), "an open circuit sends nothing to the provider")

	h.clock.Advance(time.Minute)
	require.Equal(t, airouter.CircuitHalfOpen, r.Status(ctx)[0].Circuit)
	res, err = r.Generate(ctx, summary)
	require.NoError(t, err)
	require.Equal(t, "flaky", res.Provider, "the half-open probe goes through and succeeds")
	require.Equal(t, airouter.CircuitClosed, r.Status(ctx)[0].Circuit)
}

func TestRouterHalfOpenProbeFailureReopens(t *testing.T) {
	t.Parallel()
	h := newHarness()
	down := failing("down", serverError)
	r := h.router(t, airouter.Config{Attempts: 1, FailureThreshold: 1, OpenFor: time.Minute}, down, ok("backup"))
	ctx := context.Background()
	_, err := r.Generate(ctx, summary)
	require.NoError(t, err)
	h.clock.Advance(time.Minute)
	_, err = r.Generate(ctx, summary)
	require.NoError(t, err)
	require.Equal(t, 2, down.Calls(), "one probe")
	st := r.Status(ctx)[0]
	require.Equal(t, airouter.CircuitOpen, st.Circuit, "the failed probe opens the circuit again")
	require.NotNil(t, st.OpenUntil)
	require.False(t, st.Healthy)
}

func TestRouterRateLimitsFailOverThenRefuse(t *testing.T) {
	t.Parallel()
	h := newHarness()
	limited, backup := ok("limited"), ok("backup")
	r := h.router(t, airouter.Config{Limits: map[string]airouter.Limits{"limited": {RequestsPerMinute: 2}}}, limited, backup)
	ctx := context.Background()
	for range 2 {
		res, err := r.Generate(ctx, summary)
		require.NoError(t, err)
		require.Equal(t, "limited", res.Provider)
	}
	res, err := r.Generate(ctx, summary)
	require.NoError(t, err)
	require.Equal(t, "backup", res.Provider, "over its limit, the next provider serves")
	require.Equal(t, 2, limited.Calls())

	// Pinned to the limited provider: a rate-limit error with its wait.
	_, err = r.Generate(ctx, ports.AIRequest{Type: "SUMMARY", Provider: "limited"})
	require.Equal(t, core.ERATELIMIT, core.ErrorCode(err))
	require.Positive(t, core.AsError(err).RetryAfter)
}

func TestRouterTokenLimit(t *testing.T) {
	t.Parallel()
	h := newHarness()
	p := ok("tokens")
	r := h.router(t, airouter.Config{ExpectedOutputTokens: 600, Limits: map[string]airouter.Limits{"tokens": {TokensPerMinute: 1000}}}, p)
	ctx := context.Background()
	_, err := r.Generate(ctx, summary)
	require.NoError(t, err)
	_, err = r.Generate(ctx, summary)
	require.Equal(t, core.ERATELIMIT, core.ErrorCode(err), "600+ estimated tokens twice exceed 1000 a minute")
	h.clock.Advance(time.Minute)
	_, err = r.Generate(ctx, summary)
	require.NoError(t, err)
}

// failingLimiter is a shared limiter that is down.
type failingLimiter struct{ ports.RateLimiter }

func (failingLimiter) HitN(context.Context, string, ports.RateLimit, int) (ports.RateDecision, error) {
	return ports.RateDecision{}, errors.New("redis: connection refused")
}

func TestRouterFallsBackToTheLocalLimiter(t *testing.T) {
	t.Parallel()
	clock := porttest.NewFakeClock(time.Now())
	p := ok("p")
	r, err := airouter.New(airouter.Config{Order: []string{"p"}, Limits: map[string]airouter.Limits{"p": {RequestsPerMinute: 1}}},
		airouter.Deps{Providers: map[string]ports.AIProvider{"p": p}, Limiter: failingLimiter{}, Fallback: memory.NewRateLimiter(clock), Clock: clock})
	require.NoError(t, err)
	_, err = r.Generate(context.Background(), summary)
	require.NoError(t, err, "the shared limiter's outage does not stop calls")
	_, err = r.Generate(context.Background(), summary)
	require.Equal(t, core.ERATELIMIT, core.ErrorCode(err), "the fallback still limits")
}

func TestRouterDeadline(t *testing.T) {
	t.Parallel()
	p := &scripted{name: "slow", script: []error{nil}, block: true}
	r, err := airouter.New(airouter.Config{Order: []string{"slow"}, Deadline: 50 * time.Millisecond},
		airouter.Deps{Providers: map[string]ports.AIProvider{"slow": p}})
	require.NoError(t, err)
	start := time.Now()
	_, err = r.Generate(context.Background(), summary)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "the deadline is a retryable unavailability: %v", err)
	require.Equal(t, 1, p.Calls())
}

func TestRouterCallerCancellation(t *testing.T) {
	t.Parallel()
	h := newHarness()
	p := &scripted{name: "slow", script: []error{nil}, block: true}
	r := h.router(t, airouter.Config{FailureThreshold: 1}, p, ok("backup"))
	ctx, cancel := context.WithCancel(context.Background())
	go cancel()
	_, err := r.Generate(ctx, summary)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, airouter.CircuitClosed, r.Status(context.Background())[0].Circuit, "the caller stopping is not the provider failing")
}

func TestRouterProviderOverride(t *testing.T) {
	t.Parallel()
	h := newHarness()
	first, second := ok("first"), ok("second")
	r := h.router(t, airouter.Config{}, first, second)
	res, err := r.Generate(context.Background(), ports.AIRequest{Type: "SUMMARY", Provider: "second"})
	require.NoError(t, err)
	require.Equal(t, "second", res.Provider)
	require.Zero(t, first.Calls())

	_, err = r.Generate(context.Background(), ports.AIRequest{Type: "SUMMARY", Provider: "nope"})
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}

func TestRouterAccountsCost(t *testing.T) {
	t.Parallel()
	h := newHarness()
	r := h.router(t, airouter.Config{Prices: map[string]airouter.Price{
		"priced-1":        {InputPerMTok: 1, OutputPerMTok: 2},
		"priced/priced-1": {InputPerMTok: 3, OutputPerMTok: 4}, // provider/model wins
	}}, ok("priced"))
	res, err := r.Generate(context.Background(), summary)
	require.NoError(t, err)
	require.Equal(t, "priced-1", res.Model)
	require.InDelta(t, (1000*3+500*4)/1e6, res.CostUSD, 1e-12)
}

func TestRouterModelsAndStatus(t *testing.T) {
	t.Parallel()
	h := newHarness()
	r := h.router(t, airouter.Config{Limits: map[string]airouter.Limits{"a": {RequestsPerMinute: 10}}}, ok("a"), ok("b"))
	models := r.Models(context.Background())
	require.Equal(t, []airouter.ProviderModels{{Provider: "a", Models: []string{"a-1"}, Available: true}, {Provider: "b", Models: []string{"b-1"}, Available: true}}, models)
	st := r.Status(context.Background())
	require.Len(t, st, 2)
	require.True(t, st[0].Healthy)
	require.Equal(t, airouter.Limits{RequestsPerMinute: 10}, st[0].Limits)
	info, err := r.Info(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"a/a-1", "b/b-1"}, info.Models)
}

func TestNewRefusesAnOrderWithoutProviders(t *testing.T) {
	t.Parallel()
	_, err := airouter.New(airouter.Config{Order: []string{"ghost"}}, airouter.Deps{Providers: map[string]ports.AIProvider{}})
	require.Error(t, err)
}

// noop answers at once; the benchmarks measure what the router adds.
type noop struct{}

func (noop) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: "noop"}, nil
}
func (n noop) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return n.GenerateStream(ctx, req, nil)
}
func (noop) GenerateStream(context.Context, ports.AIRequest, func(string) error) (ports.AIResult, error) {
	return ports.AIResult{Text: "ok", Model: "noop-1", InputTokens: 10, OutputTokens: 5}, nil
}

func BenchmarkDirectNoopProvider(b *testing.B) {
	var p ports.AIProvider = noop{}
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.Generate(ctx, summary); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouterNoopProvider routes through a breaker, a request and a
// token limit (in-process limiter) and the price table.
func BenchmarkRouterNoopProvider(b *testing.B) {
	r, err := airouter.New(airouter.Config{Order: []string{"noop"},
		Limits: map[string]airouter.Limits{"noop": {RequestsPerMinute: 1 << 30, TokensPerMinute: 1 << 30}},
		Prices: map[string]airouter.Price{"noop-1": {InputPerMTok: 1, OutputPerMTok: 1}}},
		airouter.Deps{Providers: map[string]ports.AIProvider{"noop": noop{}}, Limiter: memory.NewRateLimiter(ports.SystemClock{})})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Generate(ctx, summary); err != nil {
			b.Fatal(err)
		}
	}
}
