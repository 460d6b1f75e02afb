// Command local is the offline AI provider plugin: extractive,
// deterministic, no network and no keys. The host launches it from
// PLUGIN_DIR; run by hand, it says it is a plugin and exits.
package main

import (
	"github.com/repurpose/repurpose/adapters/localai"
	"github.com/repurpose/repurpose/plugins/sdk"
)

func main() {
	sdk.Serve(localai.New())
}
