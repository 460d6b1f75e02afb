package sqs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/sqs"
	"github.com/repurpose/repurpose/adapters/sqs/sqstest"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestQueue(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	porttest.TestQueue(t, func(t *testing.T) (ports.Queue, ports.Consumer) {
		url := sqstest.NewQueue(t, client, nil)
		return sqs.NewQueue(client, url), sqs.NewConsumer(client, url, sqs.ConsumerOptions{
			WaitTime:        2 * time.Second,
			RetryDelay:      func(int) time.Duration { return 0 },
			ShutdownTimeout: 2 * time.Second,
			Logger:          quiet(),
		})
	})
}

func receiveAll(t *testing.T, client *awssqs.Client, url string, want int) []string {
	t.Helper()
	var bodies []string
	deadline := time.Now().Add(15 * time.Second)
	for len(bodies) < want && time.Now().Before(deadline) {
		out, err := client.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url),
			MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		require.NoError(t, err)
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			require.Contains(t, m.MessageAttributes, sqs.EnqueuedAtAttribute)
		}
	}
	return bodies
}

// The message body is the job as JSON, the contract of the worker
// function's SQS records.
func TestEnqueueMessage(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	url := sqstest.NewQueue(t, client, nil)
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	require.NoError(t, sqs.NewQueue(client, url).Enqueue(t.Context(), job))
	bodies := receiveAll(t, client, url, 1)
	require.Len(t, bodies, 1)
	var raw map[string]string
	require.NoError(t, json.Unmarshal([]byte(bodies[0]), &raw))
	require.Equal(t, map[string]string{"transformation_id": job.TransformationID.String(), "workspace_id": job.WorkspaceID.String()}, raw)
}

// On a FIFO queue each Enqueue is its own message: SQS's deduplication
// window must not swallow a later enqueue (a retry from FAILED).
func TestEnqueueFIFO(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	out, err := client.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String("test-" + uuid.NewString()[:8] + ".fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	require.NoError(t, err)
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		_, _ = client.DeleteQueue(context.Background(), &awssqs.DeleteQueueInput{QueueUrl: aws.String(url)})
	})
	q := sqs.NewQueue(client, url)
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), job))
	time.Sleep(2 * time.Millisecond) // the deduplication id has millisecond resolution
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.Len(t, receiveAll(t, client, url, 2), 2)
}

// Stats counts visible messages as pending and received ones as active.
func TestInspector(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	url := sqstest.NewQueue(t, client, nil)
	q, in := sqs.NewQueue(client, url), sqs.NewInspector(client, url)
	for range 3 {
		require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}))
	}
	_, err := client.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1})
	require.NoError(t, err)
	stats, err := in.Stats(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, stats.Pending)
	require.Equal(t, 1, stats.Active)
	require.NotEmpty(t, stats.Queue)
	workers, err := in.Workers(t.Context())
	require.NoError(t, err)
	require.Empty(t, workers)
}

func TestDefaultRetryDelay(t *testing.T) {
	t.Parallel()
	require.Equal(t, 2*time.Second, sqs.DefaultRetryDelay(0))
	require.Equal(t, 2*time.Second, sqs.DefaultRetryDelay(1))
	require.Equal(t, 8*time.Second, sqs.DefaultRetryDelay(3))
	require.Equal(t, 5*time.Minute, sqs.DefaultRetryDelay(50))
}

// The module's graph is complete given its Config and a logger.
func TestModule(t *testing.T) {
	t.Parallel()
	err := fx.ValidateApp(sqs.Module,
		fx.Supply(sqs.Config{QueueURL: "http://127.0.0.1:1/000000000000/q"}, quiet()),
		fx.Invoke(func(ports.Queue, ports.Consumer, ports.QueueInspector) {}))
	require.NoError(t, err)
}

// A reclaimed job (the sweeper's copy of a job whose worker died) is a new
// job: it runs even while the consumer still holds the original.
func TestReclaimedJobRunsWhileTheOriginalIsHeld(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	url := sqstest.NewQueue(t, client, nil)
	q := sqs.NewQueue(client, url)
	c := sqs.NewConsumer(client, url, sqs.ConsumerOptions{WaitTime: time.Second, RetryDelay: func(int) time.Duration { return 0 },
		ShutdownTimeout: 2 * time.Second, Logger: quiet()})
	orig := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	reclaimed := orig
	reclaimed.Reclaim = 1
	started, ran := make(chan struct{}), make(chan ports.Job, 4)
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, 2, func(ctx context.Context, j ports.Job) error {
			ran <- j
			if j == orig {
				close(started)
				select {
				case <-release:
				case <-ctx.Done():
				}
			}
			return nil
		})
	}()
	require.NoError(t, q.Enqueue(t.Context(), orig))
	<-started
	require.NoError(t, q.Enqueue(t.Context(), orig), "a plain duplicate is dropped")
	require.NoError(t, q.Enqueue(t.Context(), reclaimed))
	require.Equal(t, orig, <-ran)
	select {
	case j := <-ran:
		require.Equal(t, reclaimed, j)
	case <-time.After(15 * time.Second):
		t.Fatal("the reclaimed job did not run while the original was held")
	}
	close(release)
	cancel()
	require.NoError(t, <-done)
	require.Empty(t, ran, "the plain duplicate never ran")
}

// Delay changes a received message's visibility: with a long default
// visibility, Delay(0) makes it receivable again at once.
func TestDelayChangesVisibility(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	url := sqstest.NewQueue(t, client, map[string]string{"VisibilityTimeout": "600"})
	q := sqs.NewQueue(client, url)
	require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}))
	receive := func() []types.Message {
		out, err := client.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
		require.NoError(t, err)
		return out.Messages
	}
	first := receive()
	require.Len(t, first, 1)
	require.Empty(t, receive(), "hidden for the queue's 600 s visibility")
	require.NoError(t, q.Delay(t.Context(), aws.ToString(first[0].ReceiptHandle), 0))
	again := receive()
	require.Len(t, again, 1, "visible again after Delay(0)")
	require.Equal(t, aws.ToString(first[0].MessageId), aws.ToString(again[0].MessageId))
}

// EnqueueAfter sends a message that becomes visible only after its delay;
// a FIFO queue refuses it.
func TestEnqueueAfter(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	url := sqstest.NewQueue(t, client, nil)
	q := sqs.NewQueue(client, url)
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	sent := time.Now()
	require.NoError(t, q.EnqueueAfter(t.Context(), job, 2*time.Second))
	out, err := client.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1})
	require.NoError(t, err)
	require.Empty(t, out.Messages, "hidden for its delay")
	bodies := receiveAll(t, client, url, 1)
	require.Len(t, bodies, 1)
	require.GreaterOrEqual(t, time.Since(sent), 2*time.Second)
	var got ports.Job
	require.NoError(t, json.Unmarshal([]byte(bodies[0]), &got))
	require.Equal(t, job, got)

	// Refused before any request: the URL's .fifo suffix tells.
	fifo := sqs.NewQueue(client, url+".fifo")
	require.ErrorIs(t, fifo.EnqueueAfter(t.Context(), job, time.Second), sqs.ErrFIFONoDelay)
}

// A job deferred by its busy workspace comes back as a new message, so its
// receive count starts over: on a queue whose redrive policy moves a
// message to the dead-letter queue after one receive, it still runs.
func TestConsumerResendsDeferredJobs(t *testing.T) {
	t.Parallel()
	client := sqstest.Client(sqstest.Endpoint(t))
	dlq := sqstest.NewQueue(t, client, nil)
	attrs, err := client.GetQueueAttributes(t.Context(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(dlq),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	require.NoError(t, err)
	url := sqstest.NewQueue(t, client, map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"` + attrs.Attributes["QueueArn"] + `","maxReceiveCount":"1"}`})
	c := sqs.NewConsumer(client, url, sqs.ConsumerOptions{WaitTime: time.Second, RetryDelay: func(int) time.Duration { return 0 },
		DeferDelay: time.Second, ShutdownTimeout: 2 * time.Second, Logger: quiet()})
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	require.NoError(t, sqs.NewQueue(client, url).Enqueue(t.Context(), job))

	var calls atomic.Int32
	completed := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, 1, func(context.Context, ports.Job) error {
			if calls.Add(1) < 3 {
				return fmt.Errorf("busy: %w", ports.ErrDeferred)
			}
			close(completed)
			return nil
		})
	}()
	select {
	case <-completed:
	case <-time.After(20 * time.Second):
		t.Fatalf("the deferred job ran %d times and never completed", calls.Load())
	}
	cancel()
	require.NoError(t, <-done)
	out, err := client.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(dlq), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	require.NoError(t, err)
	require.Empty(t, out.Messages, "nothing reached the dead-letter queue")
}
