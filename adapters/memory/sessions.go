package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// sessionSweepInterval is how often, in clock time, Create drops every
// expired session and refresh hash; between sweeps they are dropped when
// touched.
const sessionSweepInterval = time.Minute

// SessionStore is a ports.SessionStore in process memory, for tests and
// single-process development. One mutex guards everything, which makes Rotate
// atomic: of concurrent rotations of one hash exactly one wins.
type SessionStore struct {
	clock ports.Clock

	mu       sync.Mutex
	sessions map[uuid.UUID]*storedSession
	byUser   map[uuid.UUID]map[uuid.UUID]struct{}
	// refresh maps current and rotated-away hashes to their session. A
	// rotated-away hash is kept until the session's expiry as of its rotation,
	// like the Redis adapter's refresh keys, so presenting it again is
	// detected as reuse.
	refresh   map[string]refreshEntry
	lastSweep time.Time
}

type storedSession struct {
	s       core.Session
	current string
}

type refreshEntry struct {
	sessionID uuid.UUID
	expiresAt time.Time
}

var _ ports.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns an empty store; sessions past their ExpiresAt
// according to clock count as gone.
func NewSessionStore(clock ports.Clock) *SessionStore {
	return &SessionStore{
		clock:    clock,
		sessions: make(map[uuid.UUID]*storedSession),
		byUser:   make(map[uuid.UUID]map[uuid.UUID]struct{}),
		refresh:  make(map[string]refreshEntry),
	}
}

// Create stores s with current refresh hash refreshHash and evicts the
// user's oldest sessions beyond maxPerUser (no cap when maxPerUser <= 0); the
// new session is never evicted. It returns core.ErrConflict when an active
// session already has s.ID.
func (m *SessionStore) Create(_ context.Context, s core.Session, refreshHash string, maxPerUser int) ([]uuid.UUID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	m.sweep(now)
	if m.active(s.ID, now) != nil {
		return nil, core.ErrConflict
	}
	m.sessions[s.ID] = &storedSession{s: s, current: refreshHash}
	if m.byUser[s.UserID] == nil {
		m.byUser[s.UserID] = make(map[uuid.UUID]struct{})
	}
	m.byUser[s.UserID][s.ID] = struct{}{}
	m.refresh[refreshHash] = refreshEntry{sessionID: s.ID, expiresAt: s.ExpiresAt}

	if maxPerUser <= 0 {
		return nil, nil
	}
	live := m.activeForUser(s.UserID, now)
	slices.SortFunc(live, func(a, b core.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID.String(), b.ID.String()))
	})
	var evicted []uuid.UUID
	for _, old := range live {
		if len(live)-len(evicted) <= maxPerUser {
			break
		}
		if old.ID == s.ID {
			continue
		}
		m.remove(old.ID)
		evicted = append(evicted, old.ID)
	}
	return evicted, nil
}

// Get returns an active session; core.ErrNotFound otherwise.
func (m *SessionStore) Get(_ context.Context, id uuid.UUID) (core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.active(id, m.clock.Now())
	if e == nil {
		return core.Session{}, core.ErrNotFound
	}
	return e.s, nil
}

// Touch sets LastUsedAt of an active session; core.ErrNotFound otherwise.
func (m *SessionStore) Touch(_ context.Context, id uuid.UUID, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.active(id, m.clock.Now())
	if e == nil {
		return core.ErrNotFound
	}
	e.s.LastUsedAt = at
	return nil
}

// Rotate replaces the current refresh hash presented by next. Presenting a
// hash the session rotated away from revokes the session and returns
// core.ErrReuseDetected with it; core.ErrNotFound when no active session
// knows presented.
func (m *SessionStore) Rotate(_ context.Context, presented, next string, now, expiresAt time.Time) (core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byRefresh(presented, m.clock.Now())
	if e == nil {
		return core.Session{}, core.ErrNotFound
	}
	if e.current != presented {
		m.remove(e.s.ID)
		return e.s, core.ErrReuseDetected
	}
	e.current = next
	e.s.LastUsedAt = now
	e.s.ExpiresAt = expiresAt
	m.refresh[presented] = refreshEntry{sessionID: e.s.ID, expiresAt: expiresAt}
	m.refresh[next] = refreshEntry{sessionID: e.s.ID, expiresAt: expiresAt}
	return e.s, nil
}

// FindByRefresh returns the active session whose current refresh hash is h;
// core.ErrNotFound otherwise.
func (m *SessionStore) FindByRefresh(_ context.Context, h string) (core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byRefresh(h, m.clock.Now())
	if e == nil || e.current != h {
		return core.Session{}, core.ErrNotFound
	}
	return e.s, nil
}

// SetWorkspace changes the current workspace of an active session;
// core.ErrNotFound otherwise.
func (m *SessionStore) SetWorkspace(_ context.Context, id, workspaceID uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.active(id, m.clock.Now())
	if e == nil {
		return core.ErrNotFound
	}
	e.s.WorkspaceID = workspaceID
	return nil
}

// Reissue replaces the current refresh hash of an active session by next
// without the old one being presented, and sets its workspace, LastUsedAt and
// ExpiresAt. The old hash is kept as rotated away, so presenting it later is
// reuse. core.ErrNotFound when the session is not active.
func (m *SessionStore) Reissue(_ context.Context, id uuid.UUID, next string, workspaceID uuid.UUID, now, expiresAt time.Time) (core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.active(id, m.clock.Now())
	if e == nil {
		return core.Session{}, core.ErrNotFound
	}
	old := e.current
	e.current = next
	e.s.WorkspaceID = workspaceID
	e.s.LastUsedAt = now
	e.s.ExpiresAt = expiresAt
	m.refresh[old] = refreshEntry{sessionID: id, expiresAt: expiresAt}
	m.refresh[next] = refreshEntry{sessionID: id, expiresAt: expiresAt}
	return e.s, nil
}

// Revoke ends an active session; core.ErrNotFound when it is not active.
func (m *SessionStore) Revoke(_ context.Context, id uuid.UUID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active(id, m.clock.Now()) == nil {
		return core.ErrNotFound
	}
	m.remove(id)
	return nil
}

// RevokeAllForUser ends every active session of userID except keep and
// returns how many it ended.
func (m *SessionStore) RevokeAllForUser(_ context.Context, userID, keep uuid.UUID) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.activeForUser(userID, m.clock.Now()) {
		if s.ID != keep {
			m.remove(s.ID)
			n++
		}
	}
	return n, nil
}

// ListForUser returns the active sessions of userID, newest first.
func (m *SessionStore) ListForUser(_ context.Context, userID uuid.UUID) ([]core.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := m.activeForUser(userID, m.clock.Now())
	slices.SortFunc(list, func(a, b core.Session) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID.String(), a.ID.String()))
	})
	return list, nil
}

// active returns the session id if it exists and has not expired at now,
// dropping it when it has. m.mu must be held.
func (m *SessionStore) active(id uuid.UUID, now time.Time) *storedSession {
	e, ok := m.sessions[id]
	if !ok {
		return nil
	}
	if now.After(e.s.ExpiresAt) {
		m.remove(id)
		return nil
	}
	return e
}

// byRefresh returns the active session knowing hash h, current or rotated
// away. m.mu must be held.
func (m *SessionStore) byRefresh(h string, now time.Time) *storedSession {
	r, ok := m.refresh[h]
	if !ok {
		return nil
	}
	if now.After(r.expiresAt) {
		delete(m.refresh, h)
		return nil
	}
	return m.active(r.sessionID, now)
}

// activeForUser returns copies of userID's active sessions, in no order.
// m.mu must be held.
func (m *SessionStore) activeForUser(userID uuid.UUID, now time.Time) []core.Session {
	list := []core.Session{}
	for id := range m.byUser[userID] {
		if e := m.active(id, now); e != nil {
			list = append(list, e.s)
		}
	}
	return list
}

// remove forgets a session. Its refresh hashes stay until they expire and
// resolve to nothing meanwhile. m.mu must be held.
func (m *SessionStore) remove(id uuid.UUID) {
	e, ok := m.sessions[id]
	if !ok {
		return
	}
	delete(m.sessions, id)
	if ids := m.byUser[e.s.UserID]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(m.byUser, e.s.UserID)
		}
	}
}

// sweep drops every expired session and refresh hash, at most once per
// sessionSweepInterval, so a long-running process does not accumulate
// sessions nobody asks about again. m.mu must be held.
func (m *SessionStore) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < sessionSweepInterval {
		return
	}
	m.lastSweep = now
	for id, e := range m.sessions {
		if now.After(e.s.ExpiresAt) {
			m.remove(id)
		}
	}
	for h, r := range m.refresh {
		if now.After(r.expiresAt) {
			delete(m.refresh, h)
		}
	}
}
