//go:build !noaisdks

package aiproviders_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/aiproviders"
	"github.com/repurpose/repurpose/adapters/anthropic"
	"github.com/repurpose/repurpose/adapters/localai"
	"github.com/repurpose/repurpose/adapters/openai"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

const secret = "sk-SECRET-0123456789"

type env map[string]string

func (e env) get(k string) string { return e[k] }

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		provider  string
		env       map[string]string
		wantModel string
		wantCode  core.Code
		wantIn    string // in the error message
	}{
		{name: "local", provider: "local", wantModel: localai.Model},
		{name: "openai", provider: "openai", env: map[string]string{"OPENAI_API_KEY": secret}, wantModel: openai.DefaultModel},
		{name: "openai model and timeout", provider: "openai", env: map[string]string{"OPENAI_API_KEY": secret, "OPENAI_MODEL": "gpt-4.1-mini", "AI_TIMEOUT": "45s"}, wantModel: "gpt-4.1-mini"},
		{name: "openai-compatible server without key", provider: "openai", env: map[string]string{"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "llama3.2"}, wantModel: "llama3.2"},
		{name: "openai without key", provider: "openai", wantCode: core.EINVALID, wantIn: "OPENAI_API_KEY"},
		{name: "anthropic", provider: "anthropic", env: map[string]string{"ANTHROPIC_API_KEY": secret, "AI_TIMEOUT": "90"}, wantModel: anthropic.DefaultModel},
		{name: "anthropic model", provider: "anthropic", env: map[string]string{"ANTHROPIC_API_KEY": secret, "ANTHROPIC_MODEL": "claude-haiku-4-5"}, wantModel: "claude-haiku-4-5"},
		{name: "anthropic without key", provider: "anthropic", env: map[string]string{"OPENAI_API_KEY": secret}, wantCode: core.EINVALID, wantIn: "ANTHROPIC_API_KEY"},
		{name: "bad timeout", provider: "anthropic", env: map[string]string{"ANTHROPIC_API_KEY": secret, "AI_TIMEOUT": "soon"}, wantCode: core.EINVALID, wantIn: "AI_TIMEOUT"},
		{name: "unknown", provider: "gemini", wantCode: core.EINVALID, wantIn: "gemini"},
		{name: "empty", provider: "", wantCode: core.EINVALID, wantIn: "unknown AI provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := aiproviders.New(tt.provider, func(k string) string { return tt.env[k] })
			if tt.wantCode != "" {
				require.Equal(t, tt.wantCode, core.ErrorCode(err), "%v", err)
				require.Contains(t, err.Error(), tt.wantIn)
				require.NotContains(t, err.Error(), secret)
				return
			}
			require.NoError(t, err)
			info, err := p.Info(context.Background())
			require.NoError(t, err)
			require.Equal(t, tt.provider, info.Name)
			require.Equal(t, []string{tt.wantModel}, info.Models)
		})
	}
}

// Every listed name builds (given keys), and names the provider it built.
func TestNamesAllBuild(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OPENAI_API_KEY": secret, "ANTHROPIC_API_KEY": secret}
	require.Equal(t, []string{"local", "openai", "anthropic"}, aiproviders.Names)
	for _, name := range aiproviders.Names {
		p, err := aiproviders.New(name, func(k string) string { return env[k] })
		require.NoError(t, err, name)
		info, err := p.Info(context.Background())
		require.NoError(t, err)
		require.Equal(t, name, info.Name)
	}
}

// The environment reaches the provider: OPENAI_BASE_URL, OPENAI_MODEL and
// AI_TIMEOUT are used for a real call to a server that never answers.
func TestNewWiresEnvironment(t *testing.T) {
	t.Parallel()
	models := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		models <- r.URL.Path
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	p, err := aiproviders.New("openai", env{
		"OPENAI_BASE_URL": srv.URL + "/v1",
		"OPENAI_MODEL":    "llama3.2",
		"AI_TIMEOUT":      "100ms",
	}.get)
	require.NoError(t, err)
	start := time.Now()
	_, err = p.Generate(context.Background(), ports.AIRequest{Type: "SUMMARY", Text: "x", Prompt: "Summarize."})
	require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err), "%v", err)
	require.Less(t, time.Since(start), 3*time.Second)
	require.Equal(t, "/v1/chat/completions", <-models)
}
