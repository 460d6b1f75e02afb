package transformation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// WorkerConfig tunes the worker.
type WorkerConfig struct {
	// MaxAttempts is how many times a job runs before it FAILS (default 3).
	MaxAttempts int
	// ProgressEvery throttles progress events (default 250ms), the first
	// one included: it comes ProgressEvery after the started event.
	ProgressEvery time.Duration
	// PersistProgressEvery throttles the progress written to the row
	// (default 1s): live clients follow the events, pollers of the row see
	// it at most this late, and a job shorter than this (most with the
	// offline provider) writes its row only to claim and to complete.
	PersistProgressEvery time.Duration
	// HeartbeatEvery refreshes the heartbeat of a running job even when the
	// provider streams nothing (default 10s), so a sweeper can tell a live
	// job from one whose worker died.
	HeartbeatEvery time.Duration
}

// Worker runs queued transformation jobs.
type Worker struct {
	uow      ports.UnitOfWork
	provider ports.AIProvider
	events   ports.EventBus
	clock    ports.Clock
	limits   Limits
	cfg      WorkerConfig
	log      *slog.Logger
	cancels  *cancelWatcher
}

// NewWorker wires a worker.
func NewWorker(uow ports.UnitOfWork, provider ports.AIProvider, events ports.EventBus, clock ports.Clock, limits Limits, cfg WorkerConfig, log *slog.Logger) *Worker {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 250 * time.Millisecond
	}
	if cfg.PersistProgressEvery <= 0 {
		cfg.PersistProgressEvery = time.Second
	}
	if cfg.HeartbeatEvery <= 0 {
		cfg.HeartbeatEvery = 10 * time.Second
	}
	return &Worker{uow: uow, provider: provider, events: events, clock: clock, limits: limits, cfg: cfg, log: log,
		cancels: newCancelWatcher(events, cancelWatchLinger, log)}
}

// cancelWatchLinger is how long a workspace's cancel subscription outlives
// its last running job.
const cancelWatchLinger = 30 * time.Second

// Close ends the worker's event subscriptions; call it after the consumer
// stopped.
func (w *Worker) Close() { w.cancels.close() }

// ErrWorkspaceBusy is returned when the workspace already runs as many jobs
// as its plan allows: the queue delivers the job again later, so one tenant
// can't take every worker.
var ErrWorkspaceBusy = fmt.Errorf("the workspace is at its concurrent transformations limit: %w", ports.ErrDeferred)

// Handle runs one job: it claims the PENDING row (a duplicate delivery finds
// nothing to claim and returns nil), generates the output with progress
// events, enforces the format and completes the row only while it is still
// PROCESSING. Retryable failures put the row back to PENDING and return an
// error so the queue retries with backoff; final ones (or the last attempt)
// mark it FAILED with a safe message.
func (w *Worker) Handle(ctx context.Context, job ports.Job) error {
	ctx = core.WithIdentity(ctx, core.Identity{WorkspaceID: job.WorkspaceID})
	log := w.log.With("transformation_id", job.TransformationID, "workspace_id", job.WorkspaceID)
	var (
		t         core.Transformation
		doc       core.Document
		overQuota error
	)
	err := w.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		// The claim is conditional: a job that is no longer PENDING
		// (claimed by a duplicate delivery, cancelled, deleted) is
		// ErrNotFound, and the transaction changes nothing. It comes with
		// the plan and the document, in one round trip; the checks below
		// roll it back when they refuse.
		claimed, err := tx.Transformations().ClaimForRun(ctx, job.TransformationID, w.clock.Now())
		if err != nil {
			return err
		}
		t = claimed.Transformation
		limits := w.limits(claimed.Plan)
		if limit := limits.ConcurrentTransformations; limit > 0 {
			running, err := tx.Transformations().CountProcessing(ctx) // this one included
			if err != nil {
				return err
			}
			if running > limit {
				return ErrWorkspaceBusy
			}
		}
		// The budgets are checked again before the call: the plan or the
		// month's spend may have moved since the job was created.
		if overQuota = checkBudgets(ctx, tx, claimed.Plan, limits, w.clock.Now(), 1); overQuota != nil && core.ErrorCode(overQuota) != core.EQUOTA {
			return overQuota
		}
		if claimed.Document != nil {
			doc = *claimed.Document
		}
		return nil
	})
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if overQuota != nil {
		return w.fail(ctx, log, t, core.AsError(overQuota).Message)
	}
	if doc.ID != t.DocumentID {
		return w.fail(ctx, log, t, "the document was deleted")
	}
	publish(ctx, w.events, w.log, w.clock, EventStarted, t, nil)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	cancelled, release := w.cancels.watch(ctx, t.WorkspaceID, t.ID, stop)
	defer release()

	start := w.clock.Now()
	typ := transform.Type(t.Type)
	req := ports.AIRequest{Type: t.Type, Parameters: t.Parameters, Title: doc.Title, Text: doc.Text,
		Prompt: transform.BuildPrompt(typ, t.Parameters, doc.Title), Provider: t.RequestedProvider}
	var (
		mu       sync.Mutex
		produced int
		unsent   strings.Builder // text streamed since the last progress event
		// The started event went out and the claim wrote the row
		// (progress 0, heartbeat) just now: a job shorter than
		// ProgressEvery goes from started to completed.
		lastSent      = w.clock.Now()
		lastPersisted = lastSent
	)
	expected := max(400, utf8.RuneCountInString(doc.Text)/2)
	progress := 0
	gone := false // guarded by mu
	beat := func(force bool) error {
		mu.Lock()
		defer mu.Unlock()
		now := w.clock.Now()
		if runCtx.Err() != nil || (!force && now.Sub(lastSent) < w.cfg.ProgressEvery) {
			return nil
		}
		lastSent = now
		progress = max(progress, min(95, 5+90*produced/expected))
		// Progress events carry the text streamed since the previous one,
		// so a client can show the output as it is written.
		partial := map[string]any{"delta": unsent.String(), "output_chars": produced}
		unsent.Reset()
		persist := force || now.Sub(lastPersisted) >= w.cfg.PersistProgressEvery
		if persist {
			lastPersisted = now
		}
		if err := w.progress(ctx, t, progress, "generating", now, partial, persist); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				gone = true // no longer PROCESSING: cancelled or reclaimed
			}
			stop()
			return err
		}
		return nil
	}
	heartbeat := time.NewTicker(w.cfg.HeartbeatEvery)
	defer heartbeat.Stop()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-heartbeat.C:
				_ = beat(true)
			}
		}
	}()
	res, genErr := w.provider.GenerateStream(runCtx, req, func(delta string) error {
		mu.Lock()
		produced += utf8.RuneCountInString(delta)
		unsent.WriteString(delta)
		mu.Unlock()
		return beat(false)
	})
	stop() // ends the heartbeat; the outcome below is written with ctx
	// Stopped by a cancel event, or by a progress write finding the row no
	// longer PROCESSING.
	mu.Lock()
	stoppedEarly := gone
	mu.Unlock()
	if cancelled() || stoppedEarly {
		log.InfoContext(ctx, "transformation stopped: cancelled while running")
		return nil
	}
	if genErr != nil && ctx.Err() != nil {
		// The worker is shutting down (or the queue's timeout hit): not the
		// job's fault. Put it back for the next delivery, on a context that
		// outlives this one.
		return w.requeue(context.WithoutCancel(ctx), t, "interrupted; will run again", ctx.Err())
	}
	if genErr != nil {
		return w.retryOrFail(ctx, log, t, genErr)
	}
	parts := make([]core.OutputPart, 0, len(res.Parts))
	for _, p := range res.Parts {
		parts = append(parts, core.OutputPart{Title: p.Title, Body: p.Body})
	}
	parts, err = transform.EnforceFormat(typ, t.Parameters, doc.Title, res.Text, parts)
	if err != nil {
		return w.retryOrFail(ctx, log, t, err)
	}
	outcome := core.TransformationOutcome{Result: res.Text, Parts: parts, AIProvider: res.Provider, AIModel: res.Model,
		InputTokens: res.InputTokens, OutputTokens: res.OutputTokens, AICost: res.CostUSD, ProcessingTimeMS: w.clock.Now().Sub(start).Milliseconds()}
	var done core.Transformation
	err = w.uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		done, err = tx.Transformations().Complete(ctx, t.ID, outcome, w.clock.Now())
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		log.InfoContext(ctx, "late result dropped: the transformation is no longer processing")
		return nil
	}
	if err != nil {
		return err
	}
	publish(ctx, w.events, w.log, w.clock, EventCompleted, done, nil)
	return nil
}

// progress publishes a progress event, after writing the progress and the
// heartbeat to the row when persist is set.
func (w *Worker) progress(ctx context.Context, t core.Transformation, progress int, message string, now time.Time, extra map[string]any, persist bool) error {
	if persist {
		err := w.uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Progress(ctx, t.ID, progress, message, now)
		})
		if err != nil {
			return err
		}
	}
	t.Progress, t.Message, t.UpdatedAt = progress, message, now
	publish(ctx, w.events, w.log, w.clock, EventProgress, t, extra)
	return nil
}

// retryOrFail decides after a failed attempt: final errors (the provider
// can't do this, invalid output) and the last attempt FAIL the job; others
// put it back to PENDING and return an error so the queue retries.
func (w *Worker) retryOrFail(ctx context.Context, log *slog.Logger, t core.Transformation, cause error) error {
	code := core.ErrorCode(cause)
	final := code == core.EUNSUPPORTED || code == core.EINVALID || code == core.EFORBIDDEN || code == core.EQUOTA
	log.WarnContext(ctx, "transformation attempt failed", "attempt", t.Attempts, "final", final, "err", cause)
	if final || t.Attempts >= w.cfg.MaxAttempts {
		msg := core.AsError(cause).Message
		if code == core.EINTERNAL || code == core.EUNAVAILABLE {
			msg = "the AI provider did not answer; the transformation failed after " + strconv.Itoa(t.Attempts) + " attempts"
		}
		return w.fail(ctx, log, t, msg)
	}
	return w.requeue(ctx, t, "retrying after a failed attempt", cause)
}

// requeue puts t back to PENDING and returns cause, so the queue delivers
// the job again; nil when t is no longer PROCESSING (cancelled meanwhile).
func (w *Worker) requeue(ctx context.Context, t core.Transformation, message string, cause error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var requeued core.Transformation
	err := w.uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		requeued, err = tx.Transformations().Requeue(ctx, t.ID, message, w.clock.Now())
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	publish(ctx, w.events, w.log, w.clock, EventProgress, requeued, nil)
	return cause
}

func (w *Worker) fail(ctx context.Context, log *slog.Logger, t core.Transformation, message string) error {
	var failed core.Transformation
	err := w.uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		failed, err = tx.Transformations().Fail(ctx, t.ID, message, w.clock.Now())
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "transformation failed", "reason", message)
	publish(ctx, w.events, w.log, w.clock, EventFailed, failed, nil)
	return nil
}
