// Package aiproviders builds an AI provider by name from the environment.
// The plugin mains (one binary per provider) and the Lambda build (all
// compiled in) share it, so a provider is configured the same way whether
// it runs behind go-plugin or in-process.
package aiproviders

import (
	"strconv"
	"strings"
	"time"

	"github.com/repurpose/repurpose/adapters/aiproviders/catalog"
	"github.com/repurpose/repurpose/adapters/localai"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Names lists the providers New knows, in the default failover order.
var Names = []string{localai.Name, catalog.OpenAI, catalog.Anthropic}

// New builds the provider called name, reading its configuration through
// getenv (os.Getenv in mains; a map in tests):
//
//	local      nothing
//	openai     OPENAI_API_KEY (optional when OPENAI_BASE_URL is set),
//	           OPENAI_BASE_URL, OPENAI_MODEL
//	anthropic  ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL
//	both       AI_TIMEOUT (a Go duration like "90s", or whole seconds)
//
// An unknown name or a missing/invalid setting is a core.EINVALID error
// naming the variable, never its value. Built with -tags noaisdks (the
// Lambda API function), the vendors' SDKs are not linked: openai and
// anthropic are then catalog entries that name their model and never
// generate (see vendors_catalog.go).
func New(name string, getenv func(string) string) (ports.AIProvider, error) {
	env := func(key string) string { return strings.TrimSpace(getenv(key)) }
	switch strings.ToLower(strings.TrimSpace(name)) {
	case localai.Name:
		return localai.New(), nil
	case catalog.OpenAI, catalog.Anthropic:
		timeout, err := parseTimeout(env("AI_TIMEOUT"))
		if err != nil {
			return nil, err
		}
		return newVendor(strings.ToLower(strings.TrimSpace(name)), env, timeout)
	default:
		return nil, core.Errorf(core.EINVALID, "unknown AI provider %q (known: %s)", name, strings.Join(Names, ", "))
	}
}

// parseTimeout reads AI_TIMEOUT; empty is zero (the provider's default).
func parseTimeout(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, core.Errorf(core.EINVALID, "AI_TIMEOUT must be a positive duration such as 90s (got %q)", s)
	}
	return d, nil
}
