package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/repurpose/repurpose/ports"
)

// EventBufferSize is how many events a subscriber may fall behind before
// it misses events.
const EventBufferSize = 64

// EventBus fans events out to every API instance over Redis pub/sub, one
// channel per workspace ({prefix}events:{workspace_id}); each instance
// relays them to its own WebSocket and SSE clients.
//
// Delivery is best effort, as pub/sub is: events published while a
// subscriber reconnects are lost, and a subscriber whose buffer is full
// misses events (counted by Dropped) rather than stalling the connection.
type EventBus struct {
	client  goredis.UniversalClient
	prefix  string
	dropped atomic.Int64
}

var _ ports.EventBus = (*EventBus)(nil)

// NewEventBus returns a bus whose channels are namespaced by prefix.
func NewEventBus(client goredis.UniversalClient, prefix string) *EventBus {
	return &EventBus{client: client, prefix: prefix}
}

func (b *EventBus) channel(workspaceID uuid.UUID) string {
	return b.prefix + "events:" + workspaceID.String()
}

// Publish sends e as JSON on its workspace's channel.
func (b *EventBus) Publish(ctx context.Context, e ports.Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	if err := b.client.Publish(ctx, b.channel(e.WorkspaceID), payload).Err(); err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	return nil
}

// Subscribe subscribes to workspaceID's channel and returns once Redis has
// confirmed the subscription, so an event published after it returns is
// delivered. The channel is closed, once, by cancel (which waits for the
// relay to stop) or when ctx is done.
func (b *EventBus) Subscribe(ctx context.Context, workspaceID uuid.UUID) (<-chan ports.Event, func(), error) {
	name := b.channel(workspaceID)
	ps := b.client.Subscribe(ctx, name)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, nil, fmt.Errorf("subscribe to events: %w", err)
	}

	out := make(chan ports.Event, EventBufferSize)
	stopping := make(chan struct{})
	relayed := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(stopping)
			_ = ps.Close() // unblocks ReceiveMessage
		})
	}
	unregister := context.AfterFunc(ctx, stop)

	go func() {
		defer close(relayed)
		defer close(out)
		for {
			msg, err := ps.ReceiveMessage(context.Background())
			if err != nil {
				select {
				case <-stopping:
					return
				default:
				}
				if errors.Is(err, goredis.ErrClosed) {
					return
				}
				// go-redis reconnects on the next call; do not spin
				// while Redis is away.
				slog.Debug("event subscription interrupted", "channel", name, "error", err)
				select {
				case <-stopping:
					return
				case <-time.After(200 * time.Millisecond):
				}
				continue
			}
			var e ports.Event
			if err := json.Unmarshal([]byte(msg.Payload), &e); err != nil {
				slog.Warn("malformed event on channel", "channel", name, "error", err)
				continue
			}
			select {
			case out <- e:
			default:
				b.dropped.Add(1)
			}
		}
	}()

	cancel := func() {
		unregister()
		stop()
		<-relayed
	}
	return out, cancel, nil
}

// Dropped counts the events subscribers missed because they fell behind.
func (b *EventBus) Dropped() int64 { return b.dropped.Load() }
