package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// ConsumerOptions tunes Consumer. Zero values take the defaults.
type ConsumerOptions struct {
	// WaitTime is the long poll of one ReceiveMessage: an idle consumer
	// gets a job as soon as it arrives, with one request per WaitTime
	// (default and maximum 20s).
	WaitTime time.Duration
	// VisibilityTimeout hides a received message from other consumers;
	// it is extended every half of it while the job runs, so a long job is
	// not delivered twice (default 60s).
	VisibilityTimeout time.Duration
	// RetryDelay is how long a failed job stays hidden before its next
	// delivery, given how many times it has been received (default
	// DefaultRetryDelay). SQS counts whole seconds.
	RetryDelay func(receiveCount int) time.Duration
	// ShutdownTimeout is how long running handlers may take to finish once
	// Run's ctx is done; then their contexts are cancelled (default 10s).
	ShutdownTimeout time.Duration
	// HoldWindow is how long a finished transformation is remembered to
	// drop copies enqueued before it finished (default 15m).
	HoldWindow time.Duration
	// DeferDelay is how long a job deferred by its busy workspace
	// (ports.ErrDeferred) waits before it is delivered again (default 5s).
	DeferDelay time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultRetryDelay backs off exponentially: 2, 4, 8 ... seconds, at most
// five minutes.
func DefaultRetryDelay(receiveCount int) time.Duration {
	return min(5*time.Minute, time.Second<<min(max(receiveCount, 1), 9))
}

// Consumer delivers the jobs of an SQS queue to a ports.JobHandler with a
// long-poll ReceiveMessage loop: a job that succeeds (or finds nothing to
// do) is deleted, one that fails is hidden for RetryDelay and delivered
// again; the queue's redrive policy bounds the deliveries.
type Consumer struct {
	client *awssqs.Client
	url    string
	opts   ConsumerOptions
	holds  *holds
	queue  *Queue // sends deferred jobs again
}

var _ ports.Consumer = (*Consumer)(nil)

// NewConsumer returns a consumer of the queue at url.
func NewConsumer(client *awssqs.Client, url string, opts ConsumerOptions) *Consumer {
	if opts.WaitTime <= 0 || opts.WaitTime > 20*time.Second {
		opts.WaitTime = 20 * time.Second
	}
	if opts.VisibilityTimeout < 2*time.Second {
		opts.VisibilityTimeout = 60 * time.Second
	}
	if opts.RetryDelay == nil {
		opts.RetryDelay = DefaultRetryDelay
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	if opts.HoldWindow <= 0 {
		opts.HoldWindow = 15 * time.Minute
	}
	if opts.DeferDelay <= 0 {
		opts.DeferDelay = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Consumer{client: client, url: url, opts: opts, holds: newHolds(opts.HoldWindow), queue: NewQueue(client, url)}
}

// maxBatch is the most messages one ReceiveMessage returns.
const maxBatch = 10

// Run implements ports.Consumer. It receives only as many messages as it
// has free handlers, so a message never waits hidden behind a busy one.
// Once ctx is done it stops receiving and waits for the running handlers,
// cancelling their contexts after ShutdownTimeout.
func (c *Consumer) Run(ctx context.Context, concurrency int, handle ports.JobHandler) error {
	concurrency = max(concurrency, 1)
	// Handler contexts outlive ctx through the graceful shutdown.
	base, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	slots := make(chan struct{}, concurrency)
	var running sync.WaitGroup
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		n := 1 + takeFree(slots, min(concurrency, maxBatch)-1)
		msgs, err := c.receive(ctx, n)
		for range n - len(msgs) {
			<-slots
		}
		if err != nil {
			if ctx.Err() == nil {
				c.opts.Logger.Warn("sqs receive", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		for _, m := range msgs {
			running.Go(func() {
				defer func() { <-slots }()
				c.process(base, m, handle)
			})
		}
	}
	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(c.opts.ShutdownTimeout):
		abort()
		<-done
	}
	return nil
}

// takeFree takes up to n more slots without waiting and returns how many.
func takeFree(slots chan struct{}, n int) int {
	for i := range n {
		select {
		case slots <- struct{}{}:
		default:
			return i
		}
	}
	return max(n, 0)
}

func (c *Consumer) receive(ctx context.Context, n int) ([]types.Message, error) {
	out, err := c.client.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(c.url),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             int32(c.opts.WaitTime / time.Second),
		VisibilityTimeout:           int32(c.opts.VisibilityTimeout / time.Second),
		MessageAttributeNames:       []string{EnqueuedAtAttribute},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

func (c *Consumer) process(ctx context.Context, m types.Message, handle ports.JobHandler) {
	log := c.opts.Logger.With("message_id", aws.ToString(m.MessageId))
	var job ports.Job
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &job); err != nil || job.TransformationID == uuid.Nil {
		// No retry can fix it: it stays hidden until the redrive policy
		// moves it to the dead-letter queue.
		log.Error("sqs message is not a transformation job", "err", err)
		return
	}
	log = log.With("transformation_id", job.TransformationID)
	key := job.DedupKey()
	sent, hasSent := enqueuedAt(m)
	if !c.holds.begin(key, sent, hasSent) {
		log.Debug("dropping a copy of a transformation held here")
		c.delete(ctx, m, log)
		return
	}
	stopHiding := c.keepHidden(ctx, m, log)
	err := handle(ctx, job)
	stopHiding()
	if err == nil || errors.Is(err, core.ErrNotFound) {
		c.holds.finish(key, time.Now())
		c.delete(ctx, m, log)
		return
	}
	c.holds.abandon(key)
	if errors.Is(err, ports.ErrDeferred) && c.resend(ctx, m, job, log) {
		return
	}
	count, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	delay := c.opts.RetryDelay(count)
	log.Warn("transformation job failed; retrying later", "err", err, "receive_count", count, "retry_in", delay)
	c.setVisibility(ctx, m, delay, log)
}

// resend sends a job deferred by its busy workspace again, as a new
// message visible after DeferDelay, and deletes m: a new message starts its
// receive count over, so waiting for capacity never walks the job toward the
// dead-letter queue. False when that can't be done (a FIFO queue, a failed
// send): m is then retried as a failure.
func (c *Consumer) resend(ctx context.Context, m types.Message, job ports.Job, log *slog.Logger) bool {
	if err := c.queue.EnqueueAfter(ctx, job, c.opts.DeferDelay); err != nil {
		if !errors.Is(err, ErrFIFONoDelay) {
			log.Warn("send a deferred job again", "err", err)
		}
		return false
	}
	log.Debug("job deferred: its workspace is busy", "retry_in", c.opts.DeferDelay)
	c.delete(ctx, m, log)
	return true
}

// keepHidden extends the message's visibility while its job runs.
func (c *Consumer) keepHidden(ctx context.Context, m types.Message, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.opts.VisibilityTimeout / 2)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.setVisibility(ctx, m, c.opts.VisibilityTimeout, log)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// boundary is the deadline of the delete and visibility calls, which run
// even while the consumer shuts down.
const boundary = 10 * time.Second

func (c *Consumer) delete(ctx context.Context, m types.Message, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), boundary)
	defer cancel()
	if _, err := c.client.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(c.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		// The message comes back after its visibility timeout; the
		// worker's claim makes the second delivery a no-op.
		log.Warn("sqs delete", "err", err)
	}
}

func (c *Consumer) setVisibility(ctx context.Context, m types.Message, d time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), boundary)
	defer cancel()
	_, err := c.client.ChangeMessageVisibility(ctx, &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(c.url),
		ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: int32(d / time.Second)})
	if err != nil {
		log.Warn("sqs change visibility", "err", err)
	}
}

func enqueuedAt(m types.Message) (time.Time, bool) {
	a, ok := m.MessageAttributes[EnqueuedAtAttribute]
	if !ok {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(aws.ToString(a.StringValue), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// holds tracks the jobs (by ports.Job.DedupKey) this consumer runs and when
// it last finished each, to drop the copies that SQS cannot deduplicate.
type holds struct {
	mu        sync.Mutex
	running   map[string]struct{}
	finished  map[string]time.Time
	window    time.Duration
	lastPrune time.Time
}

func newHolds(window time.Duration) *holds {
	return &holds{running: map[string]struct{}{}, finished: map[string]time.Time{}, window: window}
}

// begin reports whether a copy enqueued at sent should run: not while the
// transformation runs here, nor when it finished here after sent.
func (h *holds) begin(id string, sent time.Time, hasSent bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.running[id]; ok {
		return false
	}
	if f, ok := h.finished[id]; ok && hasSent && sent.Before(f) {
		return false
	}
	h.running[id] = struct{}{}
	return true
}

func (h *holds) finish(id string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.running, id)
	h.finished[id] = now
	if now.Sub(h.lastPrune) > h.window/4 {
		h.lastPrune = now
		for k, f := range h.finished {
			if now.Sub(f) > h.window {
				delete(h.finished, k)
			}
		}
	}
}

func (h *holds) abandon(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.running, id)
}
