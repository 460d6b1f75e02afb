package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/memory"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

func TestUnitOfWork(t *testing.T) {
	t.Parallel()
	porttest.TestUnitOfWork(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	porttest.TestTenantIsolation(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

func TestDocumentStore(t *testing.T) {
	t.Parallel()
	porttest.TestDocumentStore(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

func TestTransformationStore(t *testing.T) {
	t.Parallel()
	porttest.TestTransformationStore(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

func TestPresetStore(t *testing.T) {
	t.Parallel()
	porttest.TestPresetStore(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

func TestTransformationIsolation(t *testing.T) {
	t.Parallel()
	porttest.TestTransformationIsolation(t, func(t *testing.T) ports.UnitOfWork { return memory.NewUnitOfWork() })
}

// TestUnitOfWorkSharedAcrossSuites runs the suites against one store, as
// the PostgreSQL adapter runs them against one database: fresh ids, emails
// and slugs must keep the subtests apart.
func TestUnitOfWorkSharedAcrossSuites(t *testing.T) {
	t.Parallel()
	shared := memory.NewUnitOfWork()
	newUoW := func(t *testing.T) ports.UnitOfWork { return shared }
	porttest.TestUnitOfWork(t, newUoW)
	porttest.TestTenantIsolation(t, newUoW)
	porttest.TestDocumentStore(t, newUoW)
	porttest.TestTransformationStore(t, newUoW)
	porttest.TestPresetStore(t, newUoW)
	porttest.TestTransformationIsolation(t, newUoW)
}

// scoped returns a context scoped to a fresh user, and that user's id.
func scoped() (context.Context, uuid.UUID) {
	id := uuid.New()
	return core.WithIdentity(context.Background(), core.Identity{UserID: id}), id
}

func TestUnitOfWorkAuditTrail(t *testing.T) {
	t.Parallel()
	uow, ctx := memory.NewUnitOfWork(), context.Background()
	actor, entity := uuid.New(), uuid.New()
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{
			ActorID: &actor, EntityID: &entity, Action: core.AuditUserRegistered,
			Changes: map[string]any{"email": "a@example.com", "seats": 3, "nested": map[string]any{"k": "v"}},
		}))
		return tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginSucceeded})
	}))
	// A rolled-back event is not kept.
	errBoom := errors.New("boom")
	require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLogout}))
		return errBoom
	}), errBoom)

	events := uow.AuditEvents()
	require.Len(t, events, 2)
	first := events[0]
	require.Equal(t, core.AuditUserRegistered, first.Action)
	require.NotEqual(t, uuid.Nil, first.ID)
	require.False(t, first.CreatedAt.IsZero())
	require.Equal(t, actor, *first.ActorID)
	require.Equal(t, map[string]any{"email": "a@example.com", "seats": float64(3), "nested": map[string]any{"k": "v"}},
		first.Changes, "changes read back as from jsonb")
	require.Equal(t, map[string]any{}, events[1].Changes, "nil changes are an empty object")

	// The trail hands out copies.
	first.Changes["email"] = "mutated"
	*first.ActorID = uuid.New()
	again := uow.AuditEvents()[0]
	require.Equal(t, "a@example.com", again.Changes["email"])
	require.Equal(t, actor, *again.ActorID)
}

func TestUnitOfWorkAuditRejectsUnencodableChanges(t *testing.T) {
	t.Parallel()
	uow := memory.NewUnitOfWork()
	err := uow.Do(context.Background(), func(ctx context.Context, tx ports.Tx) error {
		return tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLogout, Changes: map[string]any{"f": func() {}}})
	})
	require.Error(t, err)
	require.Empty(t, uow.AuditEvents())
}

func TestUnitOfWorkTxUnusableAfterDo(t *testing.T) {
	t.Parallel()
	uow := memory.NewUnitOfWork()
	ctx, id := scoped()
	var leaked ports.Tx
	require.NoError(t, uow.Do(ctx, func(_ context.Context, tx ports.Tx) error {
		leaked = tx
		return nil
	}))
	err := leaked.Users().Create(ctx, &core.User{ID: id, Email: "late@example.com", PasswordHash: "h"})
	require.Error(t, err)
	require.NotErrorIs(t, err, core.ErrNotFound, "the ended transaction, not the scope, refuses")
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Users().GetByEmail(ctx, "late@example.com")
		require.ErrorIs(t, err, core.ErrNotFound)
		return nil
	}))
}

func TestUnitOfWorkCanceledContextRollsBack(t *testing.T) {
	t.Parallel()
	uow := memory.NewUnitOfWork()
	scope, id := scoped()
	ctx, cancel := context.WithCancel(scope)
	err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Users().Create(ctx, &core.User{ID: id, Email: "gone@example.com", PasswordHash: "h"}))
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled, "commit fails like a canceled PostgreSQL commit")
	require.ErrorIs(t, uow.Do(ctx, func(context.Context, ports.Tx) error { return nil }), context.Canceled)
	require.NoError(t, uow.Do(context.Background(), func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Users().GetByEmail(ctx, "gone@example.com")
		require.ErrorIs(t, err, core.ErrNotFound)
		return nil
	}))
}

func TestUnitOfWorkNestedDoPanics(t *testing.T) {
	t.Parallel()
	uow := memory.NewUnitOfWork()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		_ = uow.Do(context.Background(), func(ctx context.Context, _ ports.Tx) error {
			return uow.Do(ctx, func(context.Context, ports.Tx) error { return nil })
		})
	}()
	select {
	case r := <-done:
		require.NotNil(t, r, "a nested Do panics instead of deadlocking")
	case <-time.After(10 * time.Second):
		t.Fatal("nested Do deadlocked")
	}
	// The lock was released by the panic.
	require.NoError(t, uow.Do(context.Background(), func(context.Context, ports.Tx) error { return nil }))
}

// BenchmarkUnitOfWorkDo measures the cost of the per-request transaction
// with a small write, which an undo log keeps independent of the store size.
func BenchmarkUnitOfWorkDo(b *testing.B) {
	uow := memory.NewUnitOfWork()
	ctx, id := scoped()
	owner := &core.User{ID: id, Email: "owner@example.com", PasswordHash: "h"}
	require.NoError(b, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return tx.Users().Create(ctx, owner) }))
	for b.Loop() {
		_ = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().RecordLogin(ctx, owner.ID, time.Now())
		})
	}
}

func TestJobRecovery(t *testing.T) {
	t.Parallel()
	porttest.TestJobRecovery(t, func(t *testing.T) (ports.UnitOfWork, ports.JobRecovery) {
		u := memory.NewUnitOfWork()
		return u, u
	})
}
