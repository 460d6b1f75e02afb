package aiplugin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/sdk"
	"github.com/repurpose/repurpose/ports"
)

// Provider is one plugin as a ports.AIProvider. It launches the plugin
// process on first use and relaunches it when it died, checking the
// binary's SHA-256 each time. Safe for concurrent use: calls share one
// process (gRPC multiplexes them).
type Provider struct {
	cfg Config
	bin binary
	env []string
	log *slog.Logger

	// lock serialises launches; a channel so that waiting honours ctx.
	lock chan struct{}

	mu         sync.Mutex
	name       string
	client     *plugin.Client
	impl       ports.AIProvider
	gen        uint64
	launched   bool
	lastLaunch time.Time
	relaunches []time.Time
	stopped    bool
}

var _ ports.AIProvider = (*Provider)(nil)

func newProvider(cfg Config, b binary, env []string) *Provider {
	return &Provider{
		cfg:  cfg,
		bin:  b,
		env:  env,
		log:  cfg.Log.With("plugin", b.name),
		lock: make(chan struct{}, 1),
		name: b.name,
	}
}

func (p *Provider) setName(name string) {
	p.mu.Lock()
	p.name = name
	p.mu.Unlock()
}

// Info asks the plugin for its name and models.
func (p *Provider) Info(ctx context.Context) (ports.AIProviderInfo, error) {
	impl, gen, err := p.acquire(ctx)
	if err != nil {
		return ports.AIProviderInfo{}, err
	}
	info, err := impl.Info(ctx)
	p.observe(gen, err)
	return info, err
}

// Generate runs req in the plugin. A plugin that dies during the call
// gives core.EUNAVAILABLE wrapping sdk.ErrPluginShutdown (retryable); the
// next call relaunches it.
func (p *Provider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	impl, gen, err := p.acquire(ctx)
	if err != nil {
		return ports.AIResult{}, err
	}
	res, err := impl.Generate(ctx, req)
	p.observe(gen, err)
	return res, err
}

// GenerateStream is Generate with deltas (see ports.AIProvider).
func (p *Provider) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	impl, gen, err := p.acquire(ctx)
	if err != nil {
		return ports.AIResult{}, err
	}
	res, err := impl.GenerateStream(ctx, req, onDelta)
	p.observe(gen, err)
	return res, err
}

// observe retires launch gen when its call says the plugin is gone, so
// the next call relaunches it.
func (p *Provider) observe(gen uint64, err error) {
	if err == nil || !errors.Is(err, sdk.ErrPluginShutdown) {
		return
	}
	p.mu.Lock()
	var dead *plugin.Client
	if p.gen == gen && p.client != nil {
		dead, p.client, p.impl = p.client, nil, nil
	}
	p.mu.Unlock()
	if dead != nil {
		p.log.Warn("AI provider plugin is gone; it will be relaunched on the next call", "exited", dead.Exited())
		go dead.Kill()
	}
}

// acquire returns the running plugin, launching it when there is none.
func (p *Provider) acquire(ctx context.Context) (ports.AIProvider, uint64, error) {
	p.mu.Lock()
	if p.client != nil && !p.client.Exited() && !p.stopped {
		impl, gen := p.impl, p.gen
		p.mu.Unlock()
		return impl, gen, nil
	}
	p.mu.Unlock()

	select {
	case p.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("plugin %s: wait for launch: %w", p.bin.name, ctx.Err())
	}
	defer func() { <-p.lock }()

	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, 0, core.AIUnavailable(p.name, ErrHostStopped)
	}
	if p.client != nil && !p.client.Exited() {
		impl, gen := p.impl, p.gen
		p.mu.Unlock()
		return impl, gen, nil
	}
	var dead *plugin.Client
	if p.client != nil {
		dead, p.client, p.impl = p.client, nil, nil
	}
	wait, err := p.admitLocked(time.Now())
	name := p.name
	p.mu.Unlock()
	if dead != nil {
		p.log.Warn("AI provider plugin exited; relaunching")
		dead.Kill()
	}
	if err != nil {
		return nil, 0, err
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, 0, fmt.Errorf("plugin %s: wait to relaunch: %w", p.bin.name, ctx.Err())
		}
	}

	client, impl, err := p.launch(name)
	if err != nil {
		return nil, 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped { // Stop ran while launching.
		go client.Kill()
		return nil, 0, core.AIUnavailable(name, ErrHostStopped)
	}
	p.gen++
	p.client, p.impl = client, impl
	return impl, p.gen, nil
}

// admitLocked applies the relaunch policy: the first launch is free; a
// relaunch waits for the backoff (RelaunchBackoff doubled per relaunch in
// the window, counted from the last launch) and is refused past
// MaxRelaunches in RelaunchWindow.
func (p *Provider) admitLocked(now time.Time) (time.Duration, error) {
	if !p.launched {
		p.launched = true
		p.lastLaunch = now
		return 0, nil
	}
	keep := p.relaunches[:0]
	for _, t := range p.relaunches {
		if now.Sub(t) < p.cfg.RelaunchWindow {
			keep = append(keep, t)
		}
	}
	p.relaunches = keep
	if len(p.relaunches) >= p.cfg.MaxRelaunches {
		retry := p.relaunches[0].Add(p.cfg.RelaunchWindow).Sub(now)
		p.log.Error("AI provider plugin crashed too often; not relaunching for now",
			"relaunches", len(p.relaunches), "window", p.cfg.RelaunchWindow, "retry_after", retry)
		e := core.AIUnavailable(p.name, fmt.Errorf("%w: %d relaunches in %s", ErrRelaunchLimit, len(p.relaunches), p.cfg.RelaunchWindow))
		e.RetryAfter = retry
		return 0, e
	}
	backoff := p.cfg.RelaunchBackoff << len(p.relaunches)
	if backoff > maxBackoff || backoff <= 0 {
		backoff = maxBackoff
	}
	at := p.lastLaunch.Add(backoff)
	if at.Before(now) {
		at = now
	}
	p.relaunches = append(p.relaunches, at)
	p.lastLaunch = at
	return at.Sub(now), nil
}

// launch checks the binary against its discovery checksum, starts it and
// dispenses the provider.
func (p *Provider) launch(name string) (*plugin.Client, ports.AIProvider, error) {
	sum, err := fileSHA256(p.bin.path)
	if err != nil {
		return nil, nil, core.AIUnavailable(name, fmt.Errorf("read plugin binary %s: %w", p.bin.path, err))
	}
	if !bytes.Equal(sum, p.bin.sum) {
		p.log.Error("AI provider plugin binary changed since discovery; refusing to launch it",
			"path", p.bin.path, "sha256_discovered", fmt.Sprintf("%x", p.bin.sum), "sha256_now", fmt.Sprintf("%x", sum))
		return nil, nil, core.AIUnavailable(name, fmt.Errorf("%w: %s had sha256 %x at discovery, now %x; refusing to launch it (restart the host to accept the new binary)",
			ErrChecksumMismatch, p.bin.path, p.bin.sum, sum))
	}
	cmd := exec.Command(p.bin.path)
	cmd.Env = append([]string(nil), p.env...)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(&sdk.GRPCPlugin{Name: name}),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// go-plugin hashes the file once more right before exec.
		SecureConfig:    &plugin.SecureConfig{Checksum: p.bin.sum, Hash: sha256.New()},
		AutoMTLS:        true,
		Managed:         true,
		SkipHostEnv:     true,
		StartTimeout:    p.cfg.StartTimeout,
		GRPCDialOptions: sdk.GRPCDialOptions(),
		Logger:          newHCLogger(p.log),
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			err = fmt.Errorf("%w: %s: %w", ErrChecksumMismatch, p.bin.path, err)
		}
		p.log.Error("AI provider plugin failed to start", "error", err)
		return nil, nil, core.AIUnavailable(name, fmt.Errorf("start plugin %s: %w", p.bin.path, err))
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, nil, core.AIUnavailable(name, fmt.Errorf("dispense plugin %s: %w", p.bin.path, err))
	}
	impl, ok := raw.(ports.AIProvider)
	if !ok {
		client.Kill()
		return nil, nil, core.AIUnavailable(name, fmt.Errorf("plugin %s dispensed a %T, not a ports.AIProvider", p.bin.path, raw))
	}
	p.log.Debug("AI provider plugin launched", "pid", client.ID())
	return client, impl, nil
}

// stop kills the plugin process and refuses further calls.
func (p *Provider) stop() {
	p.mu.Lock()
	p.stopped = true
	c := p.client
	p.client, p.impl = nil, nil
	p.mu.Unlock()
	if c != nil {
		c.Kill()
	}
}
