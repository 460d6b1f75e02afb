package jwt

import (
	"time"

	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Config holds the signing keys and the access token lifetime.
type Config struct {
	Key      []byte
	Previous [][]byte
	TTL      time.Duration
}

// Module provides ports.AccessTokens.
var Module = fx.Module("jwt",
	fx.Provide(fx.Annotate(func(cfg Config, clock ports.Clock) (*AccessTokens, error) {
		return NewAccessTokens(cfg.Key, cfg.Previous, cfg.TTL, clock)
	}, fx.As(new(ports.AccessTokens)))),
)
