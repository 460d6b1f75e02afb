package transformation_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/ports"
)

// wait bounds every wait on another goroutine; passing tests never reach it.
const wait = 3 * time.Second

// recordingQueue is a ports.Queue that only records jobs: the tests call
// Worker.Handle themselves.
type recordingQueue struct {
	mu   sync.Mutex
	jobs []ports.Job
}

func (q *recordingQueue) Enqueue(_ context.Context, job ports.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, job)
	return nil
}

func (q *recordingQueue) last(t *testing.T) ports.Job {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	require.NotEmpty(t, q.jobs, "Create enqueues the job")
	return q.jobs[len(q.jobs)-1]
}

// fakeProvider is a ports.AIProvider whose GenerateStream runs gen and
// counts its calls.
type fakeProvider struct {
	mu    sync.Mutex
	calls int
	gen   func(ctx context.Context, onDelta func(string) error) (ports.AIResult, error)
}

var _ ports.AIProvider = (*fakeProvider)(nil)

func (p *fakeProvider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: "fake", Models: []string{"fake-1"}}, nil
}

func (p *fakeProvider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return p.GenerateStream(ctx, req, func(string) error { return nil })
}

func (p *fakeProvider) GenerateStream(ctx context.Context, _ ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	p.mu.Lock()
	p.calls++
	p.mu.Unlock()
	return p.gen(ctx, onDelta)
}

func (p *fakeProvider) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func result(parts ...ports.AIPart) ports.AIResult {
	texts := make([]string, 0, len(parts))
	for _, part := range parts {
		texts = append(texts, part.Body)
	}
	return ports.AIResult{Text: strings.Join(texts, "\n\n---\n\n"), Parts: parts, Provider: "fake", Model: "fake-1", InputTokens: 10, OutputTokens: 20}
}

// instant answers at once with parts, streaming each body as a delta.
func instant(parts ...ports.AIPart) *fakeProvider {
	return &fakeProvider{gen: func(_ context.Context, onDelta func(string) error) (ports.AIResult, error) {
		for _, part := range parts {
			if err := onDelta(part.Body); err != nil {
				return ports.AIResult{}, err
			}
		}
		return result(parts...), nil
	}}
}

// streaming answers with one part after streaming it in n deltas.
func streaming(n int, delta string) *fakeProvider {
	return &fakeProvider{gen: func(_ context.Context, onDelta func(string) error) (ports.AIResult, error) {
		for range n {
			if err := onDelta(delta); err != nil {
				return ports.AIResult{}, err
			}
		}
		return result(ports.AIPart{Body: strings.Repeat(delta, n)}), nil
	}}
}

// failing fails every call with err.
func failing(err error) *fakeProvider {
	return &fakeProvider{gen: func(context.Context, func(string) error) (ports.AIResult, error) {
		return ports.AIResult{}, err
	}}
}

// gate is a provider that streams one delta, says it started, then blocks
// until released. When its context is done first it records that and, unless
// stubborn, returns the context's error; a stubborn gate ignores the
// cancellation and still returns its result once released.
type gate struct {
	*fakeProvider
	started     chan struct{}
	release     chan struct{}
	releaseOnce sync.Once
	ctxDone     chan struct{}
	doneOnce    sync.Once
}

func newGate(t *testing.T, stubborn bool) *gate {
	g := &gate{started: make(chan struct{}, 16), release: make(chan struct{}), ctxDone: make(chan struct{})}
	g.fakeProvider = &fakeProvider{gen: func(ctx context.Context, onDelta func(string) error) (ports.AIResult, error) {
		if err := onDelta("The first words "); err != nil {
			return ports.AIResult{}, err
		}
		g.started <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
			g.doneOnce.Do(func() { close(g.ctxDone) })
			if !stubborn {
				return ports.AIResult{}, ctx.Err()
			}
			<-g.release
		}
		return result(ports.AIPart{Body: "The first words of a late result."}), nil
	}}
	t.Cleanup(g.Release) // never leave a provider blocked
	return g
}

func (g *gate) Release() { g.releaseOnce.Do(func() { close(g.release) }) }

func (g *gate) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(wait):
		t.Fatal("the provider was not called")
	}
}

// fixture is a workspace with its owner and one document over the memory
// adapters, and a service creating transformations in it.
type fixture struct {
	uow       *memory.UnitOfWork
	bus       *memory.EventBus
	queue     *recordingQueue
	limits    transformation.Limits
	svc       *transformation.Service
	owner     context.Context
	workspace uuid.UUID
	document  uuid.UUID
}

func newFixture(t *testing.T, limits core.PlanLimits) *fixture {
	t.Helper()
	f := &fixture{uow: memory.NewUnitOfWork(), bus: memory.NewEventBus(), queue: &recordingQueue{},
		limits: func(core.Plan) core.PlanLimits { return limits }}
	suffix := strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	u := &core.User{ID: uuid.New(), Email: "owner-" + suffix + "@example.com", Username: "owner-" + suffix, PasswordHash: "hash-1", IsActive: true}
	w := &core.Workspace{ID: uuid.New(), Name: "Workspace " + suffix, Slug: "ws-" + suffix, Plan: core.PlanStarter, CreatedBy: u.ID}
	scope := core.WithIdentity(context.Background(), core.Identity{UserID: u.ID, WorkspaceID: w.ID})
	require.NoError(t, f.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Users().Create(ctx, u); err != nil {
			return err
		}
		if err := tx.Workspaces().Create(ctx, w); err != nil {
			return err
		}
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner})
	}))
	text := strings.Repeat("Repurposing content saves time for busy teams. ", 20)
	d := &core.Document{WorkspaceID: w.ID, CreatedBy: u.ID, Title: "Busy teams", ContentType: "text/plain",
		SizeBytes: int64(len(text)), WordCount: len(strings.Fields(text)), Text: text}
	require.NoError(t, f.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
		return tx.Documents().Create(ctx, d)
	}))
	f.workspace, f.document = w.ID, d.ID
	f.owner = core.WithIdentity(context.Background(), core.Identity{UserID: u.ID, WorkspaceID: w.ID, Role: core.RoleOwner})
	f.svc = transformation.NewService(f.uow, f.queue, f.bus, ports.SystemClock{}, f.limits, transformation.Config{Providers: []string{"fake"}}, discard())
	return f
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (f *fixture) worker(p ports.AIProvider, cfg transformation.WorkerConfig) *transformation.Worker {
	return transformation.NewWorker(f.uow, p, f.bus, ports.SystemClock{}, f.limits, cfg, discard())
}

// create makes a PENDING transformation through the service and returns the
// job it enqueued.
func (f *fixture) create(t *testing.T, typ string, params map[string]any) ports.Job {
	t.Helper()
	tr, err := f.svc.Create(f.owner, transformation.CreateInput{DocumentID: f.document, Type: typ, Parameters: params})
	require.NoError(t, err)
	require.Equal(t, core.StatusPending, tr.Status)
	job := f.queue.last(t)
	require.Equal(t, ports.Job{TransformationID: tr.ID, WorkspaceID: f.workspace}, job)
	return job
}

func (f *fixture) get(t *testing.T, id uuid.UUID) core.Transformation {
	t.Helper()
	var got core.Transformation
	require.NoError(t, f.uow.Do(core.WithIdentity(context.Background(), core.Identity{WorkspaceID: f.workspace}),
		func(ctx context.Context, tx ports.Tx) error {
			var err error
			got, err = tx.Transformations().Get(ctx, id)
			return err
		}))
	return got
}

func (f *fixture) subscribe(t *testing.T) <-chan ports.Event {
	t.Helper()
	events, cancel, err := f.bus.Subscribe(context.Background(), f.workspace)
	require.NoError(t, err)
	t.Cleanup(cancel)
	return events
}

func handleAsync(ctx context.Context, w *transformation.Worker, job ports.Job) <-chan error {
	done := make(chan error, 1)
	go func() { done <- w.Handle(ctx, job) }()
	return done
}

func waitErr(t *testing.T, done <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(wait):
		t.Fatalf("%s: Handle did not return", what)
		return nil
	}
}

func summary() ports.AIPart { return ports.AIPart{Body: "Repurposing saves busy teams time."} }

func TestWorkerDuplicateDeliveryRunsOnce(t *testing.T) {
	t.Parallel()

	t.Run("sequential", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, core.PlanLimits{})
		job := f.create(t, "SUMMARY", nil)
		p := instant(summary())
		w := f.worker(p, transformation.WorkerConfig{})

		require.NoError(t, w.Handle(context.Background(), job))
		require.NoError(t, w.Handle(context.Background(), job), "a duplicate delivery finds nothing to do")

		require.Equal(t, 1, p.Calls(), "the provider ran once")
		got := f.get(t, job.TransformationID)
		require.Equal(t, core.StatusCompleted, got.Status)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, 100, got.Progress)
		require.Equal(t, summary().Body, got.Result)
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, core.PlanLimits{})
		job := f.create(t, "SUMMARY", nil)
		g := newGate(t, false)
		w := f.worker(g, transformation.WorkerConfig{})

		first := handleAsync(context.Background(), w, job)
		second := handleAsync(context.Background(), w, job)
		g.waitStarted(t)
		// While one delivery holds the job in the provider, the other
		// returns nil without calling it.
		var early error
		select {
		case early = <-first:
			first = second
		case early = <-second:
		case <-time.After(wait):
			t.Fatal("the duplicate delivery did not return while the first one ran")
		}
		require.NoError(t, early)
		require.Equal(t, core.StatusProcessing, f.get(t, job.TransformationID).Status)

		g.Release()
		require.NoError(t, waitErr(t, first, "running delivery"))
		require.Equal(t, 1, g.Calls(), "the provider ran once")
		got := f.get(t, job.TransformationID)
		require.Equal(t, core.StatusCompleted, got.Status)
		require.Equal(t, 1, got.Attempts)
	})
}

func TestWorkerCancelMidRunDropsTheResult(t *testing.T) {
	t.Parallel()
	for name, stubborn := range map[string]bool{"provider honours ctx": false, "provider answers anyway": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, core.PlanLimits{})
			job := f.create(t, "SUMMARY", nil)
			events := f.subscribe(t)
			g := newGate(t, stubborn)
			w := f.worker(g, transformation.WorkerConfig{})

			done := handleAsync(context.Background(), w, job)
			g.waitStarted(t)
			cancelled, err := f.svc.Cancel(f.owner, job.TransformationID)
			require.NoError(t, err)
			require.Equal(t, core.StatusCancelled, cancelled.Status)

			select {
			case <-g.ctxDone:
			case <-time.After(wait):
				t.Fatal("the cancel event did not cancel the provider's context")
			}
			if stubborn {
				// The provider produces its result after the cancel.
				g.Release()
			}
			require.NoError(t, waitErr(t, done, "cancelled run"), "a cancelled run is not an error")

			got := f.get(t, job.TransformationID)
			require.Equal(t, core.StatusCancelled, got.Status, "the late result does not overwrite the cancel")
			require.Empty(t, got.Result)
			require.Empty(t, got.Parts)
			require.Empty(t, got.ErrorMessage)
			require.Equal(t, 1, g.Calls())

			for {
				select {
				case e := <-events:
					require.NotEqual(t, transformation.EventCompleted, e.Type, "no completed event for a cancelled job")
					require.NotEqual(t, transformation.EventFailed, e.Type, "no failed event for a cancelled job")
					continue
				default:
				}
				break
			}
			// Delivering the job again does nothing either.
			require.NoError(t, w.Handle(context.Background(), job))
			require.Equal(t, 1, g.Calls())
		})
	}
}

func TestWorkerRetriesThenFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	job := f.create(t, "SUMMARY", nil)
	p := failing(core.Errorf(core.EUNAVAILABLE, "overloaded: upstream 529 from node 10.1.2.3"))
	w := f.worker(p, transformation.WorkerConfig{MaxAttempts: 3})

	for attempt := 1; attempt <= 2; attempt++ {
		err := w.Handle(context.Background(), job)
		require.Error(t, err, "attempt %d: a retryable failure asks the queue to retry", attempt)
		require.Equal(t, core.EUNAVAILABLE, core.ErrorCode(err))
		got := f.get(t, job.TransformationID)
		require.Equal(t, core.StatusPending, got.Status, "attempt %d", attempt)
		require.Equal(t, attempt, got.Attempts)
		require.Equal(t, "retrying after a failed attempt", got.Message)
		require.Empty(t, got.ErrorMessage)
	}

	require.NoError(t, w.Handle(context.Background(), job), "the last attempt fails the job and finishes it")
	require.Equal(t, 3, p.Calls())
	got := f.get(t, job.TransformationID)
	require.Equal(t, core.StatusFailed, got.Status)
	require.Equal(t, 3, got.Attempts)
	require.Equal(t, "the AI provider did not answer; the transformation failed after 3 attempts", got.ErrorMessage)
	require.NotContains(t, got.ErrorMessage, "overloaded", "the provider's internal text does not leak")
	require.NotContains(t, got.ErrorMessage, "10.1.2.3")

	require.NoError(t, w.Handle(context.Background(), job), "a failed job is not run again")
	require.Equal(t, 3, p.Calls())
}

func TestWorkerFinalErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	job := f.create(t, "SUMMARY", nil)
	p := failing(core.Errorf(core.EUNSUPPORTED, "no configured provider can write SUMMARY"))
	w := f.worker(p, transformation.WorkerConfig{MaxAttempts: 3})

	require.NoError(t, w.Handle(context.Background(), job), "a final error finishes the job")
	require.Equal(t, 1, p.Calls())
	got := f.get(t, job.TransformationID)
	require.Equal(t, core.StatusFailed, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.Equal(t, "no configured provider can write SUMMARY", got.ErrorMessage)
	require.Empty(t, got.Result)
}

func TestWorkerEnforcesTheFormat(t *testing.T) {
	t.Parallel()
	params := map[string]any{"platform": "twitter", "post_count": 2}

	t.Run("extra parts dropped, twitter bodies trimmed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, core.PlanLimits{})
		job := f.create(t, "SOCIAL_MEDIA", params)
		long := strings.Repeat("é", 400)               // 400 runes, 800 bytes, no spaces
		body := strings.Repeat("Grow your reach ", 25) // 400 characters with spaces
		require.Equal(t, 400, utf8.RuneCountInString(long))
		require.Equal(t, 400, len(body))
		p := instant(ports.AIPart{Body: body}, ports.AIPart{Body: long}, ports.AIPart{Body: body})
		w := f.worker(p, transformation.WorkerConfig{})

		require.NoError(t, w.Handle(context.Background(), job))
		got := f.get(t, job.TransformationID)
		require.Equal(t, core.StatusCompleted, got.Status, "error_message: %q", got.ErrorMessage)
		require.Len(t, got.Parts, 2)
		for i, part := range got.Parts {
			require.NotEmpty(t, part.Body, "part %d", i)
			require.LessOrEqual(t, utf8.RuneCountInString(part.Body), 280, "part %d", i)
			require.True(t, utf8.ValidString(part.Body), "part %d is cut on a rune boundary", i)
		}
		require.Equal(t, "Post 1", got.Parts[0].Title)
		require.Equal(t, "Post 2", got.Parts[1].Title)
	})

	t.Run("too few parts fail", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, core.PlanLimits{})
		job := f.create(t, "SOCIAL_MEDIA", params)
		p := instant(ports.AIPart{Body: "Only one post."})
		w := f.worker(p, transformation.WorkerConfig{MaxAttempts: 3})

		require.NoError(t, w.Handle(context.Background(), job), "invalid output is final")
		require.Equal(t, 1, p.Calls())
		got := f.get(t, job.TransformationID)
		require.Equal(t, core.StatusFailed, got.Status)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, "the AI provider returned 1 posts where 2 were requested", got.ErrorMessage)
		require.Empty(t, got.Parts)
	})
}

func TestWorkerConcurrencyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{ConcurrentTransformations: 1})
	first := f.create(t, "SUMMARY", nil)
	second := f.create(t, "SUMMARY", nil)
	g := newGate(t, false)
	w := f.worker(g, transformation.WorkerConfig{})

	done := handleAsync(context.Background(), w, first)
	g.waitStarted(t)

	// Async so that a worker ignoring the limit (and blocking in the
	// provider) fails the test instead of hanging it.
	busy := waitErr(t, handleAsync(context.Background(), w, second), "second job while the first runs")
	require.ErrorIs(t, busy, transformation.ErrWorkspaceBusy)
	got := f.get(t, second.TransformationID)
	require.Equal(t, core.StatusPending, got.Status, "the busy job is left for a later delivery")
	require.Equal(t, 0, got.Attempts, "a busy delivery is not an attempt")
	require.Equal(t, 1, g.Calls(), "the provider was not called for the busy job")

	g.Release()
	require.NoError(t, waitErr(t, done, "first job"))
	require.Equal(t, core.StatusCompleted, f.get(t, first.TransformationID).Status)

	// Once the first job is done, the later delivery runs.
	require.NoError(t, w.Handle(context.Background(), second))
	got = f.get(t, second.TransformationID)
	require.Equal(t, core.StatusCompleted, got.Status)
	require.Equal(t, 1, got.Attempts)
}

func TestWorkerPublishesProgress(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	job := f.create(t, "SUMMARY", nil)
	events := f.subscribe(t)
	p := streaming(5, strings.Repeat("word ", 20))
	w := f.worker(p, transformation.WorkerConfig{ProgressEvery: time.Nanosecond})

	require.NoError(t, w.Handle(context.Background(), job))

	var types []string
	var streamed strings.Builder
	lastProgress := -1
	deadline := time.After(wait)
	for len(types) == 0 || types[len(types)-1] != transformation.EventCompleted {
		select {
		case e, ok := <-events:
			require.True(t, ok, "the subscription ended early; got %v", types)
			require.Equal(t, job.TransformationID, e.TransformationID)
			require.Equal(t, f.workspace, e.WorkspaceID)
			types = append(types, e.Type)
			if e.Type == transformation.EventProgress {
				require.Equal(t, string(core.StatusProcessing), e.Data["status"])
				progress, ok := e.Data["progress"].(int)
				require.True(t, ok, "progress is an int: %#v", e.Data["progress"])
				require.GreaterOrEqual(t, progress, lastProgress, "progress never goes back")
				require.LessOrEqual(t, progress, 95)
				lastProgress = progress
				delta, ok := e.Data["delta"].(string)
				require.True(t, ok, "progress carries the text streamed since the last event: %#v", e.Data)
				streamed.WriteString(delta)
				require.Equal(t, utf8.RuneCountInString(streamed.String()), e.Data["output_chars"])
			}
			if e.Type == transformation.EventCompleted {
				require.Equal(t, string(core.StatusCompleted), e.Data["status"])
				require.Equal(t, 100, e.Data["progress"])
			}
		case <-deadline:
			t.Fatalf("no completed event; got %v", types)
		}
	}
	require.GreaterOrEqual(t, len(types), 3, "got %v", types)
	require.Equal(t, strings.Repeat("word ", 100), streamed.String(), "the deltas of the progress events add up to the streamed text")
	require.Equal(t, transformation.EventStarted, types[0], "got %v", types)
	for _, typ := range types[1 : len(types)-1] {
		require.Equal(t, transformation.EventProgress, typ, "only progress between started and completed; got %v", types)
	}
}

// TestWorkerShutdownRequeues stops the worker (its context) mid-run: the job
// goes back to PENDING for the next delivery instead of staying PROCESSING,
// and the attempt is not reported as the job's failure.
func TestWorkerShutdownRequeues(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	job := f.create(t, "SUMMARY", nil)
	g := newGate(t, false)
	w := f.worker(g, transformation.WorkerConfig{})

	ctx, shutdown := context.WithCancel(context.Background())
	done := handleAsync(ctx, w, job)
	g.waitStarted(t)
	shutdown()
	err := waitErr(t, done, "interrupted run")
	require.ErrorIs(t, err, context.Canceled, "the queue must deliver the job again")

	got := f.get(t, job.TransformationID)
	require.Equal(t, core.StatusPending, got.Status)
	require.Empty(t, got.ErrorMessage)
	require.Equal(t, 1, got.Attempts)

	// The next delivery runs it to completion.
	require.NoError(t, f.worker(instant(summary()), transformation.WorkerConfig{}).Handle(context.Background(), job))
	require.Equal(t, core.StatusCompleted, f.get(t, job.TransformationID).Status)
}

// TestSweeperRecoversLostAndStalledJobs: a job whose worker died mid-run
// (PROCESSING, heartbeat long gone) goes back to PENDING and into the queue,
// then completes exactly once; a PENDING job whose enqueue was lost is
// enqueued again; a live job is left alone.
func TestSweeperRecoversLostAndStalledJobs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	stalled := f.create(t, "SUMMARY", nil)
	live := f.create(t, "SUMMARY", nil)
	lost := f.create(t, "SUMMARY", nil)
	scope := core.WithIdentity(context.Background(), core.Identity{WorkspaceID: f.workspace})
	longAgo := time.Now().UTC().Add(-time.Hour)
	require.NoError(t, f.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
		if _, err := tx.Transformations().Claim(ctx, stalled.TransformationID, longAgo); err != nil {
			return err
		}
		_, err := tx.Transformations().Claim(ctx, live.TransformationID, time.Now().UTC())
		return err
	}))
	queue := &recordingQueue{}
	s := transformation.NewSweeper(f.uow, f.uow, queue, ports.SystemClock{},
		transformation.SweeperConfig{PendingAfter: time.Nanosecond, StalledAfter: time.Minute}, discard())
	requeued, reclaimed, err := s.Sweep(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, reclaimed)
	require.Equal(t, 2, requeued)
	reclaimedJob := stalled
	reclaimedJob.Reclaim = 1 // the attempt the dead worker held: a new dedup key
	require.ElementsMatch(t, []ports.Job{reclaimedJob, lost}, queue.jobs)
	require.NotEqual(t, stalled.DedupKey(), reclaimedJob.DedupKey())
	require.Equal(t, core.StatusPending, f.get(t, stalled.TransformationID).Status)
	require.Equal(t, core.StatusProcessing, f.get(t, live.TransformationID).Status, "a job with a fresh heartbeat is left alone")

	w := f.worker(instant(summary()), transformation.WorkerConfig{})
	require.NoError(t, w.Handle(context.Background(), reclaimedJob))
	got := f.get(t, stalled.TransformationID)
	require.Equal(t, core.StatusCompleted, got.Status)
	require.Equal(t, 2, got.Attempts, "the dead worker's attempt counts")
}

// countingBus counts subscriptions of the bus it wraps.
type countingBus struct {
	ports.EventBus
	mu   sync.Mutex
	subs int
}

func (b *countingBus) Subscribe(ctx context.Context, workspaceID uuid.UUID) (<-chan ports.Event, func(), error) {
	b.mu.Lock()
	b.subs++
	b.mu.Unlock()
	return b.EventBus.Subscribe(ctx, workspaceID)
}

func (b *countingBus) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.subs
}

// The jobs of one workspace share one cancel subscription, and a cancel
// still stops exactly the job it names.
func TestWorkerSharesOneCancelSubscriptionPerWorkspace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	bus := &countingBus{EventBus: f.bus}
	g := newGate(t, false)
	w := transformation.NewWorker(f.uow, g, bus, ports.SystemClock{}, f.limits, transformation.WorkerConfig{}, discard())
	t.Cleanup(w.Close)

	const n = 4
	jobs := make([]ports.Job, n)
	done := make([]<-chan error, n)
	for i := range n {
		jobs[i] = f.create(t, "SUMMARY", nil)
		done[i] = handleAsync(context.Background(), w, jobs[i])
	}
	for range n {
		g.waitStarted(t)
	}
	require.Equal(t, 1, bus.count(), "one subscription serves every running job of the workspace")

	_, err := f.svc.Cancel(f.owner, jobs[0].TransformationID)
	require.NoError(t, err)
	require.NoError(t, waitErr(t, done[0], "cancelled job"))
	require.Equal(t, core.StatusCancelled, f.get(t, jobs[0].TransformationID).Status)

	g.Release()
	for i := 1; i < n; i++ {
		require.NoError(t, waitErr(t, done[i], "released job"))
		require.Equal(t, core.StatusCompleted, f.get(t, jobs[i].TransformationID).Status, "a cancel of another job does not stop this one")
	}

	// A later job reuses the lingering subscription.
	job := f.create(t, "SUMMARY", nil)
	require.NoError(t, w.Handle(context.Background(), job))
	require.Equal(t, core.StatusCompleted, f.get(t, job.TransformationID).Status)
	require.Equal(t, 1, bus.count())
}

// The monthly spend budget refuses new jobs at create (402) and fails a
// queued job at run time once the month's spend reached it.
func TestSpendBudgetCheckedAtCreateAndBeforeTheCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{AISpendPerMonthUSD: 0.01})
	pricey := &fakeProvider{gen: func(context.Context, func(string) error) (ports.AIResult, error) {
		res := result(summary())
		res.CostUSD = 0.02
		return res, nil
	}}
	w := f.worker(pricey, transformation.WorkerConfig{})
	first := f.create(t, "SUMMARY", nil)
	queued := f.create(t, "SUMMARY", nil) // created while nothing was spent

	require.NoError(t, w.Handle(context.Background(), first))
	done := f.get(t, first.TransformationID)
	require.Equal(t, core.StatusCompleted, done.Status)
	require.InDelta(t, 0.02, done.AICost, 1e-9, "the provider's cost is recorded on the transformation")

	require.NoError(t, w.Handle(context.Background(), queued))
	got := f.get(t, queued.TransformationID)
	require.Equal(t, core.StatusFailed, got.Status, "the budget is checked again before the call")
	require.Contains(t, got.ErrorMessage, "AI spend per month")
	require.Equal(t, 1, pricey.Calls(), "no provider call over budget")

	_, err := f.svc.Create(f.owner, transformation.CreateInput{DocumentID: f.document, Type: "SUMMARY"})
	require.Equal(t, core.EQUOTA, core.ErrorCode(err), "402 at create once the budget is spent: %v", err)
}

// A job pinned to a provider passes the pin to the provider port.
func TestWorkerPassesTheRequestedProvider(t *testing.T) {
	t.Parallel()
	f := newFixture(t, core.PlanLimits{})
	var got ports.AIRequest
	p := &capturing{}
	w := f.worker(p, transformation.WorkerConfig{})
	tr, err := f.svc.Create(f.owner, transformation.CreateInput{DocumentID: f.document, Type: "SUMMARY", Provider: "fake"})
	require.NoError(t, err)
	require.NoError(t, w.Handle(context.Background(), f.queue.last(t)))
	got = p.last()
	require.Equal(t, "fake", got.Provider)
	require.Equal(t, core.StatusCompleted, f.get(t, tr.ID).Status)
}

// capturing records the last request and answers with one summary.
type capturing struct {
	mu  sync.Mutex
	req ports.AIRequest
}

func (c *capturing) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: "fake"}, nil
}

func (c *capturing) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return c.GenerateStream(ctx, req, func(string) error { return nil })
}

func (c *capturing) GenerateStream(_ context.Context, req ports.AIRequest, _ func(string) error) (ports.AIResult, error) {
	c.mu.Lock()
	c.req = req
	c.mu.Unlock()
	return result(summary()), nil
}

func (c *capturing) last() ports.AIRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req
}

// countingUnitOfWork counts the transactions of the worker.
type countingUnitOfWork struct {
	ports.UnitOfWork
	calls atomic.Int64
}

func (u *countingUnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	u.calls.Add(1)
	return u.UnitOfWork.Do(ctx, fn)
}

func (u *countingUnitOfWork) Autocommit(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	u.calls.Add(1)
	return u.UnitOfWork.Autocommit(ctx, fn)
}

// TestWorkerPersistsProgressThrottled: progress events follow the stream,
// but the row is written at most every PersistProgressEvery, so a short job
// costs two transactions (claim, complete) however much it streams.
func TestWorkerPersistsProgressThrottled(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		persistEvery time.Duration
		check        func(t *testing.T, transactions int64)
	}{
		{time.Hour, func(t *testing.T, n int64) { require.Equal(t, int64(2), n, "claim and complete only") }},
		{time.Nanosecond, func(t *testing.T, n int64) { require.Greater(t, n, int64(2), "progress written to the row") }},
	} {
		f := newFixture(t, core.PlanLimits{})
		job := f.create(t, "SUMMARY", nil)
		events := f.subscribe(t)
		uow := &countingUnitOfWork{UnitOfWork: f.uow}
		w := transformation.NewWorker(uow, streaming(5, strings.Repeat("word ", 20)), f.bus, ports.SystemClock{}, f.limits,
			transformation.WorkerConfig{ProgressEvery: time.Nanosecond, PersistProgressEvery: tc.persistEvery}, discard())
		require.NoError(t, w.Handle(context.Background(), job))
		tc.check(t, uow.calls.Load())
		require.Equal(t, core.StatusCompleted, f.get(t, job.TransformationID).Status)
		progressEvents := 0
		for done := false; !done; {
			select {
			case e := <-events:
				if e.Type == transformation.EventProgress {
					progressEvents++
				}
				done = e.Type == transformation.EventCompleted
			case <-time.After(wait):
				t.Fatal("no completed event")
			}
		}
		require.GreaterOrEqual(t, progressEvents, 5, "every delta is published (ProgressEvery 1ns)")
	}
}
