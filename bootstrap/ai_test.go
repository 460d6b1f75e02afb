package bootstrap_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/airouter"
	"github.com/repurpose/repurpose/ports"
)

// In plugin mode the router's providers are plugin processes from
// PLUGIN_DIR, launched with the app and stopped with it; without a plugin
// the provider is unavailable (there is no compiled-in fallback).
func TestServeRunsProvidersAsPlugins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "local"), "github.com/repurpose/repurpose/plugins/local")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	req := ports.AIRequest{Type: "SUMMARY", Parameters: map[string]any{"length": "short", "style": "paragraph"},
		Title: "Plugins", Text: "Providers run as plugins. The host launches them. The router calls them over gRPC."}
	for name, tc := range map[string]struct {
		dir       string
		available bool
	}{"with the plugin": {dir, true}, "without it": {t.TempDir(), false}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, err := bootstrap.ParseConfig(map[string]string{"HTTP_ADDR": "127.0.0.1:0", "PLUGIN_MODE": "plugin", "PLUGIN_DIR": tc.dir,
				"AI_MAX_ATTEMPTS": "1", "LOG_LEVEL": "error"})
			require.NoError(t, err)
			opts, err := bootstrap.Options(cfg, bootstrap.Serve, "test")
			require.NoError(t, err)
			var router *airouter.Router
			app := fx.New(opts, fx.NopLogger, fx.Populate(&router))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			require.NoError(t, app.Start(ctx))
			defer func() { require.NoError(t, app.Stop(ctx)) }()

			status := router.Status(ctx)
			require.Len(t, status, 1)
			require.Equal(t, tc.available, status[0].Healthy, "%+v", status[0])
			res, err := router.Generate(ctx, req)
			if !tc.available {
				require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "local", res.Provider)
			require.NotEmpty(t, res.Text)
		})
	}
}
