package functions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/sqs/sqstest"
)

// apiClient calls the API function with API Gateway HTTP API events.
type apiClient struct {
	fn    *emulator
	token string
}

func (c *apiClient) call(ctx context.Context, method, path string, body, out any) (int, error) {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path,
		Headers: map[string]string{"content-type": "application/json", "user-agent": "e2e"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: "$default", Stage: "$default", DomainName: "api.example.test",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "198.51.100.7"}},
	}
	if c.token != "" {
		e.Headers["authorization"] = "Bearer " + c.token
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		e.Body = string(b)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := c.fn.invoke(ctx, e, &resp); err != nil {
		return 0, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, resp.Body)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal([]byte(resp.Body), out)
	}
	return resp.StatusCode, nil
}

// TestLambdaEndToEnd runs the API and worker functions under the Lambda
// runtime interface emulator against PostgreSQL, Redis and an SQS queue
// served by moto_server: register, token, document and transformation go
// through API Gateway events; the SQS messages the API enqueued are fed
// to the worker function as SQS events (deleted unless reported failed,
// as the event source mapping does) until the transformation is
// COMPLETED, as the API reports.
func TestLambdaEndToEnd(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	env := services(t)
	endpoint := sqstest.Endpoint(t)
	client := sqstest.Client(endpoint)
	queueURL := sqstest.NewQueue(t, client, nil)
	env = append(env, sqstest.Env(endpoint)...)
	// As template.yaml deploys them: the API and the worker never migrate,
	// the migrations function does, as a custom resource of the deploy.
	env = append(env, "QUEUE_URL="+queueURL, "BCRYPT_ROUNDS=4", "RATE_LIMIT_AUTH=off", "LOG_LEVEL=warn", "AUTO_MIGRATE=false",
		// local first, so the worker never calls the OpenAI-compatible
		// server (nothing listens there); the API function, built without
		// the vendor SDKs, still lists it with its model.
		"AI_PROVIDERS=local,openai", "OPENAI_BASE_URL=http://127.0.0.1:9/v1", "OPENAI_MODEL=llama3.2")
	api := startEmulator(t, bin["rie"], bin["api"], env...)
	worker := startEmulator(t, bin["rie"], bin["worker"], env...)

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	deployMigrations(ctx, t, bin, env)
	c := &apiClient{fn: api}
	creds := map[string]string{"email": "lambda-e2e@example.com", "password": "a long unusual passphrase"}
	status, err := c.call(ctx, http.MethodPost, "/api/auth/register", creds, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status)
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	_, err = c.call(ctx, http.MethodPost, "/api/auth/token", creds, &pair)
	require.NoError(t, err)
	require.NotEmpty(t, pair.AccessToken)
	c.token = pair.AccessToken

	var models struct {
		Providers []struct {
			Provider string   `json:"provider"`
			Models   []string `json:"models"`
		} `json:"providers"`
	}
	status, err = c.call(ctx, http.MethodGet, "/api/providers/models", nil, &models)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, models.Providers, 2)
	require.Equal(t, "openai", models.Providers[1].Provider)
	require.Equal(t, []string{"llama3.2"}, models.Providers[1].Models)

	var doc struct {
		ID string `json:"id"`
	}
	_, err = c.call(ctx, http.MethodPost, "/api/documents", map[string]any{"title": "Remote work",
		"content": "Remote work changed how software teams collaborate. Engineers rely on written communication more than ever. " +
			"Asynchronous updates replace many meetings, and teams that document decisions move faster."}, &doc)
	require.NoError(t, err)
	var tr struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	_, err = c.call(ctx, http.MethodPost, "/api/transformations", map[string]any{"document_id": doc.ID, "transformation_type": "SUMMARY"}, &tr)
	require.NoError(t, err)
	require.Equal(t, "PENDING", tr.Status)

	// The event source mapping's part: receive, invoke, delete what
	// succeeded; a reported failure stays for its visibility timeout.
	arn := "arn:aws:sqs:" + sqstest.Region + ":123456789012:jobs"
	for tr.Status != "COMPLETED" {
		require.NotContains(t, []string{"FAILED", "CANCELLED"}, tr.Status)
		out, err := client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, VisibilityTimeout: 2, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		require.NoError(t, err)
		if len(out.Messages) > 0 {
			var batch events.SQSEvent
			for _, m := range out.Messages {
				batch.Records = append(batch.Records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
					Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: arn, AWSRegion: sqstest.Region})
			}
			var resp events.SQSEventResponse
			require.NoError(t, worker.invoke(ctx, batch, &resp))
			failed := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
			require.Empty(t, failed, "the job succeeds at its first delivery")
			for _, m := range out.Messages {
				_, err := client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
				require.NoError(t, err)
			}
		}
		_, err = c.call(ctx, http.MethodGet, "/api/transformations/"+tr.ID, nil, &tr)
		require.NoError(t, err)
	}

	// A duplicate delivery of the finished job is a success that changes
	// nothing: the worker's claim finds nothing to do.
	dup := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "dup-1", Body: fmt.Sprintf(`{"transformation_id":%q,"workspace_id":%q}`, tr.ID, workspaceOf(t, ctx, c)),
		EventSource: "aws:sqs", EventSourceARN: arn}, {MessageId: "junk-1", Body: "not a job", EventSource: "aws:sqs", EventSourceARN: arn}}}
	var resp events.SQSEventResponse
	require.NoError(t, worker.invoke(ctx, dup, &resp))
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "junk-1"}}, resp.BatchItemFailures, "only the malformed record fails")
	_, err = c.call(ctx, http.MethodGet, "/api/transformations/"+tr.ID, nil, &tr)
	require.NoError(t, err)
	require.Equal(t, "COMPLETED", tr.Status)
}

// workspaceOf is the caller's current workspace id.
func workspaceOf(t *testing.T, ctx context.Context, c *apiClient) string {
	t.Helper()
	var me struct {
		WorkspaceID string `json:"workspace_id"`
		Workspace   struct {
			ID string `json:"id"`
		} `json:"workspace"`
	}
	_, err := c.call(ctx, http.MethodGet, "/api/auth/me", nil, &me)
	require.NoError(t, err)
	if me.WorkspaceID != "" {
		return me.WorkspaceID
	}
	require.NotEmpty(t, me.Workspace.ID, "GET /api/auth/me names the workspace")
	return me.Workspace.ID
}

// deployMigrations runs the migrations function under the emulator as
// CloudFormation does for the Migrations custom resource: a Create event,
// answered by a PUT of the outcome to the event's presigned ResponseURL.
func deployMigrations(ctx context.Context, t *testing.T, bin map[string]string, env []string) {
	t.Helper()
	responses := make(chan cfn.Response, 1)
	cloudFormation := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var resp cfn.Response
		if r.Method != http.MethodPut || json.NewDecoder(r.Body).Decode(&resp) != nil {
			http.Error(w, "bad response", http.StatusBadRequest)
			return
		}
		responses <- resp
	}))
	defer cloudFormation.Close()
	migrate := startEmulator(t, bin["rie"], bin["migrate"], env...)
	require.NoError(t, migrate.invoke(ctx, cfn.Event{RequestType: cfn.RequestCreate, RequestID: "req-1",
		ResponseURL: cloudFormation.URL + "/presigned", ResourceType: "Custom::DatabaseMigrations",
		LogicalResourceID: "Migrations", StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/repurpose/1"}, nil))
	select {
	case resp := <-responses:
		require.Equal(t, cfn.StatusSuccess, resp.Status, resp.Reason)
		require.Equal(t, "repurpose-database-migrations", resp.PhysicalResourceID)
	case <-ctx.Done():
		t.Fatal("the migrations function did not answer CloudFormation")
	}
}
