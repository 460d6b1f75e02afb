package aiplugin

import (
	"go.uber.org/fx"
)

// Module provides the *Host of a Config supplied by the application,
// started and stopped with the fx lifecycle.
var Module = fx.Module("aiplugin",
	fx.Provide(newLifecycleHost),
)

func newLifecycleHost(lc fx.Lifecycle, cfg Config) *Host {
	h := NewHost(cfg)
	lc.Append(fx.Hook{OnStart: h.Start, OnStop: h.Stop})
	return h
}
