package memory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/ports"
)

// EventBufferSize is how many events a subscriber may fall behind before
// it misses events.
const EventBufferSize = 64

// EventBus fans events out to the subscribers of this process: the default
// when REDIS_URL is unset (one API instance only).
//
// Publish never blocks on a subscriber: one whose buffer is full misses the
// event (counted by Dropped), so a stalled WebSocket client cannot slow the
// workers down.
type EventBus struct {
	mu      sync.RWMutex
	subs    map[uuid.UUID]map[*eventSub]struct{}
	dropped atomic.Int64
}

type eventSub struct {
	ch     chan ports.Event
	closed bool // guarded by EventBus.mu
}

var _ ports.EventBus = (*EventBus)(nil)

// NewEventBus returns a bus without subscribers.
func NewEventBus() *EventBus {
	return &EventBus{subs: map[uuid.UUID]map[*eventSub]struct{}{}}
}

// Publish hands e to every subscriber of e.WorkspaceID that has room for it.
func (b *EventBus) Publish(ctx context.Context, e ports.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs[e.WorkspaceID] {
		ev := e
		ev.Data = cloneData(e.Data)
		select {
		case s.ch <- ev:
		default:
			b.dropped.Add(1)
		}
	}
	return nil
}

// cloneData gives each subscriber its own top-level map, so one consumer
// mutating an event cannot affect another.
func cloneData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Subscribe returns the events of workspaceID published from now on; the
// channel is closed once, by cancel or when ctx is done, whichever is first.
func (b *EventBus) Subscribe(ctx context.Context, workspaceID uuid.UUID) (<-chan ports.Event, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s := &eventSub{ch: make(chan ports.Event, EventBufferSize)}
	b.mu.Lock()
	if b.subs[workspaceID] == nil {
		b.subs[workspaceID] = map[*eventSub]struct{}{}
	}
	b.subs[workspaceID][s] = struct{}{}
	b.mu.Unlock()

	unsubscribe := func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if s.closed {
			return
		}
		s.closed = true
		delete(b.subs[workspaceID], s)
		if len(b.subs[workspaceID]) == 0 {
			delete(b.subs, workspaceID)
		}
		close(s.ch)
	}
	stop := context.AfterFunc(ctx, unsubscribe)
	cancel := func() {
		stop()
		unsubscribe()
	}
	return s.ch, cancel, nil
}

// Dropped counts the events subscribers missed because they fell behind.
func (b *EventBus) Dropped() int64 { return b.dropped.Load() }
