// Package airouter is the failover router of the AI providers: a decorator
// of ports.AIProvider that tries the configured providers in order, with
// per-provider retries (exponential backoff with jitter, honouring
// Retry-After), a circuit breaker per provider, request and token rate
// limits shared by every worker, and cost accounting. It fails over only on
// retryable errors and on "unsupported", never once streamed output has
// reached the caller, and gives up at an overall deadline.
package airouter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Name is the router's own name in Info.
const Name = "router"

// Limits are one provider's rate limits; zero means unlimited.
type Limits struct {
	RequestsPerMinute int `json:"requests_per_minute"`
	TokensPerMinute   int `json:"tokens_per_minute"`
}

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	InputPerMTok  float64 `json:"input_per_mtok"`
	OutputPerMTok float64 `json:"output_per_mtok"`
}

// Config tunes the router. Zero fields take the defaults of New.
type Config struct {
	// Order is the failover order (AI_PROVIDERS).
	Order []string
	// Attempts per provider before failing over (default 3).
	Attempts int
	// BaseBackoff doubles per retry up to MaxBackoff (defaults 500ms, 8s);
	// each wait is jittered.
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the router waits out on one
	// provider; a longer one fails over at once (default 20s).
	MaxRetryAfter time.Duration
	// Deadline bounds a whole call, every retry and failover included
	// (default 3m).
	Deadline time.Duration
	// FailureThreshold consecutive retryable failures open a provider's
	// circuit for OpenFor (defaults 5, 30s).
	FailureThreshold int
	OpenFor          time.Duration
	// Limits by provider name.
	Limits map[string]Limits
	// Prices by model name (or "provider/model", which wins).
	Prices map[string]Price
	// ExpectedOutputTokens is what a call is assumed to produce when
	// reserving tokens against TokensPerMinute (default 1000).
	ExpectedOutputTokens int
}

// Deps are the router's collaborators.
type Deps struct {
	// Providers by name; Config.Order names which are used, in which order.
	Providers map[string]ports.AIProvider
	// Limiter is shared by every instance (Redis); Fallback (memory) takes
	// over while it fails, so an outage of the shared store degrades the
	// limits to per-process ones instead of stopping every call.
	Limiter, Fallback ports.RateLimiter
	Clock             ports.Clock
	// Sleep waits d or until ctx is done (tests make time pass instantly).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a random duration in [0, d] (tests make it fixed).
	Jitter func(d time.Duration) time.Duration
	Log    *slog.Logger
}

// Router is the failover router. It is safe for concurrent use.
type Router struct {
	cfg      Config
	deps     Deps
	breakers map[string]*breaker

	infoMu sync.Mutex
	info   map[string]cachedInfo
}

type cachedInfo struct {
	info ports.AIProviderInfo
	err  error
	at   time.Time
}

var _ ports.AIProvider = (*Router)(nil)

// ErrUnknownProvider is returned (as EINVALID) for a provider the router
// does not have.
var ErrUnknownProvider = errors.New("unknown AI provider")

// errCircuitOpen is the cause of the error a call gets while every
// provider's circuit is open.
var errCircuitOpen = errors.New("circuit open")

// New returns a router over deps.Providers in cfg.Order; every name in the
// order must have a provider.
func New(cfg Config, deps Deps) (*Router, error) {
	if len(cfg.Order) == 0 {
		return nil, errors.New("airouter: no providers in the order")
	}
	for _, name := range cfg.Order {
		if deps.Providers[name] == nil {
			return nil, fmt.Errorf("airouter: provider %q is in the order but not available", name)
		}
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 8 * time.Second
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 20 * time.Second
	}
	if cfg.Deadline <= 0 {
		cfg.Deadline = 3 * time.Minute
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 5
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = 30 * time.Second
	}
	if cfg.ExpectedOutputTokens <= 0 {
		cfg.ExpectedOutputTokens = 1000
	}
	if deps.Clock == nil {
		deps.Clock = ports.SystemClock{}
	}
	if deps.Sleep == nil {
		deps.Sleep = sleep
	}
	if deps.Jitter == nil {
		deps.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d + 1) //nolint:gosec // jitter, not a secret
		}
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	r := &Router{cfg: cfg, deps: deps, breakers: map[string]*breaker{}, info: map[string]cachedInfo{}}
	for _, name := range cfg.Order {
		r.breakers[name] = newBreaker(cfg.FailureThreshold, cfg.OpenFor)
	}
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Info names the router and every model of its providers.
func (r *Router) Info(ctx context.Context) (ports.AIProviderInfo, error) {
	out := ports.AIProviderInfo{Name: Name}
	for _, name := range r.cfg.Order {
		info, err := r.providerInfo(ctx, name)
		if err != nil {
			continue
		}
		for _, m := range info.Models {
			out.Models = append(out.Models, name+"/"+m)
		}
	}
	return out, nil
}

// infoTTL is how long a provider's Info answer is reused.
const infoTTL = 30 * time.Second

func (r *Router) providerInfo(ctx context.Context, name string) (ports.AIProviderInfo, error) {
	now := r.deps.Clock.Now()
	r.infoMu.Lock()
	c, ok := r.info[name]
	r.infoMu.Unlock()
	if ok && now.Sub(c.at) < infoTTL {
		return c.info, c.err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := r.deps.Providers[name].Info(ctx)
	r.infoMu.Lock()
	r.info[name] = cachedInfo{info: info, err: err, at: now}
	r.infoMu.Unlock()
	return info, err
}

// Generate routes req; see GenerateStream.
func (r *Router) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return r.GenerateStream(ctx, req, func(string) error { return nil })
}

// GenerateStream routes req: each provider of the order (or only
// req.Provider) in turn, with retries, until one answers. The result names
// the provider and model that served and what it cost.
func (r *Router) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	order := r.cfg.Order
	if req.Provider != "" {
		if r.deps.Providers[req.Provider] == nil || !slices.Contains(r.cfg.Order, req.Provider) {
			return ports.AIResult{}, core.Invalid("unknown AI provider", core.FieldError{Location: "body.provider",
				Message: "one of " + strings.Join(r.cfg.Order, ", ")})
		}
		order = []string{req.Provider}
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Deadline)
	defer cancel()

	streamed := false
	deliver := func(delta string) error {
		streamed = true
		return onDelta(delta)
	}
	var (
		lastErr        error
		allUnsupported = true
	)
	for _, name := range order {
		res, err := r.tryProvider(ctx, name, req, deliver, &streamed)
		if err == nil {
			return res, nil
		}
		if streamed || !core.AIFailover(err) || ctx.Err() != nil {
			return ports.AIResult{}, r.finalError(ctx, err)
		}
		if core.ErrorCode(err) != core.EUNSUPPORTED {
			allUnsupported = false
		}
		lastErr = err
		r.deps.Log.InfoContext(ctx, "AI provider failed over", "provider", name, "err", err)
	}
	if allUnsupported && len(order) > 1 {
		return ports.AIResult{}, core.Errorf(core.EUNSUPPORTED, "no configured AI provider (%s) supports %s transformations",
			strings.Join(order, ", "), req.Type)
	}
	return ports.AIResult{}, lastErr
}

// finalError turns the router's own deadline into a retryable error that
// says what happened; the caller's cancellation stays as it is.
func (r *Router) finalError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return core.AIUnavailable("router", fmt.Errorf("no provider answered within %v: %w", r.cfg.Deadline, err))
	}
	return err
}

// tryProvider runs up to Attempts calls on one provider.
func (r *Router) tryProvider(ctx context.Context, name string, req ports.AIRequest, deliver func(string) error, streamed *bool) (ports.AIResult, error) {
	provider, br := r.deps.Providers[name], r.breakers[name]
	var err error
	for attempt := 1; attempt <= r.cfg.Attempts; attempt++ {
		if !br.allow(r.deps.Clock.Now()) {
			return ports.AIResult{}, core.AIUnavailable(name, errCircuitOpen)
		}
		if err = r.admit(ctx, name, req); err != nil {
			br.release()
			return ports.AIResult{}, err // over our own limit: the next provider
		}
		var res ports.AIResult
		res, err = provider.GenerateStream(ctx, req, deliver)
		switch {
		case err == nil:
			br.success()
			return r.account(name, res), nil
		case ctx.Err() != nil:
			br.release() // the caller (or the deadline) stopped it, not the provider
			return ports.AIResult{}, err
		case core.AIRetryable(err):
			br.failure(r.deps.Clock.Now())
		case core.ErrorCode(err) == core.EUNSUPPORTED:
			br.release()
			return ports.AIResult{}, err
		default:
			br.success() // a final answer: the provider is up
			return ports.AIResult{}, err
		}
		if *streamed || attempt == r.cfg.Attempts {
			return ports.AIResult{}, err
		}
		wait := r.backoff(attempt)
		if ra := core.AsError(err).RetryAfter; ra > 0 {
			if ra > r.cfg.MaxRetryAfter {
				return ports.AIResult{}, err // not worth waiting: fail over
			}
			wait = max(wait, ra)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait { // context deadlines are wall-clock
			return ports.AIResult{}, err
		}
		r.deps.Log.DebugContext(ctx, "retrying AI provider", "provider", name, "attempt", attempt, "wait", wait, "err", err)
		if serr := r.deps.Sleep(ctx, wait); serr != nil {
			return ports.AIResult{}, err
		}
	}
	return ports.AIResult{}, err
}

// backoff is the wait before retry number attempt: BaseBackoff doubling,
// capped at MaxBackoff, half fixed and half jitter.
func (r *Router) backoff(attempt int) time.Duration {
	d := r.cfg.BaseBackoff << min(attempt-1, 20)
	d = min(d, r.cfg.MaxBackoff)
	return d/2 + r.deps.Jitter(d/2)
}

// limitKeys are the limiter keys of a provider's limits.
func limitKeys(name string) (requests, tokens string) {
	return "ai:" + name + ":rpm", "ai:" + name + ":tpm"
}

// admit takes one request and the call's estimated tokens from the
// provider's limits; ERATELIMIT when either is used up.
func (r *Router) admit(ctx context.Context, name string, req ports.AIRequest) error {
	l := r.cfg.Limits[name]
	requestsKey, tokensKey := limitKeys(name)
	if l.RequestsPerMinute > 0 {
		d, err := r.hit(ctx, requestsKey, ports.RateLimit{Events: l.RequestsPerMinute, Per: time.Minute}, 1)
		if err != nil {
			return err
		}
		if !d.Allowed {
			return core.AIRateLimited(name, d.RetryAfter, errors.New("requests per minute used up"))
		}
	}
	if l.TokensPerMinute > 0 {
		d, err := r.hit(ctx, tokensKey, ports.RateLimit{Events: l.TokensPerMinute, Per: time.Minute}, r.estimateTokens(req))
		if err != nil {
			return err
		}
		if !d.Allowed {
			return core.AIRateLimited(name, d.RetryAfter, errors.New("tokens per minute used up"))
		}
	}
	return nil
}

// hit asks the shared limiter, or the fallback while the shared one fails.
func (r *Router) hit(ctx context.Context, key string, limit ports.RateLimit, n int) (ports.RateDecision, error) {
	if r.deps.Limiter != nil {
		d, err := r.deps.Limiter.HitN(ctx, key, limit, n)
		if err == nil {
			return d, nil
		}
		r.deps.Log.WarnContext(ctx, "shared AI rate limiter failed; limiting in this process", "err", err)
	}
	if r.deps.Fallback != nil {
		return r.deps.Fallback.HitN(ctx, key, limit, n)
	}
	return ports.RateDecision{Allowed: true}, nil
}

// estimateTokens guesses a call's tokens before it is made: about four
// characters per token of input, plus the expected output.
func (r *Router) estimateTokens(req ports.AIRequest) int {
	chars := utf8.RuneCountInString(req.Prompt) + utf8.RuneCountInString(req.Text) + utf8.RuneCountInString(req.Title)
	return chars/4 + r.cfg.ExpectedOutputTokens
}

// account fills in who served and what it cost.
func (r *Router) account(name string, res ports.AIResult) ports.AIResult {
	if res.Provider == "" {
		res.Provider = name
	}
	price, ok := r.cfg.Prices[name+"/"+res.Model]
	if !ok {
		price = r.cfg.Prices[res.Model]
	}
	res.CostUSD = float64(res.InputTokens)*price.InputPerMTok/1e6 + float64(res.OutputTokens)*price.OutputPerMTok/1e6
	return res
}

// ProviderStatus is one provider as operators see it.
type ProviderStatus struct {
	Name    string   `json:"name"`
	Healthy bool     `json:"healthy"`
	Error   string   `json:"error,omitempty"`
	Models  []string `json:"models"`
	// Circuit is closed, open or half_open; OpenUntil is set while open.
	Circuit   string     `json:"circuit"`
	OpenUntil *time.Time `json:"open_until,omitempty"`
	Limits    Limits     `json:"limits"`
	// RequestsAvailable is how many requests the shared limit would admit
	// now (-1: unlimited).
	RequestsAvailable int `json:"requests_available"`
}

// Status reports every provider in order: whether it answers Info, its
// circuit, and its limits.
func (r *Router) Status(ctx context.Context) []ProviderStatus {
	out := make([]ProviderStatus, 0, len(r.cfg.Order))
	now := r.deps.Clock.Now()
	for _, name := range r.cfg.Order {
		st := ProviderStatus{Name: name, Limits: r.cfg.Limits[name], RequestsAvailable: -1, Models: []string{}}
		info, err := r.providerInfo(ctx, name)
		if err != nil {
			st.Error = core.AsError(err).Message
		} else {
			st.Healthy, st.Models = true, info.Models
		}
		state, until := r.breakers[name].snapshot(now)
		st.Circuit = state
		if !until.IsZero() {
			st.OpenUntil = &until
		}
		if l := st.Limits.RequestsPerMinute; l > 0 && r.deps.Limiter != nil {
			key, _ := limitKeys(name)
			if d, err := r.deps.Limiter.Peek(ctx, key, ports.RateLimit{Events: l, Per: time.Minute}); err == nil {
				st.RequestsAvailable = d.Remaining
				if d.Allowed {
					st.RequestsAvailable++ // Remaining is after the peeked request
				}
			}
		}
		if st.Healthy && state == CircuitOpen {
			st.Healthy = false
			st.Error = "circuit open after repeated failures"
		}
		out = append(out, st)
	}
	return out
}

// Check returns nil when at least one provider answers and its circuit is
// not open: the "ai_providers" health check.
func (r *Router) Check(ctx context.Context) error {
	for _, st := range r.Status(ctx) {
		if st.Healthy {
			return nil
		}
	}
	return core.AIUnavailable(strings.Join(r.cfg.Order, ", "), errors.New("no AI provider answers"))
}

// ProviderModels is one provider's models for GET /api/providers/models.
type ProviderModels struct {
	Provider  string   `json:"provider"`
	Models    []string `json:"models"`
	Available bool     `json:"available"`
}

// Models lists each provider's models, in failover order.
func (r *Router) Models(ctx context.Context) []ProviderModels {
	out := make([]ProviderModels, 0, len(r.cfg.Order))
	for _, name := range r.cfg.Order {
		info, err := r.providerInfo(ctx, name)
		pm := ProviderModels{Provider: name, Models: info.Models, Available: err == nil}
		if pm.Models == nil {
			pm.Models = []string{}
		}
		out = append(out, pm)
	}
	return out
}
