// Command hello is the smallest Go Lambda function, answering every event
// with a constant: the baseline the cold start of functions/api is
// measured against (functions/coldstart_test.go).
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (map[string]any, error) {
		return map[string]any{"statusCode": 200, "body": "hello"}, nil
	})
}
