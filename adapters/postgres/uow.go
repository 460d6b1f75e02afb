package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// AppRole is the role every transaction of UnitOfWork runs as: created by
// migrations/0002_tenancy.sql without ownership of anything nor BYPASSRLS, so
// the row-level security policies bind it. The role the pool connects as
// must be a member of it.
const AppRole = "repurpose_app"

// The scope of the transaction, as SQL: the same expressions as the
// policies', so the stores filter on the tenant in their own SQL as well
// (application level) and not only through row-level security (database
// level).
const (
	scopeWorkspace = `NULLIF(current_setting('app.workspace_id', true), '')::uuid`
	scopeUser      = `NULLIF(current_setting('app.user_id', true), '')::uuid`
)

// rollbackTimeout bounds the ROLLBACK sent after fn fails.
const rollbackTimeout = 5 * time.Second

// UnitOfWork runs use-case closures in PostgreSQL transactions scoped to the
// identity of the request.
type UnitOfWork struct {
	pool *pgxpool.Pool
}

var _ ports.UnitOfWork = (*UnitOfWork)(nil)

// NewUnitOfWork returns a unit of work taking its connections from pool.
func NewUnitOfWork(pool *pgxpool.Pool) *UnitOfWork { return &UnitOfWork{pool: pool} }

// Do runs fn in a transaction as AppRole, scoped to the caller's user and
// workspace ids (from core.IdentityFrom, empty when absent). The
// transaction is begun by fn's first statement, in the same round trip
// (lazyTx); a fn that runs no statement costs no round trip. A failing
// switch (the pool's role is not a member of AppRole) fails that statement
// and Do: nothing runs unscoped. Writes queued with ExecLater (audit
// events) travel with the next statement or the COMMIT. It commits when fn
// returns nil; it rolls back and returns fn's error unchanged when fn
// fails, and rolls back and re-panics when fn panics.
func (u *UnitOfWork) Do(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	return u.run(ctx, false, fn)
}

// Autocommit runs fn like Do, except that each statement is a transaction
// of its own: BEGIN, the identity, the statement and COMMIT go in one round
// trip, where Do spends a second one on the COMMIT.
func (u *UnitOfWork) Autocommit(ctx context.Context, fn func(ctx context.Context, tx ports.Tx) error) error {
	return u.run(ctx, true, fn)
}

func (u *UnitOfWork) run(ctx context.Context, autocommit bool, fn func(ctx context.Context, tx ports.Tx) error) error {
	userID, workspaceID := identitySettings(ctx)
	conn, err := u.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// Released last: pgxpool destroys a connection left in a transaction
	// (a failed rollback) instead of pooling it.
	defer conn.Release()
	lt := &lazyTx{conn: conn, role: AppRole, userID: userID, workspaceID: workspaceID, autocommit: autocommit}
	defer func() {
		if conn.Conn().PgConn().TxStatus() == 'I' {
			return // committed, or nothing ran
		}
		// It runs on a context that outlives a canceled request, so that
		// the connection goes back to the pool clean instead of being
		// closed; a failed rollback leaves it in a transaction, which
		// makes the pool destroy it, so its error adds nothing to fn's.
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, _ = conn.Exec(rbCtx, "ROLLBACK")
	}()

	if err := fn(ctx, &tx{db: lt}); err != nil {
		return err
	}
	if err := lt.commit(ctx); err != nil {
		return translate(err, "commit transaction", "not found")
	}
	return nil
}

// identitySettings returns the values of app.user_id and app.workspace_id:
// the ids of the identity in ctx, or empty strings.
func identitySettings(ctx context.Context) (userID, workspaceID string) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return "", ""
	}
	str := func(v uuid.UUID) string {
		if v == uuid.Nil {
			return ""
		}
		return v.String()
	}
	return str(id.UserID), str(id.WorkspaceID)
}

// tx gives the stores bound to one pgx transaction.
type tx struct {
	db querier
}

var _ ports.Tx = (*tx)(nil)

func (t *tx) Users() ports.UserStore             { return &UserStore{db: t.db} }
func (t *tx) Workspaces() ports.WorkspaceStore   { return &WorkspaceStore{db: t.db} }
func (t *tx) Invitations() ports.InvitationStore { return &InvitationStore{db: t.db} }
func (t *tx) Documents() ports.DocumentStore     { return &DocumentStore{db: t.db} }
func (t *tx) Transformations() ports.TransformationStore {
	return &TransformationStore{db: t.db}
}
func (t *tx) Presets() ports.PresetStore { return &PresetStore{db: t.db} }
func (t *tx) Audit() ports.AuditLog      { return &AuditLog{db: t.db} }

// nullIfZero returns nil for the zero time, so that the database default
// (the transaction's now()) applies, and t otherwise.
func nullIfZero(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// nullIfEmpty maps an absent optional text to NULL.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// utcPtr returns a copy of t in UTC, nil for nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC()
	return &v
}
