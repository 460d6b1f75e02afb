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

// UnitOfWork is the in-memory ports.UnitOfWork with its user, workspace,
// invitation, document, transformation, preset and audit stores, for tests and single-process
// development. Transactions are serialized by a mutex (so they are trivially serializable)
// and roll back through an undo log: each write records how to reverse
// itself, which costs nothing when a transaction commits.
//
// Tenant isolation is enforced in code: every transaction is scoped to the
// identity in the context given to Do (see scope), and each store applies the
// same visibility rules as the row-level security policies of the PostgreSQL
// adapter, answering core.ErrNotFound for anything out of scope.
//
// It mirrors what PostgreSQL does where callers could notice: case-insensitive
// email uniqueness among live users, slug uniqueness, foreign keys reported as
// core.ErrNotFound, timestamps kept to the microsecond in UTC, the
// transaction's start time as the default time, and the audit changes and
// document metadata stored as JSON.
type UnitOfWork struct {
	mu sync.Mutex
	// Everything below is guarded by mu.
	users       map[uuid.UUID]core.User
	emails      map[string]uuid.UUID // lower-cased email of each live user
	workspaces  map[uuid.UUID]core.Workspace
	slugs       map[string]uuid.UUID // slug of each live workspace
	members     map[memberKey]core.Membership
	byUser      map[uuid.UUID]map[uuid.UUID]struct{} // user → workspaces
	byWorkspace map[uuid.UUID]map[uuid.UUID]struct{} // workspace → users
	invitations map[uuid.UUID]core.Invitation
	tokens      map[string]uuid.UUID      // token hash → invitation
	invitesOf   map[uuid.UUID][]uuid.UUID // workspace → invitations, in insertion order
	audit       []auditRecord
	auditOf     map[uuid.UUID][]int // workspace → indexes into audit
	documents   map[uuid.UUID]documentRecord
	documentsOf map[uuid.UUID]map[uuid.UUID]struct{} // workspace → documents
	// transformations and their presets.
	transformations   map[uuid.UUID]transformationRecord
	transformationsOf map[uuid.UUID]map[uuid.UUID]struct{} // workspace → transformations
	presets           map[uuid.UUID]presetRecord
	presetsOf         map[uuid.UUID]map[uuid.UUID]struct{} // workspace → presets
}

var _ ports.UnitOfWork = (*UnitOfWork)(nil)

type memberKey struct{ workspaceID, userID uuid.UUID }

// NewUnitOfWork returns an empty store.
func NewUnitOfWork() *UnitOfWork {
	return &UnitOfWork{
		users:       make(map[uuid.UUID]core.User),
		emails:      make(map[string]uuid.UUID),
		workspaces:  make(map[uuid.UUID]core.Workspace),
		slugs:       make(map[string]uuid.UUID),
		members:     make(map[memberKey]core.Membership),
		byUser:      make(map[uuid.UUID]map[uuid.UUID]struct{}),
		byWorkspace: make(map[uuid.UUID]map[uuid.UUID]struct{}),
		invitations: make(map[uuid.UUID]core.Invitation),
		tokens:      make(map[string]uuid.UUID),
		invitesOf:   make(map[uuid.UUID][]uuid.UUID),
		auditOf:     make(map[uuid.UUID][]int),
		documents:   make(map[uuid.UUID]documentRecord),
		documentsOf: make(map[uuid.UUID]map[uuid.UUID]struct{}),

		transformations:   make(map[uuid.UUID]transformationRecord),
		transformationsOf: make(map[uuid.UUID]map[uuid.UUID]struct{}),
		presets:           make(map[uuid.UUID]presetRecord),
		presetsOf:         make(map[uuid.UUID]map[uuid.UUID]struct{}),
	}
}

// inDoKey marks the context given to fn, to catch a Do nested in Do.
type inDoKey struct{}

// Do runs fn while holding the store's lock, in a transaction scoped to the
// identity in ctx (core.IdentityFrom; no identity is a scope with neither a
// user nor a workspace). The scope is fixed here: an identity put into the
// context inside fn changes nothing, as the settings of a PostgreSQL
// transaction are made once, at BEGIN. When fn returns an error, or
// ctx is done by the time fn returns, every write of fn is undone and Do
// returns that error (fn's unchanged); when fn panics, the writes are undone
// and the panic goes on. Unlike PostgreSQL, Do is not reentrant: calling it
// again with the context given to fn panics instead of deadlocking.
// Autocommit implements ports.UnitOfWork: here it is Do, whose one
// transaction keeps or undoes the writes of fn together, which the port
// allows.
func (u *UnitOfWork) Autocommit(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	return u.Do(ctx, fn)
}

func (u *UnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	if owner, _ := ctx.Value(inDoKey{}).(*UnitOfWork); owner == u {
		panic("memory: UnitOfWork.Do called inside Do of the same unit of work")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	u.mu.Lock()
	defer u.mu.Unlock()

	t := &tx{uow: u, now: dbTime(time.Now()), scope: scopeFrom(ctx)}
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
	scope  scope
	undo   []func()
	closed bool
}

var _ ports.Tx = (*tx)(nil)

func (t *tx) Users() ports.UserStore             { return &UserStore{tx: t} }
func (t *tx) Workspaces() ports.WorkspaceStore   { return &WorkspaceStore{tx: t} }
func (t *tx) Invitations() ports.InvitationStore { return &InvitationStore{tx: t} }
func (t *tx) Documents() ports.DocumentStore     { return &DocumentStore{tx: t} }
func (t *tx) Transformations() ports.TransformationStore {
	return &TransformationStore{tx: t}
}
func (t *tx) Presets() ports.PresetStore { return &PresetStore{tx: t} }
func (t *tx) Audit() ports.AuditLog      { return &AuditLog{tx: t} }

// scope is what a transaction may see and change: the user and the current
// workspace of the identity given to Do, uuid.Nil when absent. A nil id
// matches nothing, as an empty setting reads as NULL in the PostgreSQL
// policies.
type scope struct {
	userID, workspaceID uuid.UUID
}

// scopeFrom returns the scope of the identity in ctx.
func scopeFrom(ctx context.Context) scope {
	id, _ := core.IdentityFrom(ctx)
	return scope{userID: id.UserID, workspaceID: id.WorkspaceID}
}

// isUser reports whether id is the scope's user.
func (s scope) isUser(id uuid.UUID) bool { return id != uuid.Nil && id == s.userID }

// isWorkspace reports whether id is the scope's workspace.
func (s scope) isWorkspace(id uuid.UUID) bool { return id != uuid.Nil && id == s.workspaceID }

// canSeeMembership reports whether the membership of userID in workspaceID is
// readable: it is in the scope's workspace or it is the scope user's. A
// workspace is readable when it is the scope's or the scope's user is a
// member, so the workspace of a readable membership always is.
func (t *tx) canSeeMembership(workspaceID, userID uuid.UUID) bool {
	return t.scope.isWorkspace(workspaceID) || t.scope.isUser(userID)
}

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
