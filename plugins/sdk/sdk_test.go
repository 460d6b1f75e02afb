package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/sdk"
	"github.com/repurpose/repurpose/ports"
)

// wait bounds every wait of these tests.
const wait = 10 * time.Second

// fake is a scripted provider: req.Type picks what it does.
type fake struct {
	// started is closed when a BLOCK request starts; cancelled receives
	// what the plugin-side ctx said when it ended.
	started   chan struct{}
	cancelled chan error
	// got receives every request as the plugin saw it.
	got chan ports.AIRequest
}

func newFake() *fake {
	return &fake{started: make(chan struct{}, 1), cancelled: make(chan error, 1), got: make(chan ports.AIRequest, 16)}
}

// errorFor is the error each scripted type returns.
var errorFor = map[string]error{
	"RATELIMIT":   core.AIRateLimited("fake", 7*time.Second+250*time.Millisecond, errors.New("vendor said 429")),
	"UNAVAILABLE": core.AIUnavailable("fake", errors.New("vendor said 503")),
	"UNSUPPORTED": core.AIUnsupported("fake", "CUSTOM transformations"),
	"FORBIDDEN":   core.AIAuth("fake", errors.New("vendor said 401")),
	"INVALID":     core.AIRejected("fake", "the content policy refused the text", errors.New("vendor said 400")),
	"FIELDS":      core.Invalid("invalid parameters", core.FieldError{Location: "body.parameters.count", Message: "too many"}),
	"WRAPPED":     &wrapErr{core.AIUnsupported("fake", "this model")},
	"UNCODED":     errors.New("something odd happened"),
}

type wrapErr struct{ err error }

func (e *wrapErr) Error() string { return "while calling: " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err }

func (f *fake) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: "fake", Models: []string{"fake-1", "fake-2"}}, nil
}

func (f *fake) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	f.got <- req
	if err, ok := errorFor[req.Type]; ok {
		return ports.AIResult{}, err
	}
	if req.Type == "BLOCK" {
		f.started <- struct{}{}
		<-ctx.Done()
		f.cancelled <- ctx.Err()
		return ports.AIResult{}, ctx.Err()
	}
	return ports.AIResult{
		Text:     "hello world",
		Parts:    []ports.AIPart{{Title: "one", Body: "hello"}, {Title: "two", Body: "world"}},
		Provider: "fake", Model: "fake-1", InputTokens: 12, OutputTokens: 2,
	}, nil
}

func (f *fake) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	if req.Type == "BLOCK" {
		if err := onDelta("first "); err != nil {
			return ports.AIResult{}, err
		}
		return f.Generate(ctx, req)
	}
	res, err := f.Generate(ctx, req)
	if err != nil {
		return ports.AIResult{}, err
	}
	for _, d := range []string{"hello", " ", "world"} {
		if err := onDelta(d); err != nil {
			f.cancelled <- ctx.Err()
			return ports.AIResult{}, err
		}
		if req.Type == "SLOWSTREAM" {
			select {
			case <-ctx.Done():
				f.cancelled <- ctx.Err()
				return ports.AIResult{}, ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	return res, nil
}

// connect serves f over a real gRPC connection (go-plugin's test
// connection: a socket, the plugin's server and the host's client) and
// returns the host's side.
func connect(t *testing.T, f *fake) (ports.AIProvider, *plugin.GRPCServer) {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, sdk.VersionedPlugins(&sdk.GRPCPlugin{Impl: f, Name: "fake"})[sdk.ProtocolVersion])
	t.Cleanup(func() {
		// Stop first: client.Close asks the server to stop itself, and
		// go-plugin's GRPCServer.Stop is not safe to run twice at once.
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense(sdk.PluginName)
	require.NoError(t, err)
	p, ok := raw.(ports.AIProvider)
	require.True(t, ok, "dispensed %T", raw)
	return p, server
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFake()
	p, _ := connect(t, f)

	info, err := p.Info(t.Context())
	require.NoError(t, err)
	require.Equal(t, ports.AIProviderInfo{Name: "fake", Models: []string{"fake-1", "fake-2"}}, info)

	req := ports.AIRequest{
		Type:       "SUMMARY",
		Parameters: map[string]any{"length": "short", "count": 3, "platforms": []string{"twitter", "linkedin"}, "hashtags": true},
		Title:      "Title", Text: "Some text.", Prompt: "Summarise.",
	}
	res, err := p.Generate(t.Context(), req)
	require.NoError(t, err)
	require.Equal(t, ports.AIResult{
		Text:     "hello world",
		Parts:    []ports.AIPart{{Title: "one", Body: "hello"}, {Title: "two", Body: "world"}},
		Provider: "fake", Model: "fake-1", InputTokens: 12, OutputTokens: 2,
	}, res)
	got := <-f.got
	require.Equal(t, "SUMMARY", got.Type)
	require.Equal(t, "Title", got.Title)
	require.Equal(t, "Some text.", got.Text)
	require.Equal(t, "Summarise.", got.Prompt)
	// Parameters arrive as JSON values, as they would from the API.
	require.Equal(t, map[string]any{"length": "short", "count": float64(3), "platforms": []any{"twitter", "linkedin"}, "hashtags": true}, got.Parameters)

	var deltas []string
	res, err = p.GenerateStream(t.Context(), req, func(d string) error {
		deltas = append(deltas, d)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"hello", " ", "world"}, deltas)
	require.Equal(t, strings.Join(deltas, ""), res.Text)
}

func TestErrorsSurviveTheHop(t *testing.T) {
	t.Parallel()
	p, _ := connect(t, newFake())
	for typ, want := range errorFor {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			for name, call := range map[string]func() error{
				"Generate": func() error {
					_, err := p.Generate(t.Context(), ports.AIRequest{Type: typ})
					return err
				},
				"GenerateStream": func() error {
					_, err := p.GenerateStream(t.Context(), ports.AIRequest{Type: typ}, func(string) error { return nil })
					return err
				},
			} {
				err := call()
				require.Error(t, err, name)
				var wantCE *core.Error
				if !errors.As(want, &wantCE) {
					// An uncoded error stays uncoded, so it stays
					// retryable as an in-process one would be.
					var ce *core.Error
					require.False(t, errors.As(err, &ce), "%s: %v", name, err)
					require.True(t, core.AIRetryable(err), name)
					require.Contains(t, err.Error(), "something odd happened", name)
					continue
				}
				var ce *core.Error
				require.True(t, errors.As(err, &ce), "%s: %v", name, err)
				require.Equal(t, wantCE.Code, ce.Code, name)
				require.Equal(t, wantCE.Message, ce.Message, name)
				require.Equal(t, wantCE.RetryAfter, ce.RetryAfter, name)
				require.Equal(t, wantCE.Fields, ce.Fields, name)
				require.Equal(t, core.AIRetryable(want), core.AIRetryable(err), name)
				require.Equal(t, core.AIFailover(want), core.AIFailover(err), name)
				if wantCE.Err != nil {
					// The internal cause arrives as text for the logs.
					require.Contains(t, err.Error(), wantCE.Err.Error(), name)
				}
				require.NotErrorIs(t, err, sdk.ErrPluginShutdown, name)
			}
		})
	}
}

func TestRateLimitKeepsRetryAfter(t *testing.T) {
	t.Parallel()
	p, _ := connect(t, newFake())
	_, err := p.Generate(t.Context(), ports.AIRequest{Type: "RATELIMIT"})
	require.ErrorIs(t, err, core.ErrRateLimited)
	require.Equal(t, 7250*time.Millisecond, core.AsError(err).RetryAfter)
	require.Equal(t, "the AI provider fake is rate limiting requests", core.AsError(err).Message)
}

func TestCancellationReachesThePlugin(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		name := map[bool]string{false: "Generate", true: "GenerateStream"}[stream]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake()
			p, _ := connect(t, f)
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				var err error
				if stream {
					_, err = p.GenerateStream(ctx, ports.AIRequest{Type: "BLOCK"}, func(string) error { return nil })
				} else {
					_, err = p.Generate(ctx, ports.AIRequest{Type: "BLOCK"})
				}
				errc <- err
			}()
			select {
			case <-f.started:
			case <-time.After(wait):
				t.Fatal("the plugin never started the call")
			}
			cancel()
			select {
			case err := <-errc:
				require.ErrorIs(t, err, context.Canceled)
				require.False(t, core.AIRetryable(err), "the caller stopped: not retryable")
			case <-time.After(wait):
				t.Fatal("the call did not return after cancel")
			}
			select {
			case err := <-f.cancelled:
				require.ErrorIs(t, err, context.Canceled, "the plugin's ctx was cancelled")
			case <-time.After(wait):
				t.Fatal("the plugin's ctx was never cancelled")
			}
		})
	}
}

func TestDeltaErrorStopsThePlugin(t *testing.T) {
	t.Parallel()
	f := newFake()
	p, _ := connect(t, f)
	stop := errors.New("the browser went away")
	var deltas []string
	_, err := p.GenerateStream(t.Context(), ports.AIRequest{Type: "SLOWSTREAM"}, func(d string) error {
		deltas = append(deltas, d)
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, []string{"hello"}, deltas)
	select {
	case err := <-f.cancelled:
		require.ErrorIs(t, err, context.Canceled, "the plugin stopped generating")
	case <-time.After(wait):
		t.Fatal("the plugin kept generating after onDelta failed")
	}
}

func TestDeadPluginIsRetryable(t *testing.T) {
	t.Parallel()
	p, server := connect(t, newFake())
	_, err := p.Generate(t.Context(), ports.AIRequest{Type: "SUMMARY"})
	require.NoError(t, err)
	server.Stop()
	for name, call := range map[string]func() error{
		"Info": func() error { _, err := p.Info(t.Context()); return err },
		"Generate": func() error {
			_, err := p.Generate(t.Context(), ports.AIRequest{Type: "SUMMARY"})
			return err
		},
		"GenerateStream": func() error {
			_, err := p.GenerateStream(t.Context(), ports.AIRequest{Type: "SUMMARY"}, func(string) error { return nil })
			return err
		},
	} {
		err := call()
		require.ErrorIs(t, err, sdk.ErrPluginShutdown, name)
		require.ErrorIs(t, err, core.ErrUnavailable, name)
		require.True(t, core.AIRetryable(err), name)
		require.Equal(t, "the AI provider fake is unavailable", core.AsError(err).Message, name)
	}
}
