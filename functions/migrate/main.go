// Command migrate is the migrations Lambda function: the CloudFormation
// custom resource of template.yaml that applies the database migrations on
// every deploy, before the API function is updated (make
// build-MigrateFunction).
package main

import "github.com/repurpose/repurpose/bootstrap"

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { bootstrap.RunLambda(bootstrap.LambdaMigrate, version) }
