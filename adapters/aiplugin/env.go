package aiplugin

import (
	"slices"
	"strings"
	"unicode"
)

// sharedEnv are the variables every plugin gets: AI_TIMEOUT bounds its
// calls to the vendor, TMPDIR is where go-plugin puts its socket.
var sharedEnv = []string{"AI_TIMEOUT", "TMPDIR"}

// envPrefix is the prefix of the variables meant for the plugin named
// name: "openai" gets OPENAI_*, "anthropic" ANTHROPIC_*.
func envPrefix(name string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToUpper(r)
		}
		return '_'
	}, name) + "_"
}

// pluginEnv picks from environ (KEY=VALUE) what the plugin named name
// needs and nothing else: a provider's key never reaches another
// provider's process.
func pluginEnv(name string, environ []string) []string {
	prefix := envPrefix(name)
	var out []string
	for _, kv := range environ {
		k, _, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if strings.HasPrefix(k, prefix) || slices.Contains(sharedEnv, k) {
			out = append(out, kv)
		}
	}
	return out
}
