// Package porttest holds the contract suites of the ports: one exported
// TestX(t, factory) per port, run by every adapter's tests against a fresh
// instance, so the memory fakes and the real adapters keep the same contract.
package porttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestSessionStore is the contract suite of ports.SessionStore. newStore
// returns a fresh, empty store reading real time: the suite uses
// time.Now().UTC() for timestamps because Redis expires keys on its own
// clock. Each subtest gets its own store and may run in parallel; the expiry
// subtest waits about a second of real time.
func TestSessionStore(t *testing.T, newStore func(t *testing.T) ports.SessionStore) {
	t.Helper()
	ctx := context.Background()

	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h := randomHash()
		evicted, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		require.Empty(t, evicted)

		got, err := st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, s, got)

		got, err = st.FindByRefresh(ctx, h)
		require.NoError(t, err)
		requireSameSession(t, s, got)
	})

	t.Run("CreateWithoutWorkspaceOrMeta", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		now := time.Now().UTC()
		s := core.Session{ID: uuid.New(), UserID: uuid.New(), CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
		_, err := st.Create(ctx, s, randomHash(), 5)
		require.NoError(t, err)
		got, err := st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, s, got)
		require.Equal(t, uuid.Nil, got.WorkspaceID)
	})

	t.Run("CreateExistingIDConflicts", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		_, err := st.Create(ctx, s, randomHash(), 5)
		require.NoError(t, err)
		other := s
		other.UserAgent = "someone else"
		_, err = st.Create(ctx, other, randomHash(), 5)
		require.ErrorIs(t, err, core.ErrConflict)
		got, err := st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, s, got)
	})

	t.Run("UnknownSession", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		// A live session of someone else must not make unknown IDs resolve.
		_, err := st.Create(ctx, newSession(uuid.New(), time.Now().UTC()), randomHash(), 5)
		require.NoError(t, err)
		id := uuid.New()
		for name, call := range map[string]func() error{
			"Get":           func() error { _, err := st.Get(ctx, id); return err },
			"FindByRefresh": func() error { _, err := st.FindByRefresh(ctx, randomHash()); return err },
			"Touch":         func() error { return st.Touch(ctx, id, time.Now().UTC()) },
			"SetWorkspace":  func() error { return st.SetWorkspace(ctx, id, uuid.New()) },
			"Revoke":        func() error { return st.Revoke(ctx, id) },
			"Reissue": func() error {
				now := time.Now().UTC()
				_, err := st.Reissue(ctx, id, randomHash(), uuid.New(), now, now.Add(time.Hour))
				return err
			},
			"Rotate": func() error {
				now := time.Now().UTC()
				_, err := st.Rotate(ctx, randomHash(), randomHash(), now, now.Add(time.Hour))
				return err
			},
		} {
			require.ErrorIs(t, call(), core.ErrNotFound, name)
		}
		n, err := st.RevokeAllForUser(ctx, uuid.New(), uuid.Nil)
		require.NoError(t, err)
		require.Zero(t, n)
		list, err := st.ListForUser(ctx, uuid.New())
		require.NoError(t, err)
		require.Empty(t, list)
	})

	t.Run("Touch", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		_, err := st.Create(ctx, s, randomHash(), 5)
		require.NoError(t, err)
		at := s.LastUsedAt.Add(7*time.Minute + 123*time.Millisecond)
		require.NoError(t, st.Touch(ctx, s.ID, at))
		got, err := st.Get(ctx, s.ID)
		require.NoError(t, err)
		want := s
		want.LastUsedAt = at
		requireSameSession(t, want, got)
	})

	t.Run("SetWorkspace", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		ws := uuid.New()
		require.NoError(t, st.SetWorkspace(ctx, s.ID, ws))
		want := s
		want.WorkspaceID = ws
		got, err := st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, want, got)

		now := time.Now().UTC()
		rotated, err := st.Rotate(ctx, h, randomHash(), now, now.Add(time.Hour))
		require.NoError(t, err)
		require.Equal(t, ws, rotated.WorkspaceID, "refresh keeps the current workspace")
	})

	t.Run("RotateSuccess", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC().Add(-time.Minute))
		h1, h2, h3 := randomHash(), randomHash(), randomHash()
		_, err := st.Create(ctx, s, h1, 5)
		require.NoError(t, err)

		now := time.Now().UTC()
		exp := now.Add(48 * time.Hour)
		got, err := st.Rotate(ctx, h1, h2, now, exp)
		require.NoError(t, err)
		want := s
		want.LastUsedAt = now
		want.ExpiresAt = exp
		requireSameSession(t, want, got)

		_, err = st.FindByRefresh(ctx, h1)
		require.ErrorIs(t, err, core.ErrNotFound, "the presented hash is no longer current")
		got, err = st.FindByRefresh(ctx, h2)
		require.NoError(t, err)
		requireSameSession(t, want, got)
		got, err = st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, want, got)

		// The new hash rotates in turn.
		later := now.Add(time.Second)
		got, err = st.Rotate(ctx, h2, h3, later, exp.Add(time.Second))
		require.NoError(t, err)
		require.Equal(t, s.ID, got.ID)
		require.Equal(t, later.UnixMilli(), got.LastUsedAt.UnixMilli())
	})

	t.Run("RotateReuseRevokes", func(t *testing.T) {
		t.Parallel()
		for _, generationsBack := range []int{1, 3} {
			st := newStore(t)
			s := newSession(uuid.New(), time.Now().UTC())
			hashes := []string{randomHash()}
			_, err := st.Create(ctx, s, hashes[0], 5)
			require.NoError(t, err)
			for range generationsBack {
				now := time.Now().UTC()
				next := randomHash()
				_, err := st.Rotate(ctx, hashes[len(hashes)-1], next, now, now.Add(time.Hour))
				require.NoError(t, err)
				hashes = append(hashes, next)
			}
			current := hashes[len(hashes)-1]
			reused := hashes[len(hashes)-1-generationsBack]

			now := time.Now().UTC()
			got, err := st.Rotate(ctx, reused, randomHash(), now, now.Add(time.Hour))
			require.ErrorIs(t, err, core.ErrReuseDetected, "%d generations back", generationsBack)
			require.Equal(t, s.ID, got.ID, "the revoked session is returned")
			require.Equal(t, s.UserID, got.UserID)

			_, err = st.Get(ctx, s.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "reuse revokes the session")
			_, err = st.FindByRefresh(ctx, current)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = st.Rotate(ctx, current, randomHash(), now, now.Add(time.Hour))
			require.ErrorIs(t, err, core.ErrNotFound, "the current token of a revoked session no longer works")
			_, err = st.Rotate(ctx, reused, randomHash(), now, now.Add(time.Hour))
			require.ErrorIs(t, err, core.ErrNotFound, "a revoked session reports reuse only once")
			list, err := st.ListForUser(ctx, s.UserID)
			require.NoError(t, err)
			require.Empty(t, list)
		}
	})

	t.Run("RotateRevokedSession", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		require.NoError(t, st.Revoke(ctx, s.ID))
		now := time.Now().UTC()
		_, err = st.Rotate(ctx, h, randomHash(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("ConcurrentRotateHasOneWinner", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)

		const callers = 32
		errs := make([]error, callers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Go(func() {
				<-start
				now := time.Now().UTC()
				_, errs[i] = st.Rotate(ctx, h, randomHash(), now, now.Add(time.Hour))
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, core.ErrReuseDetected), errors.Is(err, core.ErrNotFound):
			default:
				require.NoError(t, err)
			}
		}
		require.Equal(t, 1, wins)
	})

	t.Run("Reissue", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC().Add(-time.Minute))
		h1, h2, h3 := randomHash(), randomHash(), randomHash()
		_, err := st.Create(ctx, s, h1, 5)
		require.NoError(t, err)

		now := time.Now().UTC()
		exp := now.Add(48 * time.Hour)
		ws := uuid.New()
		got, err := st.Reissue(ctx, s.ID, h2, ws, now, exp)
		require.NoError(t, err)
		want := s
		want.WorkspaceID = ws
		want.LastUsedAt = now
		want.ExpiresAt = exp
		requireSameSession(t, want, got)

		got, err = st.Get(ctx, s.ID)
		require.NoError(t, err)
		requireSameSession(t, want, got)
		_, err = st.FindByRefresh(ctx, h1)
		require.ErrorIs(t, err, core.ErrNotFound, "the old hash is no longer current")
		got, err = st.FindByRefresh(ctx, h2)
		require.NoError(t, err)
		requireSameSession(t, want, got)

		// The new hash rotates, keeping the new workspace.
		later := now.Add(time.Second)
		got, err = st.Rotate(ctx, h2, h3, later, exp.Add(time.Second))
		require.NoError(t, err)
		want.LastUsedAt = later
		want.ExpiresAt = exp.Add(time.Second)
		requireSameSession(t, want, got)
	})

	t.Run("ReissueOldHashIsReuse", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h1, h2 := randomHash(), randomHash()
		_, err := st.Create(ctx, s, h1, 5)
		require.NoError(t, err)
		now := time.Now().UTC()
		_, err = st.Reissue(ctx, s.ID, h2, uuid.New(), now, now.Add(time.Hour))
		require.NoError(t, err)

		got, err := st.Rotate(ctx, h1, randomHash(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrReuseDetected)
		require.Equal(t, s.ID, got.ID, "the revoked session is returned")
		require.Equal(t, s.UserID, got.UserID)
		_, err = st.Get(ctx, s.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "reuse revokes the session")
		_, err = st.FindByRefresh(ctx, h2)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.Rotate(ctx, h2, randomHash(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound, "the reissued token of a revoked session no longer works")
		_, err = st.Reissue(ctx, s.ID, randomHash(), uuid.New(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("ReissueUnknownOrRevoked", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		s := newSession(uuid.New(), time.Now().UTC())
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		now := time.Now().UTC()

		_, err = st.Reissue(ctx, uuid.New(), randomHash(), uuid.New(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound, "unknown session")

		require.NoError(t, st.Revoke(ctx, s.ID))
		next := randomHash()
		_, err = st.Reissue(ctx, s.ID, next, uuid.New(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound, "revoked session")
		_, err = st.Get(ctx, s.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "a failed reissue does not revive the session")
		_, err = st.FindByRefresh(ctx, next)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.Rotate(ctx, next, randomHash(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.Rotate(ctx, h, randomHash(), now, now.Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("ConcurrentReissueAndRotate", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		for range 20 {
			s := newSession(uuid.New(), time.Now().UTC())
			h := randomHash()
			_, err := st.Create(ctx, s, h, 0)
			require.NoError(t, err)

			reissued, rotated := randomHash(), randomHash()
			var reissueErr, rotateErr error
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				now := time.Now().UTC()
				_, reissueErr = st.Reissue(ctx, s.ID, reissued, uuid.New(), now, now.Add(time.Hour))
			})
			wg.Go(func() {
				<-start
				now := time.Now().UTC()
				_, rotateErr = st.Rotate(ctx, h, rotated, now, now.Add(time.Hour))
			})
			close(start)
			wg.Wait()
			for _, err := range []error{reissueErr, rotateErr} {
				if err != nil && !errors.Is(err, core.ErrReuseDetected) && !errors.Is(err, core.ErrNotFound) {
					require.NoError(t, err)
				}
			}

			valid := 0
			for _, next := range []string{reissued, rotated} {
				if _, err := st.FindByRefresh(ctx, next); err == nil {
					valid++
				}
			}
			require.LessOrEqual(t, valid, 1, "FindByRefresh: at most one new hash is current")
			valid = 0
			for _, next := range []string{reissued, rotated} {
				now := time.Now().UTC()
				_, err := st.Rotate(ctx, next, randomHash(), now, now.Add(time.Hour))
				switch {
				case err == nil:
					valid++
				case errors.Is(err, core.ErrReuseDetected), errors.Is(err, core.ErrNotFound):
				default:
					require.NoError(t, err)
				}
			}
			require.LessOrEqual(t, valid, 1, "Rotate: at most one new hash works")
		}
	})

	t.Run("CapEvictsOldest", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		user, other := uuid.New(), uuid.New()
		now := time.Now().UTC()
		otherSession := newSession(other, now.Add(-time.Hour))
		_, err := st.Create(ctx, otherSession, randomHash(), 1)
		require.NoError(t, err)

		var sessions []core.Session
		var hashes []string
		for i := range 3 {
			s := newSession(user, now.Add(time.Duration(i-10)*time.Minute))
			h := randomHash()
			evicted, err := st.Create(ctx, s, h, 3)
			require.NoError(t, err)
			require.Empty(t, evicted)
			sessions = append(sessions, s)
			hashes = append(hashes, h)
		}

		newest := newSession(user, now)
		evicted, err := st.Create(ctx, newest, randomHash(), 3)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{sessions[0].ID}, evicted)
		_, err = st.Get(ctx, sessions[0].ID)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.FindByRefresh(ctx, hashes[0])
		require.ErrorIs(t, err, core.ErrNotFound)
		requireListed(t, st, user, newest.ID, sessions[2].ID, sessions[1].ID)

		// Lowering the cap evicts as many as needed, never the new session.
		// It is created with the oldest timestamp to prove that.
		backdated := newSession(user, now.Add(-time.Hour))
		evicted, err = st.Create(ctx, backdated, randomHash(), 2)
		require.NoError(t, err)
		require.ElementsMatch(t, []uuid.UUID{sessions[1].ID, sessions[2].ID}, evicted)
		requireListed(t, st, user, newest.ID, backdated.ID)

		// maxPerUser <= 0 means no cap.
		for range 3 {
			evicted, err := st.Create(ctx, newSession(user, time.Now().UTC()), randomHash(), 0)
			require.NoError(t, err)
			require.Empty(t, evicted)
		}
		list, err := st.ListForUser(ctx, user)
		require.NoError(t, err)
		require.Len(t, list, 5)

		_, err = st.Get(ctx, otherSession.ID)
		require.NoError(t, err, "other users' sessions are untouched")
	})

	t.Run("Revoke", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		user := uuid.New()
		now := time.Now().UTC()
		s := newSession(user, now.Add(-time.Minute))
		kept := newSession(user, now)
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		_, err = st.Create(ctx, kept, randomHash(), 5)
		require.NoError(t, err)

		require.NoError(t, st.Revoke(ctx, s.ID))
		_, err = st.Get(ctx, s.ID)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.FindByRefresh(ctx, h)
		require.ErrorIs(t, err, core.ErrNotFound)
		require.ErrorIs(t, st.Touch(ctx, s.ID, now), core.ErrNotFound)
		require.ErrorIs(t, st.SetWorkspace(ctx, s.ID, uuid.New()), core.ErrNotFound)
		require.ErrorIs(t, st.Revoke(ctx, s.ID), core.ErrNotFound, "revoking twice")
		requireListed(t, st, user, kept.ID)
	})

	t.Run("RevokeAllForUser", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		user, other := uuid.New(), uuid.New()
		now := time.Now().UTC()
		var ids []uuid.UUID
		for i := range 3 {
			s := newSession(user, now.Add(time.Duration(i)*time.Second))
			_, err := st.Create(ctx, s, randomHash(), 10)
			require.NoError(t, err)
			ids = append(ids, s.ID)
		}
		otherSession := newSession(other, now)
		_, err := st.Create(ctx, otherSession, randomHash(), 10)
		require.NoError(t, err)

		n, err := st.RevokeAllForUser(ctx, user, ids[1])
		require.NoError(t, err)
		require.Equal(t, 2, n)
		requireListed(t, st, user, ids[1])
		for _, id := range []uuid.UUID{ids[0], ids[2]} {
			_, err := st.Get(ctx, id)
			require.ErrorIs(t, err, core.ErrNotFound)
		}

		n, err = st.RevokeAllForUser(ctx, user, uuid.Nil)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		requireListed(t, st, user)

		n, err = st.RevokeAllForUser(ctx, user, uuid.Nil)
		require.NoError(t, err)
		require.Zero(t, n)

		_, err = st.Get(ctx, otherSession.ID)
		require.NoError(t, err, "other users' sessions are untouched")
		requireListed(t, st, other, otherSession.ID)
	})

	t.Run("ListForUser", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		user := uuid.New()
		now := time.Now().UTC()
		oldest := newSession(user, now.Add(-3*time.Hour))
		middle := newSession(user, now.Add(-2*time.Hour))
		revoked := newSession(user, now.Add(-90*time.Minute))
		newest := newSession(user, now.Add(-time.Hour))
		expired := newSession(user, now.Add(-30*time.Minute))
		expired.ExpiresAt = now.Add(-time.Minute)
		// Created out of order: the list is ordered by CreatedAt.
		for _, s := range []core.Session{middle, newest, expired, oldest, revoked} {
			_, err := st.Create(ctx, s, randomHash(), 10)
			require.NoError(t, err)
		}
		require.NoError(t, st.Revoke(ctx, revoked.ID))
		_, err := st.Create(ctx, newSession(uuid.New(), now), randomHash(), 10)
		require.NoError(t, err)

		list, err := st.ListForUser(ctx, user)
		require.NoError(t, err)
		require.Len(t, list, 3)
		for i, want := range []core.Session{newest, middle, oldest} {
			requireSameSession(t, want, list[i])
		}
		_, err = st.Get(ctx, expired.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "a session created already expired is not active")
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		st := newStore(t)
		now := time.Now().UTC()
		s := newSession(uuid.New(), now)
		s.ExpiresAt = now.Add(time.Second)
		h := randomHash()
		_, err := st.Create(ctx, s, h, 5)
		require.NoError(t, err)
		_, err = st.Get(ctx, s.ID)
		require.NoError(t, err, "not expired yet")

		require.Eventually(t, func() bool {
			_, err := st.Get(ctx, s.ID)
			return errors.Is(err, core.ErrNotFound)
		}, 3*time.Second, 20*time.Millisecond)
		_, err = st.FindByRefresh(ctx, h)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = st.Rotate(ctx, h, randomHash(), time.Now().UTC(), time.Now().UTC().Add(time.Hour))
		require.ErrorIs(t, err, core.ErrNotFound)
		require.ErrorIs(t, st.Touch(ctx, s.ID, time.Now().UTC()), core.ErrNotFound)
		list, err := st.ListForUser(ctx, s.UserID)
		require.NoError(t, err)
		require.Empty(t, list)
	})
}

// newSession returns a session of user created at createdAt, with every
// field set, expiring a day later.
func newSession(user uuid.UUID, createdAt time.Time) core.Session {
	return core.Session{
		ID:          uuid.New(),
		UserID:      user,
		WorkspaceID: uuid.New(),
		CreatedAt:   createdAt,
		LastUsedAt:  createdAt.Add(time.Second),
		ExpiresAt:   time.Now().UTC().Add(24 * time.Hour),
		UserAgent:   "Mozilla/5.0 (porttest)",
		IPAddress:   "203.0.113.7",
	}
}

// randomHash stands in for the hash of a refresh token.
func randomHash() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requireSameSession compares sessions field by field, times at millisecond
// precision (what the Redis adapter keeps).
func requireSameSession(t *testing.T, want, got core.Session) {
	t.Helper()
	require.Equal(t, want.ID, got.ID, "ID")
	require.Equal(t, want.UserID, got.UserID, "UserID")
	require.Equal(t, want.WorkspaceID, got.WorkspaceID, "WorkspaceID")
	require.Equal(t, want.UserAgent, got.UserAgent, "UserAgent")
	require.Equal(t, want.IPAddress, got.IPAddress, "IPAddress")
	require.Equal(t, want.CreatedAt.UnixMilli(), got.CreatedAt.UnixMilli(), "CreatedAt")
	require.Equal(t, want.LastUsedAt.UnixMilli(), got.LastUsedAt.UnixMilli(), "LastUsedAt")
	require.Equal(t, want.ExpiresAt.UnixMilli(), got.ExpiresAt.UnixMilli(), "ExpiresAt")
}

// requireListed requires ListForUser(user) to return exactly ids, in order.
func requireListed(t *testing.T, st ports.SessionStore, user uuid.UUID, ids ...uuid.UUID) {
	t.Helper()
	list, err := st.ListForUser(context.Background(), user)
	require.NoError(t, err)
	got := make([]uuid.UUID, 0, len(list))
	for _, s := range list {
		got = append(got, s.ID)
	}
	if ids == nil {
		ids = []uuid.UUID{}
	}
	require.Equal(t, ids, got)
}
