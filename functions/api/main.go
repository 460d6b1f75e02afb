// Command api is the API Lambda function: the platform's HTTP API behind
// an API Gateway HTTP API. Build it with -tags lambda.norpc,noaiplugins as
// `bootstrap` for the provided.al2023 runtime (make build-ApiFunction).
package main

import "github.com/repurpose/repurpose/bootstrap"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { bootstrap.RunLambda(bootstrap.LambdaAPI, version) }
