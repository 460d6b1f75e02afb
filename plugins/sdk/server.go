package sdk

import (
	"context"
	"encoding/json"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/proto/aiproviderv1"
	"github.com/repurpose/repurpose/ports"
)

// server is the plugin's side: it serves a ports.AIProvider over gRPC.
type server struct {
	aiproviderv1.UnimplementedAIProviderServer
	impl ports.AIProvider
}

// NewServer returns the gRPC service of provider. Its errors leave as a
// status carrying a ProviderError; the call's context is cancelled when
// the host cancels or goes away.
func NewServer(provider ports.AIProvider) aiproviderv1.AIProviderServer {
	return &server{impl: provider}
}

func (s *server) Info(ctx context.Context, _ *aiproviderv1.InfoRequest) (*aiproviderv1.InfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &aiproviderv1.InfoResponse{Name: info.Name, Models: info.Models}, nil
}

func (s *server) Generate(ctx context.Context, in *aiproviderv1.GenerateRequest) (*aiproviderv1.GenerateResponse, error) {
	req, err := fromProtoRequest(in)
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := s.impl.Generate(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &aiproviderv1.GenerateResponse{Result: toProtoResult(res)}, nil
}

func (s *server) GenerateStream(in *aiproviderv1.GenerateRequest, stream aiproviderv1.AIProvider_GenerateStreamServer) error {
	req, err := fromProtoRequest(in)
	if err != nil {
		return toStatus(err)
	}
	res, err := s.impl.GenerateStream(stream.Context(), req, func(delta string) error {
		return stream.Send(&aiproviderv1.GenerateStreamResponse{Event: &aiproviderv1.GenerateStreamResponse_Delta{Delta: delta}})
	})
	if err != nil {
		return toStatus(err)
	}
	return stream.Send(&aiproviderv1.GenerateStreamResponse{Event: &aiproviderv1.GenerateStreamResponse_Result{Result: toProtoResult(res)}})
}

func fromProtoRequest(in *aiproviderv1.GenerateRequest) (ports.AIRequest, error) {
	req := ports.AIRequest{Type: in.GetType(), Title: in.GetTitle(), Text: in.GetText(), Prompt: in.GetPrompt()}
	if b := in.GetParametersJson(); len(b) > 0 {
		if err := json.Unmarshal(b, &req.Parameters); err != nil {
			return ports.AIRequest{}, &core.Error{Code: core.EINVALID, Message: "the transformation parameters are not a JSON object", Err: err}
		}
	}
	return req, nil
}
