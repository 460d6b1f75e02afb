package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// queueWait bounds every wait of the queue suite.
const queueWait = 15 * time.Second

// TestQueue is the contract of ports.Queue with its ports.Consumer.
// newQueue returns a fresh, empty queue and a consumer of it; it must
// configure at least one retry, a short constant retry delay (well under a
// second) and a short poll interval. Subtests run in parallel.
//
// Beyond the port's doc, adapters agree that a transformation is held from
// Enqueue until its job finishes: enqueueing it again while it is queued,
// waiting for a retry or running does nothing.
func TestQueue(t *testing.T, newQueue func(t *testing.T) (ports.Queue, ports.Consumer)) {
	t.Helper()

	t.Run("every job is handled once", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		const n = 50
		rec := newJobRecorder()
		jobs := make([]ports.Job, n)
		for i := range jobs {
			jobs[i] = newJob()
			require.NoError(t, q.Enqueue(t.Context(), jobs[i]))
		}
		stop := runConsumer(t, c, 4, rec.handle(nil))
		rec.waitDistinct(t, n)
		stop()
		for _, j := range jobs {
			require.Equal(t, 1, rec.count(j.TransformationID), "job %s", j.TransformationID)
			require.Equal(t, j, rec.job(j.TransformationID), "the job arrives intact")
		}
	})

	t.Run("jobs enqueued while running are handled", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		stop := runConsumer(t, c, 2, rec.handle(nil))
		defer stop()
		for range 5 {
			require.NoError(t, q.Enqueue(t.Context(), newJob()))
		}
		rec.waitDistinct(t, 5)
	})

	t.Run("a duplicate enqueue while queued runs once", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		dup, marker := newJob(), newJob()
		require.NoError(t, q.Enqueue(t.Context(), dup))
		require.NoError(t, q.Enqueue(t.Context(), dup), "a duplicate is not an error")
		require.NoError(t, q.Enqueue(t.Context(), marker))
		stop := runConsumer(t, c, 1, rec.handle(nil))
		defer stop()
		// One worker takes jobs in order: once the marker is handled, a
		// second copy of dup would have been handled before it.
		rec.waitFor(t, marker.TransformationID, 1)
		require.Equal(t, 1, rec.count(dup.TransformationID))
	})

	t.Run("a duplicate enqueue while running is dropped", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		dup, marker := newJob(), newJob()
		started, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		stop := runConsumer(t, c, 1, rec.handle(func(ctx context.Context, j ports.Job) error {
			if j == dup {
				once.Do(func() { close(started) })
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}))
		defer stop()
		require.NoError(t, q.Enqueue(t.Context(), dup))
		waitClosed(t, started, "the job starts")
		require.NoError(t, q.Enqueue(t.Context(), dup), "a duplicate is not an error")
		close(release)
		rec.waitFor(t, dup.TransformationID, 1)
		require.NoError(t, q.Enqueue(t.Context(), marker))
		rec.waitFor(t, marker.TransformationID, 1)
		require.Equal(t, 1, rec.count(dup.TransformationID))

		// Once finished, the transformation may be enqueued again.
		require.NoError(t, q.Enqueue(t.Context(), dup))
		rec.waitFor(t, dup.TransformationID, 2)
	})

	t.Run("a failing job is retried until it succeeds", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		flaky := newJob()
		stop := runConsumer(t, c, 2, rec.handle(func(_ context.Context, j ports.Job) error {
			if rec.count(j.TransformationID) == 1 {
				return errors.New("transient failure")
			}
			return nil
		}))
		defer stop()
		require.NoError(t, q.Enqueue(t.Context(), flaky))
		rec.waitFor(t, flaky.TransformationID, 2)
	})

	t.Run("not found is not retried", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		gone, flaky := newJob(), newJob()
		stop := runConsumer(t, c, 1, rec.handle(func(_ context.Context, j ports.Job) error {
			switch {
			case j == gone:
				return fmt.Errorf("claim: %w", core.ErrNotFound)
			case rec.count(j.TransformationID) == 1:
				return errors.New("transient failure")
			}
			return nil
		}))
		defer stop()
		require.NoError(t, q.Enqueue(t.Context(), gone))
		rec.waitFor(t, gone.TransformationID, 1)
		// flaky's retry waits the same constant delay as a retry of gone
		// would have, started later: once flaky is retried, gone would
		// have been too.
		require.NoError(t, q.Enqueue(t.Context(), flaky))
		rec.waitFor(t, flaky.TransformationID, 2)
		require.Equal(t, 1, rec.count(gone.TransformationID))
	})

	t.Run("concurrency is respected", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		rec := newJobRecorder()
		const limit, n = 3, 8
		gate := make(chan struct{})
		var running, peak atomic.Int32
		stop := runConsumer(t, c, limit, rec.handle(func(ctx context.Context, _ ports.Job) error {
			now := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if now <= p || peak.CompareAndSwap(p, now) {
					break
				}
			}
			select {
			case <-gate:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}))
		defer stop()
		for range n {
			require.NoError(t, q.Enqueue(t.Context(), newJob()))
		}
		require.Eventually(t, func() bool { return running.Load() == limit }, queueWait, time.Millisecond,
			"the consumer reaches its concurrency")
		close(gate)
		rec.waitDistinct(t, n)
		require.EqualValues(t, limit, peak.Load(), "never more than the concurrency at once")
	})

	t.Run("run returns after ctx is done once handlers have returned", func(t *testing.T) {
		t.Parallel()
		q, c := newQueue(t)
		job := newJob()
		started, release := make(chan struct{}), make(chan struct{})
		var handlerReturned atomic.Bool
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		runReturned := make(chan error, 1)
		go func() {
			runReturned <- c.Run(ctx, 2, func(_ context.Context, _ ports.Job) error {
				close(started)
				<-release
				handlerReturned.Store(true)
				return nil
			})
		}()
		require.NoError(t, q.Enqueue(t.Context(), job))
		waitClosed(t, started, "the job starts")
		cancel()
		close(release)
		select {
		case err := <-runReturned:
			require.NoError(t, err)
		case <-time.After(queueWait):
			t.Fatal("Run did not return after its ctx was done")
		}
		require.True(t, handlerReturned.Load(), "Run waits for the running handler")
	})

	t.Run("run returns promptly when idle", func(t *testing.T) {
		t.Parallel()
		_, c := newQueue(t)
		stop := runConsumer(t, c, 4, func(context.Context, ports.Job) error { return nil })
		stop()
	})
}

func newJob() ports.Job {
	return ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
}

// runConsumer runs c in the background; the returned stop cancels it and
// fails the test unless Run returns nil within queueWait. Calling stop
// again is harmless, and it is also called at cleanup.
func runConsumer(t *testing.T, c ports.Consumer, concurrency int, handle ports.JobHandler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, concurrency, handle) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err, "Run")
			case <-time.After(queueWait):
				t.Error("Run did not return after its ctx was done")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(queueWait):
		t.Fatalf("timed out waiting: %s", what)
	}
}

// jobRecorder counts deliveries per transformation.
type jobRecorder struct {
	mu     sync.Mutex
	counts map[uuid.UUID]int
	jobs   map[uuid.UUID]ports.Job
}

func newJobRecorder() *jobRecorder {
	return &jobRecorder{counts: map[uuid.UUID]int{}, jobs: map[uuid.UUID]ports.Job{}}
}

// handle records each delivery before calling then (nil: succeed).
func (r *jobRecorder) handle(then ports.JobHandler) ports.JobHandler {
	return func(ctx context.Context, j ports.Job) error {
		r.mu.Lock()
		r.counts[j.TransformationID]++
		r.jobs[j.TransformationID] = j
		r.mu.Unlock()
		if then == nil {
			return nil
		}
		return then(ctx, j)
	}
}

func (r *jobRecorder) count(id uuid.UUID) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[id]
}

func (r *jobRecorder) job(id uuid.UUID) ports.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.jobs[id]
}

func (r *jobRecorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.counts)
}

// waitFor waits until id has been delivered n times. The handler called
// last may still be running: recording happens before it.
func (r *jobRecorder) waitFor(t *testing.T, id uuid.UUID, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.count(id) >= n }, queueWait, time.Millisecond,
		"job %s delivered %d times", id, n)
}

func (r *jobRecorder) waitDistinct(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.distinct() >= n }, queueWait, time.Millisecond,
		"%d distinct jobs delivered", n)
}
