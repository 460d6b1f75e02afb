package asynqueue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/asynqueue"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

const testWait = 15 * time.Second

// fixture is one test's queue: a unique asynq queue name, deleted at
// cleanup with everything in it.
type fixture struct {
	redis     asynq.RedisConnOpt
	client    *asynq.Client
	inspector *asynq.Inspector
	name      string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	r, err := asynq.ParseRedisURI(testinfra.RedisURL(t))
	require.NoError(t, err)
	// Skips (or fails in CI) when Redis does not answer.
	rc := testinfra.RedisClient(t)
	f := fixture{redis: r, client: asynq.NewClient(r), inspector: asynq.NewInspector(r),
		name: testinfra.AsynqQueue(t, rc, "test-")}
	t.Cleanup(func() {
		_ = f.inspector.Close()
		_ = f.client.Close()
	})
	return f
}

func (f fixture) queue(opts asynqueue.QueueOptions) *asynqueue.Queue {
	opts.Queue = f.name
	if opts.Inspector == nil {
		opts.Inspector = f.inspector
	}
	return asynqueue.NewQueue(f.client, opts)
}

func (f fixture) consumer() *asynqueue.Consumer {
	return asynqueue.NewConsumer(f.redis, asynqueue.ConsumerOptions{
		Queue:                    f.name,
		RetryDelay:               func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond },
		PollInterval:             10 * time.Millisecond,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		ShutdownTimeout:          2 * time.Second,
		Logger:                   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

func TestQueue(t *testing.T) {
	t.Parallel()
	porttest.TestQueue(t, func(t *testing.T) (ports.Queue, ports.Consumer) {
		f := newFixture(t)
		return f.queue(asynqueue.QueueOptions{}), f.consumer()
	})
}

func runConsumer(t *testing.T, c *asynqueue.Consumer, handle ports.JobHandler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 2, handle) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(testWait):
			t.Error("Run did not return")
		}
	})
}

// The task carries the job as JSON, with the transformation id as task id
// and the configured retry limit and timeout.
func TestEnqueueTask(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := f.queue(asynqueue.QueueOptions{MaxRetry: 7, Timeout: 42 * time.Second})
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.NoError(t, q.Enqueue(t.Context(), job), "a duplicate is a no-op")

	info, err := f.inspector.GetTaskInfo(f.name, job.TransformationID.String())
	require.NoError(t, err)
	require.Equal(t, asynqueue.TaskType, info.Type)
	require.Equal(t, 7, info.MaxRetry)
	require.Equal(t, 42*time.Second, info.Timeout)
	require.Equal(t, asynq.TaskStatePending, info.State)
	var got ports.Job
	require.NoError(t, json.Unmarshal(info.Payload, &got))
	require.Equal(t, job, got)
	qi, err := f.inspector.GetQueueInfo(f.name)
	require.NoError(t, err)
	require.Equal(t, 1, qi.Pending, "one task for two enqueues")
}

// A task that ran out of retries is archived; enqueueing the
// transformation again (a retry from FAILED) replaces it and runs it.
func TestEnqueueReplacesArchivedTask(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := f.queue(asynqueue.QueueOptions{MaxRetry: -1})
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	var calls atomic.Int32
	runConsumer(t, f.consumer(), func(context.Context, ports.Job) error {
		if calls.Add(1) == 1 {
			return errors.New("fails for good")
		}
		return nil
	})
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.Eventually(t, func() bool {
		info, err := f.inspector.GetTaskInfo(f.name, job.TransformationID.String())
		return err == nil && info.State == asynq.TaskStateArchived
	}, testWait, 5*time.Millisecond, "archived without retries")

	require.NoError(t, q.Enqueue(t.Context(), job))
	require.Eventually(t, func() bool { return calls.Load() == 2 }, testWait, 5*time.Millisecond, "run again")
	require.Eventually(t, func() bool {
		_, err := f.inspector.GetTaskInfo(f.name, job.TransformationID.String())
		return errors.Is(err, asynq.ErrTaskNotFound)
	}, testWait, 5*time.Millisecond, "done tasks are deleted")
}

// Without an inspector, a conflicting id is always a no-op.
func TestEnqueueWithoutInspector(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := asynqueue.NewQueue(f.client, asynqueue.QueueOptions{Queue: f.name})
	job := ports.Job{TransformationID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.NoError(t, q.Enqueue(t.Context(), job))
}

// A payload that is not a job is archived at once: no retry can fix it.
func TestMalformedPayloadIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var calls atomic.Int32
	runConsumer(t, f.consumer(), func(context.Context, ports.Job) error {
		calls.Add(1)
		return nil
	})
	info, err := f.client.Enqueue(asynq.NewTask(asynqueue.TaskType, []byte("not json")),
		asynq.Queue(f.name), asynq.MaxRetry(5))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := f.inspector.GetTaskInfo(f.name, info.ID)
		return err == nil && got.State == asynq.TaskStateArchived
	}, testWait, 5*time.Millisecond)
	got, err := f.inspector.GetTaskInfo(f.name, info.ID)
	require.NoError(t, err)
	require.Zero(t, got.Retried)
	require.Zero(t, calls.Load())
}

// A deferred job comes back without spending one of its retries.
func TestDeferredJobsDoNotSpendRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	q := f.queue(asynqueue.QueueOptions{MaxRetry: 1})
	var calls atomic.Int32
	done := make(chan struct{})
	runConsumer(t, f.consumer(), func(context.Context, ports.Job) error {
		n := calls.Add(1)
		if n <= 4 {
			return fmt.Errorf("busy: %w", ports.ErrDeferred)
		}
		if n == 5 {
			close(done)
		}
		return nil
	})
	require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}))
	select {
	case <-done:
	case <-time.After(testWait):
		t.Fatalf("the job ran %d times and was given up (MaxRetry 1 counts deferrals?)", calls.Load())
	}
}

// The module's graph is complete given its Config and a logger.
func TestModule(t *testing.T) {
	t.Parallel()
	err := fx.ValidateApp(asynqueue.Module,
		fx.Supply(asynqueue.Config{RedisURL: "redis://127.0.0.1:6379/0", Queue: "q"}),
		fx.Supply(slog.New(slog.NewTextHandler(io.Discard, nil))),
		fx.Invoke(func(ports.Queue, ports.Consumer) {}))
	require.NoError(t, err)
}
