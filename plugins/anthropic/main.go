// Command anthropic is the Anthropic provider plugin. It reads
// ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_MODEL and AI_TIMEOUT
// from the environment the host launches it with (only those).
//
// The host (adapters/aiplugin) launches it from PLUGIN_DIR; run by hand, it
// says it is a plugin and exits.
package main

import (
	"fmt"
	"os"

	"github.com/repurpose/repurpose/adapters/aiproviders"
	"github.com/repurpose/repurpose/plugins/sdk"
)

func main() {
	provider, err := aiproviders.New("anthropic", os.Getenv)
	if err != nil {
		// The error names a variable, never its value.
		fmt.Fprintln(os.Stderr, "anthropic plugin:", err)
		os.Exit(1)
	}
	sdk.Serve(provider)
}
