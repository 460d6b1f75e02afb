package transformation

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// SweeperConfig tunes the sweeper.
type SweeperConfig struct {
	// PendingAfter: a PENDING job untouched this long is enqueued again
	// (enqueueing is idempotent, so a job still queued is unaffected).
	PendingAfter time.Duration
	// StalledAfter: a PROCESSING job whose heartbeat is this old lost its
	// worker; it goes back to PENDING and into the queue. It must be well
	// above the worker's HeartbeatEvery.
	StalledAfter time.Duration
	// Batch bounds the jobs handled per sweep.
	Batch int
}

// Sweeper recovers jobs a lost enqueue or a dead worker left behind, so no
// committed transformation is ever lost.
type Sweeper struct {
	recovery ports.JobRecovery
	uow      ports.UnitOfWork
	queue    ports.Queue
	clock    ports.Clock
	cfg      SweeperConfig
	log      *slog.Logger
}

// NewSweeper wires a sweeper; zero config fields take 1m, 1m and 500.
func NewSweeper(recovery ports.JobRecovery, uow ports.UnitOfWork, queue ports.Queue, clock ports.Clock, cfg SweeperConfig, log *slog.Logger) *Sweeper {
	if cfg.PendingAfter <= 0 {
		cfg.PendingAfter = time.Minute
	}
	if cfg.StalledAfter <= 0 {
		cfg.StalledAfter = time.Minute
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	return &Sweeper{recovery: recovery, uow: uow, queue: queue, clock: clock, cfg: cfg, log: log}
}

// Sweep runs once: it re-enqueues old PENDING jobs and puts stalled
// PROCESSING jobs back to PENDING (only if still stalled: the update is
// conditional) before enqueueing them. It returns how many it touched.
func (s *Sweeper) Sweep(ctx context.Context) (requeued, reclaimed int, err error) {
	now := s.clock.Now()
	pending, stalled, err := s.recovery.StaleJobs(ctx, now.Add(-s.cfg.PendingAfter), now.Add(-s.cfg.StalledAfter), s.cfg.Batch)
	if err != nil {
		return 0, 0, err
	}
	for _, job := range stalled {
		scope := core.WithIdentity(ctx, core.Identity{WorkspaceID: job.WorkspaceID})
		err := s.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
			requeued, err := tx.Transformations().Requeue(ctx, job.TransformationID, "reclaimed: its worker stopped answering", s.clock.Now())
			// The dead worker's copy may still be held by the queue:
			// this copy gets its own dedup key (see ports.Job).
			job.Reclaim = requeued.Attempts
			return err
		})
		if errors.Is(err, core.ErrNotFound) {
			continue // finished or cancelled meanwhile
		}
		if err != nil {
			return requeued, reclaimed, err
		}
		reclaimed++
		pending = append(pending, job)
	}
	for _, job := range pending {
		if err := s.queue.Enqueue(ctx, job); err != nil {
			return requeued, reclaimed, err
		}
		requeued++
	}
	if requeued > 0 {
		s.log.InfoContext(ctx, "sweeper recovered jobs", "enqueued", requeued, "reclaimed", reclaimed)
	}
	return requeued, reclaimed, nil
}

// Run sweeps every interval until ctx is done.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "sweep", "err", err)
			}
		}
	}
}
