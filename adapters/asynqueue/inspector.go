package asynqueue

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/repurpose/repurpose/ports"
)

// Inspector reports on an asynq queue and the worker servers consuming it.
type Inspector struct {
	inspector *asynq.Inspector
	queue     string
}

var _ ports.QueueInspector = (*Inspector)(nil)

// NewInspector returns the ports.QueueInspector of queue ("" = DefaultQueue).
func NewInspector(i *asynq.Inspector, queue string) *Inspector {
	if queue == "" {
		queue = DefaultQueue
	}
	return &Inspector{inspector: i, queue: queue}
}

// Stats implements ports.QueueInspector; a queue nothing was ever enqueued
// to reports zeros.
func (i *Inspector) Stats(context.Context) (ports.QueueStats, error) {
	info, err := i.inspector.GetQueueInfo(i.queue)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return ports.QueueStats{Queue: i.queue}, nil
	}
	if err != nil {
		return ports.QueueStats{}, fmt.Errorf("queue info: %w", err)
	}
	return ports.QueueStats{Queue: i.queue, Pending: info.Pending + info.Scheduled, Active: info.Active, Retry: info.Retry,
		Archived: info.Archived, Processed: info.Processed, Failed: info.Failed}, nil
}

// Workers implements ports.QueueInspector: the asynq servers that consume
// this queue.
func (i *Inspector) Workers(context.Context) ([]ports.WorkerInfo, error) {
	servers, err := i.inspector.Servers()
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	out := []ports.WorkerInfo{}
	for _, s := range servers {
		if _, ok := s.Queues[i.queue]; !ok {
			continue
		}
		out = append(out, ports.WorkerInfo{ID: s.ID, Host: s.Host, PID: s.PID, Concurrency: s.Concurrency,
			Active: len(s.ActiveWorkers), Status: s.Status, StartedAt: s.Started.UTC()})
	}
	return out, nil
}
