// Package sdk carries ports.AIProvider across a process boundary with
// hashicorp/go-plugin over gRPC: the handshake both sides must agree on,
// the versioned plugin set, the gRPC client (which implements
// ports.AIProvider for the host) and server (which wraps a provider inside
// the plugin), and Serve for the plugin mains.
//
// Why a process per provider: a vendor SDK's crash, leak or hang stays in
// its process, the platform relaunches it, and a provider is a binary that
// can be replaced on its own. Why gRPC: typed messages, server streaming
// for deltas and cancellation that reaches the plugin.
//
// Provider errors cross the boundary as a gRPC status whose details hold a
// ProviderError: the core code, the safe message, RetryAfter and field
// errors arrive as the same core.Error on the host. A call whose process
// died or whose connection broke returns core.AIUnavailable wrapping
// ErrPluginShutdown: retryable.
package sdk

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/repurpose/repurpose/plugins/proto/aiproviderv1"
	"github.com/repurpose/repurpose/ports"
)

// ProtocolVersion is the version of the plugin set below. Bump it (and keep
// serving the old one for a while) on an incompatible change of the proto.
const ProtocolVersion = 1

// PluginName is the name the provider is dispensed under.
const PluginName = "ai_provider"

// MaxMessageBytes bounds one gRPC message each way (a document's text and
// a transformation's output travel in one message).
const MaxMessageBytes = 64 << 20

// Handshake is what host and plugin check before talking: the magic cookie
// keeps a plugin binary started by hand (or by another program) from
// serving, and tells it why.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "REPURPOSE_AI_PROVIDER_PLUGIN",
	MagicCookieValue: "6f1d3c52-repurpose-ai-provider-b4e9a07d",
}

// ErrPluginShutdown ("plugin gone") is wrapped, inside a core.AIUnavailable,
// by every error of a call whose plugin process died or whose connection
// broke. It is retryable: the host relaunches the plugin.
var ErrPluginShutdown = errors.New("plugin gone")

// VersionedPlugins is the plugin set of both sides, keyed by protocol
// version, for plugin.ClientConfig.VersionedPlugins and
// plugin.ServeConfig.VersionedPlugins.
func VersionedPlugins(p *GRPCPlugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: p}}
}

// GRPCPlugin is the go-plugin glue of ports.AIProvider. In a plugin, Impl
// is the provider served; on the host, Name labels the errors of the
// client (e.g. "the AI provider openai is unavailable").
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the provider served (plugin side only).
	Impl ports.AIProvider
	// Name names the provider in errors made by the client (host side).
	Name string
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)

// GRPCServer registers the provider's gRPC service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("sdk: GRPCPlugin.Impl is nil")
	}
	aiproviderv1.RegisterAIProviderServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns a *Client (a ports.AIProvider) over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(p.Name, conn), nil
}

// GRPCDialOptions are the host's dial options matching the plugin's
// message limits (plugin.ClientConfig.GRPCDialOptions).
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageBytes),
		grpc.MaxCallSendMsgSize(MaxMessageBytes),
	)}
}

// Serve runs provider as a plugin until the host kills it; a plugin's main
// calls it and nothing else after building its provider. Run by hand (not
// by the host), it explains that it is a plugin and exits with status 1.
func Serve(provider ports.AIProvider) {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(&GRPCPlugin{Impl: provider}),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts,
				grpc.MaxRecvMsgSize(MaxMessageBytes),
				grpc.MaxSendMsgSize(MaxMessageBytes),
			))
		},
	})
}
