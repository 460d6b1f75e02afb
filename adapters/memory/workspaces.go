package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// WorkspaceStore keeps workspaces and memberships inside one transaction of
// UnitOfWork.
type WorkspaceStore struct {
	tx *tx
}

var _ ports.WorkspaceStore = (*WorkspaceStore)(nil)

// copyWorkspace returns w with its own pointers.
func copyWorkspace(w core.Workspace) core.Workspace {
	w.DeletedAt = dbTimePtr(w.DeletedAt)
	return w
}

// validPlans and validRoles are the CHECK constraints of the schema.
var (
	validPlans = map[core.Plan]bool{core.PlanFree: true, core.PlanStarter: true, core.PlanPro: true, core.PlanEnterprise: true}
	validRoles = map[core.Role]bool{core.RoleOwner: true, core.RoleAdmin: true, core.RoleMember: true, core.RoleViewer: true}
)

// Create inserts a copy of w, giving it an id when it has none, PlanFree
// when it has no plan and the transaction's time as CreatedAt/UpdatedAt when
// they are zero; w receives the filled values. core.ErrConflict ("slug
// already taken") when a live workspace has the slug, core.ErrNotFound when
// CreatedBy is not a user.
func (s *WorkspaceStore) Create(ctx context.Context, w *core.Workspace) error {
	op := fmt.Sprintf("create workspace %q", w.Slug)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	if w.Slug == "" {
		return fmt.Errorf("%s: slug is empty", op)
	}
	if w.Plan == "" {
		w.Plan = core.PlanFree
	}
	if !validPlans[w.Plan] {
		return fmt.Errorf("%s: unknown plan %q", op, w.Plan)
	}
	st := s.tx.uow
	if w.ID == uuid.Nil {
		w.ID = uuid.New()
	}
	if _, ok := st.workspaces[w.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	live := w.DeletedAt == nil
	if _, taken := st.slugs[w.Slug]; taken && live {
		return coded(op, core.ECONFLICT, "slug already taken")
	}
	// A foreign key: soft-deleted users still exist.
	if _, ok := st.users[w.CreatedBy]; !ok {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	stored := copyWorkspace(*w)
	stored.CreatedAt = dbTimeOr(w.CreatedAt, s.tx.now)
	stored.UpdatedAt = dbTimeOr(w.UpdatedAt, s.tx.now)
	w.CreatedAt, w.UpdatedAt = stored.CreatedAt, stored.UpdatedAt

	st.workspaces[stored.ID] = stored
	if live {
		st.slugs[stored.Slug] = stored.ID
	}
	s.tx.onRollback(func() {
		delete(st.workspaces, stored.ID)
		if live {
			delete(st.slugs, stored.Slug)
		}
	})
	return nil
}

// AddMember inserts m, with the transaction's time as JoinedAt when it is
// zero. core.ErrConflict ("already a member") when the user is a member
// already, core.ErrNotFound when the workspace or the user does not exist or
// is soft-deleted.
func (s *WorkspaceStore) AddMember(ctx context.Context, m core.Membership) error {
	op := fmt.Sprintf("add user %s to workspace %s", m.UserID, m.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	w, wok := st.workspaces[m.WorkspaceID]
	u, uok := st.users[m.UserID]
	if !wok || w.DeletedAt != nil || !uok || u.DeletedAt != nil {
		return coded(op, core.ENOTFOUND, "workspace or user not found")
	}
	if !validRoles[m.Role] {
		return fmt.Errorf("%s: unknown role %q", op, m.Role)
	}
	key := memberKey{workspaceID: m.WorkspaceID, userID: m.UserID}
	if _, ok := st.members[key]; ok {
		return coded(op, core.ECONFLICT, "already a member")
	}
	m.JoinedAt = dbTimeOr(m.JoinedAt, s.tx.now)
	st.members[key] = m
	set, ok := st.byUser[m.UserID]
	if !ok {
		set = make(map[uuid.UUID]struct{})
		st.byUser[m.UserID] = set
	}
	set[m.WorkspaceID] = struct{}{}
	s.tx.onRollback(func() {
		delete(st.members, key)
		delete(set, m.WorkspaceID)
		if len(set) == 0 {
			delete(st.byUser, m.UserID)
		}
	})
	return nil
}

// membership returns the live workspace workspaceID as seen by userID.
func (s *WorkspaceStore) membership(workspaceID, userID uuid.UUID) (core.WorkspaceMembership, core.Membership, bool) {
	st := s.tx.uow
	m, ok := st.members[memberKey{workspaceID: workspaceID, userID: userID}]
	if !ok {
		return core.WorkspaceMembership{}, core.Membership{}, false
	}
	w, ok := st.workspaces[workspaceID]
	if !ok || w.DeletedAt != nil {
		return core.WorkspaceMembership{}, core.Membership{}, false
	}
	return core.WorkspaceMembership{Workspace: copyWorkspace(w), Role: m.Role}, m, true
}

// Membership returns the live workspace workspaceID with the role of userID
// in it; core.ErrNotFound ("workspace not found") when the user is not a
// member or the workspace is soft-deleted.
func (s *WorkspaceStore) Membership(ctx context.Context, workspaceID, userID uuid.UUID) (core.WorkspaceMembership, error) {
	op := fmt.Sprintf("membership of user %s in workspace %s", userID, workspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.WorkspaceMembership{}, err
	}
	wm, _, ok := s.membership(workspaceID, userID)
	if !ok {
		return core.WorkspaceMembership{}, coded(op, core.ENOTFOUND, "workspace not found")
	}
	return wm, nil
}

// ListForUser returns the live workspaces userID belongs to, oldest
// membership first (ties broken by workspace creation, then id, as the
// PostgreSQL adapter orders them); an empty slice when there are none.
func (s *WorkspaceStore) ListForUser(ctx context.Context, userID uuid.UUID) ([]core.WorkspaceMembership, error) {
	if err := s.tx.usable(ctx, fmt.Sprintf("list workspaces of user %s", userID)); err != nil {
		return nil, err
	}
	type entry struct {
		wm       core.WorkspaceMembership
		joinedAt int64
	}
	entries := make([]entry, 0, len(s.tx.uow.byUser[userID]))
	for workspaceID := range s.tx.uow.byUser[userID] {
		if wm, m, ok := s.membership(workspaceID, userID); ok {
			entries = append(entries, entry{wm: wm, joinedAt: m.JoinedAt.UnixMicro()})
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if a.joinedAt != b.joinedAt {
			return a.joinedAt < b.joinedAt
		}
		if !a.wm.Workspace.CreatedAt.Equal(b.wm.Workspace.CreatedAt) {
			return a.wm.Workspace.CreatedAt.Before(b.wm.Workspace.CreatedAt)
		}
		return bytes.Compare(a.wm.Workspace.ID[:], b.wm.Workspace.ID[:]) < 0
	})
	out := make([]core.WorkspaceMembership, len(entries))
	for i, e := range entries {
		out[i] = e.wm
	}
	return out, nil
}
