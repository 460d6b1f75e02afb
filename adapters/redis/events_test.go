package redis_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestEventBus(t *testing.T) {
	t.Parallel()
	porttest.TestEventBus(t, func(t *testing.T) (ports.EventBus, ports.EventBus) {
		// Two clients, as two API instances would have.
		c1, c2 := testinfra.RedisClient(t), testinfra.RedisClient(t)
		prefix := testinfra.RedisPrefix(t, c1)
		return redis.NewEventBus(c1, prefix), redis.NewEventBus(c2, prefix)
	})
}

// Events travel as JSON on {prefix}events:{workspace_id}, so deployments
// sharing one Redis (other prefixes) never see each other's.
func TestEventBusChannel(t *testing.T) {
	t.Parallel()
	client := testinfra.RedisClient(t)
	prefix := testinfra.RedisPrefix(t, client)
	bus := redis.NewEventBus(client, prefix)
	w := uuid.New()
	ps := client.Subscribe(t.Context(), prefix+"events:"+w.String())
	defer ps.Close()
	_, err := ps.Receive(t.Context())
	require.NoError(t, err)

	require.NoError(t, bus.Publish(t.Context(), ports.Event{Type: "transformation_started", WorkspaceID: w, Timestamp: time.Now()}))
	msg, err := ps.ReceiveMessage(t.Context())
	require.NoError(t, err)
	require.Contains(t, msg.Payload, `"type":"transformation_started"`)
	require.Contains(t, msg.Payload, `"workspace_id":"`+w.String()+`"`)
}
