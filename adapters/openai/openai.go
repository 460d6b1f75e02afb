// Package openai is the AI provider "openai": OpenAI's Chat Completions API
// through the official SDK (github.com/openai/openai-go/v3), so request
// encoding, SSE decoding and API changes stay the vendor's job. With a base
// URL it serves any OpenAI-compatible server (Ollama, vLLM, llama.cpp), which
// may need no key. The SDK's own retries are off: the router retries, fails
// over and honours Retry-After across providers.
package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/adapters/aiproviders/retryafter"
	"github.com/repurpose/repurpose/adapters/aiproviders/vendorerr"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// Name identifies the provider in results, errors and /api/providers.
const Name = catalog.OpenAI

// Defaults for a zero Config field.
const (
	// DefaultModel is small, cheap and good at rewriting text.
	DefaultModel = catalog.OpenAIDefaultModel
	// DefaultTimeout bounds one whole call, streaming included.
	DefaultTimeout = catalog.DefaultTimeout
	// DefaultMaxOutputTokens fits the longest catalog output (a blog post
	// or a newsletter) with room to spare.
	DefaultMaxOutputTokens = catalog.DefaultMaxOutputTokens
)

// Config configures the provider.
type Config struct {
	// APIKey is OPENAI_API_KEY; required unless BaseURL is set.
	APIKey string
	// BaseURL (OPENAI_BASE_URL) points at an OpenAI-compatible server,
	// e.g. http://localhost:11434/v1 for Ollama; empty is OpenAI's API.
	BaseURL string
	// Model (OPENAI_MODEL); DefaultModel when empty.
	Model string
	// Timeout bounds one call, streaming included; DefaultTimeout when zero.
	Timeout time.Duration
	// MaxOutputTokens caps each answer; DefaultMaxOutputTokens when zero.
	MaxOutputTokens int
	// HTTPClient replaces the SDK's default client (tests, proxies).
	HTTPClient *http.Client
}

// Provider calls OpenAI's Chat Completions API. It is safe for concurrent
// use.
type Provider struct {
	client    openai.Client
	model     string
	timeout   time.Duration
	maxTokens int
}

var _ ports.AIProvider = (*Provider)(nil)

// New returns a provider for cfg. A missing key is a core.EINVALID config
// error unless cfg.BaseURL names a (possibly keyless) compatible server.
func New(cfg Config) (*Provider, error) {
	if cfg.APIKey == "" && cfg.BaseURL == "" {
		return nil, core.Errorf(core.EINVALID, "the openai provider needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)")
	}
	if err := catalog.CheckBaseURL("OPENAI_BASE_URL", cfg.BaseURL); err != nil {
		return nil, err
	}
	p := &Provider{model: cfg.Model}
	if p.model == "" {
		p.model = DefaultModel
	}
	p.timeout, p.maxTokens = catalog.Limits(cfg.Timeout, cfg.MaxOutputTokens)
	// Explicit options come after the SDK's environment defaults and
	// override them, so the process environment can't redirect us.
	opts := []option.RequestOption{option.WithMaxRetries(0), option.WithAPIKey(cfg.APIKey)}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	} else {
		opts = append(opts, option.WithBaseURL("https://api.openai.com/v1/"))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	p.client = openai.NewClient(opts...)
	return p, nil
}

// Info names the provider and its configured model; it makes no call.
func (p *Provider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: Name, Models: []string{p.model}}, nil
}

// Generate runs req as one chat completion.
func (p *Provider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	params, err := p.params(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.client.Chat.Completions.New(callCtx, params)
	if err != nil {
		return ports.AIResult{}, p.interpretError(ctx, callCtx, err)
	}
	if len(resp.Choices) == 0 {
		return ports.AIResult{}, core.AIUnavailable(Name, errors.New("malformed response: no choices"))
	}
	choice := resp.Choices[0]
	if choice.Message.Refusal != "" || choice.FinishReason == "content_filter" {
		return ports.AIResult{}, core.AIRejected(Name, "content policy", nil)
	}
	return p.result(choice.Message.Content, resp.Usage), nil
}

// GenerateStream runs req as a streamed chat completion, asking for the
// usage in the final chunk (stream_options.include_usage).
func (p *Provider) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	params, err := p.params(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	callCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	stream := p.client.Chat.Completions.NewStreaming(callCtx, params)
	defer stream.Close()
	var (
		text     strings.Builder
		usage    openai.CompletionUsage
		finished bool
	)
	for stream.Next() {
		if err := ctx.Err(); err != nil {
			// Chunks already buffered must not reach onDelta after a cancel.
			return ports.AIResult{}, fmt.Errorf("openai generation: %w", err)
		}
		chunk := stream.Current()
		if chunk.JSON.Usage.Valid() {
			usage = chunk.Usage
		}
		if len(chunk.Choices) == 0 {
			continue
		}
		choice := chunk.Choices[0]
		if choice.Delta.Refusal != "" || choice.FinishReason == "content_filter" {
			return ports.AIResult{}, core.AIRejected(Name, "content policy", nil)
		}
		if choice.FinishReason != "" {
			finished = true
		}
		if d := choice.Delta.Content; d != "" {
			text.WriteString(d)
			if err := onDelta(d); err != nil {
				return ports.AIResult{}, fmt.Errorf("openai generation: deliver text: %w", err)
			}
		}
	}
	if err := stream.Err(); err != nil {
		return ports.AIResult{}, p.interpretError(ctx, callCtx, err)
	}
	if err := ctx.Err(); err != nil {
		return ports.AIResult{}, fmt.Errorf("openai generation: %w", err)
	}
	if !finished {
		// No finish_reason: the stream was cut or was not a stream at all.
		return ports.AIResult{}, core.AIUnavailable(Name, errors.New("stream ended before a finish_reason"))
	}
	return p.result(text.String(), usage), nil
}

// result reports the configured model, not the snapshot the API resolved
// it to (gpt-4o-mini-2024-07-18): results name one of Info's models, and
// usage and cost are tracked per configured model.
func (p *Provider) result(text string, usage openai.CompletionUsage) ports.AIResult {
	return ports.AIResult{
		Text:         text,
		Provider:     Name,
		Model:        p.model,
		InputTokens:  int(usage.PromptTokens),
		OutputTokens: int(usage.CompletionTokens),
	}
}

// params builds the request: the instruction as the system message, the
// document alone as the user message, so the document's text can't pass for
// instructions as easily.
func (p *Provider) params(req ports.AIRequest) (openai.ChatCompletionNewParams, error) {
	instruction, err := instructionFor(req)
	if err != nil {
		return openai.ChatCompletionNewParams{}, err
	}
	return openai.ChatCompletionNewParams{
		Model: p.model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(instruction),
			openai.UserMessage(req.Text),
		},
		MaxCompletionTokens: openai.Int(int64(p.maxTokens)),
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
// Causes are rebuilt from safe fields (status, vendor error code), never
// from the SDK error's text, which may quote the vendor's body.
func (p *Provider) interpretError(ctx, callCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("openai generation: %w", ctxErr)
	}
	if callCtx.Err() != nil {
		return core.AIUnavailable(Name, fmt.Errorf("no answer within %s: %w", p.timeout, context.DeadlineExceeded))
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		cause := &vendorerr.Cause{Status: apiErr.StatusCode, Code: vendorerr.Token(apiErr.Code), Err: err}
		switch status := apiErr.StatusCode; {
		case status == http.StatusTooManyRequests:
			var h http.Header
			if apiErr.Response != nil {
				h = apiErr.Response.Header
			}
			return core.AIRateLimited(Name, retryafter.FromHeader(h, time.Now()), cause)
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return core.AIAuth(Name, cause)
		case apiErr.Code == "content_policy_violation" || apiErr.Code == "content_filter":
			return core.AIRejected(Name, "content policy", cause)
		case status == http.StatusNotFound:
			return core.AIRejected(Name, "unknown model or endpoint", cause)
		case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
			return core.AIUnavailable(Name, cause)
		case status >= 400:
			return core.AIRejected(Name, "invalid request", cause)
		default:
			return core.AIUnavailable(Name, cause)
		}
	}
	return core.AIUnavailable(Name, vendorerr.Transport(err))
}
