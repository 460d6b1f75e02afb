package porttest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// aiPrompt bounds how long a cancelled call may take to return.
const aiPrompt = 5 * time.Second

// AIProviderOption adjusts TestAIProvider to what one provider can do.
type AIProviderOption func(*aiSuite)

type aiSuite struct {
	unsupportedType    string
	unsupportedMessage string
}

// AIUnsupported declares a transformation type the provider does not
// serve: the suite then checks that asking for it is core.EUNSUPPORTED
// with exactly message (e.g. "CUSTOM" for the local provider). Through a
// plugin, this proves the message crossed the process boundary intact.
func AIUnsupported(typ, message string) AIProviderOption {
	return func(s *aiSuite) { s.unsupportedType, s.unsupportedMessage = typ, message }
}

// TestAIProvider is the contract of ports.AIProvider. newProvider returns a
// provider ready to serve SUMMARY requests (fresh or shared: providers are
// safe for concurrent use). Subtests run in parallel.
func TestAIProvider(t *testing.T, newProvider func(t *testing.T) ports.AIProvider, opts ...AIProviderOption) {
	t.Helper()
	var s aiSuite
	for _, o := range opts {
		o(&s)
	}

	t.Run("Info names the provider and its models", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		info, err := p.Info(t.Context())
		require.NoError(t, err)
		require.NotEmpty(t, info.Name)
		require.NotEmpty(t, info.Models)
		for _, m := range info.Models {
			require.NotEmpty(t, m, "model names are not empty")
		}

		res, err := p.Generate(t.Context(), aiRequest(t, transform.Summary))
		require.NoError(t, err)
		require.Equal(t, info.Name, res.Provider, "results name the provider that served")
		require.Contains(t, info.Models, res.Model, "results name one of the provider's models")
	})

	t.Run("Generate returns text", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		res, err := p.Generate(t.Context(), aiRequest(t, transform.Summary))
		require.NoError(t, err)
		require.NotEmpty(t, strings.TrimSpace(res.Text))
		require.GreaterOrEqual(t, res.InputTokens, 0)
		require.GreaterOrEqual(t, res.OutputTokens, 0)
	})

	t.Run("GenerateStream deltas arrive in order and make the text", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		var deltas []string
		res, err := p.GenerateStream(t.Context(), aiRequest(t, transform.Summary), func(d string) error {
			deltas = append(deltas, d)
			return nil
		})
		require.NoError(t, err)
		require.NotEmpty(t, deltas)
		require.NotEmpty(t, strings.TrimSpace(res.Text))
		require.Equal(t, res.Text, strings.Join(deltas, ""), "the deltas, in order, are the text")
	})

	t.Run("an onDelta error stops generation and is returned", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		stop := errors.New("the client went away")
		calls := 0
		_, err := p.GenerateStream(t.Context(), aiRequest(t, transform.Summary), func(string) error {
			calls++
			return stop
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, 1, calls, "no delta after onDelta failed")
	})

	t.Run("a cancelled ctx returns promptly, wrapping context.Canceled", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		start := time.Now()
		_, err := p.Generate(ctx, aiRequest(t, transform.Summary))
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, core.AIRetryable(err), "the caller stopped: not retryable")
		_, err = p.GenerateStream(ctx, aiRequest(t, transform.Summary), func(string) error {
			t.Error("no delta for a cancelled ctx")
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Less(t, time.Since(start), aiPrompt)
	})

	t.Run("cancelling during a stream stops it", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		calls := 0
		start := time.Now()
		_, err := p.GenerateStream(ctx, aiRequest(t, transform.Summary), func(string) error {
			calls++
			cancel()
			return nil
		})
		require.Less(t, time.Since(start), aiPrompt)
		if err == nil {
			// The provider produced everything in one piece: nothing
			// was left to stop.
			require.Equal(t, 1, calls)
			return
		}
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 1, calls, "no delta after the cancellation")
	})

	t.Run("concurrent calls all succeed", func(t *testing.T) {
		t.Parallel()
		p := newProvider(t)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		texts := make([]string, n)
		for i := range n {
			wg.Go(func() {
				var res ports.AIResult
				if i%2 == 0 {
					res, errs[i] = p.Generate(t.Context(), aiRequest(t, transform.Summary))
				} else {
					var b strings.Builder
					res, errs[i] = p.GenerateStream(t.Context(), aiRequest(t, transform.Summary), func(d string) error {
						b.WriteString(d)
						return nil
					})
					if errs[i] == nil && b.String() != res.Text {
						errs[i] = errors.New("the deltas are not the text")
					}
				}
				texts[i] = res.Text
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "call %d", i)
			require.NotEmpty(t, texts[i], "call %d", i)
		}
	})

	if s.unsupportedType != "" {
		t.Run("an unsupported type is EUNSUPPORTED with its message", func(t *testing.T) {
			t.Parallel()
			p := newProvider(t)
			typ, ok := transform.ParseType(s.unsupportedType)
			require.True(t, ok, "unknown type %q", s.unsupportedType)
			for name, call := range map[string]func() error{
				"Generate": func() error {
					_, err := p.Generate(t.Context(), aiRequest(t, typ))
					return err
				},
				"GenerateStream": func() error {
					_, err := p.GenerateStream(t.Context(), aiRequest(t, typ), func(string) error { return nil })
					return err
				},
			} {
				err := call()
				require.Equal(t, core.EUNSUPPORTED, core.ErrorCode(err), name)
				require.Equal(t, s.unsupportedMessage, core.AsError(err).Message, name)
				require.True(t, core.AIFailover(err), "%s: a router moves on to the next provider", name)
				require.False(t, core.AIRetryable(err), "%s: not retried on the same provider", name)
			}
		})
	}
}

// aiText is a short realistic document for the suite.
const aiText = `Remote work changed how our engineering team communicates. We moved status updates out of meetings and into short written posts twice a week, which gave engineers back hours of focus time.

Documentation became the backbone of the team. Every project starts with a design document that states the problem, the options considered and the reasons for the final choice, so new hires learn why systems look the way they do.

Trust mattered more than tools. We refused to track activity on employees' computers and measured outcomes instead: shipped features, reliable services and thoughtful code reviews. Engineers who feel trusted take ownership of their work.`

// aiRequest is a valid request of typ, with the catalog's defaults and
// prompt, as the worker builds it.
func aiRequest(t *testing.T, typ transform.Type) ports.AIRequest {
	t.Helper()
	given := map[string]any{}
	if typ == transform.Custom {
		given["instructions"] = "Rewrite it as a haiku."
	}
	params, err := transform.Validate(typ, given, "body.parameters")
	require.NoError(t, err)
	const title = "What three years of remote work taught us"
	return ports.AIRequest{
		Type:       string(typ),
		Parameters: params,
		Title:      title,
		Text:       aiText,
		Prompt:     transform.BuildPrompt(typ, params, title),
	}
}
