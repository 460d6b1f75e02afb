// Package sqs implements the Queue and Consumer ports on Amazon SQS: the
// API enqueues, and either a Lambda function (adapters/lambda, fed by the
// SQS event source) or a long-poll Consumer runs the jobs.
//
// SQS cannot hold a transformation the way asynq's task id does: two
// enqueues of one transformation are two messages. The Consumer drops a
// copy of a job it is running, or one sent before it last finished that
// job (enqueued_at against its own clock; jobs are told apart by
// ports.Job.DedupKey, so a reclaimed job is a new one), so a job runs once
// per Consumer however often it was enqueued while held. Copies that reach different consumers (concurrent Lambda
// environments) are made harmless by the worker's claim: only one delivery
// can move the row from PENDING to PROCESSING.
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/repurpose/repurpose/ports"
)

// EnqueuedAtAttribute is the message attribute carrying the enqueue time
// (Unix milliseconds), by which a Consumer recognises stale copies.
const EnqueuedAtAttribute = "enqueued_at"

// Queue enqueues transformation jobs on an SQS queue: the message body is
// the job as JSON, {"transformation_id": ..., "workspace_id": ...}.
type Queue struct {
	client *awssqs.Client
	url    string
	fifo   bool
	now    func() time.Time
}

var _ ports.Queue = (*Queue)(nil)

// NewQueue returns the queue at url. A FIFO queue (.fifo) gets a message
// group per transformation, so one slow job never blocks another.
func NewQueue(client *awssqs.Client, url string) *Queue {
	return &Queue{client: client, url: url, fifo: strings.HasSuffix(url, ".fifo"), now: time.Now}
}

// Enqueue implements ports.Queue. On a FIFO queue the deduplication id is
// fixed per call, so the SDK's own retries of the send never duplicate it,
// while a later Enqueue (a retry from FAILED, a sweeper nudge) is never
// swallowed by SQS's five-minute deduplication window.
func (q *Queue) Enqueue(ctx context.Context, job ports.Job) error {
	return q.send(ctx, job, 0)
}

// ErrFIFONoDelay is EnqueueAfter's error on a FIFO queue, which delays
// whole queues, not single messages.
var ErrFIFONoDelay = errors.New("a FIFO queue cannot delay one message")

// MaxEnqueueDelay is the longest delay SQS gives one message.
const MaxEnqueueDelay = 15 * time.Minute

// EnqueueAfter sends job as a new message that becomes visible after d
// (whole seconds, at most MaxEnqueueDelay). Unlike a failed delivery, a new
// message starts its receive count over: the workers send a job deferred
// by a busy workspace this way, so waiting for capacity never walks it
// toward the dead-letter queue. ErrFIFONoDelay on a FIFO queue.
func (q *Queue) EnqueueAfter(ctx context.Context, job ports.Job, d time.Duration) error {
	if q.fifo {
		return ErrFIFONoDelay
	}
	return q.send(ctx, job, min(max(d, 0), MaxEnqueueDelay))
}

func (q *Queue) send(ctx context.Context, job ports.Job, delay time.Duration) error {
	body, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	now := q.now().UnixMilli()
	in := &awssqs.SendMessageInput{
		QueueUrl:    aws.String(q.url),
		MessageBody: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			EnqueuedAtAttribute: {DataType: aws.String("Number"), StringValue: aws.String(strconv.FormatInt(now, 10))},
		},
		DelaySeconds: int32(delay / time.Second),
	}
	if q.fifo {
		in.MessageGroupId = aws.String(job.DedupKey())
		in.MessageDeduplicationId = aws.String(job.DedupKey() + "-" + strconv.FormatInt(now, 36))
	}
	if _, err := q.client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("enqueue transformation %s: %w", job.TransformationID, err)
	}
	return nil
}

// Delay hides a received message for d (rounded down to whole seconds, at
// most SQS's 12 hours) from now: the Lambda worker uses it to bring a
// failed record back after a backoff instead of the queue's whole
// visibility timeout.
func (q *Queue) Delay(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := min(max(d/time.Second, 0), 12*60*60)
	_, err := q.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.url),
		ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: int32(secs)})
	if err != nil {
		return fmt.Errorf("sqs change visibility: %w", err)
	}
	return nil
}
