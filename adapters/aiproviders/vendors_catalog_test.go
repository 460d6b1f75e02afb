//go:build noaisdks

package aiproviders_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/aiproviders"
	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Built without the vendor SDKs (the Lambda API function), every provider
// still builds and names its model, without keys; the vendors refuse to
// generate, as unavailable.
func TestCatalogBuild(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, model string
		env         map[string]string
	}{
		{name: catalog.OpenAI, model: catalog.OpenAIDefaultModel},
		{name: catalog.OpenAI, model: "llama3.2", env: map[string]string{"OPENAI_MODEL": "llama3.2"}},
		{name: catalog.Anthropic, model: catalog.AnthropicDefaultModel},
		{name: catalog.Anthropic, model: "claude-haiku-4-5", env: map[string]string{"ANTHROPIC_MODEL": "claude-haiku-4-5"}},
	} {
		p, err := aiproviders.New(tt.name, func(k string) string { return tt.env[k] })
		require.NoError(t, err, tt.name)
		info, err := p.Info(context.Background())
		require.NoError(t, err)
		require.Equal(t, ports.AIProviderInfo{Name: tt.name, Models: []string{tt.model}}, info)
		_, err = p.Generate(context.Background(), ports.AIRequest{Type: "SUMMARY", Text: "text"})
		require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
		_, err = p.GenerateStream(context.Background(), ports.AIRequest{Type: "SUMMARY", Text: "text"}, func(string) error { return nil })
		require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
	}
	local, err := aiproviders.New("local", func(string) string { return "" })
	require.NoError(t, err)
	res, err := local.Generate(context.Background(), ports.AIRequest{Type: "SUMMARY", Title: "T", Text: "One sentence here. Another sentence there."})
	require.NoError(t, err, "the offline provider still generates")
	require.NotEmpty(t, res.Text)
	_, err = aiproviders.New("gemini", func(string) string { return "" })
	require.Equal(t, core.EINVALID, core.ErrorCode(err))
}
