package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/proto/aiproviderv1"
	"github.com/repurpose/repurpose/ports"
)

// Client is the host's side of a plugin: a ports.AIProvider whose calls
// run in the plugin process.
type Client struct {
	name string
	rpc  aiproviderv1.AIProviderClient
}

var _ ports.AIProvider = (*Client)(nil)

// NewClient returns a provider calling the plugin over conn; name labels
// its errors ("plugin" when empty).
func NewClient(name string, conn grpc.ClientConnInterface) *Client {
	if name == "" {
		name = "plugin"
	}
	return &Client{name: name, rpc: aiproviderv1.NewAIProviderClient(conn)}
}

// Info asks the plugin for its name and models.
func (c *Client) Info(ctx context.Context) (ports.AIProviderInfo, error) {
	resp, err := c.rpc.Info(ctx, &aiproviderv1.InfoRequest{})
	if err != nil {
		return ports.AIProviderInfo{}, fromStatus(ctx, c.name, "info", err)
	}
	return ports.AIProviderInfo{Name: resp.GetName(), Models: resp.GetModels()}, nil
}

// Generate runs req in the plugin. Errors are the provider's, as it
// returned them (code, message, RetryAfter); a dead plugin or a broken
// connection is core.EUNAVAILABLE wrapping ErrPluginShutdown; a cancelled
// ctx cancels the call in the plugin and returns an error wrapping
// ctx.Err().
func (c *Client) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	in, err := c.request(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	resp, err := c.rpc.Generate(ctx, in)
	if err != nil {
		return ports.AIResult{}, fromStatus(ctx, c.name, "generate", err)
	}
	return fromProtoResult(resp.GetResult()), nil
}

// GenerateStream is Generate, calling onDelta with each piece of text the
// plugin sends, in order. An error of onDelta cancels the call in the
// plugin and is returned, wrapped; no delta is delivered once ctx is done.
func (c *Client) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	in, err := c.request(req)
	if err != nil {
		return ports.AIResult{}, err
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.GenerateStream(callCtx, in)
	if err != nil {
		return ports.AIResult{}, fromStatus(ctx, c.name, "generate stream", err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return ports.AIResult{}, core.AIUnavailable(c.name, fmt.Errorf("generate stream: %w: the stream ended without a result", ErrPluginShutdown))
		}
		if err != nil {
			return ports.AIResult{}, fromStatus(ctx, c.name, "generate stream", err)
		}
		switch ev := msg.GetEvent().(type) {
		case *aiproviderv1.GenerateStreamResponse_Delta:
			if err := ctx.Err(); err != nil {
				return ports.AIResult{}, fmt.Errorf("plugin %s: generate stream: %w", c.name, err)
			}
			if err := onDelta(ev.Delta); err != nil {
				return ports.AIResult{}, fmt.Errorf("plugin %s: deliver text: %w", c.name, err)
			}
		case *aiproviderv1.GenerateStreamResponse_Result:
			return fromProtoResult(ev.Result), nil
		}
	}
}

func (c *Client) request(req ports.AIRequest) (*aiproviderv1.GenerateRequest, error) {
	in := &aiproviderv1.GenerateRequest{Type: req.Type, Title: req.Title, Text: req.Text, Prompt: req.Prompt}
	if len(req.Parameters) > 0 {
		b, err := json.Marshal(req.Parameters)
		if err != nil {
			return nil, &core.Error{Code: core.EINVALID, Message: "the transformation parameters are not JSON values", Err: err}
		}
		in.ParametersJson = b
	}
	return in, nil
}

func fromProtoResult(r *aiproviderv1.Result) ports.AIResult {
	out := ports.AIResult{
		Text:         r.GetText(),
		Provider:     r.GetProvider(),
		Model:        r.GetModel(),
		InputTokens:  int(r.GetInputTokens()),
		OutputTokens: int(r.GetOutputTokens()),
	}
	if ps := r.GetParts(); len(ps) > 0 {
		out.Parts = make([]ports.AIPart, len(ps))
		for i, p := range ps {
			out.Parts[i] = ports.AIPart{Title: p.GetTitle(), Body: p.GetBody()}
		}
	}
	return out
}

func toProtoResult(r ports.AIResult) *aiproviderv1.Result {
	out := &aiproviderv1.Result{
		Text:         r.Text,
		Provider:     r.Provider,
		Model:        r.Model,
		InputTokens:  int64(r.InputTokens),
		OutputTokens: int64(r.OutputTokens),
	}
	if len(r.Parts) > 0 {
		out.Parts = make([]*aiproviderv1.Part, len(r.Parts))
		for i, p := range r.Parts {
			out.Parts[i] = &aiproviderv1.Part{Title: p.Title, Body: p.Body}
		}
	}
	return out
}
