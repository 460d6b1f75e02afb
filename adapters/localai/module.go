package localai

import (
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Module provides the offline provider as ports.AIProvider.
var Module = fx.Module("localai",
	fx.Provide(fx.Annotate(New, fx.As(new(ports.AIProvider)))),
)
