package porttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestUnitOfWork is the contract of ports.UnitOfWork and of the user,
// workspace and audit stores of its transactions. newUoW may return units of
// work over one shared database: every subtest uses fresh ids, emails and
// slugs, and the subtests run in parallel.
func TestUnitOfWork(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()

	t.Run("user create, get and get by email in any case", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		local := "Alice-" + storeSuffix()
		u := &core.User{
			Email: local + "@X.com", Username: "alice", PasswordHash: "hash-1",
			IsActive: true, IsVerified: true,
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, u)
		})
		require.NotEqual(t, uuid.Nil, u.ID, "Create fills the id")
		require.False(t, u.CreatedAt.IsZero(), "Create fills CreatedAt")
		require.False(t, u.UpdatedAt.IsZero(), "Create fills UpdatedAt")

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Users().Get(ctx, u.ID)
			require.NoError(t, err)
			requireSameUser(t, *u, got)

			for _, email := range []string{local + "@X.com", strings.ToLower(local) + "@x.com", strings.ToUpper(local) + "@X.COM"} {
				got, err := tx.Users().GetByEmail(ctx, email)
				require.NoError(t, err, email)
				require.Equal(t, u.ID, got.ID, email)
				require.Equal(t, local+"@X.com", got.Email, "the email is kept as given")
			}
			return nil
		})
	})

	t.Run("user keeps explicit times to the microsecond", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		created := time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
		u := &core.User{Email: storeEmail(), PasswordHash: "h", CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, u)
		})
		got := storeGetUser(t, uow, u.ID)
		require.WithinDuration(t, created, got.CreatedAt, time.Microsecond)
		require.WithinDuration(t, created.Add(time.Hour), got.UpdatedAt, time.Microsecond)
		require.Nil(t, got.LastLoginAt)
		require.Nil(t, got.DeletedAt)
	})

	t.Run("returned users are copies", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().RecordLogin(ctx, u.ID, at)
		})
		email := u.Email
		u.Email = "mutated-input@example.com" // the caller's struct after Create

		got := storeGetUser(t, uow, u.ID)
		got.Email = "mutated@example.com"
		*got.LastLoginAt = at.Add(time.Hour)

		again := storeGetUser(t, uow, u.ID)
		require.Equal(t, email, again.Email)
		require.NotNil(t, again.LastLoginAt)
		require.True(t, at.Equal(*again.LastLoginAt), "LastLoginAt changed through a returned pointer: %v", *again.LastLoginAt)
	})

	t.Run("duplicate email in another case is a conflict", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		local := "Bob-" + storeSuffix()
		storeCreateUser(t, uow, local+"@X.com")
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, &core.User{Email: strings.ToLower(local) + "@x.com", PasswordHash: "h"})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "email already registered", core.AsError(err).Message)
	})

	t.Run("unknown user is not found", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		unknown := uuid.New()
		now := time.Now()
		checks := map[string]func(context.Context, ports.UserStore) error{
			"Get": func(ctx context.Context, s ports.UserStore) error {
				_, err := s.Get(ctx, unknown)
				return err
			},
			"GetByEmail": func(ctx context.Context, s ports.UserStore) error {
				_, err := s.GetByEmail(ctx, storeEmail())
				return err
			},
			"RecordLogin": func(ctx context.Context, s ports.UserStore) error {
				return s.RecordLogin(ctx, unknown, now)
			},
			"UpdatePassword": func(ctx context.Context, s ports.UserStore) error {
				return s.UpdatePassword(ctx, unknown, "h", now)
			},
		}
		for name, check := range checks {
			err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return check(ctx, tx.Users()) })
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
	})

	t.Run("record login sets only LastLoginAt", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 6, 7, 8, 9, 10, 123456000, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().RecordLogin(ctx, u.ID, at)
		})
		got := storeGetUser(t, uow, u.ID)
		require.NotNil(t, got.LastLoginAt)
		require.WithinDuration(t, at, *got.LastLoginAt, 0)
		require.WithinDuration(t, u.UpdatedAt, got.UpdatedAt, 0, "a login is not an edit of the account")
		require.Equal(t, u.PasswordHash, got.PasswordHash)
	})

	t.Run("update password replaces the hash and sets UpdatedAt", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 6, 7, 8, 9, 10, 0, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().UpdatePassword(ctx, u.ID, "hash-2", at)
		})
		got := storeGetUser(t, uow, u.ID)
		require.Equal(t, "hash-2", got.PasswordHash)
		require.WithinDuration(t, at, got.UpdatedAt, 0)
		require.WithinDuration(t, u.CreatedAt, got.CreatedAt, 0)
		require.Nil(t, got.LastLoginAt)
	})

	t.Run("workspace create fills defaults and rejects a taken slug", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		owner := storeCreateUser(t, uow, storeEmail())
		w := &core.Workspace{Name: "Acme", Slug: storeSlug(), Description: "d", CreatedBy: owner.ID}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, w)
		})
		require.NotEqual(t, uuid.Nil, w.ID)
		require.Equal(t, core.PlanFree, w.Plan, "an empty plan is the free plan")
		require.False(t, w.CreatedAt.IsZero())

		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{Name: "Other", Slug: w.Slug, CreatedBy: owner.ID})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "slug already taken", core.AsError(err).Message)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{Name: "Other", Slug: storeSlug(), Plan: core.PlanPro, CreatedBy: owner.ID})
		})
	})

	t.Run("workspace of an unknown creator is not found", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{Name: "Acme", Slug: storeSlug(), CreatedBy: uuid.New()})
		})
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("members: membership and list in join order", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		user := storeCreateUser(t, uow, storeEmail())
		other := storeCreateUser(t, uow, storeEmail())
		// Created in the order w1, w2, w3; joined in the order w2, w1, w3;
		// added in the order w1, w3, w2.
		w1 := storeCreateWorkspace(t, uow, user.ID)
		w2 := storeCreateWorkspace(t, uow, user.ID)
		w3 := storeCreateWorkspace(t, uow, other.ID)
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			ws := tx.Workspaces()
			require.NoError(t, ws.AddMember(ctx, core.Membership{WorkspaceID: w1.ID, UserID: user.ID, Role: core.RoleAdmin, JoinedAt: t0.Add(time.Hour)}))
			require.NoError(t, ws.AddMember(ctx, core.Membership{WorkspaceID: w3.ID, UserID: user.ID, Role: core.RoleViewer, JoinedAt: t0.Add(2 * time.Hour)}))
			require.NoError(t, ws.AddMember(ctx, core.Membership{WorkspaceID: w2.ID, UserID: user.ID, Role: core.RoleOwner, JoinedAt: t0}))
			return ws.AddMember(ctx, core.Membership{WorkspaceID: w3.ID, UserID: other.ID, Role: core.RoleOwner})
		})

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			ws := tx.Workspaces()
			m, err := ws.Membership(ctx, w1.ID, user.ID)
			require.NoError(t, err)
			require.Equal(t, core.RoleAdmin, m.Role)
			requireSameWorkspace(t, *w1, m.Workspace)

			_, err = ws.Membership(ctx, w1.ID, other.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "not a member")
			_, err = ws.Membership(ctx, uuid.New(), user.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "unknown workspace")

			list, err := ws.ListForUser(ctx, user.ID)
			require.NoError(t, err)
			require.Len(t, list, 3)
			require.Equal(t, []uuid.UUID{w2.ID, w1.ID, w3.ID},
				[]uuid.UUID{list[0].Workspace.ID, list[1].Workspace.ID, list[2].Workspace.ID}, "oldest membership first")
			require.Equal(t, []core.Role{core.RoleOwner, core.RoleAdmin, core.RoleViewer},
				[]core.Role{list[0].Role, list[1].Role, list[2].Role})
			requireSameWorkspace(t, *w2, list[0].Workspace)

			list, err = ws.ListForUser(ctx, other.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, w3.ID, list[0].Workspace.ID)

			list, err = ws.ListForUser(ctx, uuid.New())
			require.NoError(t, err)
			require.Empty(t, list)
			return nil
		})
	})

	t.Run("adding a member twice is a conflict", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		storeAddMember(t, uow, w.ID, user.ID, core.RoleOwner)
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: user.ID, Role: core.RoleViewer})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "already a member", core.AsError(err).Message)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			m, err := tx.Workspaces().Membership(ctx, w.ID, user.ID)
			require.NoError(t, err)
			require.Equal(t, core.RoleOwner, m.Role, "the conflicting insert changed nothing")
			return nil
		})
	})

	t.Run("adding a member to an unknown workspace or user is not found", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		for name, m := range map[string]core.Membership{
			"unknown workspace": {WorkspaceID: uuid.New(), UserID: user.ID, Role: core.RoleMember},
			"unknown user":      {WorkspaceID: w.ID, UserID: uuid.New(), Role: core.RoleMember},
		} {
			err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().AddMember(ctx, m)
			})
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
	})

	t.Run("adding a member with an unknown role fails", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: user.ID, Role: "superuser"})
		})
		require.Error(t, err)
	})

	t.Run("audit append", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{
				WorkspaceID: &w.ID, ActorID: &user.ID, Action: core.AuditWorkspaceCreated,
				EntityType: "workspace", EntityID: &w.ID, IPAddress: "203.0.113.7", RequestID: "req-1",
				Changes: map[string]any{"name": "Acme", "plan": "free", "seats": 3, "tags": []string{"a"}},
			}))
			// Nothing but the action: a failed login for an unknown account.
			require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginFailed}))
			// References are not checked: the trail outlives what it names.
			ghost := uuid.New()
			return tx.Audit().Append(ctx, core.AuditEvent{
				ID: uuid.New(), WorkspaceID: &ghost, ActorID: &ghost, Action: core.AuditLogout,
				CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			})
		})
	})

	t.Run("writes are visible later in the same transaction", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			u := &core.User{Email: storeEmail(), PasswordHash: "h"}
			require.NoError(t, tx.Users().Create(ctx, u))
			w := &core.Workspace{Name: "Acme", Slug: storeSlug(), CreatedBy: u.ID}
			require.NoError(t, tx.Workspaces().Create(ctx, w))
			require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner}))
			got, err := tx.Users().GetByEmail(ctx, u.Email)
			require.NoError(t, err)
			require.Equal(t, u.ID, got.ID)
			list, err := tx.Workspaces().ListForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, w.ID, list[0].Workspace.ID)
			return nil
		})
	})

	t.Run("rollback when fn returns an error", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		errBoom := errors.New("boom")
		// An existing user and workspace the failed transaction changes.
		existing := storeCreateUser(t, uow, storeEmail())
		existingWS := storeCreateWorkspace(t, uow, existing.ID)

		u := &core.User{Email: storeEmail(), PasswordHash: "h"}
		w := &core.Workspace{Name: "Acme", Slug: storeSlug()}
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Users().Create(ctx, u))
			w.CreatedBy = u.ID
			require.NoError(t, tx.Workspaces().Create(ctx, w))
			require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner}))
			require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: existingWS.ID, UserID: existing.ID, Role: core.RoleOwner}))
			require.NoError(t, tx.Users().RecordLogin(ctx, existing.ID, time.Now()))
			require.NoError(t, tx.Users().UpdatePassword(ctx, existing.ID, "changed", time.Now()))
			require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditUserRegistered, ActorID: &u.ID}))
			return fmt.Errorf("register: %w", errBoom)
		})
		require.ErrorIs(t, err, errBoom, "Do returns fn's error")
		require.EqualError(t, err, "register: boom", "Do returns fn's error unchanged")

		storeRequireRolledBack(t, uow, u, w, existing, existingWS)
	})

	t.Run("rollback when fn panics", func(t *testing.T) {
		t.Parallel()
		uow, ctx := newUoW(t), context.Background()
		existing := storeCreateUser(t, uow, storeEmail())
		existingWS := storeCreateWorkspace(t, uow, existing.ID)

		u := &core.User{Email: storeEmail(), PasswordHash: "h"}
		w := &core.Workspace{Name: "Acme", Slug: storeSlug()}
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			_ = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				require.NoError(t, tx.Users().Create(ctx, u))
				w.CreatedBy = u.ID
				require.NoError(t, tx.Workspaces().Create(ctx, w))
				require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner}))
				require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: existingWS.ID, UserID: existing.ID, Role: core.RoleOwner}))
				require.NoError(t, tx.Users().RecordLogin(ctx, existing.ID, time.Now()))
				require.NoError(t, tx.Users().UpdatePassword(ctx, existing.ID, "changed", time.Now()))
				panic("kaboom")
			})
		}()
		require.Equal(t, "kaboom", recovered, "Do lets the panic go on")

		storeRequireRolledBack(t, uow, u, w, existing, existingWS)
	})

	t.Run("concurrent registrations of one email: exactly one wins", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		const n = 20
		local := "Race-" + storeSuffix()
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				email := local + "@example.com"
				if i%2 == 1 {
					email = strings.ToUpper(email)
				}
				<-start
				errs[i] = uow.Do(context.Background(), func(ctx context.Context, tx ports.Tx) error {
					return tx.Users().Create(ctx, &core.User{Email: email, PasswordHash: "h"})
				})
			}()
		}
		close(start)
		wg.Wait()

		won := 0
		for i, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, core.ErrConflict, "goroutine %d", i)
		}
		require.Equal(t, 1, won)
	})
}

// storeRequireRolledBack checks that nothing of the failed transactions of
// the rollback subtests is left: the new user, workspace and membership are
// gone (and their email and slug are free again) and the existing user and
// workspace are as they were.
func storeRequireRolledBack(t *testing.T, uow ports.UnitOfWork, u *core.User, w *core.Workspace, existing *core.User, existingWS *core.Workspace) {
	t.Helper()
	ctx := context.Background()
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Users().Get(ctx, u.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "created user rolled back")
		_, err = tx.Users().GetByEmail(ctx, u.Email)
		require.ErrorIs(t, err, core.ErrNotFound, "created user rolled back")
		_, err = tx.Workspaces().Membership(ctx, w.ID, u.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "created workspace rolled back")
		_, err = tx.Workspaces().Membership(ctx, existingWS.ID, existing.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "membership rolled back")
		list, err := tx.Workspaces().ListForUser(ctx, existing.ID)
		require.NoError(t, err)
		require.Empty(t, list, "membership rolled back")

		got, err := tx.Users().Get(ctx, existing.ID)
		require.NoError(t, err)
		require.Equal(t, existing.PasswordHash, got.PasswordHash, "password update rolled back")
		require.Nil(t, got.LastLoginAt, "login rolled back")
		require.WithinDuration(t, existing.UpdatedAt, got.UpdatedAt, 0, "password update rolled back")
		return nil
	})
	// The unique keys were released too.
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		again := &core.User{Email: u.Email, PasswordHash: "h"}
		require.NoError(t, tx.Users().Create(ctx, again), "email free again")
		return tx.Workspaces().Create(ctx, &core.Workspace{Name: "Again", Slug: w.Slug, CreatedBy: again.ID})
	})
}

// storeDo runs fn in a transaction of uow and requires it to succeed.
func storeDo(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx) error) {
	t.Helper()
	require.NoError(t, uow.Do(ctx, fn))
}

func storeCreateUser(t *testing.T, uow ports.UnitOfWork, email string) *core.User {
	t.Helper()
	u := &core.User{Email: email, Username: "user", PasswordHash: "hash-1", IsActive: true}
	storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Users().Create(ctx, u)
	})
	return u
}

func storeGetUser(t *testing.T, uow ports.UnitOfWork, id uuid.UUID) core.User {
	t.Helper()
	var got core.User
	storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Users().Get(ctx, id)
		return err
	})
	return got
}

func storeCreateWorkspace(t *testing.T, uow ports.UnitOfWork, createdBy uuid.UUID) *core.Workspace {
	t.Helper()
	w := &core.Workspace{Name: "Workspace " + storeSuffix(), Slug: storeSlug(), Plan: core.PlanStarter, CreatedBy: createdBy}
	storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().Create(ctx, w)
	})
	return w
}

func storeAddMember(t *testing.T, uow ports.UnitOfWork, workspaceID, userID uuid.UUID, role core.Role) {
	t.Helper()
	storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: workspaceID, UserID: userID, Role: role})
	})
}

func requireSameUser(t *testing.T, want, got core.User) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Email, got.Email)
	require.Equal(t, want.Username, got.Username)
	require.Equal(t, want.PasswordHash, got.PasswordHash)
	require.Equal(t, want.IsActive, got.IsActive)
	require.Equal(t, want.IsVerified, got.IsVerified)
	require.WithinDuration(t, want.CreatedAt, got.CreatedAt, 0)
	require.WithinDuration(t, want.UpdatedAt, got.UpdatedAt, 0)
	require.Equal(t, want.LastLoginAt == nil, got.LastLoginAt == nil)
	require.Nil(t, got.DeletedAt)
}

func requireSameWorkspace(t *testing.T, want, got core.Workspace) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.Name, got.Name)
	require.Equal(t, want.Slug, got.Slug)
	require.Equal(t, want.Description, got.Description)
	require.Equal(t, want.Plan, got.Plan)
	require.Equal(t, want.CreatedBy, got.CreatedBy)
	require.WithinDuration(t, want.CreatedAt, got.CreatedAt, 0)
	require.WithinDuration(t, want.UpdatedAt, got.UpdatedAt, 0)
	require.Nil(t, got.DeletedAt)
}

// storeSuffix returns a fresh token so that subtests sharing a database never
// collide.
func storeSuffix() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:12] }

func storeEmail() string { return "user-" + storeSuffix() + "@example.com" }

func storeSlug() string { return "ws-" + storeSuffix() }
