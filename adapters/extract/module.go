package extract

import (
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/ports"
)

// Module provides ports.TextExtractor with the default limits.
var Module = fx.Module("extract",
	fx.Provide(fx.Annotate(func() *Extractor { return New(Options{}) }, fx.As(new(ports.TextExtractor)))),
)
