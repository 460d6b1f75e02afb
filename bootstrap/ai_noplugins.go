//go:build noaiplugins

package bootstrap

import (
	"errors"
	"log/slog"
)

// errNoPluginHost is the start error of PLUGIN_MODE=plugin in a binary
// built with the noaiplugins tag.
var errNoPluginHost = errors.New("PLUGIN_MODE=plugin, but this binary is built without the plugin host (-tags noaiplugins)")

// newPluginHost returns no host: the noaiplugins tag leaves the plugin host
// (hashicorp/go-plugin, gRPC) out of the binary. The Lambda functions are
// built so (make build-ApiFunction): they only run compiled-in providers,
// and linking the host made their cold start slower for nothing. PLUGIN_MODE
// auto then means builtin, and plugin is refused.
func newPluginHost(_ *Config, mode string, _ *slog.Logger) (pluginHost, error) {
	if mode == "plugin" {
		return nil, errNoPluginHost
	}
	return nil, nil
}
