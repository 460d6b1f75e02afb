package localai

import (
	"testing"

	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	porttest.TestAIProvider(t, func(*testing.T) ports.AIProvider { return New() },
		porttest.AIUnsupported("CUSTOM", "the local provider does not support CUSTOM transformations"))
}
