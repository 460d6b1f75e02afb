package porttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
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
// workspace, invitation and audit stores of its transactions, each used from
// a correctly scoped transaction (TestTenantIsolation covers the others).
// newUoW may return units of work over one shared database: every subtest
// uses fresh ids, emails, slugs and token hashes, and the subtests run in
// parallel.
func TestUnitOfWork(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	t.Run("users", func(t *testing.T) {
		t.Parallel()
		testUsers(t, newUoW)
	})
	t.Run("workspaces", func(t *testing.T) {
		t.Parallel()
		testWorkspaces(t, newUoW)
	})
	t.Run("members", func(t *testing.T) {
		t.Parallel()
		testMembers(t, newUoW)
	})
	t.Run("invitations", func(t *testing.T) {
		t.Parallel()
		testInvitations(t, newUoW)
	})
	t.Run("audit", func(t *testing.T) {
		t.Parallel()
		testAudit(t, newUoW)
	})
	t.Run("transactions", func(t *testing.T) {
		t.Parallel()
		testTransactions(t, newUoW)
	})
}

func testUsers(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Run("create, get and get by email in any case", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		local := "Alice-" + storeSuffix()
		u := &core.User{
			ID: uuid.New(), Email: local + "@X.com", Username: "alice", PasswordHash: "hash-1",
			IsActive: true, IsVerified: true,
		}
		id := u.ID
		storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, u)
		})
		require.Equal(t, id, u.ID, "Create keeps the id the transaction is scoped to")
		require.False(t, u.CreatedAt.IsZero(), "Create fills CreatedAt")
		require.False(t, u.UpdatedAt.IsZero(), "Create fills UpdatedAt")

		// Accounts are readable from any scope, even none.
		storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
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

	t.Run("create is only for the scope's own user", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		email := storeEmail()
		for name, c := range map[string]struct {
			id  uuid.UUID
			ctx context.Context
		}{
			"another user's scope":   {uuid.New(), storeScope(uuid.New(), uuid.Nil)},
			"a workspace-only scope": {uuid.New(), storeScope(uuid.Nil, uuid.New())},
			"no identity":            {uuid.New(), context.Background()},
			"no id, a user's scope":  {uuid.Nil, storeScope(uuid.New(), uuid.Nil)},
			"no id and no identity":  {uuid.Nil, context.Background()},
		} {
			err := uow.Do(c.ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Users().Create(ctx, &core.User{ID: c.id, Email: email, PasswordHash: "h"})
			})
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
		storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Users().GetByEmail(ctx, email)
			require.ErrorIs(t, err, core.ErrNotFound, "nothing was created")
			return nil
		})
		storeCreateUser(t, uow, email) // and the email is still free
	})

	t.Run("keeps explicit times to the microsecond", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		created := time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))
		u := &core.User{ID: uuid.New(), Email: storeEmail(), PasswordHash: "h", CreatedAt: created, UpdatedAt: created.Add(time.Hour)}
		storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
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
		uow := newUoW(t)
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
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
		uow := newUoW(t)
		local := "Bob-" + storeSuffix()
		storeCreateUser(t, uow, local+"@X.com")
		id := uuid.New()
		err := uow.Do(storeScope(id, uuid.Nil), func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, &core.User{ID: id, Email: strings.ToLower(local) + "@x.com", PasswordHash: "h"})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "email already registered", core.AsError(err).Message)
	})

	t.Run("unknown user is not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
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
			// Scoped to the unknown id: it is unknown, not out of scope.
			err := uow.Do(storeScope(unknown, uuid.Nil), func(ctx context.Context, tx ports.Tx) error { return check(ctx, tx.Users()) })
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
	})

	t.Run("record login sets only LastLoginAt", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 6, 7, 8, 9, 10, 123456000, time.UTC)
		storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
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
		uow := newUoW(t)
		u := storeCreateUser(t, uow, storeEmail())
		at := time.Date(2030, 6, 7, 8, 9, 10, 0, time.UTC)
		storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().UpdatePassword(ctx, u.ID, "hash-2", at)
		})
		got := storeGetUser(t, uow, u.ID)
		require.Equal(t, "hash-2", got.PasswordHash)
		require.WithinDuration(t, at, got.UpdatedAt, 0)
		require.WithinDuration(t, u.CreatedAt, got.CreatedAt, 0)
		require.Nil(t, got.LastLoginAt)
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
				id := uuid.New()
				<-start
				errs[i] = uow.Do(storeScope(id, uuid.Nil), func(ctx context.Context, tx ports.Tx) error {
					return tx.Users().Create(ctx, &core.User{ID: id, Email: email, PasswordHash: "h"})
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

func testWorkspaces(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Run("create fills defaults and rejects a taken slug", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner := storeCreateUser(t, uow, storeEmail())
		w := &core.Workspace{ID: uuid.New(), Name: "Acme", Slug: storeSlug(), Description: "d", CreatedBy: owner.ID}
		id := w.ID
		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, w)
		})
		require.Equal(t, id, w.ID, "Create keeps the id the transaction is scoped to")
		require.Equal(t, core.PlanFree, w.Plan, "an empty plan is the free plan")
		require.False(t, w.CreatedAt.IsZero())
		require.False(t, w.UpdatedAt.IsZero())
		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Workspaces().Get(ctx)
			require.NoError(t, err)
			requireSameWorkspace(t, *w, got)
			return nil
		})

		other := uuid.New()
		err := uow.Do(storeScope(owner.ID, other), func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{ID: other, Name: "Other", Slug: w.Slug, CreatedBy: owner.ID})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "slug already taken", core.AsError(err).Message)

		storeDo(t, storeScope(owner.ID, other), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{ID: other, Name: "Other", Slug: storeSlug(), Plan: core.PlanPro, CreatedBy: owner.ID})
		})
	})

	t.Run("create outside its own scope is not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner := storeCreateUser(t, uow, storeEmail())
		slug := storeSlug()
		for name, c := range map[string]struct {
			id  uuid.UUID
			ctx context.Context
		}{
			"another workspace's scope": {uuid.New(), storeScope(owner.ID, uuid.New())},
			"a scope without workspace": {uuid.New(), storeScope(owner.ID, uuid.Nil)},
			"no identity":               {uuid.New(), context.Background()},
			"no id, a workspace scope":  {uuid.Nil, storeScope(owner.ID, uuid.New())},
			"no id and no workspace":    {uuid.Nil, storeScope(owner.ID, uuid.Nil)},
		} {
			err := uow.Do(c.ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().Create(ctx, &core.Workspace{ID: c.id, Name: "Acme", Slug: slug, CreatedBy: owner.ID})
			})
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
		// Nothing was created: the slug is still free.
		w := &core.Workspace{ID: uuid.New(), Name: "Acme", Slug: slug, CreatedBy: owner.ID}
		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, w)
		})
	})

	t.Run("workspace of an unknown creator is not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		id := uuid.New()
		err := uow.Do(storeScope(uuid.Nil, id), func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{ID: id, Name: "Acme", Slug: storeSlug(), CreatedBy: uuid.New()})
		})
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("get, update and set plan act on the current workspace", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		ctx := storeScope(owner.ID, w.ID)
		oldSlug, newSlug := w.Slug, storeSlug()
		updatedAt := time.Date(2030, 2, 3, 4, 5, 6, 789000, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			// Only Name, Slug and Description are saved.
			return tx.Workspaces().Update(ctx, core.Workspace{
				ID: w.ID, Name: "Renamed", Slug: newSlug, Description: "new description",
				Plan: core.PlanEnterprise, CreatedBy: uuid.New(), CreatedAt: updatedAt,
			}, updatedAt)
		})
		want := *w
		want.Name, want.Slug, want.Description, want.UpdatedAt = "Renamed", newSlug, "new description", updatedAt
		requireSameWorkspace(t, want, storeGetWorkspace(t, ctx, uow))

		// Saving the same slug again is not a conflict with itself.
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Update(ctx, core.Workspace{ID: w.ID, Name: "Renamed", Slug: newSlug, Description: "new description"}, updatedAt)
		})

		// The old slug is free; the new one is taken.
		_, other := storeNewTenantWithSlug(t, uow, oldSlug)
		err := uow.Do(storeScope(owner.ID, other.ID), func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Update(ctx, core.Workspace{ID: other.ID, Name: "Other", Slug: newSlug}, updatedAt)
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "slug already taken", core.AsError(err).Message)
		require.Equal(t, oldSlug, storeGetWorkspace(t, storeScope(uuid.Nil, other.ID), uow).Slug, "the conflicting update changed nothing")

		// An id that is not the current workspace is not found.
		err = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Update(ctx, core.Workspace{ID: uuid.New(), Name: "X", Slug: storeSlug()}, updatedAt)
		})
		require.ErrorIs(t, err, core.ErrNotFound)

		planAt := updatedAt.Add(time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetPlan(ctx, core.PlanPro, planAt)
		})
		want.Plan, want.UpdatedAt = core.PlanPro, planAt
		requireSameWorkspace(t, want, storeGetWorkspace(t, ctx, uow))

		err = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetPlan(ctx, "platinum", planAt.Add(time.Hour))
		})
		require.Error(t, err, "an unknown plan")
		requireSameWorkspace(t, want, storeGetWorkspace(t, ctx, uow))
	})

	t.Run("without a live current workspace, get and its writes are not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		for name, ctx := range map[string]context.Context{
			"no workspace":      storeScope(owner.ID, uuid.Nil),
			"unknown workspace": storeScope(owner.ID, uuid.New()),
			"no identity":       context.Background(),
		} {
			for op, f := range map[string]func(context.Context, ports.WorkspaceStore) error{
				"Get": func(ctx context.Context, s ports.WorkspaceStore) error {
					_, err := s.Get(ctx)
					return err
				},
				"Update": func(ctx context.Context, s ports.WorkspaceStore) error {
					return s.Update(ctx, core.Workspace{ID: w.ID, Name: "X", Slug: storeSlug()}, at)
				},
				"SetPlan":    func(ctx context.Context, s ports.WorkspaceStore) error { return s.SetPlan(ctx, core.PlanPro, at) },
				"SoftDelete": func(ctx context.Context, s ports.WorkspaceStore) error { return s.SoftDelete(ctx, at) },
			} {
				err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return f(ctx, tx.Workspaces()) })
				require.ErrorIs(t, err, core.ErrNotFound, "%s with %s", op, name)
			}
		}
		requireSameWorkspace(t, *w, storeGetWorkspace(t, storeScope(owner.ID, w.ID), uow))
	})

	t.Run("soft delete hides the workspace everywhere and frees its slug", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		member := storeCreateUser(t, uow, storeEmail())
		storeAddMember(t, uow, w.ID, member.ID, core.RoleMember)
		newcomer := storeCreateUser(t, uow, storeEmail())
		ctx := storeScope(owner.ID, w.ID)
		at := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Workspaces().SoftDelete(ctx, at))
			_, err := tx.Workspaces().Get(ctx)
			require.ErrorIs(t, err, core.ErrNotFound, "gone at once in the same transaction")
			return nil
		})

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			ws := tx.Workspaces()
			_, err := ws.Get(ctx)
			require.ErrorIs(t, err, core.ErrNotFound, "Get")
			_, err = ws.Membership(ctx, w.ID, owner.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "Membership")
			list, err := ws.ListForUser(ctx, owner.ID)
			require.NoError(t, err)
			require.Empty(t, list, "ListForUser")
			require.ErrorIs(t, ws.Update(ctx, core.Workspace{ID: w.ID, Name: "X", Slug: storeSlug()}, at), core.ErrNotFound, "Update")
			require.ErrorIs(t, ws.SetPlan(ctx, core.PlanPro, at), core.ErrNotFound, "SetPlan")
			require.ErrorIs(t, ws.SoftDelete(ctx, at), core.ErrNotFound, "SoftDelete")
			require.ErrorIs(t, ws.AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: newcomer.ID, Role: core.RoleMember}), core.ErrNotFound, "AddMember")
			require.ErrorIs(t, tx.Invitations().Create(ctx, storeInvitation(w.ID, owner.ID, at, at.Add(time.Hour))), core.ErrNotFound, "invitation Create")
			return nil
		})
		storeDo(t, storeScope(member.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Workspaces().Membership(ctx, w.ID, member.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "Membership of another member")
			list, err := tx.Workspaces().ListForUser(ctx, member.ID)
			require.NoError(t, err)
			require.Empty(t, list, "ListForUser of another member")
			return nil
		})

		storeNewTenantWithSlug(t, uow, w.Slug) // the slug is free again
	})
}

func testMembers(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Run("membership and list for user in join order", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user := storeCreateUser(t, uow, storeEmail())
		other := storeCreateUser(t, uow, storeEmail())
		// Created in the order w1, w2, w3; joined in the order w2, w1, w3;
		// added in the order w1, w3, w2.
		w1 := storeCreateWorkspace(t, uow, user.ID)
		w2 := storeCreateWorkspace(t, uow, user.ID)
		w3 := storeCreateWorkspace(t, uow, other.ID)
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, m := range []core.Membership{
			{WorkspaceID: w1.ID, UserID: user.ID, Role: core.RoleAdmin, JoinedAt: t0.Add(time.Hour)},
			{WorkspaceID: w3.ID, UserID: user.ID, Role: core.RoleViewer, JoinedAt: t0.Add(2 * time.Hour)},
			{WorkspaceID: w2.ID, UserID: user.ID, Role: core.RoleOwner, JoinedAt: t0},
			{WorkspaceID: w3.ID, UserID: other.ID, Role: core.RoleOwner},
		} {
			storeDo(t, storeScope(user.ID, m.WorkspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().AddMember(ctx, m)
			})
		}

		// A user reads their own memberships without a current workspace.
		storeDo(t, storeScope(user.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
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
			require.Empty(t, list, "another user's list is empty, even where both are members")

			// The user with their role, in one read (the authentication path).
			u, role, err := tx.Users().GetWithRole(ctx, user.ID, w1.ID)
			require.NoError(t, err)
			require.Equal(t, user.Email, u.Email)
			require.Equal(t, core.RoleAdmin, role)
			_, role, err = tx.Users().GetWithRole(ctx, user.ID, uuid.Nil)
			require.NoError(t, err)
			require.Empty(t, role, "no workspace, no role")
			_, role, err = tx.Users().GetWithRole(ctx, user.ID, uuid.New())
			require.NoError(t, err)
			require.Empty(t, role, "not a member of an unknown workspace")
			_, _, err = tx.Users().GetWithRole(ctx, uuid.New(), w1.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "unknown user")
			return nil
		})
		storeDo(t, storeScope(other.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			_, role, err := tx.Users().GetWithRole(ctx, other.ID, w1.ID)
			require.NoError(t, err)
			require.Empty(t, role, "not a member")
			_, role, err = tx.Users().GetWithRole(ctx, other.ID, w3.ID)
			require.NoError(t, err)
			require.Equal(t, core.RoleOwner, role)
			return nil
		})
		storeDo(t, storeScope(other.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Workspaces().ListForUser(ctx, other.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, w3.ID, list[0].Workspace.ID)
			require.Equal(t, core.RoleOwner, list[0].Role)
			return nil
		})
		// The current workspace shows every membership in it, but a list of
		// workspaces is only ever the scope user's own.
		storeDo(t, storeScope(other.ID, w3.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			m, err := tx.Workspaces().Membership(ctx, w3.ID, user.ID)
			require.NoError(t, err)
			require.Equal(t, core.RoleViewer, m.Role)
			list, err := tx.Workspaces().ListForUser(ctx, user.ID)
			require.NoError(t, err)
			require.Empty(t, list, "not the scope's user, though a member of the scope's workspace")
			return nil
		})
		storeDo(t, storeScope(uuid.New(), uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Workspaces().ListForUser(ctx, user.ID)
			require.NoError(t, err)
			require.Empty(t, list)
			return nil
		})
	})

	t.Run("adding a member twice is a conflict", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		storeAddMember(t, uow, w.ID, user.ID, core.RoleOwner)
		err := uow.Do(storeScope(user.ID, w.ID), func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: user.ID, Role: core.RoleViewer})
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "already a member", core.AsError(err).Message)
		require.Equal(t, core.RoleOwner, storeMembership(t, uow, w.ID, user.ID).Role, "the conflicting insert changed nothing")
	})

	t.Run("adding a member to an unknown workspace or user is not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		for name, m := range map[string]core.Membership{
			"unknown workspace": {WorkspaceID: uuid.New(), UserID: user.ID, Role: core.RoleMember},
			"unknown user":      {WorkspaceID: w.ID, UserID: uuid.New(), Role: core.RoleMember},
		} {
			// Scoped to m's workspace: it is unknown, not out of scope.
			err := uow.Do(storeScope(user.ID, m.WorkspaceID), func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().AddMember(ctx, m)
			})
			require.ErrorIs(t, err, core.ErrNotFound, name)
		}
	})

	t.Run("adding a member with an unknown role fails", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, user.ID)
		err := uow.Do(storeScope(user.ID, w.ID), func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: user.ID, Role: "superuser"})
		})
		require.Error(t, err)
	})

	t.Run("list members with account details in join order", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner := storeCreateUser(t, uow, storeEmail())
		w := storeCreateWorkspace(t, uow, owner.ID)
		first := storeCreateUser(t, uow, storeEmail())
		tied1 := storeCreateUser(t, uow, storeEmail())
		tied2 := storeCreateUser(t, uow, storeEmail())
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		joins := []core.Membership{
			{UserID: owner.ID, Role: core.RoleOwner, JoinedAt: t0.Add(2 * time.Hour)},
			{UserID: tied1.ID, Role: core.RoleViewer, JoinedAt: t0.Add(time.Hour)},
			{UserID: first.ID, Role: core.RoleAdmin, JoinedAt: t0},
			{UserID: tied2.ID, Role: core.RoleMember, JoinedAt: t0.Add(time.Hour)},
		}
		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			for _, m := range joins {
				m.WorkspaceID = w.ID
				require.NoError(t, tx.Workspaces().AddMember(ctx, m))
			}
			return nil
		})
		// A member of another workspace only.
		elsewhere, _ := storeNewTenant(t, uow)

		users := map[uuid.UUID]*core.User{owner.ID: owner, first.ID: first, tied1.ID: tied1, tied2.ID: tied2}
		want := make([]core.Member, 0, len(joins))
		for _, m := range joins {
			u := users[m.UserID]
			want = append(want, core.Member{UserID: u.ID, Email: u.Email, Username: u.Username, Role: m.Role, JoinedAt: m.JoinedAt})
		}
		// Oldest first; equal join times by user id.
		sort.Slice(want, func(i, j int) bool {
			if !want[i].JoinedAt.Equal(want[j].JoinedAt) {
				return want[i].JoinedAt.Before(want[j].JoinedAt)
			}
			return bytes.Compare(want[i].UserID[:], want[j].UserID[:]) < 0
		})

		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				require.Equal(t, want[i].UserID, got[i].UserID, "member %d", i)
				require.Equal(t, want[i].Email, got[i].Email, "member %d", i)
				require.Equal(t, want[i].Username, got[i].Username, "member %d", i)
				require.Equal(t, want[i].Role, got[i].Role, "member %d", i)
				require.WithinDuration(t, want[i].JoinedAt, got[i].JoinedAt, 0, "member %d", i)
				require.NotEqual(t, elsewhere.ID, got[i].UserID)
			}
			return nil
		})
		storeDo(t, storeScope(owner.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Empty(t, got, "no current workspace, no members")
			return nil
		})
	})

	t.Run("set role and remove a member", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		member := storeCreateUser(t, uow, storeEmail())
		storeAddMember(t, uow, w.ID, member.ID, core.RoleMember)
		ctx := storeScope(owner.ID, w.ID)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetMemberRole(ctx, member.ID, core.RoleAdmin)
		})
		require.Equal(t, core.RoleAdmin, storeMembership(t, uow, w.ID, member.ID).Role)
		require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetMemberRole(ctx, uuid.New(), core.RoleAdmin)
		}), core.ErrNotFound, "not a member")
		require.Error(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetMemberRole(ctx, member.ID, "superuser")
		}), "unknown role")
		require.Equal(t, core.RoleAdmin, storeMembership(t, uow, w.ID, member.ID).Role)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().RemoveMember(ctx, member.ID)
		})
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			ws := tx.Workspaces()
			_, err := ws.Membership(ctx, w.ID, member.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			members, err := ws.ListMembers(ctx)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{owner.ID}, memberIDs(members))
			require.ErrorIs(t, ws.RemoveMember(ctx, member.ID), core.ErrNotFound, "removed twice")
			require.ErrorIs(t, ws.SetMemberRole(ctx, member.ID, core.RoleViewer), core.ErrNotFound, "role of a removed member")
			require.ErrorIs(t, ws.RemoveMember(ctx, uuid.New()), core.ErrNotFound, "never a member")
			return nil
		})
		storeDo(t, storeScope(member.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Workspaces().ListForUser(ctx, member.ID)
			require.NoError(t, err)
			require.Empty(t, list)
			return nil
		})
		storeAddMember(t, uow, w.ID, member.ID, core.RoleViewer) // can join again
	})

	t.Run("lock members counts members and owners", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		owner2 := storeCreateUser(t, uow, storeEmail())
		admin := storeCreateUser(t, uow, storeEmail())
		viewer := storeCreateUser(t, uow, storeEmail())
		storeAddMember(t, uow, w.ID, owner2.ID, core.RoleOwner)
		storeAddMember(t, uow, w.ID, admin.ID, core.RoleAdmin)
		storeAddMember(t, uow, w.ID, viewer.ID, core.RoleViewer)
		storeNewTenant(t, uow) // members of another workspace do not count
		ctx := storeScope(owner.ID, w.ID)
		lock := func(ctx context.Context, tx ports.Tx, wantMembers, wantOwners int) {
			t.Helper()
			members, owners, err := tx.Workspaces().LockMembers(ctx)
			require.NoError(t, err)
			require.Equal(t, wantMembers, members, "members")
			require.Equal(t, wantOwners, owners, "owners")
		}
		errUndo := errors.New("undo")
		require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			lock(ctx, tx, 4, 2)
			require.NoError(t, tx.Workspaces().RemoveMember(ctx, owner2.ID))
			lock(ctx, tx, 3, 1)
			require.NoError(t, tx.Workspaces().SetMemberRole(ctx, admin.ID, core.RoleOwner))
			lock(ctx, tx, 3, 2)
			return errUndo
		}), errUndo)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			lock(ctx, tx, 4, 2)
			return nil
		})
		storeDo(t, storeScope(owner.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			lock(ctx, tx, 0, 0)
			return nil
		})
	})

	t.Run("last owner check under LockMembers: of two owners leaving at once, one does", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		errLastOwner := errors.New("the last owner cannot leave")
		for round := range 5 {
			o1, w := storeNewTenant(t, uow)
			o2 := storeCreateUser(t, uow, storeEmail())
			storeAddMember(t, uow, w.ID, o2.ID, core.RoleOwner)
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, leaver := range []uuid.UUID{o1.ID, o2.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = uow.Do(storeScope(leaver, w.ID), func(ctx context.Context, tx ports.Tx) error {
						_, owners, err := tx.Workspaces().LockMembers(ctx)
						if err != nil {
							return err
						}
						if owners < 2 {
							return errLastOwner
						}
						return tx.Workspaces().RemoveMember(ctx, leaver)
					})
				}()
			}
			close(start)
			wg.Wait()
			left := 0
			for _, err := range errs {
				if err == nil {
					left++
					continue
				}
				require.ErrorIs(t, err, errLastOwner, "round %d", round)
			}
			require.Equal(t, 1, left, "round %d", round)
			storeDo(t, storeScope(uuid.Nil, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
				members, owners, err := tx.Workspaces().LockMembers(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, members)
				require.Equal(t, 1, owners)
				return nil
			})
		}
	})
}

func testInvitations(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	t.Run("create, list pending newest first, find by token in every state", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		acceptor := storeCreateUser(t, uow, storeEmail())
		ctx := storeScope(owner.ID, w.ID)
		day := 24 * time.Hour

		older := storeInvitation(w.ID, owner.ID, t0.Add(-3*time.Hour), t0.Add(day))
		tieA := storeInvitation(w.ID, owner.ID, t0.Add(-time.Hour), t0.Add(day))
		tieB := storeInvitation(w.ID, owner.ID, t0.Add(-time.Hour), t0.Add(day))
		tieB.Role = core.RoleAdmin
		defaulted := storeInvitation(w.ID, owner.ID, time.Time{}, t0.Add(day))
		defaulted.ID = uuid.Nil
		expired := storeInvitation(w.ID, owner.ID, t0.Add(-2*time.Hour), t0) // expires exactly at now
		revoked := storeInvitation(w.ID, owner.ID, t0.Add(-2*time.Hour), t0.Add(day))
		accepted := storeInvitation(w.ID, owner.ID, t0.Add(-2*time.Hour), t0.Add(day))
		revokedAt, acceptedAt := t0.Add(-30*time.Minute), t0.Add(-20*time.Minute)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for _, inv := range []*core.Invitation{older, tieA, tieB, defaulted, expired, revoked, accepted} {
				require.NoError(t, tx.Invitations().Create(ctx, inv))
			}
			require.NoError(t, tx.Invitations().Revoke(ctx, revoked.ID, revokedAt))
			return tx.Invitations().MarkAccepted(ctx, accepted.ID, acceptor.ID, acceptedAt)
		})
		require.NotEqual(t, uuid.Nil, defaulted.ID, "Create fills the id")
		require.False(t, defaulted.CreatedAt.IsZero(), "Create fills CreatedAt")
		require.True(t, defaulted.CreatedAt.Before(t0), "the transaction's time is now, before t0")

		ties := []*core.Invitation{tieA, tieB}
		if bytes.Compare(tieA.ID[:], tieB.ID[:]) < 0 {
			ties = []*core.Invitation{tieB, tieA} // equal times: id descending
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Invitations().ListPending(ctx, t0)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{ties[0].ID, ties[1].ID, older.ID, defaulted.ID}, invitationIDs(list), "pending at t0, newest first")
			for i, want := range []*core.Invitation{ties[0], ties[1], older, defaulted} {
				requireSameInvitation(t, *want, list[i])
			}

			list, err = tx.Invitations().ListPending(ctx, t0.Add(day))
			require.NoError(t, err)
			require.Empty(t, list, "all expired by then")

			for name, want := range map[string]*core.Invitation{"pending": older, "expired": expired, "revoked": revoked, "accepted": accepted} {
				got, err := tx.Invitations().FindByTokenHash(ctx, want.TokenHash)
				require.NoError(t, err, name)
				require.Equal(t, want.ID, got.ID, name)
				require.Equal(t, name == "pending", got.Pending(t0), name)
				switch name {
				case "revoked":
					require.NotNil(t, got.RevokedAt)
					require.WithinDuration(t, revokedAt, *got.RevokedAt, 0)
					require.Nil(t, got.AcceptedAt)
				case "accepted":
					require.NotNil(t, got.AcceptedAt)
					require.WithinDuration(t, acceptedAt, *got.AcceptedAt, 0)
					require.NotNil(t, got.AcceptedBy)
					require.Equal(t, acceptor.ID, *got.AcceptedBy)
					require.Nil(t, got.RevokedAt)
				default:
					requireSameInvitation(t, *want, got)
				}
			}
			_, err = tx.Invitations().FindByTokenHash(ctx, storeTokenHash())
			require.ErrorIs(t, err, core.ErrNotFound, "unknown token")
			return nil
		})
		storeDo(t, storeScope(owner.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Invitations().ListPending(ctx, t0)
			require.NoError(t, err)
			require.Empty(t, list, "no current workspace, no invitations")
			return nil
		})
	})

	t.Run("returned invitations are copies", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		inv := storeInvitation(w.ID, owner.ID, t0, t0.Add(time.Hour))
		at := t0.Add(time.Minute)
		storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Invitations().Create(ctx, inv))
			return tx.Invitations().MarkAccepted(ctx, inv.ID, owner.ID, at)
		})
		find := func() core.Invitation {
			var got core.Invitation
			storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
				var err error
				got, err = tx.Invitations().FindByTokenHash(ctx, inv.TokenHash)
				return err
			})
			return got
		}
		got := find()
		*got.AcceptedAt = at.Add(time.Hour)
		*got.AcceptedBy = uuid.New()
		again := find()
		require.WithinDuration(t, at, *again.AcceptedAt, 0)
		require.Equal(t, owner.ID, *again.AcceptedBy)
	})

	t.Run("revoke and accept only pending invitations, once", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		user := storeCreateUser(t, uow, storeEmail())
		ctx := storeScope(owner.ID, w.ID)
		toRevoke := storeInvitation(w.ID, owner.ID, t0, t0.Add(time.Hour))
		toAccept := storeInvitation(w.ID, owner.ID, t0, t0.Add(time.Hour))
		expiring := storeInvitation(w.ID, owner.ID, t0, t0.Add(time.Hour))
		for _, inv := range []*core.Invitation{toRevoke, toAccept, expiring} {
			storeCreateInvitation(t, uow, inv)
		}
		at := t0.Add(time.Minute)
		notFound := func(name string, f func(ctx context.Context, s ports.InvitationStore) error) {
			t.Helper()
			require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return f(ctx, tx.Invitations()) }), core.ErrNotFound, name)
		}

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error { return tx.Invitations().Revoke(ctx, toRevoke.ID, at) })
		notFound("revoked twice", func(ctx context.Context, s ports.InvitationStore) error { return s.Revoke(ctx, toRevoke.ID, at) })
		notFound("accept a revoked one", func(ctx context.Context, s ports.InvitationStore) error {
			return s.MarkAccepted(ctx, toRevoke.ID, user.ID, at)
		})

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Invitations().MarkAccepted(ctx, toAccept.ID, user.ID, at)
		})
		notFound("accepted twice", func(ctx context.Context, s ports.InvitationStore) error {
			return s.MarkAccepted(ctx, toAccept.ID, owner.ID, at)
		})
		notFound("revoke an accepted one", func(ctx context.Context, s ports.InvitationStore) error { return s.Revoke(ctx, toAccept.ID, at) })

		// Pending is judged at the given time.
		notFound("revoke at expiry", func(ctx context.Context, s ports.InvitationStore) error {
			return s.Revoke(ctx, expiring.ID, expiring.ExpiresAt)
		})
		notFound("accept after expiry", func(ctx context.Context, s ports.InvitationStore) error {
			return s.MarkAccepted(ctx, expiring.ID, user.ID, expiring.ExpiresAt.Add(time.Second))
		})
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Invitations().MarkAccepted(ctx, expiring.ID, user.ID, expiring.ExpiresAt.Add(-time.Second))
		})

		notFound("revoke an unknown one", func(ctx context.Context, s ports.InvitationStore) error { return s.Revoke(ctx, uuid.New(), at) })
		notFound("accept an unknown one", func(ctx context.Context, s ports.InvitationStore) error {
			return s.MarkAccepted(ctx, uuid.New(), user.ID, at)
		})

		// Nothing was deleted, and the failed calls changed nothing.
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Invitations().FindByTokenHash(ctx, toRevoke.TokenHash)
			require.NoError(t, err)
			require.NotNil(t, got.RevokedAt)
			require.WithinDuration(t, at, *got.RevokedAt, 0)
			require.Nil(t, got.AcceptedAt)

			got, err = tx.Invitations().FindByTokenHash(ctx, toAccept.TokenHash)
			require.NoError(t, err)
			require.NotNil(t, got.AcceptedAt)
			require.WithinDuration(t, at, *got.AcceptedAt, 0)
			require.Equal(t, user.ID, *got.AcceptedBy, "the first acceptance stands")
			require.Nil(t, got.RevokedAt)
			return nil
		})
	})

	t.Run("concurrent acceptances of one invitation: exactly one succeeds", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		owner, w := storeNewTenant(t, uow)
		inv := storeInvitation(w.ID, owner.ID, t0, t0.Add(time.Hour))
		storeCreateInvitation(t, uow, inv)
		const n = 8
		users := make([]*core.User, n)
		for i := range users {
			users[i] = storeCreateUser(t, uow, storeEmail())
		}
		start := make(chan struct{})
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = uow.Do(storeScope(u.ID, w.ID), func(ctx context.Context, tx ports.Tx) error {
					return tx.Invitations().MarkAccepted(ctx, inv.ID, u.ID, t0.Add(time.Minute))
				})
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two acceptances succeeded")
				winner = i
				continue
			}
			require.ErrorIs(t, err, core.ErrNotFound, "goroutine %d", i)
		}
		require.NotEqual(t, -1, winner, "no acceptance succeeded")
		storeDo(t, context.Background(), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Invitations().FindByTokenHash(ctx, inv.TokenHash)
			require.NoError(t, err)
			require.NotNil(t, got.AcceptedBy)
			require.Equal(t, users[winner].ID, *got.AcceptedBy)
			return nil
		})
	})
}

func testAudit(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Run("append and read back", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		entity := uuid.New()
		storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{
				WorkspaceID: &w.ID, ActorID: &user.ID, Action: core.AuditWorkspaceCreated,
				EntityType: "workspace", EntityID: &entity, IPAddress: "203.0.113.7", RequestID: "req-1",
				Changes: map[string]any{"name": "Acme", "plan": "free", "seats": 3, "tags": []string{"a"}},
			}))
			// Nothing but the action: a failed login for an unknown account.
			return tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginFailed})
		})
		// References are not checked: the trail outlives what it names, and
		// a workspace that does not exist (any more) can be the scope's.
		ghost := uuid.New()
		storeDo(t, storeScope(ghost, ghost), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Audit().Append(ctx, core.AuditEvent{
				ID: uuid.New(), WorkspaceID: &ghost, ActorID: &ghost, Action: core.AuditLogout,
				CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			})
		})

		storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Audit().List(ctx, ports.AuditFilter{})
			require.NoError(t, err)
			require.Len(t, list, 1, "only the current workspace's events")
			e := list[0]
			require.NotEqual(t, uuid.Nil, e.ID)
			require.False(t, e.CreatedAt.IsZero())
			require.Equal(t, w.ID, *e.WorkspaceID)
			require.Equal(t, user.ID, *e.ActorID)
			require.Equal(t, core.AuditWorkspaceCreated, e.Action)
			require.Equal(t, "workspace", e.EntityType)
			require.Equal(t, entity, *e.EntityID)
			require.Equal(t, "203.0.113.7", e.IPAddress)
			require.Equal(t, "req-1", e.RequestID)
			require.Equal(t, map[string]any{"name": "Acme", "plan": "free", "seats": float64(3), "tags": []any{"a"}},
				e.Changes, "changes read back as JSON")
			return nil
		})
		storeDo(t, storeScope(ghost, ghost), uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Audit().List(ctx, ports.AuditFilter{})
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, core.AuditLogout, list[0].Action)
			require.WithinDuration(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), list[0].CreatedAt, 0)
			return nil
		})
	})

	t.Run("list pages newest first, filters by action", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		_, other := storeNewTenant(t, uow)
		t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		const n = 25
		events := make([]core.AuditEvent, n)
		for i := range events {
			action := core.AuditMembershipCreated
			if i%4 == 0 {
				action = core.AuditWorkspaceUpdated
			}
			// Groups of three share their time, so order among them is by id,
			// and pages of ten split groups.
			events[i] = core.AuditEvent{
				ID: uuid.New(), WorkspaceID: &w.ID, ActorID: &user.ID, Action: action,
				CreatedAt: t0.Add(time.Duration(i/3) * time.Minute),
			}
		}
		storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			for _, e := range events {
				require.NoError(t, tx.Audit().Append(ctx, e))
			}
			// Neither account-level events nor another workspace's are listed.
			return tx.Audit().Append(ctx, core.AuditEvent{ActorID: &user.ID, Action: core.AuditWorkspaceUpdated, CreatedAt: t0.Add(time.Hour)})
		})
		storeDo(t, storeScope(user.ID, other.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &other.ID, Action: core.AuditWorkspaceUpdated, CreatedAt: t0.Add(time.Minute)})
		})

		want := append([]core.AuditEvent(nil), events...)
		sort.Slice(want, func(i, j int) bool {
			if !want[i].CreatedAt.Equal(want[j].CreatedAt) {
				return want[i].CreatedAt.After(want[j].CreatedAt)
			}
			return bytes.Compare(want[i].ID[:], want[j].ID[:]) > 0
		})
		wantIDs := auditIDs(want)
		var updates []uuid.UUID
		for _, e := range want {
			if e.Action == core.AuditWorkspaceUpdated {
				updates = append(updates, e.ID)
			}
		}
		position := func(e core.AuditEvent) *ports.AuditPosition {
			return &ports.AuditPosition{CreatedAt: e.CreatedAt, ID: e.ID}
		}

		storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			list := func(f ports.AuditFilter) []core.AuditEvent {
				t.Helper()
				got, err := tx.Audit().List(ctx, f)
				require.NoError(t, err)
				return got
			}
			require.Equal(t, wantIDs, auditIDs(list(ports.AuditFilter{})), "no limit: everything, newest first, equal times by id descending")
			require.Equal(t, wantIDs[:7], auditIDs(list(ports.AuditFilter{Limit: 7})))

			// Keyset paging: no duplicates, no gaps.
			var paged []uuid.UUID
			var sizes []int
			f := ports.AuditFilter{Limit: 10}
			for range n {
				page := list(f)
				sizes = append(sizes, len(page))
				if len(page) == 0 {
					break
				}
				paged = append(paged, auditIDs(page)...)
				f.Before = position(page[len(page)-1])
			}
			require.Equal(t, []int{10, 10, 5, 0}, sizes)
			require.Equal(t, wantIDs, paged)

			require.Equal(t, updates, auditIDs(list(ports.AuditFilter{Action: core.AuditWorkspaceUpdated})), "by action")
			require.Equal(t, updates[:2], auditIDs(list(ports.AuditFilter{Action: core.AuditWorkspaceUpdated, Limit: 2})))
			require.Equal(t, updates[2:], auditIDs(list(ports.AuditFilter{
				Action: core.AuditWorkspaceUpdated, Before: &ports.AuditPosition{CreatedAt: want[wantIndex(want, updates[1])].CreatedAt, ID: updates[1]},
			})), "by action, after a cursor")
			require.Empty(t, list(ports.AuditFilter{Action: "no.such_action"}))
			return nil
		})
		storeDo(t, storeScope(user.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Audit().List(ctx, ports.AuditFilter{})
			require.NoError(t, err)
			require.Empty(t, got, "no current workspace, no events")
			return nil
		})
	})
}

func testTransactions(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Run("writes are visible later in the same transaction", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		u := &core.User{ID: uuid.New(), Email: storeEmail(), PasswordHash: "h"}
		w := &core.Workspace{ID: uuid.New(), Name: "Acme", Slug: storeSlug(), CreatedBy: u.ID}
		storeDo(t, storeScope(u.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Users().Create(ctx, u))
			require.NoError(t, tx.Workspaces().Create(ctx, w))
			require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner}))
			inv := storeInvitation(w.ID, u.ID, time.Time{}, time.Now().Add(time.Hour))
			require.NoError(t, tx.Invitations().Create(ctx, inv))
			require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &w.ID, Action: core.AuditWorkspaceCreated}))

			got, err := tx.Users().GetByEmail(ctx, u.Email)
			require.NoError(t, err)
			require.Equal(t, u.ID, got.ID)
			list, err := tx.Workspaces().ListForUser(ctx, u.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, w.ID, list[0].Workspace.ID)
			current, err := tx.Workspaces().Get(ctx)
			require.NoError(t, err)
			require.Equal(t, w.ID, current.ID)
			members, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{u.ID}, memberIDs(members))
			pending, err := tx.Invitations().ListPending(ctx, time.Now())
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{inv.ID}, invitationIDs(pending))
			events, err := tx.Audit().List(ctx, ports.AuditFilter{})
			require.NoError(t, err)
			require.Len(t, events, 1)
			return nil
		})
	})

	t.Run("autocommit: one operation at a time, in the same scope", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		_, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		require.NoError(t, uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Update(ctx, core.Workspace{ID: w.ID, Name: "Renamed", Slug: w.Slug}, time.Now())
		}))
		require.NoError(t, uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Workspaces().Get(ctx)
			require.NoError(t, err)
			require.Equal(t, "Renamed", got.Name, "the update was committed")
			_, err = tx.Workspaces().Membership(ctx, other.ID, other.CreatedBy)
			require.ErrorIs(t, err, core.ErrNotFound, "another tenant's workspace is out of scope")
			return nil
		}))
		errBoom := errors.New("boom")
		require.ErrorIs(t, uow.Autocommit(ctx, func(context.Context, ports.Tx) error { return errBoom }), errBoom,
			"Autocommit returns fn's error")
	})

	for _, failure := range []struct {
		name string
		// run runs fn in uow and makes its transaction fail after fn's writes.
		run func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx))
	}{
		{"rollback when fn returns an error", func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx)) {
			errBoom := errors.New("boom")
			err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				fn(ctx, tx)
				return fmt.Errorf("register: %w", errBoom)
			})
			require.ErrorIs(t, err, errBoom, "Do returns fn's error")
			require.EqualError(t, err, "register: boom", "Do returns fn's error unchanged")
		}},
		{"rollback when fn panics", func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx)) {
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				_ = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
					fn(ctx, tx)
					panic("kaboom")
				})
			}()
			require.Equal(t, "kaboom", recovered, "Do lets the panic go on")
		}},
	} {
		t.Run(failure.name+": new rows", func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			n := newRollbackRows()
			failure.run(t, storeScope(n.user.ID, n.ws.ID), uow, func(ctx context.Context, tx ports.Tx) { n.write(t, ctx, tx) })
			n.requireRolledBack(t, uow)
		})
		t.Run(failure.name+": changes to existing rows", func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			e := newRollbackExisting(t, uow)
			failure.run(t, storeScope(e.owner.ID, e.ws.ID), uow, func(ctx context.Context, tx ports.Tx) { e.change(t, ctx, tx) })
			e.requireUnchanged(t, uow)
		})
	}
}

// rollbackRows are the rows a failing transaction inserts; none may be left.
type rollbackRows struct {
	user *core.User
	ws   *core.Workspace
	inv  *core.Invitation
}

func newRollbackRows() *rollbackRows {
	u := &core.User{ID: uuid.New(), Email: storeEmail(), PasswordHash: "h"}
	w := &core.Workspace{ID: uuid.New(), Name: "Acme", Slug: storeSlug(), CreatedBy: u.ID}
	return &rollbackRows{user: u, ws: w, inv: storeInvitation(w.ID, u.ID, time.Time{}, time.Now().Add(time.Hour))}
}

// write inserts every row, as a registration followed by an invitation.
func (r *rollbackRows) write(t *testing.T, ctx context.Context, tx ports.Tx) {
	require.NoError(t, tx.Users().Create(ctx, r.user))
	require.NoError(t, tx.Workspaces().Create(ctx, r.ws))
	require.NoError(t, tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: r.ws.ID, UserID: r.user.ID, Role: core.RoleOwner}))
	require.NoError(t, tx.Invitations().Create(ctx, r.inv))
	require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &r.ws.ID, ActorID: &r.user.ID, Action: core.AuditUserRegistered}))
}

// requireRolledBack checks that no row is left and every unique key (ids,
// email, slug, token hash) is free again.
func (r *rollbackRows) requireRolledBack(t *testing.T, uow ports.UnitOfWork) {
	t.Helper()
	storeDo(t, storeScope(r.user.ID, r.ws.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Users().Get(ctx, r.user.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "created user rolled back")
		_, err = tx.Users().GetByEmail(ctx, r.user.Email)
		require.ErrorIs(t, err, core.ErrNotFound, "created user rolled back")
		_, err = tx.Workspaces().Get(ctx)
		require.ErrorIs(t, err, core.ErrNotFound, "created workspace rolled back")
		_, err = tx.Workspaces().Membership(ctx, r.ws.ID, r.user.ID)
		require.ErrorIs(t, err, core.ErrNotFound, "membership rolled back")
		members, err := tx.Workspaces().ListMembers(ctx)
		require.NoError(t, err)
		require.Empty(t, members, "membership rolled back")
		_, err = tx.Invitations().FindByTokenHash(ctx, r.inv.TokenHash)
		require.ErrorIs(t, err, core.ErrNotFound, "invitation rolled back")
		events, err := tx.Audit().List(ctx, ports.AuditFilter{})
		require.NoError(t, err)
		require.Empty(t, events, "audit event rolled back")
		return nil
	})
	again := &rollbackRows{
		user: &core.User{ID: r.user.ID, Email: r.user.Email, PasswordHash: "h"},
		ws:   &core.Workspace{ID: r.ws.ID, Name: "Again", Slug: r.ws.Slug, CreatedBy: r.user.ID},
		inv:  storeInvitation(r.ws.ID, r.user.ID, time.Time{}, time.Now().Add(time.Hour)),
	}
	again.inv.ID, again.inv.TokenHash = r.inv.ID, r.inv.TokenHash
	storeDo(t, storeScope(r.user.ID, r.ws.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		again.write(t, ctx, tx)
		return nil
	})
}

// rollbackExisting is a workspace with members, invitations and an event,
// which a failing transaction changes in every way it can.
type rollbackExisting struct {
	owner, member, leaver, newcomer *core.User
	ws                              *core.Workspace
	toRevoke, toAccept              *core.Invitation
	event                           uuid.UUID
	newSlug                         string
	at                              time.Time
}

func newRollbackExisting(t *testing.T, uow ports.UnitOfWork) *rollbackExisting {
	t.Helper()
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	owner, w := storeNewTenant(t, uow)
	e := &rollbackExisting{
		owner: owner, ws: w,
		member:   storeCreateUser(t, uow, storeEmail()),
		leaver:   storeCreateUser(t, uow, storeEmail()),
		newcomer: storeCreateUser(t, uow, storeEmail()),
		toRevoke: storeInvitation(w.ID, owner.ID, at, at.Add(time.Hour)),
		toAccept: storeInvitation(w.ID, owner.ID, at.Add(time.Minute), at.Add(time.Hour)),
		event:    uuid.New(),
		newSlug:  storeSlug(),
		at:       at,
	}
	storeAddMember(t, uow, w.ID, e.member.ID, core.RoleMember)
	storeAddMember(t, uow, w.ID, e.leaver.ID, core.RoleViewer)
	storeCreateInvitation(t, uow, e.toRevoke)
	storeCreateInvitation(t, uow, e.toAccept)
	storeDo(t, storeScope(owner.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Audit().Append(ctx, core.AuditEvent{ID: e.event, WorkspaceID: &w.ID, Action: core.AuditWorkspaceCreated})
	})
	return e
}

// change makes every kind of write to the existing rows, ending with the
// workspace's deletion.
func (e *rollbackExisting) change(t *testing.T, ctx context.Context, tx ports.Tx) {
	at := e.at.Add(time.Minute)
	require.NoError(t, tx.Users().RecordLogin(ctx, e.owner.ID, at))
	require.NoError(t, tx.Users().UpdatePassword(ctx, e.owner.ID, "changed", at))
	ws := tx.Workspaces()
	require.NoError(t, ws.Update(ctx, core.Workspace{ID: e.ws.ID, Name: "Renamed", Slug: e.newSlug, Description: "changed"}, at))
	require.NoError(t, ws.SetPlan(ctx, core.PlanEnterprise, at))
	require.NoError(t, ws.SetMemberRole(ctx, e.member.ID, core.RoleAdmin))
	require.NoError(t, ws.RemoveMember(ctx, e.leaver.ID))
	require.NoError(t, ws.AddMember(ctx, core.Membership{WorkspaceID: e.ws.ID, UserID: e.newcomer.ID, Role: core.RoleMember}))
	require.NoError(t, tx.Invitations().Revoke(ctx, e.toRevoke.ID, at))
	require.NoError(t, tx.Invitations().MarkAccepted(ctx, e.toAccept.ID, e.newcomer.ID, at))
	require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &e.ws.ID, Action: core.AuditWorkspaceDeleted}))
	require.NoError(t, ws.SoftDelete(ctx, at))
}

// requireUnchanged checks that every change was undone, slugs included.
func (e *rollbackExisting) requireUnchanged(t *testing.T, uow ports.UnitOfWork) {
	t.Helper()
	storeDo(t, storeScope(e.owner.ID, e.ws.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		got, err := tx.Users().Get(ctx, e.owner.ID)
		require.NoError(t, err)
		require.Equal(t, e.owner.PasswordHash, got.PasswordHash, "password update rolled back")
		require.Nil(t, got.LastLoginAt, "login rolled back")
		require.WithinDuration(t, e.owner.UpdatedAt, got.UpdatedAt, 0, "password update rolled back")

		current, err := tx.Workspaces().Get(ctx)
		require.NoError(t, err, "deletion rolled back")
		requireSameWorkspace(t, *e.ws, current)

		members, err := tx.Workspaces().ListMembers(ctx)
		require.NoError(t, err)
		roles := map[uuid.UUID]core.Role{}
		for _, m := range members {
			roles[m.UserID] = m.Role
		}
		require.Equal(t, map[uuid.UUID]core.Role{e.owner.ID: core.RoleOwner, e.member.ID: core.RoleMember, e.leaver.ID: core.RoleViewer}, roles,
			"role change, removal and addition rolled back")
		membersCount, owners, err := tx.Workspaces().LockMembers(ctx)
		require.NoError(t, err)
		require.Equal(t, [2]int{3, 1}, [2]int{membersCount, owners})

		pending, err := tx.Invitations().ListPending(ctx, e.at)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{e.toAccept.ID, e.toRevoke.ID}, invitationIDs(pending), "revocation and acceptance rolled back")
		for _, inv := range []*core.Invitation{e.toRevoke, e.toAccept} {
			got, err := tx.Invitations().FindByTokenHash(ctx, inv.TokenHash)
			require.NoError(t, err)
			requireSameInvitation(t, *inv, got)
		}

		events, err := tx.Audit().List(ctx, ports.AuditFilter{})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{e.event}, auditIDs(events), "audit event rolled back")
		return nil
	})
	storeDo(t, storeScope(e.newcomer.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
		list, err := tx.Workspaces().ListForUser(ctx, e.newcomer.ID)
		require.NoError(t, err)
		require.Empty(t, list, "addition rolled back")
		return nil
	})
	storeDo(t, storeScope(e.leaver.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
		list, err := tx.Workspaces().ListForUser(ctx, e.leaver.ID)
		require.NoError(t, err)
		require.Len(t, list, 1, "removal rolled back")
		return nil
	})
	// The old slug is still taken and the new one is free.
	id := uuid.New()
	err := uow.Do(storeScope(e.owner.ID, id), func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().Create(ctx, &core.Workspace{ID: id, Name: "Other", Slug: e.ws.Slug, CreatedBy: e.owner.ID})
	})
	require.ErrorIs(t, err, core.ErrConflict, "the old slug is taken again")
	storeDo(t, storeScope(e.owner.ID, id), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().Create(ctx, &core.Workspace{ID: id, Name: "Other", Slug: e.newSlug, CreatedBy: e.owner.ID})
	})
}

// storeScope returns a context whose identity scopes a transaction to userID
// and workspaceID (uuid.Nil: none).
func storeScope(userID, workspaceID uuid.UUID) context.Context {
	return core.WithIdentity(context.Background(), core.Identity{UserID: userID, WorkspaceID: workspaceID})
}

// storeDo runs fn in a transaction of uow and requires it to succeed.
func storeDo(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx) error) {
	t.Helper()
	require.NoError(t, uow.Do(ctx, fn))
}

// storeCreateUser registers a user in a transaction scoped to its new id.
func storeCreateUser(t *testing.T, uow ports.UnitOfWork, email string) *core.User {
	t.Helper()
	u := &core.User{ID: uuid.New(), Email: email, Username: "user-" + storeSuffix(), PasswordHash: "hash-1", IsActive: true}
	storeDo(t, storeScope(u.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
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

// storeCreateWorkspace creates a workspace without members, in a transaction
// scoped to its new id.
func storeCreateWorkspace(t *testing.T, uow ports.UnitOfWork, createdBy uuid.UUID) *core.Workspace {
	t.Helper()
	w := &core.Workspace{ID: uuid.New(), Name: "Workspace " + storeSuffix(), Slug: storeSlug(), Plan: core.PlanStarter, CreatedBy: createdBy}
	storeDo(t, storeScope(createdBy, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().Create(ctx, w)
	})
	return w
}

// storeNewTenant registers a user with their own workspace, as sign-up does:
// user, workspace and owner membership in one transaction scoped to both.
func storeNewTenant(t *testing.T, uow ports.UnitOfWork) (*core.User, *core.Workspace) {
	t.Helper()
	return storeNewTenantWithSlug(t, uow, storeSlug())
}

func storeNewTenantWithSlug(t *testing.T, uow ports.UnitOfWork, slug string) (*core.User, *core.Workspace) {
	t.Helper()
	u := &core.User{ID: uuid.New(), Email: storeEmail(), Username: "owner-" + storeSuffix(), PasswordHash: "hash-1", IsActive: true}
	w := &core.Workspace{ID: uuid.New(), Name: "Workspace " + storeSuffix(), Slug: slug, Plan: core.PlanStarter, CreatedBy: u.ID}
	storeDo(t, storeScope(u.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Users().Create(ctx, u); err != nil {
			return err
		}
		if err := tx.Workspaces().Create(ctx, w); err != nil {
			return err
		}
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: u.ID, Role: core.RoleOwner})
	})
	return u, w
}

func storeGetWorkspace(t *testing.T, ctx context.Context, uow ports.UnitOfWork) core.Workspace {
	t.Helper()
	var got core.Workspace
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Workspaces().Get(ctx)
		return err
	})
	return got
}

// storeAddMember adds userID to workspaceID in a transaction scoped to the
// workspace.
func storeAddMember(t *testing.T, uow ports.UnitOfWork, workspaceID, userID uuid.UUID, role core.Role) {
	t.Helper()
	storeDo(t, storeScope(userID, workspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: workspaceID, UserID: userID, Role: role})
	})
}

// storeMembership reads the membership as its user, without a current
// workspace.
func storeMembership(t *testing.T, uow ports.UnitOfWork, workspaceID, userID uuid.UUID) core.WorkspaceMembership {
	t.Helper()
	var got core.WorkspaceMembership
	storeDo(t, storeScope(userID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Workspaces().Membership(ctx, workspaceID, userID)
		return err
	})
	return got
}

// storeInvitation returns a new pending invitation with a fresh id, email and
// token hash.
func storeInvitation(workspaceID, invitedBy uuid.UUID, createdAt, expiresAt time.Time) *core.Invitation {
	return &core.Invitation{
		ID: uuid.New(), WorkspaceID: workspaceID, Email: storeEmail(), Role: core.RoleMember,
		TokenHash: storeTokenHash(), InvitedBy: invitedBy, CreatedAt: createdAt, ExpiresAt: expiresAt,
	}
}

// storeCreateInvitation creates inv in a transaction scoped to its workspace.
func storeCreateInvitation(t *testing.T, uow ports.UnitOfWork, inv *core.Invitation) {
	t.Helper()
	storeDo(t, storeScope(inv.InvitedBy, inv.WorkspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Invitations().Create(ctx, inv)
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

// requireSameInvitation compares a pending invitation with what was created.
func requireSameInvitation(t *testing.T, want, got core.Invitation) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.WorkspaceID, got.WorkspaceID)
	require.Equal(t, want.Email, got.Email)
	require.Equal(t, want.Role, got.Role)
	require.Equal(t, want.TokenHash, got.TokenHash)
	require.Equal(t, want.InvitedBy, got.InvitedBy)
	require.WithinDuration(t, want.CreatedAt, got.CreatedAt, 0)
	require.WithinDuration(t, want.ExpiresAt, got.ExpiresAt, 0)
	require.Nil(t, got.AcceptedAt)
	require.Nil(t, got.AcceptedBy)
	require.Nil(t, got.RevokedAt)
}

func memberIDs(members []core.Member) []uuid.UUID {
	out := make([]uuid.UUID, len(members))
	for i, m := range members {
		out[i] = m.UserID
	}
	return out
}

func invitationIDs(invs []core.Invitation) []uuid.UUID {
	out := make([]uuid.UUID, len(invs))
	for i, inv := range invs {
		out[i] = inv.ID
	}
	return out
}

func auditIDs(events []core.AuditEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// wantIndex returns the index of the event id in events.
func wantIndex(events []core.AuditEvent, id uuid.UUID) int {
	for i, e := range events {
		if e.ID == id {
			return i
		}
	}
	return -1
}

// storeSuffix returns a fresh token so that subtests sharing a database never
// collide.
func storeSuffix() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:12] }

func storeEmail() string { return "user-" + storeSuffix() + "@example.com" }

func storeSlug() string { return "ws-" + storeSuffix() }

// storeTokenHash returns a fresh stand-in for the SHA-256 of a token.
func storeTokenHash() string { return strings.ReplaceAll(uuid.NewString()+uuid.NewString(), "-", "") }
