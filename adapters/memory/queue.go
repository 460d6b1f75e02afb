package memory

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// QueueOptions tunes the in-process queue. Zero values take the defaults.
type QueueOptions struct {
	// MaxRetries is how many times a failing job is delivered again after
	// its first attempt (so MaxRetries+1 attempts in all), as asynq counts.
	// Default 3; negative means no retries.
	MaxRetries int
	// Backoff is the delay before retry number attempt (1-based). Default:
	// 1s, 2s, 4s, ... capped at 30s.
	Backoff func(attempt int) time.Duration
	// Timeout bounds one handler call through its context. Default 5m.
	Timeout time.Duration
	// ShutdownTimeout is how long Run waits, once its ctx is done, for
	// running handlers to finish on their own before cancelling their
	// contexts (and then waiting for them to return). Default 10s.
	ShutdownTimeout time.Duration
}

// QueueStats is a snapshot of the queue for /api/system/queue.
type QueueStats struct {
	Pending   int `json:"pending"`
	Running   int `json:"running"`
	Retrying  int `json:"retrying"`
	Processed int `json:"processed"`
	Failed    int `json:"failed"`
}

// Queue is an in-process job queue and worker pool: the default when
// REDIS_URL is unset (one process only; queued jobs die with it, and the
// sweeper re-enqueues their PENDING rows at the next start).
//
// A transformation is held from Enqueue until its job is finished (done,
// not found, or out of retries): while held, queued, waiting for a retry or
// running, another Enqueue of it is dropped (returns nil), exactly as asynq
// refuses a task id that still exists. A job re-enqueued while it runs is
// therefore not run again; callers that need another run (a retry after a
// cancel) rely on the sweeper, which re-enqueues PENDING rows no queue holds.
type Queue struct {
	opts      QueueOptions
	startedAt time.Time

	// workers is the concurrency of the running Run, 0 when none runs.
	workers atomic.Int64

	mu      sync.Mutex
	ready   []queuedJob
	held    map[string]struct{} // by Job.DedupKey
	changed chan struct{}       // closed and replaced whenever ready grows
	stats   QueueStats
}

type queuedJob struct {
	job ports.Job
	// retries is how many retries have been used.
	retries int
}

var (
	_ ports.Queue    = (*Queue)(nil)
	_ ports.Consumer = (*Queue)(nil)
)

// NewQueue returns an empty queue.
func NewQueue(opts QueueOptions) *Queue {
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 3
	}
	if opts.MaxRetries < 0 {
		opts.MaxRetries = 0
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	startedAt := time.Now().UTC()
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	return &Queue{opts: opts, startedAt: startedAt, held: map[string]struct{}{}, changed: make(chan struct{})}
}

// DefaultBackoff is exponential: 1s, 2s, 4s, ... capped at 30s.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 6 {
		return 30 * time.Second
	}
	return min(time.Second<<(attempt-1), 30*time.Second)
}

// Enqueue queues job unless its DedupKey is already held (queued,
// waiting for a retry or running), in which case it does nothing.
func (q *Queue) Enqueue(ctx context.Context, job ports.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.held[job.DedupKey()]; ok {
		return nil
	}
	q.held[job.DedupKey()] = struct{}{}
	q.pushLocked(queuedJob{job: job}, false)
	return nil
}

// pushLocked makes a job ready (at the front when it goes back after a
// shutdown) and wakes the waiting Run loops.
func (q *Queue) pushLocked(j queuedJob, front bool) {
	if front {
		q.ready = append([]queuedJob{j}, q.ready...)
	} else {
		q.ready = append(q.ready, j)
	}
	close(q.changed)
	q.changed = make(chan struct{})
}

// Stats returns the current counts.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Pending = len(q.ready)
	return s
}

// take waits for a ready job; false when ctx is done first.
func (q *Queue) take(ctx context.Context) (queuedJob, bool) {
	for {
		q.mu.Lock()
		if len(q.ready) > 0 {
			j := q.ready[0]
			q.ready[0] = queuedJob{}
			q.ready = q.ready[1:]
			q.stats.Running++
			q.mu.Unlock()
			return j, true
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return queuedJob{}, false
		}
	}
}

// Run delivers jobs to handle, at most concurrency at once, until ctx is
// done. Then it stops taking jobs, gives running handlers ShutdownTimeout to
// finish, cancels their contexts, and returns once they have all returned;
// a job whose handler was cut short goes back to the front of the queue
// without using a retry. Several Run calls may share one Queue.
func (q *Queue) Run(ctx context.Context, concurrency int, handle ports.JobHandler) error {
	if concurrency < 1 {
		concurrency = 1
	}
	q.workers.Store(int64(concurrency))
	defer q.workers.Store(0)
	// Handlers outlive ctx by up to ShutdownTimeout: base is cancelled
	// only by abort.
	base, abort := context.WithCancel(context.WithoutCancel(ctx))
	defer abort()
	slots := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		<-ctx.Done()
		select {
		case <-done:
		case <-time.After(q.opts.ShutdownTimeout):
			abort()
		}
	}()
	defer func() {
		wg.Wait()
		close(done)
	}()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		j, ok := q.take(ctx)
		if !ok {
			return nil
		}
		wg.Go(func() {
			defer func() { <-slots }()
			err := q.call(base, j.job, handle)
			q.finish(j, err, base.Err() != nil)
		})
	}
}

// call runs one handler under the job timeout, turning a panic into an
// error so one bad job cannot take the pool down.
func (q *Queue) call(base context.Context, job ports.Job, handle ports.JobHandler) (err error) {
	ctx, cancel := context.WithTimeout(base, q.opts.Timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job %s panicked: %v", job.TransformationID, r)
		}
	}()
	return handle(ctx, job)
}

// finish records the outcome of one delivery: done, back to the queue
// (aborted by shutdown), retry after backoff, or failed for good.
func (q *Queue) finish(j queuedJob, err error, aborted bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stats.Running--
	switch {
	case err == nil || errors.Is(err, core.ErrNotFound):
		q.stats.Processed++
		delete(q.held, j.job.DedupKey())
	case aborted:
		q.pushLocked(j, true)
	case errors.Is(err, ports.ErrDeferred):
		// Not an attempt: deliver it again after the first backoff.
		q.stats.Retrying++
		time.AfterFunc(q.opts.Backoff(1), func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.stats.Retrying--
			q.pushLocked(j, false)
		})
	case j.retries >= q.opts.MaxRetries:
		q.stats.Failed++
		delete(q.held, j.job.DedupKey())
	default:
		j.retries++
		q.stats.Retrying++
		time.AfterFunc(q.opts.Backoff(j.retries), func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			q.stats.Retrying--
			q.pushLocked(j, false)
		})
	}
}

// QueueName is the name the in-process queue reports.
const QueueName = "in-process"

// QueueInspector reports on an in-process Queue for /api/system.
type QueueInspector struct{ q *Queue }

var _ ports.QueueInspector = QueueInspector{}

// Inspector returns the queue's ports.QueueInspector.
func (q *Queue) Inspector() QueueInspector { return QueueInspector{q: q} }

// Stats implements ports.QueueInspector.
func (i QueueInspector) Stats(context.Context) (ports.QueueStats, error) {
	st := i.q.Stats()
	return ports.QueueStats{Queue: QueueName, Pending: st.Pending, Active: st.Running, Retry: st.Retrying,
		Processed: st.Processed, Failed: st.Failed}, nil
}

// Workers reports the in-process worker pool (this process) while it runs.
func (i QueueInspector) Workers(context.Context) ([]ports.WorkerInfo, error) {
	n := int(i.q.workers.Load())
	if n == 0 {
		return []ports.WorkerInfo{}, nil
	}
	host, _ := os.Hostname()
	return []ports.WorkerInfo{{ID: "in-process", Host: host, PID: os.Getpid(), Concurrency: n, Active: i.q.Stats().Running,
		Status: "active", StartedAt: i.q.startedAt}}, nil
}
