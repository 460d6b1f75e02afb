package memory

import (
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// StoreModule provides the relational ports (UnitOfWork and its stores) in
// memory: the zero-setup default when DATABASE_URL is unset.
var StoreModule = fx.Module("memory-store",
	fx.Provide(
		fx.Private, NewUnitOfWork,
	),
	fx.Provide(
		func(u *UnitOfWork) ports.UnitOfWork { return u },
		func(u *UnitOfWork) ports.JobRecovery { return u },
	),
)

// SessionModule provides sessions and rate limits in memory: the default
// when REDIS_URL is unset (one process only).
var SessionModule = fx.Module("memory-sessions",
	fx.Provide(
		fx.Annotate(NewSessionStore, fx.As(new(ports.SessionStore))),
		fx.Annotate(NewRateLimiter, fx.As(new(ports.RateLimiter))),
	),
)
