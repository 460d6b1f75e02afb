// Command worker is the worker Lambda function: each record of its SQS
// batches is a transformation job, run by the same worker use case as
// `repurpose worker` (make build-WorkerFunction).
package main

import "github.com/repurpose/repurpose/bootstrap"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { bootstrap.RunLambda(bootstrap.LambdaWorker, version) }
