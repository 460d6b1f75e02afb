package aiplugin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestTheOpenAIPluginThroughTheHost runs the real openai plugin against a
// fake Chat Completions server on loopback: its key reaches it through the
// launch environment only, and a vendor 429 arrives on the host as
// ERATELIMIT with the vendor's Retry-After.
func TestTheOpenAIPluginThroughTheHost(t *testing.T) {
	t.Parallel()
	const key = "sk-plugin-test-0123456789"
	auth := make(chan string, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		auth <- r.Header.Get("Authorization")
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(string(raw), "RATE-LIMIT-ME") {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1730000000,"model":"gpt-test-1",
"choices":[{"index":0,"message":{"role":"assistant","content":"## Summary\n\nTomatoes need sun.","refusal":null},"logprobs":null,"finish_reason":"stop"}],
"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59}}`)
	}))
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	installPlugin(t, dir, "openai", "openai")
	log, logs := newLog()
	environ := []string{"OPENAI_API_KEY=" + key, "OPENAI_BASE_URL=" + srv.URL + "/v1", "OPENAI_MODEL=gpt-test", "AI_TIMEOUT=20s"}
	h := startHost(t, Config{Dir: dir, Log: log, Environ: func() []string { return environ }})
	p := h.Providers()["openai"]
	require.NotNil(t, p, "the openai plugin is up")

	req := ports.AIRequest{Type: "SUMMARY", Title: "Tomatoes", Text: "Tomatoes need sun.", Prompt: "Summarise."}
	res, err := p.Generate(t.Context(), req)
	require.NoError(t, err)
	require.Equal(t, "## Summary\n\nTomatoes need sun.", res.Text)
	require.Equal(t, "openai", res.Provider)
	require.Equal(t, 42, res.InputTokens)
	select {
	case got := <-auth:
		require.Equal(t, "Bearer "+key, got, "the key came from the launch environment")
	case <-time.After(wait):
		t.Fatal("the fake server got no request")
	}

	req.Text = "RATE-LIMIT-ME"
	_, err = p.Generate(t.Context(), req)
	require.ErrorIs(t, err, core.ErrRateLimited)
	require.Equal(t, 7*time.Second, core.AsError(err).RetryAfter)
	require.Equal(t, "the AI provider openai is rate limiting requests", core.AsError(err).Message)
	require.True(t, core.AIRetryable(err))

	require.NotContains(t, logs.String(), key, "the key is never logged")
	require.NotContains(t, err.Error(), key)
}
