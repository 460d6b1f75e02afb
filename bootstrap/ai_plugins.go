//go:build !noaiplugins

package bootstrap

import (
	"log/slog"
	"os"

	"github.com/repurpose/repurpose/adapters/aiplugin"
)

// newPluginHost returns the host of the provider plugins of PLUGIN_DIR
// (started and stopped with the app), for PLUGIN_MODE auto and plugin.
func newPluginHost(cfg *Config, _ string, log *slog.Logger) (pluginHost, error) {
	return aiplugin.NewHost(aiplugin.Config{Dir: cfg.PluginDir, Environ: environ(cfg), Only: providerNames(cfg), Log: log}), nil
}

// pluginVariables are the settings of the provider plugins.
var pluginVariables = []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL",
	"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "AI_TIMEOUT"}

// environ is the environment plugins are launched from: the process's,
// with the provider settings of the configuration (which may come from
// elsewhere, e.g. a test's map) on top. Each plugin still gets only its own
// variables (see aiplugin.Config.Environ).
func environ(cfg *Config) func() []string {
	return func() []string {
		out := os.Environ()
		for _, key := range pluginVariables {
			if v := cfg.getenv(key); v != "" {
				out = append(out, key+"="+v)
			}
		}
		return out
	}
}
