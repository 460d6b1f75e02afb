// Command local is the offline AI provider plugin: extractive and
// deterministic, no network and no keys.
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
	provider, err := aiproviders.New("local", os.Getenv)
	if err != nil {
		// The error names a variable, never its value.
		fmt.Fprintln(os.Stderr, "local plugin:", err)
		os.Exit(1)
	}
	sdk.Serve(provider)
}
