package anthropic_test

import (
	"bytes"
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

	"github.com/repurpose/repurpose/adapters/anthropic"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

const (
	apiKey     = "sk-ant-test-SECRET-0123456789"
	prompt     = "Transform the document \"Gardens\" into: a summary. PROMPT-MARKER"
	docText    = "Tomatoes need sun. DOCUMENT-MARKER. Basil likes warmth."
	bodySecret = "VENDOR-BODY-MARKER"
)

var request = ports.AIRequest{Type: "SUMMARY", Title: "Gardens", Text: docText, Prompt: prompt}

// captured is what the fake server saw of one request.
type captured struct {
	path    string
	headers http.Header
	body    map[string]any
}

// fakeAnthropic is an httptest server speaking the Messages API wire
// format; handle writes the answer after the request has been captured.
type fakeAnthropic struct {
	srv      *httptest.Server
	requests chan captured
}

func newFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *fakeAnthropic {
	t.Helper()
	f := &fakeAnthropic{requests: make(chan captured, 16)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		select { // a full buffer (the contract suite's many calls) drops captures
		case f.requests <- captured{path: r.URL.Path, headers: r.Header.Clone(), body: body}:
		default:
		}
		r.Body = io.NopCloser(bytes.NewReader(raw)) // for handlers that look
		handle(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAnthropic) provider(t *testing.T, timeout time.Duration) *anthropic.Provider {
	t.Helper()
	p, err := anthropic.New(anthropic.Config{APIKey: apiKey, BaseURL: f.srv.URL, Model: "claude-test", Timeout: timeout, MaxOutputTokens: 321})
	require.NoError(t, err)
	return p
}

func (f *fakeAnthropic) lastRequest(t *testing.T) captured {
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
	w.Header().Set("request-id", "req_011CTest")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, v)
}

func message(text, stop string) string {
	c, _ := json.Marshal(text)
	return fmt.Sprintf(`{"id":"msg_01Test","type":"message","role":"assistant","model":"claude-test-20250929",
"content":[{"type":"text","text":%s}],"stop_reason":%q,"stop_sequence":null,
"usage":{"input_tokens":42,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":17,"service_tier":"standard"}}`, c, stop)
}

func vendorError(typ string) string {
	// Vendors may echo keys and input in messages: none of it may leak.
	return fmt.Sprintf(`{"type":"error","error":{"type":%q,"message":"key %s: %s %s"},"request_id":"req_011CTest"}`, typ, apiKey, bodySecret, prompt)
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
	require.Equal(t, "/v1/messages", c.path)
	// An API key goes in x-api-key, never as a bearer token.
	require.Equal(t, apiKey, c.headers.Get("X-Api-Key"))
	require.Empty(t, c.headers.Get("Authorization"))
	require.NotEmpty(t, c.headers.Get("Anthropic-Version"))
	require.Equal(t, "claude-test", c.body["model"])
	require.EqualValues(t, 321, c.body["max_tokens"])
	require.Equal(t, []any{map[string]any{"type": "text", "text": prompt}}, c.body["system"])
	require.Equal(t, []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": docText}}}}, c.body["messages"])
	if stream {
		require.Equal(t, true, c.body["stream"])
	} else {
		require.NotEqual(t, true, c.body["stream"])
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, message("## Summary\n\nTomatoes need sun.", "end_turn"))
	})
	res, err := f.provider(t, 5*time.Second).Generate(context.Background(), request)
	require.NoError(t, err)
	require.Equal(t, ports.AIResult{Text: "## Summary\n\nTomatoes need sun.", Provider: "anthropic", Model: "claude-test", InputTokens: 42, OutputTokens: 17}, res)
	requireRequest(t, f.lastRequest(t), false)
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
				writeJSON(w, http.StatusTooManyRequests, vendorError("rate_limit_error"))
			},
			code: core.ERATELIMIT, retryAfter: 7 * time.Second,
		},
		{
			name: "429 with retry-after-ms",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "2")
				w.Header().Set("retry-after-ms", "1500")
				writeJSON(w, http.StatusTooManyRequests, vendorError("rate_limit_error"))
			},
			code: core.ERATELIMIT, retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "500",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusInternalServerError, vendorError("api_error"))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "529 overloaded",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 529, vendorError("overloaded_error"))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "502 with an HTML body",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = io.WriteString(w, "<html>"+bodySecret+"</html>")
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
				writeJSON(w, http.StatusOK, `{"id":"msg_01","type":"message","content":[{"type":"text","text":`+bodySecret)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "401",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusUnauthorized, vendorError("authentication_error"))
			},
			code: core.EFORBIDDEN,
		},
		{
			name: "403",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusForbidden, vendorError("permission_error"))
			},
			code: core.EFORBIDDEN,
		},
		{
			name: "400",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusBadRequest, vendorError("invalid_request_error"))
			},
			code: core.EINVALID,
		},
		{
			name: "404 unknown model",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusNotFound, vendorError("not_found_error"))
			},
			code: core.EINVALID,
		},
		{
			name: "413 too large",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusRequestEntityTooLarge, vendorError("request_too_large"))
			},
			code: core.EINVALID,
		},
		{
			name: "refusal",
			handle: func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, http.StatusOK, message("", "refusal"))
			},
			code:         core.EINVALID,
			generateOnly: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tt.handle)
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
	p, err := anthropic.New(anthropic.Config{APIKey: apiKey, BaseURL: url})
	require.NoError(t, err)
	_, err = p.Generate(context.Background(), request)
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
	require.True(t, core.AIRetryable(err))
	requireSafe(t, err)
}

func TestGenerateCancelled(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, message("x", "end_turn"))
	})
	p := f.provider(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Generate(ctx, request)
	require.ErrorIs(t, err, context.Canceled)
	_, err = p.GenerateStream(ctx, request, func(string) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

// event writes one Messages stream event as Anthropic sends it.
func event(w http.ResponseWriter, typ, data string) {
	_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, data)
	w.(http.Flusher).Flush()
}

func textDelta(w http.ResponseWriter, text string) {
	c, _ := json.Marshal(text)
	event(w, "content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%s}}`, c))
}

func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("request-id", "req_011CTest")
	w.WriteHeader(http.StatusOK)
	event(w, "message_start", `{"type":"message_start","message":{"id":"msg_01Test","type":"message","role":"assistant","model":"claude-test-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":42,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`)
	event(w, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	event(w, "ping", `{"type": "ping"}`)
}

func endStream(w http.ResponseWriter, stop string, outputTokens int) {
	event(w, "content_block_stop", `{"type":"content_block_stop","index":0}`)
	event(w, "message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":%q,"stop_sequence":null},"usage":{"output_tokens":%d}}`, stop, outputTokens))
	event(w, "message_stop", `{"type":"message_stop"}`)
}

func TestGenerateStream(t *testing.T) {
	t.Parallel()
	pieces := []string{"## Summary", "\n\n", "Tomatoes ", "need sun", "."}
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		startStream(w)
		for _, p := range pieces {
			textDelta(w, p)
		}
		endStream(w, "end_turn", 17)
	})
	var got []string
	res, err := f.provider(t, 5*time.Second).GenerateStream(context.Background(), request, func(d string) error {
		got = append(got, d)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, pieces, got)
	require.Equal(t, strings.Join(got, ""), res.Text)
	require.Equal(t, ports.AIResult{Text: "## Summary\n\nTomatoes need sun.", Provider: "anthropic", Model: "claude-test", InputTokens: 42, OutputTokens: 17}, res)
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
			name: "overloaded error event mid-stream",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				textDelta(w, "Tomatoes")
				event(w, "error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded `+bodySecret+`"}}`)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "rate limit error event",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				event(w, "error", `{"type":"error","error":{"type":"rate_limit_error","message":"`+bodySecret+`"}}`)
			},
			code: core.ERATELIMIT,
		},
		{
			name: "malformed event",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				event(w, "content_block_delta", `{"type":"content_block_delta","delta":`+bodySecret)
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "cut before message_stop",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				textDelta(w, "Tomatoes")
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "JSON instead of a stream",
			handle: func(w http.ResponseWriter) {
				writeJSON(w, http.StatusOK, message("x", "end_turn"))
			},
			code: core.EUNAVAILABLE,
		},
		{
			name: "refusal",
			handle: func(w http.ResponseWriter) {
				startStream(w)
				endStream(w, "refusal", 3)
			},
			code: core.EINVALID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request) { tt.handle(w) })
			_, err := f.provider(t, 5*time.Second).GenerateStream(context.Background(), request, func(string) error { return nil })
			require.Equal(t, tt.code, core.ErrorCode(err), "%v", err)
			requireSafe(t, err)
			t.Logf("%v", err)
		})
	}
}

func TestGenerateStreamCancelledMidStream(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		textDelta(w, "first")
		<-r.Context().Done() // more would come, but the client leaves
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	var got []string
	_, err := f.provider(t, 30*time.Second).GenerateStream(ctx, request, func(d string) error {
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
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request) {
		startStream(w)
		textDelta(w, "a")
		textDelta(w, "b")
		endStream(w, "end_turn", 2)
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
		cfg     anthropic.Config
		wantErr bool
	}{
		{name: "key", cfg: anthropic.Config{APIKey: apiKey}},
		{name: "key and gateway", cfg: anthropic.Config{APIKey: apiKey, BaseURL: "https://gateway.example/anthropic"}},
		{name: "no key", cfg: anthropic.Config{BaseURL: "https://gateway.example"}, wantErr: true},
		{name: "bad base URL", cfg: anthropic.Config{APIKey: apiKey, BaseURL: "gateway.example"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := anthropic.New(tt.cfg)
			if tt.wantErr {
				require.Equal(t, core.EINVALID, core.ErrorCode(err))
				requireSafe(t, err)
				return
			}
			require.NoError(t, err)
			info, err := p.Info(context.Background())
			require.NoError(t, err)
			require.Equal(t, ports.AIProviderInfo{Name: "anthropic", Models: []string{anthropic.DefaultModel}}, info)
		})
	}
}

// isStream reports whether r asks for a streamed answer.
func isStream(r *http.Request) bool {
	var body struct {
		Stream bool `json:"stream"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	return body.Stream
}
