// Package anthropic is the AI provider "anthropic": Anthropic's Messages
// API through the official SDK (github.com/anthropics/anthropic-sdk-go/v2),
// so request encoding, SSE event decoding and API changes stay the vendor's
// job. The SDK's own retries and environment lookups are off: the factory
// passes configuration explicitly and the router retries and fails over.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/adapters/aiproviders/retryafter"
	"github.com/repurpose/repurpose/adapters/aiproviders/vendorerr"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// Name identifies the provider in results, errors and /api/providers.
const Name = catalog.Anthropic

// Defaults for a zero Config field.
const (
	// DefaultModel is a current general-purpose Claude model.
	DefaultModel = catalog.AnthropicDefaultModel
	// DefaultTimeout bounds one whole call, streaming included.
	DefaultTimeout = catalog.DefaultTimeout
	// DefaultMaxOutputTokens fits the longest catalog output (a blog post
	// or a newsletter) with room to spare; the API requires a value.
	DefaultMaxOutputTokens = catalog.DefaultMaxOutputTokens
)

// Config configures the provider.
type Config struct {
	// APIKey is ANTHROPIC_API_KEY; required.
	APIKey string
	// BaseURL (ANTHROPIC_BASE_URL) replaces https://api.anthropic.com
	// (a gateway or proxy); empty is Anthropic's API.
	BaseURL string
	// Model (ANTHROPIC_MODEL); DefaultModel when empty.
	Model string
	// Timeout bounds one call, streaming included; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxOutputTokens caps each answer; DefaultMaxOutputTokens when zero.
	MaxOutputTokens int
	// HTTPClient replaces the SDK's default client (tests, proxies).
	HTTPClient *http.Client
}

// Provider calls Anthropic's Messages API. It is safe for concurrent use.
type Provider struct {
	client    anthropic.Client
	model     string
	timeout   time.Duration
	maxTokens int
}

var _ ports.AIProvider = (*Provider)(nil)

// New returns a provider for cfg; a missing key or a malformed base URL is
// a core.EINVALID config error.
func New(cfg Config) (*Provider, error) {
	if cfg.APIKey == "" {
		return nil, core.Errorf(core.EINVALID, "the anthropic provider needs ANTHROPIC_API_KEY")
	}
	if err := catalog.CheckBaseURL("ANTHROPIC_BASE_URL", cfg.BaseURL); err != nil {
		return nil, err
	}
	p := &Provider{model: cfg.Model}
	if p.model == "" {
		p.model = DefaultModel
	}
	p.timeout, p.maxTokens = catalog.Limits(cfg.Timeout, cfg.MaxOutputTokens)
	// WithoutEnvironmentDefaults: no key, profile or base URL from the
	// process environment or disk behind the configuration's back.
	// The Messages API takes an API key in x-api-key; the SDK's
	// WithAPIKey (v2.15) sends it as a bearer token, which the API reserves
	// for OAuth tokens.
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(),
		option.WithMaxRetries(0),
		option.WithHeader("X-Api-Key", cfg.APIKey),
		option.WithHeaderDel("Authorization"),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	p.client = anthropic.NewClient(opts...)
	return p, nil
}

// Info names the provider and its configured model; it makes no call.
func (p *Provider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: Name, Models: []string{p.model}}, nil
}

// Generate runs req as one message.
func (p *Provider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	params, err := p.params(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	msg, err := p.client.Messages.New(callCtx, params)
	if err != nil {
		return ports.AIResult{}, p.interpretError(ctx, callCtx, err)
	}
	if msg.StopReason == anthropic.StopReasonRefusal {
		return ports.AIResult{}, core.AIRejected(Name, "content policy", nil)
	}
	var text strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			text.WriteString(block.Text)
		}
	}
	if msg.Type != "message" && len(msg.Content) == 0 {
		return ports.AIResult{}, core.AIUnavailable(Name, errors.New("malformed response: not a message"))
	}
	return p.result(text.String(), msg.Usage.InputTokens, msg.Usage.OutputTokens), nil
}

// GenerateStream runs req as a streamed message: text from
// content_block_delta events, input tokens from message_start, output
// tokens from the last message_delta.
func (p *Provider) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	params, err := p.params(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	stream := p.client.Messages.NewStreaming(callCtx, params)
	defer stream.Close()
	var (
		text          strings.Builder
		input, output int64
		stopped       bool
	)
	for stream.Next() {
		if err := ctx.Err(); err != nil {
			// Events already buffered must not reach onDelta after a cancel.
			return ports.AIResult{}, fmt.Errorf("anthropic generation: %w", err)
		}
		event := stream.Current()
		switch event.Type {
		case "message_start":
			input = event.Message.Usage.InputTokens
			output = event.Message.Usage.OutputTokens
		case "content_block_delta":
			if event.Delta.Type != "text_delta" || event.Delta.Text == "" {
				continue
			}
			text.WriteString(event.Delta.Text)
			if err := onDelta(event.Delta.Text); err != nil {
				return ports.AIResult{}, fmt.Errorf("anthropic generation: deliver text: %w", err)
			}
		case "message_delta":
			if event.Delta.StopReason == anthropic.StopReasonRefusal {
				return ports.AIResult{}, core.AIRejected(Name, "content policy", nil)
			}
			// Usage here is cumulative; input_tokens only when the API sends it.
			if event.Usage.InputTokens > 0 {
				input = event.Usage.InputTokens
			}
			output = event.Usage.OutputTokens
		case "message_stop":
			stopped = true
		}
	}
	if err := stream.Err(); err != nil {
		return ports.AIResult{}, p.interpretError(ctx, callCtx, err)
	}
	if err := ctx.Err(); err != nil {
		return ports.AIResult{}, fmt.Errorf("anthropic generation: %w", err)
	}
	if !stopped {
		// The connection closed before message_stop: a cut-off answer.
		return ports.AIResult{}, core.AIUnavailable(Name, errors.New("stream ended before message_stop"))
	}
	return p.result(text.String(), input, output), nil
}

// result reports the configured model, not the snapshot the API resolved
// an alias to: results name one of Info's models, and usage and cost are
// tracked per configured model.
func (p *Provider) result(text string, input, output int64) ports.AIResult {
	return ports.AIResult{
		Text:         text,
		Provider:     Name,
		Model:        p.model,
		InputTokens:  int(input),
		OutputTokens: int(output),
	}
}

// params builds the request: the instruction as the system prompt, the
// document alone as the user turn, so the document's text can't pass for
// instructions as easily.
func (p *Provider) params(req ports.AIRequest) (anthropic.MessageNewParams, error) {
	instruction, err := instructionFor(req)
	if err != nil {
		return anthropic.MessageNewParams{}, err
	}
	text := req.Text
	if strings.TrimSpace(text) == "" {
		// The API rejects empty text blocks; say so instead of failing.
		text = "(the document is empty)"
	}
	return anthropic.MessageNewParams{
		Model:     p.model,
		MaxTokens: int64(p.maxTokens),
		System:    []anthropic.TextBlockParam{{Text: instruction}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(text))},
	}, nil
}

// instructionFor is req.Prompt, or the catalog's prompt when a caller left
// it empty.
func instructionFor(req ports.AIRequest) (string, error) {
	if req.Prompt != "" {
		return req.Prompt, nil
	}
	typ, ok := transform.ParseType(req.Type)
	if !ok {
		return "", core.Errorf(core.EINVALID, "unknown transformation type %q", req.Type)
	}
	return transform.BuildPrompt(typ, req.Parameters, req.Title), nil
}

// interpretError translates an SDK error into the AI error classes. ctx is
// the caller's context, callCtx the one bounded by the provider's timeout.
// Causes are rebuilt from safe fields (status, error type): the SDK's
// error text quotes the vendor's body.
func (p *Provider) interpretError(ctx, callCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("anthropic generation: %w", ctxErr)
	}
	if callCtx.Err() != nil {
		return core.AIUnavailable(Name, fmt.Errorf("no answer within %s: %w", p.timeout, context.DeadlineExceeded))
	}
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) {
		return core.AIUnavailable(Name, vendorerr.Transport(err))
	}
	kind := apiErr.Type()
	status := apiErr.StatusCode
	cause := &vendorerr.Cause{Status: status, Code: vendorerr.Token(string(kind)), Err: err}
	// An error event inside a 200 stream carries only its type.
	switch {
	case kind == "rate_limit_error" || status == http.StatusTooManyRequests:
		var h http.Header
		if apiErr.Response != nil {
			h = apiErr.Response.Header
		}
		return core.AIRateLimited(Name, retryafter.FromHeader(h, time.Now()), cause)
	case kind == "overloaded_error" || kind == "api_error" || kind == "timeout_error" ||
		status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		// 529 is Anthropic's "overloaded".
		return core.AIUnavailable(Name, cause)
	case kind == "authentication_error" || kind == "permission_error" || kind == "billing_error" ||
		status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusPaymentRequired:
		return core.AIAuth(Name, cause)
	case kind == "not_found_error" || status == http.StatusNotFound:
		return core.AIRejected(Name, "unknown model or endpoint", cause)
	case status >= 400 || kind == "invalid_request_error":
		return core.AIRejected(Name, "invalid request", cause)
	default:
		return core.AIUnavailable(Name, cause)
	}
}
