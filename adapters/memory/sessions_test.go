package memory

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestSessionStore(t *testing.T) {
	t.Parallel()
	porttest.TestSessionStore(t, func(t *testing.T) ports.SessionStore {
		return NewSessionStore(ports.SystemClock{})
	})
}

// TestSessionStoreDropsExpired proves the store does not grow without bound
// with sessions nobody asks about again.
func TestSessionStoreDropsExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := porttest.NewFakeClock(time.Date(2030, time.January, 1, 0, 0, 0, 0, time.UTC))
	st := NewSessionStore(clock)
	for range 100 {
		s := newTestSession(clock.Now(), time.Hour)
		h := uuid.NewString()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		now := clock.Now()
		_, err = st.Rotate(ctx, h, uuid.NewString(), now, now.Add(time.Hour))
		require.NoError(t, err)
	}
	clock.Advance(2 * time.Hour)
	kept := newTestSession(clock.Now(), time.Hour)
	_, err := st.Create(ctx, kept, "kept", 5)
	require.NoError(t, err)

	st.mu.Lock()
	defer st.mu.Unlock()
	require.Len(t, st.sessions, 1)
	require.Len(t, st.byUser, 1)
	require.Len(t, st.refresh, 1)
}

func newTestSession(now time.Time, ttl time.Duration) core.Session {
	return core.Session{
		ID: uuid.New(), UserID: uuid.New(), WorkspaceID: uuid.New(),
		CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(ttl),
	}
}

func BenchmarkSessionGet(b *testing.B) {
	ctx := context.Background()
	st := NewSessionStore(ports.SystemClock{})
	s := newTestSession(time.Now().UTC(), time.Hour)
	_, err := st.Create(ctx, s, "h", 5)
	require.NoError(b, err)
	for b.Loop() {
		if _, err := st.Get(ctx, s.ID); err != nil {
			b.Fatal(err)
		}
	}
}
