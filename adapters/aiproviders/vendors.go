//go:build !noaisdks

package aiproviders

import (
	"time"

	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/adapters/anthropic"
	"github.com/repurpose/repurpose/adapters/openai"
	"github.com/repurpose/repurpose/ports"
)

// newVendor builds the vendor provider called name (catalog.OpenAI or
// catalog.Anthropic) on its SDK.
func newVendor(name string, env func(string) string, timeout time.Duration) (ports.AIProvider, error) {
	if name == catalog.OpenAI {
		return openai.New(openai.Config{
			APIKey:  env("OPENAI_API_KEY"),
			BaseURL: env("OPENAI_BASE_URL"),
			Model:   env("OPENAI_MODEL"),
			Timeout: timeout,
		})
	}
	return anthropic.New(anthropic.Config{
		APIKey:  env("ANTHROPIC_API_KEY"),
		BaseURL: env("ANTHROPIC_BASE_URL"),
		Model:   env("ANTHROPIC_MODEL"),
		Timeout: timeout,
	})
}
