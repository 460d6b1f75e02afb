package porttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/ports"
)

const eventWait = 5 * time.Second

// TestEventBus is the contract of ports.EventBus. newBus returns two buses
// standing for two API instances sharing one backend (in memory: the same
// bus twice), fresh for each subtest. Subtests run in parallel.
func TestEventBus(t *testing.T, newBus func(t *testing.T) (ports.EventBus, ports.EventBus)) {
	t.Helper()

	t.Run("an event reaches its workspace on every instance only", func(t *testing.T) {
		t.Parallel()
		a, b := newBus(t)
		ctx := t.Context()
		w, other := uuid.New(), uuid.New()
		subs := map[string]<-chan ports.Event{}
		for name, bus := range map[string]ports.EventBus{"a": a, "b": b} {
			ch, cancel, err := bus.Subscribe(ctx, w)
			require.NoError(t, err)
			t.Cleanup(cancel)
			subs[name] = ch
			och, ocancel, err := bus.Subscribe(ctx, other)
			require.NoError(t, err)
			t.Cleanup(ocancel)
			subs[name+"-other"] = och
		}
		e := ports.Event{
			Type: "transformation_progress", WorkspaceID: w, TransformationID: uuid.New(),
			Data:      map[string]any{"progress": "50", "message": "halfway — ünïcödé"},
			Timestamp: time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC),
		}
		require.NoError(t, a.Publish(ctx, e))
		for _, name := range []string{"a", "b"} {
			got := recvEvent(t, subs[name], name)
			requireSameEvent(t, e, got)
		}
		// The other workspace's subscribers get its own next event first:
		// had e leaked to them, it would come before.
		marker := ports.Event{Type: "transformation_started", WorkspaceID: other, TransformationID: uuid.New(), Timestamp: e.Timestamp}
		require.NoError(t, b.Publish(ctx, marker))
		for _, name := range []string{"a-other", "b-other"} {
			got := recvEvent(t, subs[name], name)
			require.Equal(t, marker.TransformationID, got.TransformationID, "%s sees only its workspace", name)
		}
	})

	t.Run("order is preserved per publisher", func(t *testing.T) {
		t.Parallel()
		a, b := newBus(t)
		ctx := t.Context()
		w := uuid.New()
		ch, cancel, err := b.Subscribe(ctx, w)
		require.NoError(t, err)
		defer cancel()
		const n = 30 // within any reasonable buffer
		tid := uuid.New()
		for i := range n {
			require.NoError(t, a.Publish(ctx, ports.Event{
				Type: "transformation_progress", WorkspaceID: w, TransformationID: tid,
				Data: map[string]any{"seq": fmt.Sprint(i)}, Timestamp: time.Now().UTC(),
			}))
		}
		for i := range n {
			got := recvEvent(t, ch, "subscriber")
			require.Equal(t, fmt.Sprint(i), got.Data["seq"])
		}
	})

	t.Run("cancel closes the channel", func(t *testing.T) {
		t.Parallel()
		a, b := newBus(t)
		ctx := t.Context()
		w := uuid.New()
		ch, cancel, err := b.Subscribe(ctx, w)
		require.NoError(t, err)
		cancel()
		requireClosed(t, ch)
		cancel() // harmless
		// Publishing to a workspace whose subscriber left is fine.
		require.NoError(t, a.Publish(ctx, ports.Event{Type: "transformation_started", WorkspaceID: w, Timestamp: time.Now()}))
	})

	t.Run("ctx done closes the channel", func(t *testing.T) {
		t.Parallel()
		_, b := newBus(t)
		ctx, stop := context.WithCancel(t.Context())
		ch, cancel, err := b.Subscribe(ctx, uuid.New())
		require.NoError(t, err)
		stop()
		requireClosed(t, ch)
		cancel() // harmless after ctx closed it
	})

	t.Run("subscribers of one workspace are independent", func(t *testing.T) {
		t.Parallel()
		a, _ := newBus(t)
		ctx := t.Context()
		w := uuid.New()
		ch1, cancel1, err := a.Subscribe(ctx, w)
		require.NoError(t, err)
		ch2, cancel2, err := a.Subscribe(ctx, w)
		require.NoError(t, err)
		defer cancel2()
		cancel1()
		requireClosed(t, ch1)
		e := ports.Event{Type: "transformation_completed", WorkspaceID: w, TransformationID: uuid.New(), Timestamp: time.Now().UTC()}
		require.NoError(t, a.Publish(ctx, e))
		require.Equal(t, e.TransformationID, recvEvent(t, ch2, "remaining subscriber").TransformationID)
	})
}

func recvEvent(t *testing.T, ch <-chan ports.Event, who string) ports.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		require.True(t, ok, "%s: channel closed early", who)
		return e
	case <-time.After(eventWait):
		t.Fatalf("%s: no event within %s", who, eventWait)
		return ports.Event{}
	}
}

// requireClosed drains ch until it is closed.
func requireClosed(t *testing.T, ch <-chan ports.Event) {
	t.Helper()
	deadline := time.After(eventWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed")
		}
	}
}

func requireSameEvent(t *testing.T, want, got ports.Event) {
	t.Helper()
	require.Equal(t, want.Type, got.Type)
	require.Equal(t, want.WorkspaceID, got.WorkspaceID)
	require.Equal(t, want.TransformationID, got.TransformationID)
	require.Equal(t, want.Data, got.Data)
	require.True(t, want.Timestamp.Equal(got.Timestamp), "timestamp %s, want %s", got.Timestamp, want.Timestamp)
}
