package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestTenantIsolation is the tenant isolation suite every store adapter
// passes: from a transaction scoped to another workspace, to no workspace or
// to no identity at all, every read of workspace A's objects is
// core.ErrNotFound or absent from lists, and every write aimed at A is
// core.ErrNotFound (never an error that would reveal that the object exists)
// and changes nothing, as checked afterwards from A's own scope. That holds
// for documents too: a live or soft-deleted document of A is not found by
// any read or write, even with a wrong version (which would otherwise answer
// core.EPRECONDITION and reveal it), and counts in no other scope's List or
// Usage. Invitations'
// FindByTokenHash is the one read across tenants, by design: the token is the
// capability. newUoW may return units of work over one shared database; the
// subtests use fresh ids, emails, slugs and token hashes and run in parallel.
func TestTenantIsolation(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	for _, sc := range []struct {
		name string
		// scope returns the identity of the outsider's transactions.
		scope func(f *isolationFixture) context.Context
		// inB reports whether the scope's workspace is B (else it has none).
		inB bool
		// asB reports whether the scope's user is b (else there is none).
		asB bool
	}{
		{"from another workspace", func(f *isolationFixture) context.Context { return storeScope(f.b.ID, f.wsB.ID) }, true, true},
		{"from a scope without workspace", func(f *isolationFixture) context.Context { return storeScope(f.b.ID, uuid.Nil) }, false, true},
		{"from no identity", func(*isolationFixture) context.Context { return context.Background() }, false, false},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			f := newIsolationFixture(t, uow)
			ctx := sc.scope(f)
			t.Run("reads", func(t *testing.T) {
				for name, read := range map[string]func(t *testing.T, ctx context.Context, tx ports.Tx){
					"accounts are readable by anyone": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						got, err := tx.Users().Get(ctx, f.a.ID)
						require.NoError(t, err)
						require.Equal(t, f.a.Email, got.Email)
						got, err = tx.Users().GetByEmail(ctx, f.a.Email)
						require.NoError(t, err)
						require.Equal(t, f.a.ID, got.ID)
					},
					"Get is never A": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						got, err := tx.Workspaces().Get(ctx)
						if sc.inB {
							require.NoError(t, err)
							require.Equal(t, f.wsB.ID, got.ID)
							return
						}
						require.ErrorIs(t, err, core.ErrNotFound)
					},
					"Membership in A": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						for who, id := range map[string]uuid.UUID{"owner a": f.a.ID, "member": f.m.ID, "b": f.b.ID} {
							_, err := tx.Workspaces().Membership(ctx, f.wsA.ID, id)
							require.ErrorIs(t, err, core.ErrNotFound, who)
						}
					},
					"ListForUser of A's members": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						for who, id := range map[string]uuid.UUID{"owner a": f.a.ID, "member": f.m.ID} {
							list, err := tx.Workspaces().ListForUser(ctx, id)
							require.NoError(t, err)
							require.Empty(t, list, who)
						}
						list, err := tx.Workspaces().ListForUser(ctx, f.b.ID)
						require.NoError(t, err)
						if sc.asB {
							require.Len(t, list, 1)
							require.Equal(t, f.wsB.ID, list[0].Workspace.ID)
						} else {
							require.Empty(t, list)
						}
					},
					"ListMembers and LockMembers": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						members, err := tx.Workspaces().ListMembers(ctx)
						require.NoError(t, err)
						count, owners, err := tx.Workspaces().LockMembers(ctx)
						require.NoError(t, err)
						if sc.inB {
							require.Equal(t, []uuid.UUID{f.b.ID}, memberIDs(members))
							require.Equal(t, [2]int{1, 1}, [2]int{count, owners})
						} else {
							require.Empty(t, members)
							require.Equal(t, [2]int{0, 0}, [2]int{count, owners})
						}
					},
					"ListPending": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						list, err := tx.Invitations().ListPending(ctx, f.now)
						require.NoError(t, err)
						if sc.inB {
							require.Equal(t, []uuid.UUID{f.invB.ID}, invitationIDs(list))
						} else {
							require.Empty(t, list)
						}
					},
					"audit List": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						list, err := tx.Audit().List(ctx, ports.AuditFilter{})
						require.NoError(t, err)
						if sc.inB {
							require.Equal(t, f.auditB, auditIDs(list))
						} else {
							require.Empty(t, list)
						}
						list, err = tx.Audit().List(ctx, ports.AuditFilter{Action: core.AuditInvitationCreated, Limit: 100})
						require.NoError(t, err)
						require.Empty(t, list, "an action only A has")
					},
					"A's documents are not found": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						for name, id := range map[string]uuid.UUID{"live": f.docA.ID, "deleted": f.docADeleted.ID} {
							_, err := tx.Documents().Get(ctx, id)
							require.ErrorIs(t, err, core.ErrNotFound, name)
							_, err = tx.Documents().GetDeleted(ctx, id)
							require.ErrorIs(t, err, core.ErrNotFound, name)
						}
					},
					"document List and Usage": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						list, err := tx.Documents().List(ctx, ports.DocumentFilter{})
						require.NoError(t, err)
						count, size, err := tx.Documents().Usage(ctx)
						require.NoError(t, err)
						if sc.inB {
							require.Equal(t, []uuid.UUID{f.docB.ID}, documentIDs(list))
							require.Equal(t, 1, count)
							require.Equal(t, f.docB.SizeBytes, size)
						} else {
							require.Empty(t, list)
							require.Zero(t, count)
							require.Zero(t, size)
						}
						list, err = tx.Documents().List(ctx, ports.DocumentFilter{Query: f.docAWord, Limit: 100})
						require.NoError(t, err)
						require.Empty(t, list, "a word only A's documents have")
					},
					"FindByTokenHash works across tenants: the token is the capability": func(t *testing.T, ctx context.Context, tx ports.Tx) {
						got, err := tx.Invitations().FindByTokenHash(ctx, f.invA.TokenHash)
						require.NoError(t, err)
						requireSameInvitation(t, *f.invA, got)
					},
				} {
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
							read(t, ctx, tx)
							return nil
						})
					})
				}
			})

			t.Run("writes aimed at A are not found", func(t *testing.T) {
				at := f.now.Add(time.Minute)
				writes := map[string]func(ctx context.Context, tx ports.Tx) error{
					"RecordLogin of a": func(ctx context.Context, tx ports.Tx) error {
						return tx.Users().RecordLogin(ctx, f.a.ID, at)
					},
					"UpdatePassword of a": func(ctx context.Context, tx ports.Tx) error {
						return tx.Users().UpdatePassword(ctx, f.a.ID, "stolen", at)
					},
					"Create a user with a's id": func(ctx context.Context, tx ports.Tx) error {
						return tx.Users().Create(ctx, &core.User{ID: f.a.ID, Email: f.strayEmail, PasswordHash: "h"})
					},
					"Create a user with an id not the scope's": func(ctx context.Context, tx ports.Tx) error {
						return tx.Users().Create(ctx, &core.User{ID: f.strayUser, Email: f.strayEmail, PasswordHash: "h"})
					},
					"Create a workspace with A's id": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().Create(ctx, &core.Workspace{ID: f.wsA.ID, Name: "X", Slug: f.straySlug, CreatedBy: f.b.ID})
					},
					"Create a workspace with an id not the scope's": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().Create(ctx, &core.Workspace{ID: f.strayWorkspace, Name: "X", Slug: f.straySlug, CreatedBy: f.b.ID})
					},
					"Create a workspace with A's slug and an id not the scope's": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().Create(ctx, &core.Workspace{ID: f.strayWorkspace, Name: "X", Slug: f.wsA.Slug, CreatedBy: f.b.ID})
					},
					"Update A": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().Update(ctx, core.Workspace{ID: f.wsA.ID, Name: "pwned", Slug: f.straySlug, Description: "pwned"}, at)
					},
					"Update A to its own slug": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().Update(ctx, core.Workspace{ID: f.wsA.ID, Name: "pwned", Slug: f.wsA.Slug}, at)
					},
					"AddMember b to A": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: f.wsA.ID, UserID: f.b.ID, Role: core.RoleOwner})
					},
					"AddMember a to A again": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: f.wsA.ID, UserID: f.a.ID, Role: core.RoleViewer})
					},
					"SetMemberRole of a": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().SetMemberRole(ctx, f.a.ID, core.RoleViewer)
					},
					"SetMemberRole of A's member": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().SetMemberRole(ctx, f.m.ID, core.RoleOwner)
					},
					"RemoveMember a": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().RemoveMember(ctx, f.a.ID)
					},
					"RemoveMember A's member": func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().RemoveMember(ctx, f.m.ID)
					},
					"Create an invitation to A": func(ctx context.Context, tx ports.Tx) error {
						inv := storeInvitation(f.wsA.ID, f.b.ID, f.now, f.now.Add(time.Hour))
						inv.TokenHash = f.strayToken
						return tx.Invitations().Create(ctx, inv)
					},
					"Revoke A's invitation": func(ctx context.Context, tx ports.Tx) error {
						return tx.Invitations().Revoke(ctx, f.invA.ID, at)
					},
					"MarkAccepted A's invitation": func(ctx context.Context, tx ports.Tx) error {
						return tx.Invitations().MarkAccepted(ctx, f.invA.ID, f.b.ID, at)
					},
					"Append an audit event to A": func(ctx context.Context, tx ports.Tx) error {
						return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &f.wsA.ID, Action: core.AuditWorkspaceDeleted})
					},
					"Create a document in A": func(ctx context.Context, tx ports.Tx) error {
						d := storeDocument(f.wsA.ID, f.b.ID, "Planted", "Planted words.")
						d.ID = f.strayDocument
						return tx.Documents().Create(ctx, d)
					},
					"Update A's document": func(ctx context.Context, tx ports.Tx) error {
						d := *f.docA
						d.Title, d.Text = "pwned", "pwned"
						_, err := tx.Documents().Update(ctx, d, f.docA.Version, at)
						return err
					},
					"Update A's document at a wrong version": func(ctx context.Context, tx ports.Tx) error {
						_, err := tx.Documents().Update(ctx, *f.docA, f.docA.Version+1, at)
						return err
					},
					"Update A's deleted document": func(ctx context.Context, tx ports.Tx) error {
						_, err := tx.Documents().Update(ctx, *f.docADeleted, f.docADeleted.Version, at)
						return err
					},
					"SoftDelete A's document": func(ctx context.Context, tx ports.Tx) error {
						return tx.Documents().SoftDelete(ctx, f.docA.ID, at)
					},
					"Restore A's deleted document": func(ctx context.Context, tx ports.Tx) error {
						_, err := tx.Documents().Restore(ctx, f.docADeleted.ID, at)
						return err
					},
				}
				if !sc.inB {
					// Without a current workspace there is nothing to act on;
					// in B these would act on B.
					writes["SetPlan"] = func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().SetPlan(ctx, core.PlanEnterprise, at)
					}
					writes["SoftDelete"] = func(ctx context.Context, tx ports.Tx) error {
						return tx.Workspaces().SoftDelete(ctx, at)
					}
				}
				for name, write := range writes {
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						require.ErrorIs(t, uow.Do(ctx, write), core.ErrNotFound)
					})
				}
			})

			f.requireUnchanged(t, uow)
		})
	}

	t.Run("the scope is fixed when Do begins", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		f := newIsolationFixture(t, uow)
		storeDo(t, storeScope(f.b.ID, f.wsB.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			// An identity put into the context inside fn changes nothing.
			ctx = core.WithIdentity(ctx, core.Identity{UserID: f.a.ID, WorkspaceID: f.wsA.ID})
			got, err := tx.Workspaces().Get(ctx)
			require.NoError(t, err)
			require.Equal(t, f.wsB.ID, got.ID)
			_, err = tx.Workspaces().Membership(ctx, f.wsA.ID, f.a.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			members, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{f.b.ID}, memberIDs(members))
			require.ErrorIs(t, tx.Workspaces().RemoveMember(ctx, f.m.ID), core.ErrNotFound)
			require.ErrorIs(t, tx.Users().RecordLogin(ctx, f.a.ID, f.now), core.ErrNotFound)
			_, err = tx.Documents().Get(ctx, f.docA.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			require.ErrorIs(t, tx.Documents().SoftDelete(ctx, f.docA.ID, f.now), core.ErrNotFound)
			docs, err := tx.Documents().List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{f.docB.ID}, documentIDs(docs))
			return nil
		})
		f.requireUnchanged(t, uow)
	})

	t.Run("a member of A whose scope is not A reads only their own membership and writes nothing", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		f := newIsolationFixture(t, uow)
		ctx := storeScope(f.m.ID, uuid.Nil)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			wm, err := tx.Workspaces().Membership(ctx, f.wsA.ID, f.m.ID)
			require.NoError(t, err, "one's own membership")
			require.Equal(t, core.RoleMember, wm.Role)
			requireSameWorkspace(t, *f.wsA, wm.Workspace)
			list, err := tx.Workspaces().ListForUser(ctx, f.m.ID)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.Equal(t, f.wsA.ID, list[0].Workspace.ID)

			_, err = tx.Workspaces().Membership(ctx, f.wsA.ID, f.a.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "another member's membership")
			list, err = tx.Workspaces().ListForUser(ctx, f.a.ID)
			require.NoError(t, err)
			require.Empty(t, list, "another member's list")
			members, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Empty(t, members)
			_, err = tx.Documents().Get(ctx, f.docA.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "a document of A")
			docs, err := tx.Documents().List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Empty(t, docs)
			return nil
		})
		for name, write := range map[string]func(ctx context.Context, tx ports.Tx) error{
			"Update A": func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().Update(ctx, core.Workspace{ID: f.wsA.ID, Name: "pwned", Slug: f.straySlug}, f.now)
			},
			"promote oneself in A": func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().SetMemberRole(ctx, f.m.ID, core.RoleOwner)
			},
			"remove a from A": func(ctx context.Context, tx ports.Tx) error {
				return tx.Workspaces().RemoveMember(ctx, f.a.ID)
			},
			"Revoke A's invitation": func(ctx context.Context, tx ports.Tx) error {
				return tx.Invitations().Revoke(ctx, f.invA.ID, f.now)
			},
			"Append an audit event to A": func(ctx context.Context, tx ports.Tx) error {
				return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &f.wsA.ID, Action: core.AuditWorkspaceDeleted})
			},
			"edit a document of A": func(ctx context.Context, tx ports.Tx) error {
				_, err := tx.Documents().Update(ctx, *f.docA, f.docA.Version, f.now)
				return err
			},
			"delete a document of A": func(ctx context.Context, tx ports.Tx) error {
				return tx.Documents().SoftDelete(ctx, f.docA.ID, f.now)
			},
		} {
			require.ErrorIs(t, uow.Do(ctx, write), core.ErrNotFound, name)
		}
		f.requireUnchanged(t, uow)
	})
}

// isolationFixture is workspace A (owner a, member m, a pending invitation,
// audit events, a live and a soft-deleted document) next to workspace B
// (owner b, an invitation, an event, a document), with fresh ids, email,
// slug and token hash that the outsider's writes try to use.
type isolationFixture struct {
	a, m, b                 *core.User
	wsA, wsB                *core.Workspace
	invA, invB              *core.Invitation
	auditA, auditB          []uuid.UUID // newest first
	docA, docADeleted, docB *core.Document
	docAWord                string // a word of A's documents only
	now                     time.Time

	strayUser, strayWorkspace, strayDocument uuid.UUID
	strayEmail, straySlug, strayToken        string
}

func newIsolationFixture(t *testing.T, uow ports.UnitOfWork) *isolationFixture {
	t.Helper()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	f := &isolationFixture{
		now:       now,
		strayUser: uuid.New(), strayWorkspace: uuid.New(), strayDocument: uuid.New(),
		strayEmail: storeEmail(), straySlug: storeSlug(), strayToken: storeTokenHash(),
	}
	f.a, f.wsA = storeNewTenant(t, uow)
	f.b, f.wsB = storeNewTenant(t, uow)
	f.m = storeCreateUser(t, uow, storeEmail())
	storeAddMember(t, uow, f.wsA.ID, f.m.ID, core.RoleMember)
	f.invA = storeInvitation(f.wsA.ID, f.a.ID, now.Add(-time.Hour), now.Add(24*time.Hour))
	f.invB = storeInvitation(f.wsB.ID, f.b.ID, now.Add(-time.Hour), now.Add(24*time.Hour))
	storeCreateInvitation(t, uow, f.invA)
	storeCreateInvitation(t, uow, f.invB)

	appendEvents := func(userID uuid.UUID, ws *core.Workspace, actions ...string) []uuid.UUID {
		ids := make([]uuid.UUID, len(actions))
		storeDo(t, storeScope(userID, ws.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			for i, action := range actions {
				ids[len(actions)-1-i] = uuid.New()
				require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{
					ID: ids[len(actions)-1-i], WorkspaceID: &ws.ID, ActorID: &userID, Action: action,
					CreatedAt: now.Add(time.Duration(i-len(actions)) * time.Minute),
				}))
			}
			// An account-level event, in no workspace's list.
			return tx.Audit().Append(ctx, core.AuditEvent{ActorID: &userID, Action: core.AuditLoginSucceeded})
		})
		return ids
	}
	f.auditA = appendEvents(f.a.ID, f.wsA, core.AuditWorkspaceCreated, core.AuditMembershipCreated, core.AuditInvitationCreated)
	f.auditB = appendEvents(f.b.ID, f.wsB, core.AuditWorkspaceCreated)

	f.docAWord = "aardvark" + storeSuffix()
	f.docA = storeDocument(f.wsA.ID, f.a.ID, "Alpha plan "+f.docAWord, "The launch codeword is "+f.docAWord+".")
	f.docA.CreatedAt = now.Add(-time.Hour)
	f.docADeleted = storeDocument(f.wsA.ID, f.a.ID, "Alpha draft", "Deleted words about "+f.docAWord+".")
	f.docADeleted.CreatedAt = now.Add(-2 * time.Hour)
	f.docB = storeDocument(f.wsB.ID, f.b.ID, "Beta notes", "Nothing secret.")
	f.docB.SizeBytes = 1234
	storeCreateDocument(t, uow, f.docA)
	storeCreateDocument(t, uow, f.docADeleted)
	storeCreateDocument(t, uow, f.docB)
	storeDo(t, storeScope(f.a.ID, f.wsA.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Documents().SoftDelete(ctx, f.docADeleted.ID, now.Add(-time.Minute))
	})
	f.docADeleted.UpdatedAt = now.Add(-time.Minute)
	return f
}

// requireUnchanged checks from A's own scope (and b's) that A and its
// objects are exactly as the fixture made them, and that nothing the
// outsider tried to create exists.
func (f *isolationFixture) requireUnchanged(t *testing.T, uow ports.UnitOfWork) {
	t.Helper()
	storeDo(t, storeScope(f.a.ID, f.wsA.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		a, err := tx.Users().Get(ctx, f.a.ID)
		require.NoError(t, err)
		requireSameUser(t, *f.a, a)
		require.Nil(t, a.LastLoginAt, "a's login untouched")
		_, err = tx.Users().Get(ctx, f.strayUser)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray user")
		_, err = tx.Users().GetByEmail(ctx, f.strayEmail)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray user")

		ws, err := tx.Workspaces().Get(ctx)
		require.NoError(t, err)
		requireSameWorkspace(t, *f.wsA, ws)

		members, err := tx.Workspaces().ListMembers(ctx)
		require.NoError(t, err)
		roles := map[uuid.UUID]core.Role{}
		for _, m := range members {
			roles[m.UserID] = m.Role
		}
		require.Equal(t, map[uuid.UUID]core.Role{f.a.ID: core.RoleOwner, f.m.ID: core.RoleMember}, roles)
		count, owners, err := tx.Workspaces().LockMembers(ctx)
		require.NoError(t, err)
		require.Equal(t, [2]int{2, 1}, [2]int{count, owners})

		pending, err := tx.Invitations().ListPending(ctx, f.now)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{f.invA.ID}, invitationIDs(pending))
		requireSameInvitation(t, *f.invA, pending[0])
		_, err = tx.Invitations().FindByTokenHash(ctx, f.strayToken)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray invitation")

		events, err := tx.Audit().List(ctx, ports.AuditFilter{})
		require.NoError(t, err)
		require.Equal(t, f.auditA, auditIDs(events))

		docs := tx.Documents()
		docA, err := docs.Get(ctx, f.docA.ID)
		require.NoError(t, err)
		requireSameDocument(t, *f.docA, docA, true)
		deleted, err := docs.GetDeleted(ctx, f.docADeleted.ID)
		require.NoError(t, err, "A's deleted document is still deleted")
		requireSameDocument(t, *f.docADeleted, deleted, true)
		list, err := docs.List(ctx, ports.DocumentFilter{})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{f.docA.ID}, documentIDs(list))
		list, err = docs.List(ctx, ports.DocumentFilter{Query: f.docAWord})
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{f.docA.ID}, documentIDs(list))
		count, size, err := docs.Usage(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, count)
		require.Equal(t, f.docA.SizeBytes, size)
		_, err = docs.Get(ctx, f.strayDocument)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray document")
		_, err = docs.GetDeleted(ctx, f.strayDocument)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray document")
		return nil
	})
	storeDo(t, storeScope(f.b.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
		list, err := tx.Workspaces().ListForUser(ctx, f.b.ID)
		require.NoError(t, err)
		require.Len(t, list, 1, "b joined nothing")
		require.Equal(t, f.wsB.ID, list[0].Workspace.ID)
		return nil
	})
	storeDo(t, storeScope(f.b.ID, f.strayWorkspace), uow, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Workspaces().Get(ctx)
		require.ErrorIs(t, err, core.ErrNotFound, "no stray workspace")
		return nil
	})
	// The stray slug is still free.
	storeNewTenantWithSlug(t, uow, f.straySlug)
}
