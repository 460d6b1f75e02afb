// Package catalog names the AI vendors and their default models without
// importing their SDKs: a binary that lists providers but never calls them
// (the Lambda API function, built with -tags noaisdks) links this, and the
// vendor adapters take their names and defaults from it.
package catalog

import (
	"net/url"
	"time"

	"github.com/repurpose/repurpose/core"
)

// The vendors' provider names, as in AI_PROVIDERS, results and errors.
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
)

// The model a vendor provider uses when its *_MODEL setting is empty.
const (
	// OpenAIDefaultModel is small, cheap and good at rewriting text.
	OpenAIDefaultModel = "gpt-4o-mini"
	// AnthropicDefaultModel is a current general-purpose Claude model.
	AnthropicDefaultModel = "claude-sonnet-4-5"
)

// Defaults of a vendor provider's zero settings.
const (
	// DefaultTimeout bounds one whole call, streaming included.
	DefaultTimeout = 2 * time.Minute
	// DefaultMaxOutputTokens fits the longest catalog output (a blog post
	// or a newsletter) with room to spare.
	DefaultMaxOutputTokens = 4096
)

// Limits returns timeout and maxTokens, the defaults in place of zero or
// negative values.
func Limits(timeout time.Duration, maxTokens int) (time.Duration, int) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxTokens <= 0 {
		maxTokens = DefaultMaxOutputTokens
	}
	return timeout, maxTokens
}

// CheckBaseURL returns a core.EINVALID error naming variable unless raw is
// empty (the vendor's own API) or an absolute http(s) URL.
func CheckBaseURL(variable, raw string) error {
	if raw == "" {
		return nil
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return core.Errorf(core.EINVALID, "%s must be an http(s) URL", variable)
	}
	return nil
}
