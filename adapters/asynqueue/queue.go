// Package asynqueue implements the Queue and Consumer ports with
// hibiken/asynq on Redis: API processes enqueue, separate `repurpose worker`
// processes consume, and any number of them share one queue.
//
// A task's id is its transformation id, so enqueueing a transformation
// whose task still exists (pending, scheduled for a retry, or running) is a
// no-op: in particular a job re-enqueued while it runs is not run again
// (the sweeper re-enqueues PENDING rows that no queue holds). A task that
// ran out of retries stays archived in asynq (for the inspector) until
// enqueued again, which replaces it.
package asynqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/repurpose/repurpose/ports"
)

// TaskType is the asynq task type of a transformation job.
const TaskType = "transformation:run"

// DefaultQueue is the asynq queue name used when none is configured.
const DefaultQueue = "transformations"

// QueueOptions tunes the tasks Queue enqueues. Zero values take the
// defaults.
type QueueOptions struct {
	// Queue is the asynq queue name (default DefaultQueue); consumers must
	// use the same one.
	Queue string
	// MaxRetry is how many times a failing task is retried after its
	// first attempt (default 3; negative means none).
	MaxRetry int
	// Timeout bounds one handler call through its context (default 5m).
	Timeout time.Duration
	// Inspector, when set, lets Enqueue replace a task that ran out of
	// retries (archived) or is kept as completed, whose id would otherwise
	// block enqueueing the transformation again after a retry from FAILED.
	Inspector *asynq.Inspector
}

func (o QueueOptions) withDefaults() QueueOptions {
	if o.Queue == "" {
		o.Queue = DefaultQueue
	}
	if o.MaxRetry == 0 {
		o.MaxRetry = 3
	}
	if o.MaxRetry < 0 {
		o.MaxRetry = 0
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	return o
}

// Queue enqueues transformation jobs as asynq tasks.
type Queue struct {
	client *asynq.Client
	opts   QueueOptions
}

var _ ports.Queue = (*Queue)(nil)

// NewQueue returns a queue enqueueing through client.
func NewQueue(client *asynq.Client, opts QueueOptions) *Queue {
	return &Queue{client: client, opts: opts.withDefaults()}
}

// Enqueue schedules job as a task whose id is the transformation id; a
// task of that id that still exists makes it a no-op.
func (q *Queue) Enqueue(ctx context.Context, job ports.Job) error {
	payload, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode job: %w", err)
	}
	id := job.DedupKey()
	task := asynq.NewTask(TaskType, payload,
		asynq.TaskID(id), asynq.Queue(q.opts.Queue),
		asynq.MaxRetry(q.opts.MaxRetry), asynq.Timeout(q.opts.Timeout))
	for range 2 {
		_, err = q.client.EnqueueContext(ctx, task)
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			break
		}
		replaced, rerr := q.replaceFinished(id)
		if rerr != nil {
			return fmt.Errorf("enqueue transformation %s: %w", id, rerr)
		}
		if !replaced {
			return nil // queued, scheduled for a retry, or running
		}
	}
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // re-enqueued by someone else in between
	}
	if err != nil {
		return fmt.Errorf("enqueue transformation %s: %w", id, err)
	}
	return nil
}

// replaceFinished deletes the task id if it is archived or completed, so
// it can be enqueued again; false when the task is live (or no inspector).
func (q *Queue) replaceFinished(id string) (bool, error) {
	if q.opts.Inspector == nil {
		return false, nil
	}
	info, err := q.opts.Inspector.GetTaskInfo(q.opts.Queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return true, nil // gone meanwhile: enqueue again
	}
	if err != nil {
		return false, err
	}
	if info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted {
		return false, nil
	}
	if err := q.opts.Inspector.DeleteTask(q.opts.Queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return false, err
	}
	return true, nil
}
