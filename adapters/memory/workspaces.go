package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// WorkspaceStore keeps workspaces and memberships inside one transaction of
// UnitOfWork. A workspace is readable when it is the scope's workspace or the
// scope's user is a member of it, and writable only when it is the scope's
// workspace; a membership is readable when it is in the scope's workspace or
// is the scope user's own, and writable only in the scope's workspace.
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

// Create inserts a copy of w, giving it PlanFree when it has no plan and the
// transaction's time as CreatedAt/UpdatedAt when they are zero; w receives
// the filled values. w.ID must be the scope's workspace, else
// core.ErrNotFound (checked first, so an id of another tenant never reports a
// conflict). core.ErrConflict ("slug already taken") when a live workspace
// has the slug, core.ErrNotFound when CreatedBy is not a user.
func (s *WorkspaceStore) Create(ctx context.Context, w *core.Workspace) error {
	op := fmt.Sprintf("create workspace %q", w.Slug)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	if !s.tx.scope.isWorkspace(w.ID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
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

// AddMember inserts m into the scope's workspace, with the transaction's time
// as JoinedAt when it is zero. core.ErrNotFound when m.WorkspaceID is not the
// scope's workspace, or the workspace or the user does not exist or is
// soft-deleted; core.ErrConflict ("already a member") when the user is a
// member already.
func (s *WorkspaceStore) AddMember(ctx context.Context, m core.Membership) error {
	op := fmt.Sprintf("add user %s to workspace %s", m.UserID, m.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	w, wok := st.workspaces[m.WorkspaceID]
	u, uok := st.users[m.UserID]
	if !s.tx.scope.isWorkspace(m.WorkspaceID) || !wok || w.DeletedAt != nil || !uok || u.DeletedAt != nil {
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
	st.putMember(m)
	s.tx.onRollback(func() { st.deleteMember(key) })
	return nil
}

// putMember stores m and indexes it by user and by workspace.
func (u *UnitOfWork) putMember(m core.Membership) {
	u.members[memberKey{workspaceID: m.WorkspaceID, userID: m.UserID}] = m
	addToSet(u.byUser, m.UserID, m.WorkspaceID)
	addToSet(u.byWorkspace, m.WorkspaceID, m.UserID)
}

// deleteMember removes a membership and its index entries.
func (u *UnitOfWork) deleteMember(key memberKey) {
	delete(u.members, key)
	removeFromSet(u.byUser, key.userID, key.workspaceID)
	removeFromSet(u.byWorkspace, key.workspaceID, key.userID)
}

func addToSet(sets map[uuid.UUID]map[uuid.UUID]struct{}, key, v uuid.UUID) {
	set, ok := sets[key]
	if !ok {
		set = make(map[uuid.UUID]struct{})
		sets[key] = set
	}
	set[v] = struct{}{}
}

func removeFromSet(sets map[uuid.UUID]map[uuid.UUID]struct{}, key, v uuid.UUID) {
	set := sets[key]
	delete(set, v)
	if len(set) == 0 {
		delete(sets, key)
	}
}

// membership returns the live workspace workspaceID as seen by userID, when
// the scope may read the membership.
func (s *WorkspaceStore) membership(workspaceID, userID uuid.UUID) (core.WorkspaceMembership, core.Membership, bool) {
	if !s.tx.canSeeMembership(workspaceID, userID) {
		return core.WorkspaceMembership{}, core.Membership{}, false
	}
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
// member, the workspace is soft-deleted, or the scope may not read the
// membership (neither the workspace nor the user is the scope's).
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
// PostgreSQL adapter orders them); an empty slice when there are none or
// userID is not the scope's user.
func (s *WorkspaceStore) ListForUser(ctx context.Context, userID uuid.UUID) ([]core.WorkspaceMembership, error) {
	if err := s.tx.usable(ctx, fmt.Sprintf("list workspaces of user %s", userID)); err != nil {
		return nil, err
	}
	if !s.tx.scope.isUser(userID) {
		return []core.WorkspaceMembership{}, nil
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

// current returns the scope's workspace when it exists and is live.
func (s *WorkspaceStore) current() (core.Workspace, bool) {
	if s.tx.scope.workspaceID == uuid.Nil {
		return core.Workspace{}, false
	}
	w, ok := s.tx.uow.workspaces[s.tx.scope.workspaceID]
	if !ok || w.DeletedAt != nil {
		return core.Workspace{}, false
	}
	return w, true
}

// Get returns the scope's workspace; core.ErrNotFound ("workspace not found")
// when the scope has none or it does not exist or is soft-deleted.
func (s *WorkspaceStore) Get(ctx context.Context) (core.Workspace, error) {
	const op = "get current workspace"
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Workspace{}, err
	}
	w, ok := s.current()
	if !ok {
		return core.Workspace{}, coded(op, core.ENOTFOUND, "workspace not found")
	}
	return copyWorkspace(w), nil
}

// replaceCurrent stores next in place of prev (the scope's live workspace),
// moving its slug when it changed or it was deleted, and records the undo.
func (s *WorkspaceStore) replaceCurrent(prev, next core.Workspace) {
	st := s.tx.uow
	st.workspaces[prev.ID] = next
	delete(st.slugs, prev.Slug)
	if next.DeletedAt == nil {
		st.slugs[next.Slug] = next.ID
	}
	s.tx.onRollback(func() {
		if next.DeletedAt == nil {
			delete(st.slugs, next.Slug)
		}
		st.slugs[prev.Slug] = prev.ID
		st.workspaces[prev.ID] = prev
	})
}

// Update saves Name, Slug and Description of the scope's workspace and sets
// UpdatedAt to at. core.ErrNotFound ("workspace not found") when w.ID is not
// the scope's workspace or it is not live; core.ErrConflict ("slug already
// taken") when another live workspace has the slug.
func (s *WorkspaceStore) Update(ctx context.Context, w core.Workspace, at time.Time) error {
	op := fmt.Sprintf("update workspace %s", w.ID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.current()
	if !ok || !s.tx.scope.isWorkspace(w.ID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if w.Slug == "" {
		return fmt.Errorf("%s: slug is empty", op)
	}
	if owner, taken := s.tx.uow.slugs[w.Slug]; taken && owner != prev.ID {
		return coded(op, core.ECONFLICT, "slug already taken")
	}
	next := copyWorkspace(prev)
	next.Name, next.Slug, next.Description = w.Name, w.Slug, w.Description
	next.UpdatedAt = dbTime(at)
	s.replaceCurrent(prev, next)
	return nil
}

// SetPlan changes the plan of the scope's workspace and sets UpdatedAt to at;
// core.ErrNotFound ("workspace not found") when the scope has no live
// workspace, an error for an unknown plan.
func (s *WorkspaceStore) SetPlan(ctx context.Context, plan core.Plan, at time.Time) error {
	op := fmt.Sprintf("set plan %q", plan)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.current()
	if !ok {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if !validPlans[plan] {
		return fmt.Errorf("%s: unknown plan", op)
	}
	next := copyWorkspace(prev)
	next.Plan = plan
	next.UpdatedAt = dbTime(at)
	s.replaceCurrent(prev, next)
	return nil
}

// SoftDelete sets DeletedAt and UpdatedAt of the scope's workspace to at and
// frees its slug; from then on Get, Membership, ListForUser, Update, SetPlan,
// SoftDelete and AddMember treat it as absent. core.ErrNotFound ("workspace
// not found") when the scope has no live workspace.
func (s *WorkspaceStore) SoftDelete(ctx context.Context, at time.Time) error {
	const op = "delete current workspace"
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.current()
	if !ok {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	next := copyWorkspace(prev)
	next.DeletedAt = dbTimePtr(&at)
	next.UpdatedAt = dbTime(at)
	s.replaceCurrent(prev, next)
	return nil
}

// ListMembers returns the members of the scope's workspace with their email
// and username, oldest membership first (ties by user id, as ORDER BY
// joined_at, user_id); an empty slice when the scope has no workspace.
func (s *WorkspaceStore) ListMembers(ctx context.Context) ([]core.Member, error) {
	if err := s.tx.usable(ctx, "list members"); err != nil {
		return nil, err
	}
	st := s.tx.uow
	workspaceID := s.tx.scope.workspaceID
	out := make([]core.Member, 0, len(st.byWorkspace[workspaceID]))
	if workspaceID == uuid.Nil {
		return out, nil
	}
	for userID := range st.byWorkspace[workspaceID] {
		m := st.members[memberKey{workspaceID: workspaceID, userID: userID}]
		u := st.users[userID] // a foreign key: the user exists
		out = append(out, core.Member{UserID: userID, Email: u.Email, Username: u.Username, Role: m.Role, JoinedAt: m.JoinedAt})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].JoinedAt.Equal(out[j].JoinedAt) {
			return out[i].JoinedAt.Before(out[j].JoinedAt)
		}
		return bytes.Compare(out[i].UserID[:], out[j].UserID[:]) < 0
	})
	return out, nil
}

// SetMemberRole changes the role of userID in the scope's workspace;
// core.ErrNotFound ("member not found") when userID is not a member of it, an
// error for an unknown role.
func (s *WorkspaceStore) SetMemberRole(ctx context.Context, userID uuid.UUID, role core.Role) error {
	op := fmt.Sprintf("set role of member %s", userID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	key := memberKey{workspaceID: s.tx.scope.workspaceID, userID: userID}
	prev, ok := st.members[key]
	if !ok || key.workspaceID == uuid.Nil {
		return coded(op, core.ENOTFOUND, "member not found")
	}
	if !validRoles[role] {
		return fmt.Errorf("%s: unknown role %q", op, role)
	}
	next := prev
	next.Role = role
	st.members[key] = next
	s.tx.onRollback(func() { st.members[key] = prev })
	return nil
}

// RemoveMember deletes the membership of userID in the scope's workspace;
// core.ErrNotFound ("member not found") when userID is not a member of it.
func (s *WorkspaceStore) RemoveMember(ctx context.Context, userID uuid.UUID) error {
	op := fmt.Sprintf("remove member %s", userID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	key := memberKey{workspaceID: s.tx.scope.workspaceID, userID: userID}
	prev, ok := st.members[key]
	if !ok || key.workspaceID == uuid.Nil {
		return coded(op, core.ENOTFOUND, "member not found")
	}
	st.deleteMember(key)
	s.tx.onRollback(func() { st.putMember(prev) })
	return nil
}

// LockMembers returns how many members and owners the scope's workspace has
// (zeros when the scope has none). Transactions are serialized already, so
// the counts cannot change before the transaction ends.
func (s *WorkspaceStore) LockMembers(ctx context.Context) (members, owners int, err error) {
	if err := s.tx.usable(ctx, "lock members"); err != nil {
		return 0, 0, err
	}
	st := s.tx.uow
	workspaceID := s.tx.scope.workspaceID
	if workspaceID == uuid.Nil {
		return 0, 0, nil
	}
	for userID := range st.byWorkspace[workspaceID] {
		members++
		if st.members[memberKey{workspaceID: workspaceID, userID: userID}].Role == core.RoleOwner {
			owners++
		}
	}
	return members, owners, nil
}
