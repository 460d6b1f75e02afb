package openai_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/openai"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

// TestContract runs the port's suite against a fake OpenAI server that
// answers every request, streamed word by word when asked.
func TestContract(t *testing.T) {
	t.Parallel()
	const answer = "## Summary\n\nWritten updates gave engineers focus time. Design documents explain why systems look the way they do."
	porttest.TestAIProvider(t, func(t *testing.T) ports.AIProvider {
		f := newFake(t, func(w http.ResponseWriter, _ *http.Request, body map[string]any) {
			if body["stream"] != true {
				writeJSON(w, http.StatusOK, completion(answer, "stop"))
				return
			}
			startStream(w)
			for _, word := range strings.SplitAfter(answer, " ") {
				sse(w, chunk(word))
			}
			sse(w,
				`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}`,
				`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":25,"total_tokens":145}}`,
				`[DONE]`)
		})
		p, err := openai.New(openai.Config{APIKey: apiKey, BaseURL: f.srv.URL + "/v1", Timeout: 10 * time.Second})
		require.NoError(t, err)
		return p
	})
}
