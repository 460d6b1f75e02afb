// Command sweeper is the sweeper Lambda function: run on a schedule, it
// re-enqueues lost PENDING jobs and reclaims those whose worker died, as
// `repurpose worker` does in the server deployment (make
// build-SweeperFunction).
package main

import "github.com/repurpose/repurpose/bootstrap"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { bootstrap.RunLambda(bootstrap.LambdaSweeper, version) }
