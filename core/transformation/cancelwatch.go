package transformation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/ports"
)

// cancelWatcher delivers cancel events to the jobs a worker is running.
// It keeps one event subscription per workspace with running jobs, shared
// by all of them, instead of one per job: a subscription costs a
// connection and a round trip on Redis, and N per-job subscribers of one
// busy workspace would each decode every event of the others. A
// subscription lingers a while after its last job, so a steady stream of
// short jobs doesn't subscribe and unsubscribe for each.
type cancelWatcher struct {
	events ports.EventBus
	linger time.Duration
	log    *slog.Logger

	mu   sync.Mutex
	subs map[uuid.UUID]*workspaceWatch
}

type workspaceWatch struct {
	jobs   map[uuid.UUID]*watchedJob
	cancel func()      // ends the subscription
	idle   *time.Timer // set while no job runs: unsubscribes when it fires
}

type watchedJob struct {
	stop func()
	hit  bool // guarded by cancelWatcher.mu
}

func newCancelWatcher(events ports.EventBus, linger time.Duration, log *slog.Logger) *cancelWatcher {
	return &cancelWatcher{events: events, linger: linger, log: log, subs: map[uuid.UUID]*workspaceWatch{}}
}

// watch calls stop when a cancel event for job arrives. cancelled reports
// whether that happened; release must be called when the job is done.
func (c *cancelWatcher) watch(ctx context.Context, workspaceID, jobID uuid.UUID, stop func()) (cancelled func() bool, release func()) {
	job := &watchedJob{stop: stop}
	c.mu.Lock()
	defer c.mu.Unlock()
	ws, ok := c.subs[workspaceID]
	if !ok {
		events, cancel, err := c.events.Subscribe(context.WithoutCancel(ctx), workspaceID)
		if err != nil {
			c.log.WarnContext(ctx, "subscribe for cancellation; relying on progress writes", "err", err)
			return func() bool { return false }, func() {}
		}
		ws = &workspaceWatch{jobs: map[uuid.UUID]*watchedJob{}, cancel: cancel}
		c.subs[workspaceID] = ws
		go c.relay(workspaceID, ws, events)
	}
	if ws.idle != nil {
		ws.idle.Stop()
		ws.idle = nil
	}
	ws.jobs[jobID] = job
	cancelled = func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return job.hit
	}
	release = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if ws.jobs[jobID] != job {
			return
		}
		delete(ws.jobs, jobID)
		if len(ws.jobs) == 0 && c.subs[workspaceID] == ws {
			ws.idle = time.AfterFunc(c.linger, func() { c.unsubscribeIfIdle(workspaceID, ws) })
		}
	}
	return cancelled, release
}

func (c *cancelWatcher) relay(workspaceID uuid.UUID, ws *workspaceWatch, events <-chan ports.Event) {
	for e := range events {
		if e.Type != EventCancelled {
			continue
		}
		c.mu.Lock()
		job, ok := ws.jobs[e.TransformationID]
		if ok && !job.hit {
			job.hit = true
			job.stop()
		}
		c.mu.Unlock()
	}
	// The subscription ended (unsubscribed, or the bus closed it): forget
	// it so the next job subscribes again.
	c.mu.Lock()
	if c.subs[workspaceID] == ws {
		delete(c.subs, workspaceID)
	}
	c.mu.Unlock()
}

func (c *cancelWatcher) unsubscribeIfIdle(workspaceID uuid.UUID, ws *workspaceWatch) {
	c.mu.Lock()
	if len(ws.jobs) != 0 || c.subs[workspaceID] != ws {
		c.mu.Unlock()
		return
	}
	delete(c.subs, workspaceID)
	c.mu.Unlock()
	ws.cancel()
}

// close ends every subscription.
func (c *cancelWatcher) close() {
	c.mu.Lock()
	subs := c.subs
	c.subs = map[uuid.UUID]*workspaceWatch{}
	c.mu.Unlock()
	for _, ws := range subs {
		if ws.idle != nil {
			ws.idle.Stop()
		}
		ws.cancel()
	}
}
