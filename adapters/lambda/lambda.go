// Package lambda is the driving adapter of the Lambda deployment: API
// Gateway HTTP API (payload format 2.0) events served by the platform's
// http.Handler, and SQS batches run by the transformation worker with
// partial batch responses (ReportBatchItemFailures).
//
// Responses are buffered by API Gateway: the streaming routes (SSE and
// WebSocket) have no use there; clients poll the transformation instead.
package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// API serves API Gateway HTTP API events through an http.Handler.
type API struct {
	proxy *httpadapter.HandlerAdapterV2
}

// NewAPI returns the API Gateway front of h.
func NewAPI(h http.Handler) *API { return &API{proxy: httpadapter.NewV2(h)} }

// Handle turns the event into a request (the caller's IP from the request
// context as RemoteAddr), serves it and returns the buffered response.
func (a *API) Handle(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.proxy.ProxyWithContext(ctx, e)
}

// SQSWorkerOptions tunes SQSWorker. Zero values take the defaults.
type SQSWorkerOptions struct {
	// Concurrency is how many records of a batch run at once (default:
	// the whole batch).
	Concurrency int
	// Reserve is kept back from the invocation's deadline so that a job
	// cut short can put its transformation back to PENDING and the batch
	// response still reaches Lambda (default 5s, at most a fifth of the
	// time left).
	Reserve time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Retry, when set, brings a failed record back after RetryBackoff
	// instead of the queue's whole visibility timeout (which must cover
	// the longest run, so it is long).
	Retry VisibilityDelayer
	// RetryBackoff is the wait before delivery number receiveCount+1
	// (default 5s doubling per receive, at most 5 minutes; 5s for a
	// deferred job).
	RetryBackoff func(receiveCount int, err error) time.Duration
	// Resend, when set, sends a job deferred by its busy workspace
	// (ports.ErrDeferred) again as a new message after RetryBackoff, and
	// the record succeeds: a redelivered record's receive count grows
	// toward the dead-letter queue's maxReceiveCount, a new message's
	// starts over. Without it, or when the send fails, the record fails.
	Resend DelayedEnqueuer
}

// VisibilityDelayer hides a received SQS message for a while (sqs.Queue).
type VisibilityDelayer interface {
	Delay(ctx context.Context, receiptHandle string, d time.Duration) error
}

// DelayedEnqueuer sends a job as a new message visible after a delay
// (sqs.Queue).
type DelayedEnqueuer interface {
	EnqueueAfter(ctx context.Context, job ports.Job, d time.Duration) error
}

// DefaultRetryBackoff waits 5s, 10s, 20s, ... up to 5 minutes by receive
// count, and 5s for a deferred job (its workspace was busy).
func DefaultRetryBackoff(receiveCount int, err error) time.Duration {
	if errors.Is(err, ports.ErrDeferred) || receiveCount < 1 {
		return 5 * time.Second
	}
	return min(5*time.Second<<min(receiveCount-1, 10), 5*time.Minute)
}

// SQSWorker runs the transformation jobs of an SQS batch.
type SQSWorker struct {
	handle ports.JobHandler
	opts   SQSWorkerOptions
}

// NewSQSWorker returns the SQS front of handle (the worker's Handle).
func NewSQSWorker(handle ports.JobHandler, opts SQSWorkerOptions) *SQSWorker {
	if opts.Reserve <= 0 {
		opts.Reserve = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RetryBackoff == nil {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	return &SQSWorker{handle: handle, opts: opts}
}

// Handle runs every record of the batch and reports the failed ones
// alone, so SQS redelivers only those (after their visibility timeout,
// until the queue's redrive policy moves them to the dead-letter queue).
// A record whose handler returns nil or core.ErrNotFound (a duplicate
// delivery, a cancelled job) succeeds; any other error fails it. A body
// that is not a job fails too, and ends up in the dead-letter queue for a
// person to look at.
func (w *SQSWorker) Handle(ctx context.Context, e events.SQSEvent) (events.SQSEventResponse, error) {
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(w.opts.Reserve, time.Until(deadline)/5)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	limit := w.opts.Concurrency
	if limit <= 0 {
		limit = max(len(e.Records), 1)
	}
	failed := make([]bool, len(e.Records))
	slots := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i, r := range e.Records {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := w.run(ctx, r); err != nil && !w.resent(ctx, r, err) {
				failed[i] = true
				w.opts.Logger.WarnContext(ctx, "sqs record failed; SQS delivers it again", "message_id", r.MessageId, "err", err)
				w.scheduleRetry(ctx, r, err)
			}
		})
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, r := range e.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// scheduleRetry shortens a failed record's wait to its backoff. A record
// that is not a job keeps the queue's timeout: only the dead-letter queue
// can help it. Best effort: on error the record comes back after the
// queue's visibility timeout.
func (w *SQSWorker) scheduleRetry(ctx context.Context, r events.SQSMessage, err error) {
	if w.opts.Retry == nil || errors.Is(err, ErrNotAJob) {
		return
	}
	ctx, cancel := sqsCallContext(ctx)
	defer cancel()
	if derr := w.opts.Retry.Delay(ctx, r.ReceiptHandle, w.backoff(r, err)); derr != nil {
		w.opts.Logger.WarnContext(ctx, "shorten the retry wait of an sqs record", "message_id", r.MessageId, "err", derr)
	}
}

// backoff is the wait before the record's next delivery.
func (w *SQSWorker) backoff(r events.SQSMessage, err error) time.Duration {
	received, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	return w.opts.RetryBackoff(received, err)
}

// sqsCallContext bounds a call to SQS made after a record's run, which
// outlives the invocation's context if that ended.
func sqsCallContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
}

// resent reports whether the record failed only because its workspace was
// busy and its job was sent again as a new message (Resend).
func (w *SQSWorker) resent(ctx context.Context, r events.SQSMessage, err error) bool {
	var deferred *deferredJob
	if w.opts.Resend == nil || !errors.As(err, &deferred) {
		return false
	}
	ctx, cancel := sqsCallContext(ctx)
	defer cancel()
	if rerr := w.opts.Resend.EnqueueAfter(ctx, deferred.job, w.backoff(r, err)); rerr != nil {
		w.opts.Logger.WarnContext(ctx, "send a deferred job again", "message_id", r.MessageId, "err", rerr)
		return false
	}
	return true
}

// deferredJob is run's error for a job its worker deferred
// (ports.ErrDeferred), carrying the job.
type deferredJob struct {
	job ports.Job
	err error
}

func (e *deferredJob) Error() string {
	return fmt.Sprintf("transformation %s: %v", e.job.TransformationID, e.err)
}
func (e *deferredJob) Unwrap() error { return e.err }

// ErrNotAJob is the failure of a record whose body is not a job.
var ErrNotAJob = errors.New("the message is not a transformation job")

func (w *SQSWorker) run(ctx context.Context, r events.SQSMessage) error {
	var job ports.Job
	if err := json.Unmarshal([]byte(r.Body), &job); err != nil || job.TransformationID == uuid.Nil {
		return fmt.Errorf("%w: %w", ErrNotAJob, err)
	}
	err := w.handle(ctx, job)
	if err == nil || errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if errors.Is(err, ports.ErrDeferred) {
		return &deferredJob{job: job, err: err}
	}
	return fmt.Errorf("transformation %s: %w", job.TransformationID, err)
}
