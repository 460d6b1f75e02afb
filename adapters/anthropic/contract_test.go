package anthropic_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/anthropic"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

// TestContract runs the port's suite against a fake Anthropic server that
// answers every request, streamed word by word when asked.
func TestContract(t *testing.T) {
	t.Parallel()
	const answer = "## Summary\n\nWritten updates gave engineers focus time. Design documents explain why systems look the way they do."
	porttest.TestAIProvider(t, func(t *testing.T) ports.AIProvider {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			if !isStream(r) {
				writeJSON(w, http.StatusOK, message(answer, "end_turn"))
				return
			}
			startStream(w)
			for _, word := range strings.SplitAfter(answer, " ") {
				textDelta(w, word)
			}
			endStream(w, "end_turn", 25)
		})
		p, err := anthropic.New(anthropic.Config{APIKey: apiKey, BaseURL: f.srv.URL, Timeout: 10 * time.Second})
		require.NoError(t, err)
		return p
	})
}
