// Command openai is the OpenAI provider plugin, also for any
// OpenAI-compatible server (OPENAI_BASE_URL). It reads OPENAI_API_KEY,
// OPENAI_BASE_URL, OPENAI_MODEL and AI_TIMEOUT from the environment the
// host launches it with (only those: the host passes nothing else).
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
	provider, err := aiproviders.New("openai", os.Getenv)
	if err != nil {
		// The error names a variable, never its value.
		fmt.Fprintln(os.Stderr, "openai plugin:", err)
		os.Exit(1)
	}
	sdk.Serve(provider)
}
