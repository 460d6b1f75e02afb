// Package catalog names the AI vendors and their default models without
// importing their SDKs: a binary that lists providers but never calls them
// (the Lambda API function, built with -tags noaisdks) links this, and the
// vendor adapters take their names and defaults from it.
package catalog

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
