package aiplugin

import (
	"os/exec"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/repurpose/repurpose/plugins/proto/aiproviderv1"
	"github.com/repurpose/repurpose/plugins/sdk"
	"github.com/repurpose/repurpose/ports"
)

// bareConn launches the no-op test plugin with plain go-plugin (the same
// transport as the host: gRPC over a Unix socket with AutoMTLS) and
// returns its gRPC client.
func bareConn(b *testing.B) *plugin.GRPCClient {
	b.Helper()
	path := installPlugin(b, b.TempDir(), "testplugin", "noop")
	log, _ := newLog()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(&sdk.GRPCPlugin{Name: "noop"}),
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Logger:           newHCLogger(log),
	})
	b.Cleanup(client.Kill)
	rpc, err := client.Client()
	require.NoError(b, err)
	return rpc.(*plugin.GRPCClient)
}

// BenchmarkBareGoPluginRoundTrip is the floor: one unary gRPC call to a
// plugin process (go-plugin's own health service), no SDK logic.
func BenchmarkBareGoPluginRoundTrip(b *testing.B) {
	health := healthpb.NewHealthClient(bareConn(b).Conn)
	ctx := b.Context()
	for b.Loop() {
		if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawGenerateRPC is the generated stub's Generate to the no-op
// plugin: the proto messages without the SDK's mapping or the host.
func BenchmarkRawGenerateRPC(b *testing.B) {
	rpc := aiproviderv1.NewAIProviderClient(bareConn(b).Conn)
	ctx := b.Context()
	for b.Loop() {
		if _, err := rpc.Generate(ctx, &aiproviderv1.GenerateRequest{Type: "ECHO"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPluginGenerate is ports.AIProvider.Generate as the router
// calls it: the host's Provider, the SDK client and server, and a no-op
// provider in the plugin process.
func BenchmarkPluginGenerate(b *testing.B) {
	dir := b.TempDir()
	installPlugin(b, dir, "testplugin", "noop")
	log, _ := newLog()
	h := startHost(b, Config{Dir: dir, Log: log})
	p := h.Providers()["noop"]
	req := ports.AIRequest{Type: "ECHO"}
	ctx := b.Context()
	for b.Loop() {
		if _, err := p.Generate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPluginGenerateVsBare alternates the two calls above in one loop
// so that both see the same machine load, and reports each one's ns/op
// and their ratio (the SDK's and the host's cost over a bare go-plugin
// call; the target is at most 1.5).
func BenchmarkPluginGenerateVsBare(b *testing.B) {
	health := healthpb.NewHealthClient(bareConn(b).Conn)
	dir := b.TempDir()
	installPlugin(b, dir, "testplugin", "noop")
	log, _ := newLog()
	p := startHost(b, Config{Dir: dir, Log: log}).Providers()["noop"]
	req := ports.AIRequest{Type: "ECHO"}
	hreq := &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName}
	ctx := b.Context()
	var bare, sdkCall time.Duration
	n := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := health.Check(ctx, hreq); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := p.Generate(ctx, req); err != nil {
			b.Fatal(err)
		}
		bare += t1.Sub(t0)
		sdkCall += time.Since(t1)
		n++
	}
	b.ReportMetric(float64(bare.Nanoseconds())/float64(n), "bare-ns/op")
	b.ReportMetric(float64(sdkCall.Nanoseconds())/float64(n), "generate-ns/op")
	b.ReportMetric(float64(sdkCall)/float64(bare), "ratio")
}
