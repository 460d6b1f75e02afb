package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/openai"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

const (
	apiKey     = "sk-test-SECRET-0123456789"
	prompt     = "Transform the document \"Gardens\" into: a summary. PROMPT-MARKER"
	docText    = "Tomatoes need sun. DOCUMENT-MARKER. Basil likes warmth."
	bodySecret = "VENDOR-BODY-MARKER"
)

var request = ports.AIRequest{Type: "SUMMARY", Title: "Gardens", Text: docText, Prompt: prompt}

// captured is what the fake server saw of one request.
type captured struct {
	path   string
	auth   string
	body   map[string]any
	rawLen int
}

// fakeOpenAI is an httptest server speaking the Chat Completions wire
// format; handle writes the answer after the request has been captured.
type fakeOpenAI struct {
	srv      *httptest.Server
	requests chan captured
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body map[string]any)) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{requests: make(chan captured, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		select { // a full buffer (the contract suite's many calls) drops captures
		case f.requests <- captured{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body, rawLen: len(raw)}:
		default:
		}
		handle(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOpenAI) provider(t *testing.T, timeout time.Duration) *openai.Provider {
	t.Helper()
	p, err := openai.New(openai.Config{APIKey: apiKey, BaseURL: f.srv.URL + "/v1", Model: "gpt-test", Timeout: timeout, MaxOutputTokens: 321})
	require.NoError(t, err)
	return p
}

func (f *fakeOpenAI) lastRequest(t *testing.T) captured {
	t.Helper()
	select {
	case c := <-f.requests:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("the fake server received no request")
		return captured{}
	}
}

func writeJSON(w http.ResponseWriter, status int, v string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, v)
}

func completion(content, finish string) string {
	c, _ := json.Marshal(content)
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1730000000,"model":"gpt-test-2024-07-18",
"choices":[{"index":0,"message":{"role":"assistant","content":%s,"refusal":null},"logprobs":null,"finish_reason":%q}],
"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59},"system_fingerprint":"fp_1"}`, c, finish)
}

func vendorError(typ, code string) string {
	// Vendors echo keys and input in messages: none of it may leak.
	return fmt.Sprintf(`{"error":{"message":"Incorrect API key provided: %s. %s %s","type":%q,"param":null,"code":%q}}`, apiKey, bodySecret, prompt, typ, code)
}

// requireSafe checks that err's text quotes neither the key, the prompt,
// the document nor the vendor's body.
func requireSafe(t *testing.T, err error) {
	t.Helper()
	for _, secret := range []string{apiKey, "PROMPT-MARKER", "DOCUMENT-MARKER", bodySecret} {
		require.NotContains(t, err.Error(), secret)
	}
}

// requireRequest checks what the provider sent.
func requireRequest(t *testing.T, c captured, stream bool) {
	t.Helper()
	require.Equal(t, "/v1/chat/completions", c.path)
	require.Equal(t, "Bearer "+apiKey, c.auth)
	require.Equal(t, "gpt-test", c.body["model"])
	require.EqualValues(t, 321, c.body["max_completion_tokens"])
	msgs, ok := c.body["messages"].([]any)
	require.True(t, ok, "messages: %v", c.body["messages"])
	require.Len(t, msgs, 2)
	system, user := msgs[0].(map[string]any), msgs[1].(map[string]any)
	require.Equal(t, "system", system["role"])
	require.Equal(t, prompt, system["content"])
	require.Equal(t, "user", user["role"])
	require.Equal(t, docText, user["content"])
	if stream {
		require.Equal(t, true, c.body["stream"])
		require.Equal(t, map[string]any{"include_usage": true}, c.body["stream_options"])
	} else {
		require.NotEqual(t, true, c.body["stream"])
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	p, f := generateSetup(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, completion("## Summary\n\nTomatoes need sun.", "stop"))
	})
	res, err := p.Generate(context.Background(), request)
	require.NoError(t, err)
	require.Equal(t, ports.AIResult{Text: "## Summary\n\nTomatoes need sun.", Provider: "openai", Model: "gpt-test", InputTokens: 42, OutputTokens: 17}, res)
	requireRequest(t, f.lastRequest(t), false)
}

func generateSetup(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body map[string]any)) (*openai.Provider, *fakeOpenAI) {
	t.Helper()
	f := newFake(t, handle)
	return f.provider(t, 5*time.Second), f
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		handle     func(w http.ResponseWriter, r *http.Request)
		timeout    time.Duration
		code       core.Code
		retryAfter time.Duration
		// generateOnly: a JSON answer that a streaming call can't get
		// (streamed cases are in TestGenerateStreamFailures).
		generateOnly bool
	}{
		{
			name: "429 with Retry-After seconds",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "7")
				writeJSON(w, http.StatusTooManyRequests, vendorError("requests", "rate_limit_exceeded"))
			},
			code: core.ERATELIMIT, retryAfter: 7 * time.Second,
		},
		{
			name: "429 with retry-after-ms",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "2")
				w.Header().Set("retry-after-ms", "1500")
				writeJSON(w, http.StatusTooManyRequests, vendorError("requests", "rate_limit_exceeded"))
			},
			code: core.ERATELIMIT, retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "429 without Retry-After",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusTooManyRequests, vendorError("requests", "rate_limit_exceeded"))
			},
			code: core.ERATELIMIT,
		},
		{
			name: "500",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusInternalServerError, vendorError("server_error", ""))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "503 with a plain-text body",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "upstream overloaded "+bodySecret)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "timeout",
			handle: func(_ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // answers only once the client gave up
			},
			timeout: 100 * time.Millisecond,
			code:    core.EUNAVAILABLE,
		},
		{
			name: "malformed JSON",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, `{"id":"chatcmpl-1","choices":[{"message":`+bodySecret)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "no choices",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-test","choices":[]}`)
			},
			code: core.EUNAVAILABLE, generateOnly: true,
		},
		{
			name: "401",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusUnauthorized, vendorError("invalid_request_error", "invalid_api_key"))
			},
			code: core.EFORBIDDEN,
		},
		{
			name: "403",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusForbidden, vendorError("invalid_request_error", "unsupported_country_region_territory"))
			},
			code: core.EFORBIDDEN,
		},
		{
			name: "400",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusBadRequest, vendorError("invalid_request_error", "context_length_exceeded"))
			},
			code: core.EINVALID,
		},
		{
			name: "404 unknown model",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusNotFound, vendorError("invalid_request_error", "model_not_found"))
			},
			code: core.EINVALID,
		},
		{
			name: "422",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusUnprocessableEntity, vendorError("invalid_request_error", ""))
			},
			code: core.EINVALID,
		},
		{
			name: "content policy violation",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusBadRequest, vendorError("invalid_request_error", "content_policy_violation"))
			},
			code: core.EINVALID,
		},
		{
			name: "content filter finish reason",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, completion("", "content_filter"))
			},
			code: core.EINVALID, generateOnly: true,
		},
		{
			name: "refusal",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`)
			},
			code: core.EINVALID, generateOnly: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) { tt.handle(w, r) })
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			p := f.provider(t, timeout)
			for _, stream := range []bool{false, true} {
				if stream && tt.generateOnly {
					continue
				}
				start := time.Now()
				var err error
				if stream {
					_, err = p.GenerateStream(context.Background(), request, func(string) error { return nil })
				} else {
					_, err = p.Generate(context.Background(), request)
				}
				require.Error(t, err, "stream=%v", stream)
				require.Equal(t, tt.code, core.ErrorCode(err), "stream=%v: %v", stream, err)
				var ce *core.Error
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tt.retryAfter, ce.RetryAfter)
				require.Less(t, time.Since(start), 3*time.Second, "an error must come back promptly")
				requireSafe(t, err)
				t.Logf("stream=%v: %v", stream, err)
				f.lastRequest(t) // exactly one request per call: no SDK retries
				select {
				case <-f.requests:
					t.Fatal("the SDK retried; the router owns retries")
				default:
				}
			}
		})
	}
}

func TestGenerateConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, err := openai.New(openai.Config{APIKey: apiKey, BaseURL: url + "/v1"})
	require.NoError(t, err)
	_, err = p.Generate(context.Background(), request)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
	require.True(t, core.AIRetryable(err))
	requireSafe(t, err)
}

func TestGenerateCancelled(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, completion("x", "stop"))
	})
	p := f.provider(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Generate(ctx, request)
	require.ErrorIs(t, err, context.Canceled)
	_, err = p.GenerateStream(ctx, request, func(string) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

// sse writes Chat Completions stream events as OpenAI sends them.
func sse(w http.ResponseWriter, events ...string) {
	for _, e := range events {
		_, _ = fmt.Fprintf(w, "data: %s\n\n", e)
		w.(http.Flusher).Flush()
	}
}

func chunk(content string) string {
	c, _ := json.Marshal(content)
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test-2024-07-18","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":%s},"logprobs":null,"finish_reason":null}],"usage":null}`, c)
}

func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	sse(w, `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}`)
}

func TestGenerateStream(t *testing.T) {
	t.Parallel()
	pieces := []string{"## Summary", "\n\n", "Tomatoes ", "need sun", "."}
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		startStream(w)
		for _, p := range pieces {
			sse(w, chunk(p))
		}
		sse(w,
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test-2024-07-18","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`,
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"gpt-test-2024-07-18","choices":[],"usage":{"prompt_tokens":42,"completion_tokens":17,"total_tokens":59}}`,
			`[DONE]`)
	})
	p := f.provider(t, 5*time.Second)
	var got []string
	res, err := p.GenerateStream(context.Background(), request, func(d string) error {
		got = append(got, d)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, pieces, got)
	require.Equal(t, strings.Join(got, ""), res.Text)
	require.Equal(t, ports.AIResult{Text: "## Summary\n\nTomatoes need sun.", Provider: "openai", Model: "gpt-test", InputTokens: 42, OutputTokens: 17}, res)
	requireRequest(t, f.lastRequest(t), true)
}

func TestGenerateStreamFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		handle func(w http.ResponseWriter)
		code   core.Code
	}{
		{
			name: "error event mid-stream",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				sse(w, chunk("Tomatoes"), `{"error":{"message":"`+bodySecret+`","type":"server_error","code":null}}`)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "malformed chunk",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				sse(w, `{"id":"chatcmpl-1","choices":[`+bodySecret)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "JSON instead of a stream",
			handle: func(w http.ResponseWriter) {
				writeJSON(w, http.StatusOK, completion("x", "stop"))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "cut before finish_reason",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				sse(w, chunk("Tomatoes"))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "content filter mid-stream",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				sse(w, `{"id":"chatcmpl-1","object":"chat.completion.chunk","model":"gpt-test","choices":[{"index":0,"delta":{},"finish_reason":"content_filter"}]}`, `[DONE]`)
			},
			code: core.EINVALID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) { tt.handle(w) })
			_, err := f.provider(t, 5*time.Second).GenerateStream(context.Background(), request, func(string) error { return nil })
			require.Equal(t, tt.code, core.ErrorCode(err), "%v", err)
			requireSafe(t, err)
		})
	}
}

func TestGenerateStreamCancelledMidStream(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		startStream(w)
		sse(w, chunk("first"))
		<-r.Context().Done() // more would come, but the client leaves
	})
	p := f.provider(t, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var got []string
	_, err := p.GenerateStream(ctx, request, func(d string) error {
		got = append(got, d)
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 3*time.Second)
	require.Equal(t, []string{"first"}, got)
}

func TestGenerateStreamDeltaError(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		startStream(w)
		sse(w, chunk("a"), chunk("b"), `[DONE]`)
	})
	stop := errors.New("client went away")
	calls := 0
	_, err := f.provider(t, 5*time.Second).GenerateStream(context.Background(), request, func(string) error {
		calls++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     openai.Config
		wantErr bool
	}{
		{name: "key", cfg: openai.Config{APIKey: apiKey}},
		{name: "compatible server without key", cfg: openai.Config{BaseURL: "http://localhost:11434/v1"}},
		{name: "no key, no base URL", cfg: openai.Config{}, wantErr: true},
		{name: "bad base URL", cfg: openai.Config{APIKey: apiKey, BaseURL: "localhost:11434"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := openai.New(tt.cfg)
			if tt.wantErr {
				require.Equal(t, core.EINVALID, core.ErrorCode(err))
				requireSafe(t, err)
				return
			}
			require.NoError(t, err)
			info, err := p.Info(context.Background())
			require.NoError(t, err)
			require.Equal(t, ports.AIProviderInfo{Name: "openai", Models: []string{openai.DefaultModel}}, info)
		})
	}
}

// A keyless compatible server (Ollama, vLLM) gets no Authorization header.
func TestKeylessCompatibleServer(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ map[string]any) {
		writeJSON(w, http.StatusOK, completion("ok", "stop"))
	})
	p, err := openai.New(openai.Config{BaseURL: f.srv.URL + "/v1", Model: "llama3.2"})
	require.NoError(t, err)
	res, err := p.Generate(context.Background(), request)
	require.NoError(t, err)
	require.Equal(t, "ok", res.Text)
	c := f.lastRequest(t)
	require.Empty(t, c.auth)
	require.Equal(t, "llama3.2", c.body["model"])
}
