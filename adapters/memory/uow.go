// Package memory implements the ports in process memory: fakes for tests
// and the zero-setup backends of a single development process.
package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// errTxClosed is returned by the stores of a Tx used after its Do returned.
var errTxClosed = errors.New("memory: transaction already ended")

// UnitOfWork is the in-memory ports.UnitOfWork with its user, workspace and
// audit stores, for tests and single-process development. Transactions are
// serialized by a mutex (so they are trivially serializable) and roll back
// through an undo log: each write records how to reverse itself, which costs
// nothing when a transaction commits.
//
// It mirrors what PostgreSQL does where callers could notice: case-insensitive
// email uniqueness among live users, slug uniqueness, foreign keys reported as
// core.ErrNotFound, timestamps kept to the microsecond in UTC, the
// transaction's start time as the default time, and the audit changes stored
// as JSON.
type UnitOfWork struct {
	mu sync.Mutex
	// Everything below is guarded by mu.
	users      map[uuid.UUID]core.User
	emails     map[string]uuid.UUID // lower-cased email of each live user
	workspaces map[uuid.UUID]core.Workspace
	slugs      map[string]uuid.UUID // slug of each live workspace
	members    map[memberKey]core.Membership
	byUser     map[uuid.UUID]map[uuid.UUID]struct{} // user → workspaces
	audit      []auditRecord
}

var _ ports.UnitOfWork = (*UnitOfWork)(nil)

type memberKey struct{ workspaceID, userID uuid.UUID }

// NewUnitOfWork returns an empty store.
func NewUnitOfWork() *UnitOfWork {
	return &UnitOfWork{
		users:      make(map[uuid.UUID]core.User),
		emails:     make(map[string]uuid.UUID),
		workspaces: make(map[uuid.UUID]core.Workspace),
		slugs:      make(map[string]uuid.UUID),
		members:    make(map[memberKey]core.Membership),
		byUser:     make(map[uuid.UUID]map[uuid.UUID]struct{}),
	}
}

// inDoKey marks the context given to fn, to catch a Do nested in Do.
type inDoKey struct{}

// Do runs fn while holding the store's lock. When fn returns an error, or
// ctx is done by the time fn returns, every write of fn is undone and Do
// returns that error (fn's unchanged); when fn panics, the writes are undone
// and the panic goes on. Unlike PostgreSQL, Do is not reentrant: calling it
// again with the context given to fn panics instead of deadlocking.
func (u *UnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	if owner, _ := ctx.Value(inDoKey{}).(*UnitOfWork); owner == u {
		panic("memory: UnitOfWork.Do called inside Do of the same unit of work")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()

	t := &tx{uow: u, now: dbTime(time.Now())}
	committed := false
	defer func() {
		t.closed = true
		if !committed {
			t.rollback()
		}
	}()
	if err := fn(context.WithValue(ctx, inDoKey{}, u), t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	return nil
}

// AuditEvents returns a copy of the audit trail, oldest first, for tests to
// read. It must not be called from inside Do.
func (u *UnitOfWork) AuditEvents() []core.AuditEvent {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]core.AuditEvent, 0, len(u.audit))
	for _, r := range u.audit {
		out = append(out, r.event())
	}
	return out
}

// tx is one transaction of UnitOfWork; it is used by one goroutine at a time
// while Do holds the lock.
type tx struct {
	uow *UnitOfWork
	// now is the transaction's start time, the default of every timestamp
	// written in it, as now() is in PostgreSQL.
	now    time.Time
	undo   []func()
	closed bool
}

var _ ports.Tx = (*tx)(nil)

func (t *tx) Users() ports.UserStore           { return &UserStore{tx: t} }
func (t *tx) Workspaces() ports.WorkspaceStore { return &WorkspaceStore{tx: t} }
func (t *tx) Audit() ports.AuditLog            { return &AuditLog{tx: t} }

// onRollback records how to reverse a write that has just been made.
func (t *tx) onRollback(f func()) { t.undo = append(t.undo, f) }

// rollback reverses the writes, newest first.
func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

// usable fails when the transaction has ended or ctx is done, as a query on
// an ended or canceled PostgreSQL transaction would.
func (t *tx) usable(ctx context.Context, op string) error {
	if t.closed {
		return fmt.Errorf("%s: %w", op, errTxClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// dbTime is t as PostgreSQL's timestamptz keeps it: microseconds, and here
// in UTC without a monotonic reading.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbTimeOr is dbTime(t), or def when t is zero.
func dbTimeOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return dbTime(t)
}

// dbTimePtr returns a fresh pointer to dbTime(*t), nil for nil, so that the
// store never shares a pointer with its callers.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// uuidPtr returns a fresh copy of p.
func uuidPtr(p *uuid.UUID) *uuid.UUID {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// coded returns a core error of code with the caller-safe message, wrapped
// with op like the PostgreSQL adapter's errors.
func coded(op string, code core.Code, message string) error {
	return fmt.Errorf("%s: %w", op, &core.Error{Code: code, Message: message})
}
