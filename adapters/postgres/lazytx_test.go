package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// roundTrips counts what a pool sends to the server and waits for: a query
// outside a batch, or a whole batch (one pipeline).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// tracedPool is a one-connection pool to a new database whose round trips
// are counted.
func tracedPool(t *testing.T) (*pgxpool.Pool, *roundTrips) {
	t.Helper()
	dbURL, _ := newDatabase(t, nil)
	cfg, err := pgxpool.ParseConfig(urlAs(t, dbURL, "", url.Values{"pool_max_conns": {"1"}}))
	require.NoError(t, err)
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool, trips
}

// newTenant creates a user who owns a new workspace and returns the context
// of a request of theirs in it.
func newTenant(t *testing.T, uow ports.UnitOfWork) (context.Context, *core.User, *core.Workspace) {
	t.Helper()
	u := &core.User{ID: uuid.New(), Email: uuid.NewString() + "@example.com", PasswordHash: "h", IsActive: true}
	w := &core.Workspace{ID: uuid.New(), Name: "Acme", Slug: "acme-" + uuid.NewString(), Plan: core.PlanStarter, CreatedBy: u.ID}
	ctx := core.WithIdentity(context.Background(), core.Identity{UserID: u.ID, WorkspaceID: w.ID})
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Users().Create(ctx, u); err != nil {
			return err
		}
		if err := tx.Workspaces().Create(ctx, w); err != nil {
			return err
		}
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner})
	}))
	return ctx, u, w
}

// TestUnitOfWorkRoundTrips pins how many round trips a unit of work costs:
// the COMMIT of Do takes one of its own, but an audit event travels with the
// next statement or the COMMIT, and an Autocommit statement carries its
// BEGIN and COMMIT.
func TestUnitOfWorkRoundTrips(t *testing.T) {
	t.Parallel()
	pool, trips := tracedPool(t)
	uow := postgres.NewUnitOfWork(pool)
	ctx, user, ws := newTenant(t, uow)

	getWorkspace := func(ctx context.Context, tx ports.Tx) error {
		got, err := tx.Workspaces().Get(ctx)
		if err == nil && got.ID != ws.ID {
			err = errors.New("another workspace")
		}
		return err
	}
	getAndAudit := func(ctx context.Context, tx ports.Tx) error {
		if err := getWorkspace(ctx, tx); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &ws.ID, ActorID: &user.ID, Action: core.AuditWorkspaceUpdated})
	}
	auditThenGet := func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &ws.ID, ActorID: &user.ID, Action: core.AuditWorkspaceUpdated}); err != nil {
			return err
		}
		return getWorkspace(ctx, tx)
	}
	for _, c := range []struct {
		name  string
		run   func(context.Context, func(context.Context, ports.Tx) error) error
		fn    func(context.Context, ports.Tx) error
		trips int64
	}{
		{"Do: statement, commit", uow.Do, getWorkspace, 2},
		{"Do: statement, audit with the commit", uow.Do, getAndAudit, 2},
		{"Do: audit with the statement, commit", uow.Do, auditThenGet, 2},
		{"Do: nothing", uow.Do, func(context.Context, ports.Tx) error { return nil }, 0},
		{"Autocommit: statement and commit", uow.Autocommit, getWorkspace, 1},
	} {
		require.NoError(t, c.run(ctx, c.fn), c.name) // prepares the statements
		trips.n.Store(0)
		require.NoError(t, c.run(ctx, c.fn), c.name)
		require.Equal(t, c.trips, trips.n.Load(), c.name)
	}

	var events int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE workspace_id = $1`, ws.ID).Scan(&events))
	require.Equal(t, 4, events, "every audit event sent with a statement or a commit was written")
}

// TestUnitOfWorkLaterWriteFailureRollsBack: an audit event whose insert
// fails (here a duplicate id) fails Do at the commit it travels with, and
// the transaction's other writes are rolled back.
func TestUnitOfWorkLaterWriteFailureRollsBack(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, nil)
	uow := postgres.NewUnitOfWork(pool)
	ctx, user, ws := newTenant(t, uow)
	eventID := uuid.New()
	event := core.AuditEvent{ID: eventID, WorkspaceID: &ws.ID, ActorID: &user.ID, Action: core.AuditWorkspaceUpdated}
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return tx.Audit().Append(ctx, event) }))

	err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Workspaces().Update(ctx, core.Workspace{ID: ws.ID, Name: "Renamed", Slug: ws.Slug}, time.Now()); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, event)
	})
	require.Error(t, err)
	require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "the duplicate event: %v", err)
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		got, err := tx.Workspaces().Get(ctx)
		require.NoError(t, err)
		require.Equal(t, "Acme", got.Name, "the rename was rolled back with the failed event")
		return nil
	}))

	// An event of another workspace fails at once, sending nothing.
	other := uuid.New()
	err = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &other, Action: core.AuditWorkspaceUpdated})
	})
	require.ErrorIs(t, err, core.ErrNotFound)
}

// TestAutocommit: each statement commits on its own, scoped like Do's and
// leaving the connection clean; a failed statement does not stop the next.
func TestAutocommit(t *testing.T) {
	t.Parallel()
	pool, _ := tracedPool(t)
	uow := postgres.NewUnitOfWork(pool)
	ctx, _, ws := newTenant(t, uow)
	_, _, otherWS := newTenant(t, uow)

	errBoom := errors.New("boom")
	err := uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
		// Fails in the database: the slug is another workspace's.
		require.ErrorIs(t, tx.Workspaces().Update(ctx, core.Workspace{ID: ws.ID, Name: "Dup", Slug: otherWS.Slug}, time.Now()), core.ErrConflict)
		// The next statement runs all the same, in a transaction of its own.
		require.NoError(t, tx.Workspaces().Update(ctx, core.Workspace{ID: ws.ID, Name: "Kept", Slug: ws.Slug}, time.Now()))
		// Scoped like Do: the other tenant's workspace is not there.
		_, err := tx.Workspaces().Membership(ctx, otherWS.ID, otherWS.CreatedBy)
		require.ErrorIs(t, err, core.ErrNotFound)
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		got, err := tx.Workspaces().Get(ctx)
		require.NoError(t, err)
		require.Equal(t, "Kept", got.Name, "the update committed on its own")
		return nil
	}))

	var role, workspace string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT current_setting('role'),
		COALESCE(current_setting('app.workspace_id', true), '')`).Scan(&role, &workspace))
	require.Equal(t, "none", role, "the role ended with the statement's transaction")
	require.Empty(t, workspace)

	// A statement cut short by its context leaves no transaction open.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, uow.Autocommit(cancelled, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Workspaces().Get(ctx)
		return err
	}))
	timeout, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	require.NoError(t, uow.Autocommit(timeout, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Workspaces().Get(ctx)
		return err
	}))
}
