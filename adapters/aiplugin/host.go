// Package aiplugin hosts the AI provider plugins: it finds their binaries
// in a directory, records each one's SHA-256 and checks it before every
// launch, launches them with hashicorp/go-plugin over gRPC (AutoMTLS), and
// relaunches a crashed plugin on its next call, with backoff and a limit.
// Each plugin becomes a ports.AIProvider; the router can't tell it from a
// compiled-in provider.
//
// The host is a plain value with Start and Stop for the fx lifecycle
// (Module wires them); nothing else here knows about fx.
package aiplugin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/repurpose/repurpose/ports"
)

// ErrChecksumMismatch is wrapped by the error of a call whose plugin binary
// changed since discovery: the host refuses to launch it.
var ErrChecksumMismatch = errors.New("plugin binary changed since discovery")

// ErrRelaunchLimit is wrapped by the error of a call whose plugin crashed
// too often (Config.MaxRelaunches in Config.RelaunchWindow); the error's
// RetryAfter says when a relaunch will be allowed again.
var ErrRelaunchLimit = errors.New("plugin relaunched too often")

// ErrHostStopped is wrapped by the error of a call made after Stop.
var ErrHostStopped = errors.New("plugin host stopped")

// Config configures a Host. Only Dir is required.
type Config struct {
	// Dir is the plugin directory (PLUGIN_DIR).
	Dir string
	// Environ returns the environment as KEY=VALUE pairs (default
	// os.Environ). A plugin named NAME gets only NAME_* (OPENAI_* for
	// "openai"), AI_TIMEOUT and TMPDIR: the host's own environment never
	// leaks into plugins.
	Environ func() []string
	// Log receives discovery, launch and crash events and the plugins'
	// own logs (default slog.Default()).
	Log *slog.Logger
	// MaxRelaunches is how many relaunches of one plugin are allowed in
	// RelaunchWindow (default 5 in 10 minutes); past it, calls fail with
	// ErrRelaunchLimit until the window moves on.
	MaxRelaunches  int
	RelaunchWindow time.Duration
	// RelaunchBackoff is the least time between a launch and the first
	// relaunch, doubled for each further relaunch in the window (default
	// 200ms, at most 30s).
	RelaunchBackoff time.Duration
	// StartTimeout bounds a plugin's start, handshake included (default 30s).
	StartTimeout time.Duration
	// Only, when set, names the plugin files to launch (AI_PROVIDERS);
	// the directory's other plugins are left alone.
	Only []string
}

func (c Config) withDefaults() Config {
	if c.Environ == nil {
		c.Environ = os.Environ
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxRelaunches <= 0 {
		c.MaxRelaunches = 5
	}
	if c.RelaunchWindow <= 0 {
		c.RelaunchWindow = 10 * time.Minute
	}
	if c.RelaunchBackoff <= 0 {
		c.RelaunchBackoff = 200 * time.Millisecond
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 30 * time.Second
	}
	return c
}

// maxBackoff caps the wait before a relaunch.
const maxBackoff = 30 * time.Second

// Host runs the plugins of one directory.
type Host struct {
	cfg Config

	mu        sync.Mutex
	providers map[string]*Provider
	all       []*Provider
	stopped   bool
}

// NewHost returns a host of cfg.Dir; Start finds and launches the plugins.
func NewHost(cfg Config) *Host {
	return &Host{cfg: cfg.withDefaults(), providers: map[string]*Provider{}}
}

// Start finds the plugins, launches each one and asks it for its name and
// models. A plugin that fails to start or answer is logged and left out;
// Start fails only when the directory can't be read. A missing directory
// has no plugins. Start returns once every plugin has answered or failed.
func (h *Host) Start(ctx context.Context) error {
	log := h.cfg.Log.With("plugin_dir", h.cfg.Dir)
	found, err := discover(h.cfg.Dir, h.cfg.Only, log)
	if err != nil {
		return err
	}
	environ := h.cfg.Environ()
	candidates := make([]*Provider, len(found))
	infos := make([]ports.AIProviderInfo, len(found))
	errs := make([]error, len(found))
	var wg sync.WaitGroup
	for i, b := range found {
		candidates[i] = newProvider(h.cfg, b, pluginEnv(b.name, environ))
		wg.Go(func() { infos[i], errs[i] = candidates[i].Info(ctx) })
	}
	wg.Wait()

	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range candidates {
		plog := log.With("plugin", p.bin.name, "path", p.bin.path)
		switch {
		case errs[i] != nil:
			plog.Warn("AI provider plugin did not start; left out (not configured?)", "error", errs[i])
		case infos[i].Name == "":
			plog.Error("AI provider plugin has no name; left out")
		case h.providers[infos[i].Name] != nil:
			plog.Error("AI provider plugin has the name of another; left out", "provider", infos[i].Name)
		default:
			p.setName(infos[i].Name)
			h.providers[infos[i].Name] = p
			h.all = append(h.all, p)
			plog.Info("AI provider plugin ready", "provider", infos[i].Name, "models", infos[i].Models,
				"sha256", fmt.Sprintf("%x", p.bin.sum))
			continue
		}
		p.stop()
	}
	if h.stopped {
		for _, p := range h.all {
			p.stop()
		}
	}
	return nil
}

// Providers returns the started plugins by provider name. Each value
// relaunches its plugin as needed.
func (h *Host) Providers() map[string]ports.AIProvider {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]ports.AIProvider, len(h.providers))
	for name, p := range h.providers {
		out[name] = p
	}
	return out
}

// Stop kills every plugin process; calls made after it fail with
// ErrHostStopped. It returns when the processes are gone or ctx is done.
func (h *Host) Stop(ctx context.Context) error {
	h.mu.Lock()
	h.stopped = true
	all := append([]*Provider(nil), h.all...)
	h.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for _, p := range all {
			wg.Go(p.stop)
		}
		wg.Wait()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop AI provider plugins: %w", ctx.Err())
	}
}
