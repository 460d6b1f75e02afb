package aiplugin

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/sdk"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestContractThroughTheLocalPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "local", "local")
	log, _ := newLog()
	h := startHost(t, Config{Dir: dir, Log: log})
	porttest.TestAIProvider(t, func(t *testing.T) ports.AIProvider {
		p := h.Providers()["local"]
		require.NotNil(t, p, "the local plugin is up")
		return p
	}, porttest.AIUnsupported("CUSTOM", "the local provider does not support CUSTOM transformations"))
}

func TestContractThroughAFreshLocalPluginEach(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "local", "local")
	porttest.TestAIProvider(t, func(t *testing.T) ports.AIProvider {
		log, _ := newLog()
		p := startHost(t, Config{Dir: dir, Log: log}).Providers()["local"]
		require.NotNil(t, p, "the local plugin is up")
		return p
	}, porttest.AIUnsupported("CUSTOM", "the local provider does not support CUSTOM transformations"))
}

func TestStartNamesEveryPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "local", "local")
	installPlugin(t, dir, "testplugin", "echo")
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log})
	ps := h.Providers()
	require.Len(t, ps, 2)
	info, err := ps["local"].Info(t.Context())
	require.NoError(t, err)
	require.Equal(t, ports.AIProviderInfo{Name: "local", Models: []string{"local-extractive-1"}}, info)
	info, err = ps["echo"].Info(t.Context())
	require.NoError(t, err)
	require.Equal(t, ports.AIProviderInfo{Name: "echo", Models: []string{"echo-1"}}, info)
	require.Contains(t, logs.String(), "AI provider plugin ready")
}

func TestOnlyTheNamedPluginsAreLaunched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "local", "local")
	installPlugin(t, dir, "testplugin", "echo")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken"), []byte("#!/bin/sh\nexit 1\n"), 0o700))
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, Only: []string{"local"}})
	require.Equal(t, []string{"local"}, names(h.Providers()))
	require.NotContains(t, logs.String(), "did not start", "plugins not in use are not even launched")
}

func TestAPluginThatFailsToStartIsLeftOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "echo")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "broken"), []byte("#!/bin/sh\nexit 1\n"), 0o700))
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, StartTimeout: wait})
	require.Equal(t, []string{"echo"}, names(h.Providers()))
	require.Contains(t, logs.String(), "AI provider plugin did not start; left out")
}

func TestMissingDirectoryHasNoPlugins(t *testing.T) {
	t.Parallel()
	log, logs := newLog()
	h := startHost(t, Config{Dir: filepath.Join(t.TempDir(), "nope"), Log: log})
	require.Empty(t, h.Providers())
	require.Contains(t, logs.String(), "no plugin directory")
}

func TestPluginsGetOnlyTheirEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "openai")
	installPlugin(t, dir, "testplugin", "anthropic")
	environ := []string{
		"OPENAI_API_KEY=sk-openai-secret-1234", "OPENAI_MODEL=gpt-test",
		"ANTHROPIC_API_KEY=sk-ant-secret-5678",
		"AI_TIMEOUT=45s", "HOME=/root", "DATABASE_URL=postgres://u:dbsecret@db/x", "JWT_SECRET=jwtsecret",
	}
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, Environ: func() []string { return environ }})

	env := func(name string) []string {
		res, err := h.Providers()[name].Generate(t.Context(), ports.AIRequest{Type: "ENV"})
		require.NoError(t, err)
		var own []string
		for _, kv := range strings.Split(res.Text, "\x00") {
			if !strings.HasPrefix(kv, "PLUGIN_") && !strings.HasPrefix(kv, sdk.Handshake.MagicCookieKey+"=") && !strings.HasPrefix(kv, "TMPDIR=") {
				own = append(own, kv)
			}
		}
		return own
	}
	require.ElementsMatch(t, []string{"OPENAI_API_KEY=sk-openai-secret-1234", "OPENAI_MODEL=gpt-test", "AI_TIMEOUT=45s"}, env("openai"))
	require.ElementsMatch(t, []string{"ANTHROPIC_API_KEY=sk-ant-secret-5678", "AI_TIMEOUT=45s"}, env("anthropic"))
	for _, secret := range []string{"sk-openai-secret-1234", "sk-ant-secret-5678", "dbsecret", "jwtsecret"} {
		require.NotContains(t, logs.String(), secret, "keys are never logged")
	}
}

func TestEnvPrefix(t *testing.T) {
	t.Parallel()
	require.Equal(t, "OPENAI_", envPrefix("openai"))
	require.Equal(t, "ANTHROPIC_", envPrefix("anthropic"))
	require.Equal(t, "MY_LLM_", envPrefix("my-llm"))
	require.Equal(t, []string{"LOCAL_X=1", "AI_TIMEOUT=1s"}, pluginEnv("local", []string{"LOCAL_X=1", "OPENAI_API_KEY=k", "AI_TIMEOUT=1s", "PATH=/bin", "LOCALX=2"}))
}

// pid asks the plugin behind p for its process id.
func pid(t *testing.T, p ports.AIProvider) int {
	t.Helper()
	res, err := p.Generate(t.Context(), ports.AIRequest{Type: "PID"})
	require.NoError(t, err)
	n, err := strconv.Atoi(res.Text)
	require.NoError(t, err)
	return n
}

func requirePluginGone(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sdk.ErrPluginShutdown)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err))
	require.True(t, core.AIRetryable(err), "a crashed plugin is retryable")
	require.NotErrorIs(t, err, context.Canceled)
}

func TestACrashedPluginIsRelaunched(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "Generate", true: "GenerateStream"}[stream], func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			installPlugin(t, dir, "testplugin", "crashy")
			log, logs := newLog()
			h := startHost(t, Config{Dir: dir, Log: log, RelaunchBackoff: time.Millisecond})
			p := h.Providers()["crashy"]
			before := pid(t, p)

			var err error
			if stream {
				var deltas []string
				_, err = p.GenerateStream(t.Context(), ports.AIRequest{Type: "CRASH"}, func(d string) error {
					deltas = append(deltas, d)
					return nil
				})
				// The crash comes right after the first delta, which may
				// or may not have left the process.
				require.LessOrEqual(t, len(deltas), 1)
			} else {
				_, err = p.Generate(t.Context(), ports.AIRequest{Type: "CRASH"})
			}
			requirePluginGone(t, err)
			require.Equal(t, "the AI provider crashy is unavailable", core.AsError(err).Message)

			res, err := p.Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
			require.NoError(t, err, "the next call relaunches the plugin")
			require.Equal(t, "ok", res.Text)
			require.NotEqual(t, before, pid(t, p), "a new process")
			require.Contains(t, logs.String(), "relaunch")
		})
	}
}

func TestAPluginKilledWhileIdleIsRelaunched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "victim")
	log, _ := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, RelaunchBackoff: time.Millisecond})
	p := h.Providers()["victim"]
	before := pid(t, p)
	require.NoError(t, syscall.Kill(before, syscall.SIGKILL))
	// The host learns of the death on its own (go-plugin waits on the
	// process) or from the first call that hits the dead connection; both
	// are retryable, and a later call reaches a new process.
	var after int
	waitFor(t, "a relaunched plugin", func() bool {
		res, err := p.Generate(t.Context(), ports.AIRequest{Type: "PID"})
		if err != nil {
			requirePluginGone(t, err)
			return false
		}
		after, _ = strconv.Atoi(res.Text)
		return true
	})
	require.NotEqual(t, before, after)
}

func TestRelaunchesAreLimited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "flaky")
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, MaxRelaunches: 2, RelaunchWindow: time.Hour, RelaunchBackoff: time.Millisecond})
	p := h.Providers()["flaky"]
	for i := range 3 {
		_, err := p.Generate(t.Context(), ports.AIRequest{Type: "CRASH"})
		requirePluginGone(t, err)
		if i < 2 {
			_, err = p.Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
			require.NoError(t, err, "relaunch %d", i+1)
		}
	}
	_, err := p.Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
	require.ErrorIs(t, err, ErrRelaunchLimit)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err))
	ra := core.AsError(err).RetryAfter
	require.Greater(t, ra, 59*time.Minute, "retry when the first relaunch leaves the window")
	require.LessOrEqual(t, ra, time.Hour)
	require.Contains(t, logs.String(), "crashed too often")
}

func TestRelaunchPolicy(t *testing.T) {
	t.Parallel()
	log, _ := newLog()
	cfg := Config{Log: log, MaxRelaunches: 3, RelaunchWindow: 10 * time.Minute, RelaunchBackoff: time.Second}.withDefaults()
	p := newProvider(cfg, binary{name: "x"}, nil)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	w, err := p.admitLocked(t0)
	require.NoError(t, err)
	require.Zero(t, w, "the first launch is immediate")
	// Crashed at once: the first relaunch waits 1s after the launch.
	w, err = p.admitLocked(t0.Add(100 * time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, 900*time.Millisecond, w)
	// Then 2s after that launch, then 4s.
	w, err = p.admitLocked(t0.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, 2*time.Second, w)
	w, err = p.admitLocked(t0.Add(time.Minute))
	require.NoError(t, err)
	require.Zero(t, w, "a plugin that ran long enough relaunches at once")
	_, err = p.admitLocked(t0.Add(2 * time.Minute))
	require.ErrorIs(t, err, ErrRelaunchLimit)
	// The first relaunch (at 1s) leaves the window at 10m1s.
	require.Equal(t, 8*time.Minute+time.Second, core.AsError(err).RetryAfter)
	w, err = p.admitLocked(t0.Add(11 * time.Minute))
	require.NoError(t, err)
	require.Zero(t, w)
}

func TestASwappedBinaryIsNotLaunched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := installPlugin(t, dir, "testplugin", "swapped")
	log, logs := newLog()
	h := startHost(t, Config{Dir: dir, Log: log, RelaunchBackoff: time.Millisecond})
	p := h.Providers()["swapped"]
	_, err := p.Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
	require.NoError(t, err)

	// Replace the binary (as an attacker or a careless deploy would),
	// then make the plugin need a relaunch.
	other := installPlugin(t, t.TempDir(), "local", "swapped")
	require.NoError(t, os.Rename(other, path))
	_, err = p.Generate(t.Context(), ports.AIRequest{Type: "CRASH"})
	requirePluginGone(t, err)

	for range 2 {
		_, err = p.Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
		require.ErrorIs(t, err, ErrChecksumMismatch)
		require.Contains(t, err.Error(), "changed since discovery")
		require.Contains(t, err.Error(), path)
	}
	require.Contains(t, logs.String(), "refusing to launch")
	require.Equal(t, 1, strings.Count(logs.String(), "AI provider plugin launched"), "the swapped binary never ran")
}

func TestGoPluginChecksTheBinaryToo(t *testing.T) {
	t.Parallel()
	// The host's own check runs first; go-plugin's SecureConfig checks
	// again right before exec. A binary whose recorded sum is wrong is
	// refused by both, with ErrChecksumMismatch.
	dir := t.TempDir()
	path := installPlugin(t, dir, "testplugin", "x")
	log, _ := newLog()
	b, reason := inspect(dir, "x")
	require.Empty(t, reason)
	b.sum[0] ^= 0xff
	p := newProvider(Config{Log: log}.withDefaults(), b, nil)
	_, err := p.Info(t.Context())
	require.ErrorIs(t, err, ErrChecksumMismatch)
	require.Contains(t, err.Error(), path)
}

func TestCancellationReachesThePluginProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "blocker")
	log, _ := newLog()
	h := startHost(t, Config{Dir: dir, Log: log})
	p := h.Providers()["blocker"]
	for _, stream := range []bool{false, true} {
		marker := filepath.Join(t.TempDir(), "cancelled")
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			var err error
			if stream {
				_, err = p.GenerateStream(ctx, ports.AIRequest{Type: "BLOCK", Title: marker}, func(string) error { return nil })
			} else {
				_, err = p.Generate(ctx, ports.AIRequest{Type: "BLOCK", Title: marker})
			}
			errc <- err
		}()
		waitFor(t, "the plugin to start the call", func() bool {
			b, err := os.ReadFile(marker)
			return err == nil && string(b) == "started"
		})
		cancel()
		select {
		case err := <-errc:
			require.ErrorIs(t, err, context.Canceled)
			require.False(t, core.AIRetryable(err))
		case <-time.After(wait):
			t.Fatal("the call did not return after cancel")
		}
		waitFor(t, "the plugin to see the cancellation", func() bool {
			b, err := os.ReadFile(marker)
			return err == nil && string(b) == context.Canceled.Error()
		})
	}
}

func TestStopKillsEveryPlugin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	installPlugin(t, dir, "testplugin", "one")
	installPlugin(t, dir, "testplugin", "two")
	log, _ := newLog()
	h := NewHost(Config{Dir: dir, Log: log})
	require.NoError(t, h.Start(t.Context()))
	ps := h.Providers()
	pids := []int{pid(t, ps["one"]), pid(t, ps["two"])}

	require.NoError(t, h.Stop(t.Context()))
	for _, n := range pids {
		waitFor(t, "the plugin process to be gone", func() bool {
			return errors.Is(syscall.Kill(n, 0), syscall.ESRCH)
		})
	}
	_, err := ps["one"].Generate(t.Context(), ports.AIRequest{Type: "ECHO"})
	require.ErrorIs(t, err, ErrHostStopped)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err))
}

func TestModule(t *testing.T) {
	t.Parallel()
	log, _ := newLog()
	require.NoError(t, fx.ValidateApp(
		fx.Supply(Config{Dir: t.TempDir(), Log: log}),
		Module,
		fx.Invoke(func(*Host) {}),
	))
}

func names(ps map[string]ports.AIProvider) []string {
	var out []string
	for n := range ps {
		out = append(out, n)
	}
	return out
}
