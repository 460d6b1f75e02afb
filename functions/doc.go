// Package functions holds the Lambda functions of the SAM deployment
// (template.yaml): api, worker and sweeper, each a tiny main over
// bootstrap.RunLambda; and the tests that run them under the Lambda
// runtime interface emulator.
package functions
