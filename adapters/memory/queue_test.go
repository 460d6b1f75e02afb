package memory

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

const queueTestWait = 10 * time.Second

func fastQueue(opts QueueOptions) *Queue {
	if opts.Backoff == nil {
		opts.Backoff = func(int) time.Duration { return 20 * time.Millisecond }
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = time.Second
	}
	return NewQueue(opts)
}

func TestQueue(t *testing.T) {
	t.Parallel()
	porttest.TestQueue(t, func(t *testing.T) (ports.Queue, ports.Consumer) {
		q := fastQueue(QueueOptions{})
		return q, q
	})
}

// runQueue runs q until the test ends and waits for Run to return.
func runQueue(t *testing.T, q *Queue, concurrency int, handle ports.JobHandler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, concurrency, handle) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(queueTestWait):
			t.Error("Run did not return")
		}
	})
}

func TestQueueGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{MaxRetries: 2})
	var calls atomic.Int32
	runQueue(t, q, 1, func(context.Context, ports.Job) error {
		calls.Add(1)
		return errors.New("always failing")
	})
	job := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.Eventually(t, func() bool { return q.Stats().Failed == 1 }, queueTestWait, time.Millisecond)
	require.EqualValues(t, 3, calls.Load(), "the first attempt and two retries")
	require.Equal(t, QueueStats{Failed: 1}, q.Stats())

	// A failed job no longer holds its transformation.
	require.NoError(t, q.Enqueue(t.Context(), job))
	require.Eventually(t, func() bool { return q.Stats().Failed == 2 }, queueTestWait, time.Millisecond)
	require.EqualValues(t, 6, calls.Load())
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{Backoff: func(int) time.Duration { return time.Hour }})
	gate := make(chan struct{})
	started := make(chan struct{}, 1)
	runQueue(t, q, 1, func(ctx context.Context, j ports.Job) error {
		started <- struct{}{}
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.WorkspaceID == uuid.Nil {
			return errors.New("retry me")
		}
		return nil
	})
	ok := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	failing := ports.Job{TransformationID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), failing))
	require.NoError(t, q.Enqueue(t.Context(), ok))
	<-started
	require.Equal(t, QueueStats{Pending: 1, Running: 1}, q.Stats())
	close(gate)
	require.Eventually(t, func() bool { return q.Stats().Processed == 1 }, queueTestWait, time.Millisecond)
	require.Equal(t, QueueStats{Retrying: 1, Processed: 1}, q.Stats(), "the failing job waits an hour for its retry")
}

func TestQueueTimeoutCancelsTheHandler(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{Timeout: 50 * time.Millisecond, MaxRetries: -1})
	errs := make(chan error, 1)
	runQueue(t, q, 1, func(ctx context.Context, _ ports.Job) error {
		<-ctx.Done()
		errs <- ctx.Err()
		return ctx.Err()
	})
	require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New()}))
	select {
	case err := <-errs:
		require.ErrorIs(t, err, context.DeadlineExceeded)
	case <-time.After(queueTestWait):
		t.Fatal("the handler's context was not cancelled")
	}
	require.Eventually(t, func() bool { return q.Stats().Failed == 1 }, queueTestWait, time.Millisecond)
}

func TestQueueRecoversFromPanics(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{})
	var calls atomic.Int32
	runQueue(t, q, 1, func(context.Context, ports.Job) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New()}))
	require.Eventually(t, func() bool { return q.Stats().Processed == 1 }, queueTestWait, time.Millisecond)
	require.EqualValues(t, 2, calls.Load(), "the panic counts as a failure and is retried")
}

// A handler still running when the shutdown grace period ends has its
// context cancelled, and its job goes back to the queue for the next Run
// without using a retry.
func TestQueueShutdownRequeuesAbortedJobs(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{ShutdownTimeout: 20 * time.Millisecond, MaxRetries: -1})
	job := ports.Job{TransformationID: uuid.New()}
	require.NoError(t, q.Enqueue(t.Context(), job))
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- q.Run(ctx, 1, func(ctx context.Context, _ ports.Job) error {
			close(started)
			<-ctx.Done() // ignores the shutdown until aborted
			return ctx.Err()
		})
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(queueTestWait):
		t.Fatal("Run did not return")
	}
	require.Equal(t, QueueStats{Pending: 1}, q.Stats())

	var got atomic.Value
	runQueue(t, q, 1, func(_ context.Context, j ports.Job) error {
		got.Store(j)
		return nil
	})
	require.Eventually(t, func() bool { return q.Stats().Processed == 1 }, queueTestWait, time.Millisecond)
	require.Equal(t, job, got.Load())
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	for attempt, want := range map[int]time.Duration{
		1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second,
		6: 30 * time.Second, 7: 30 * time.Second, 100: 30 * time.Second,
	} {
		require.Equal(t, want, DefaultBackoff(attempt), "attempt %d", attempt)
	}
}

// A deferred job (its workspace is busy) comes back without spending a
// retry, however often it is deferred.
func TestQueueDeferredJobsDoNotSpendRetries(t *testing.T) {
	t.Parallel()
	q := fastQueue(QueueOptions{MaxRetries: 1})
	var calls atomic.Int32
	runQueue(t, q, 1, func(context.Context, ports.Job) error {
		if calls.Add(1) <= 5 {
			return fmt.Errorf("busy: %w", ports.ErrDeferred)
		}
		return nil
	})
	require.NoError(t, q.Enqueue(t.Context(), ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}))
	require.Eventually(t, func() bool { return q.Stats().Processed == 1 }, queueTestWait, time.Millisecond)
	require.EqualValues(t, 6, calls.Load(), "five deferrals, then the run; MaxRetries 1 would have given up after two")
	require.Zero(t, q.Stats().Failed)
}
