package memory

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestEventBus(t *testing.T) {
	t.Parallel()
	porttest.TestEventBus(t, func(t *testing.T) (ports.EventBus, ports.EventBus) {
		b := NewEventBus()
		return b, b
	})
}

// A subscriber that does not read misses events instead of blocking the
// publisher, and the misses are counted.
func TestEventBusDropsForSlowSubscribers(t *testing.T) {
	t.Parallel()
	b := NewEventBus()
	w := uuid.New()
	slow, cancelSlow, err := b.Subscribe(t.Context(), w)
	require.NoError(t, err)
	defer cancelSlow()
	const extra = 10
	for i := range EventBufferSize + extra {
		require.NoError(t, b.Publish(t.Context(), ports.Event{WorkspaceID: w, Data: map[string]any{"i": i}, Timestamp: time.Now()}))
	}
	require.EqualValues(t, extra, b.Dropped())
	for i := range EventBufferSize {
		e := <-slow
		require.Equal(t, i, e.Data["i"], "the first events are kept, in order")
	}
	cancelSlow()
	_, ok := <-slow
	require.False(t, ok)
}

// Each subscriber gets its own Data map.
func TestEventBusCopiesData(t *testing.T) {
	t.Parallel()
	b := NewEventBus()
	w := uuid.New()
	c1, cancel1, err := b.Subscribe(t.Context(), w)
	require.NoError(t, err)
	defer cancel1()
	c2, cancel2, err := b.Subscribe(t.Context(), w)
	require.NoError(t, err)
	defer cancel2()
	require.NoError(t, b.Publish(t.Context(), ports.Event{WorkspaceID: w, Data: map[string]any{"k": "v"}}))
	(<-c1).Data["k"] = "mutated"
	require.Equal(t, "v", (<-c2).Data["k"])
}
