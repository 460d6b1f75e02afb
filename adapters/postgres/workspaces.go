package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// WorkspaceStore keeps workspaces and memberships, inside one transaction of
// UnitOfWork. Every statement filters on the transaction's scope itself, and
// the row-level security policies of migrations/0002_tenancy.sql filter
// again underneath.
type WorkspaceStore struct {
	db querier
}

var _ ports.WorkspaceStore = (*WorkspaceStore)(nil)

const workspaceColumns = `id, name, slug, COALESCE(description, ''), plan, created_by,
	created_at, updated_at, deleted_at`

func scanWorkspace(row pgx.Row) (core.Workspace, error) {
	var w core.Workspace
	var plan string
	if err := row.Scan(&w.ID, &w.Name, &w.Slug, &w.Description, &plan, &w.CreatedBy,
		&w.CreatedAt, &w.UpdatedAt, &w.DeletedAt); err != nil {
		return core.Workspace{}, err
	}
	w.Plan = core.Plan(plan)
	w.CreatedAt, w.UpdatedAt, w.DeletedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC(), utcPtr(w.DeletedAt)
	return w, nil
}

// Create inserts w, giving it an id when it has none, PlanFree when it has no
// plan and the transaction's time as CreatedAt/UpdatedAt when they are zero;
// w receives the stored values. w.ID must be the scope's workspace
// (core.ErrNotFound otherwise: the caller scopes the transaction to the new
// id). core.ErrConflict ("slug already taken") when a live workspace has the
// slug, core.ErrNotFound when CreatedBy is not a user.
func (s *WorkspaceStore) Create(ctx context.Context, w *core.Workspace) error {
	if w.ID == uuid.Nil {
		w.ID = uuid.New()
	}
	if w.Plan == "" {
		w.Plan = core.PlanFree
	}
	err := s.db.QueryRow(ctx, `
		INSERT INTO workspaces (id, name, slug, description, plan, created_by, created_at, updated_at, deleted_at)
		SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::uuid,
			COALESCE($7::timestamptz, now()), COALESCE($8::timestamptz, now()), $9::timestamptz
		WHERE $1::uuid = `+scopeWorkspace+`
		RETURNING created_at, updated_at`,
		w.ID, w.Name, w.Slug, nullIfEmpty(w.Description), string(w.Plan), w.CreatedBy,
		nullIfZero(w.CreatedAt), nullIfZero(w.UpdatedAt), w.DeletedAt,
	).Scan(&w.CreatedAt, &w.UpdatedAt)
	if err != nil {
		return translate(err, fmt.Sprintf("create workspace %q", w.Slug), "workspace not found")
	}
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return nil
}

// AddMember inserts m into the current workspace, with the transaction's
// time as JoinedAt when it is zero. core.ErrConflict ("already a member")
// when the user is a member already, core.ErrNotFound when m.WorkspaceID is
// not the current workspace or the workspace or the user does not exist or
// is soft-deleted.
func (s *WorkspaceStore) AddMember(ctx context.Context, m core.Membership) error {
	// Selecting from the live rows turns a soft-deleted workspace or user
	// into "no row" as well; the foreign keys still guard against a
	// concurrent hard delete.
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)
		SELECT w.id, u.id, $3::text, COALESCE($4::timestamptz, now())
		FROM workspaces w, users u
		WHERE w.id = $1 AND w.id = `+scopeWorkspace+` AND w.deleted_at IS NULL
			AND u.id = $2 AND u.deleted_at IS NULL
		RETURNING workspace_id`,
		m.WorkspaceID, m.UserID, string(m.Role), nullIfZero(m.JoinedAt),
	).Scan(&got)
	return translate(err, fmt.Sprintf("add user %s to workspace %s", m.UserID, m.WorkspaceID), "workspace or user not found")
}

const membershipColumns = `w.id, w.name, w.slug, COALESCE(w.description, ''), w.plan, w.created_by,
	w.created_at, w.updated_at, w.deleted_at, m.role`

func scanMembership(row pgx.Row) (core.WorkspaceMembership, error) {
	var wm core.WorkspaceMembership
	w := &wm.Workspace
	var plan, role string
	if err := row.Scan(&w.ID, &w.Name, &w.Slug, &w.Description, &plan, &w.CreatedBy,
		&w.CreatedAt, &w.UpdatedAt, &w.DeletedAt, &role); err != nil {
		return core.WorkspaceMembership{}, err
	}
	w.Plan, wm.Role = core.Plan(plan), core.Role(role)
	w.CreatedAt, w.UpdatedAt, w.DeletedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC(), utcPtr(w.DeletedAt)
	return wm, nil
}

// Membership returns the live workspace workspaceID with the role of userID
// in it, when the workspace is the current one or the user is the scope's;
// core.ErrNotFound ("workspace not found") otherwise, when the user is not a
// member or the workspace is soft-deleted, so callers cannot tell these
// apart.
func (s *WorkspaceStore) Membership(ctx context.Context, workspaceID, userID uuid.UUID) (core.WorkspaceMembership, error) {
	wm, err := scanMembership(s.db.QueryRow(ctx, `
		SELECT `+membershipColumns+`
		FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.workspace_id = $1 AND m.user_id = $2 AND w.deleted_at IS NULL
			AND (m.workspace_id = `+scopeWorkspace+` OR m.user_id = `+scopeUser+`)`,
		workspaceID, userID))
	if err != nil {
		return core.WorkspaceMembership{}, translate(err,
			fmt.Sprintf("membership of user %s in workspace %s", userID, workspaceID), "workspace not found")
	}
	return wm, nil
}

// ListForUser returns the live workspaces userID belongs to, oldest
// membership first (ties broken by workspace creation, then id); an empty
// slice when there are none or userID is not the scope's user.
func (s *WorkspaceStore) ListForUser(ctx context.Context, userID uuid.UUID) ([]core.WorkspaceMembership, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+membershipColumns+`
		FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = $1 AND m.user_id = `+scopeUser+` AND w.deleted_at IS NULL
		ORDER BY m.joined_at, w.created_at, w.id`, userID)
	if err != nil {
		return nil, translate(err, fmt.Sprintf("list workspaces of user %s", userID), "user not found")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.WorkspaceMembership, error) {
		return scanMembership(row)
	})
	if err != nil {
		return nil, translate(err, fmt.Sprintf("list workspaces of user %s", userID), "user not found")
	}
	if out == nil {
		out = []core.WorkspaceMembership{}
	}
	return out, nil
}

// Get returns the current workspace; core.ErrNotFound ("workspace not
// found") when it is soft-deleted or the scope has none.
func (s *WorkspaceStore) Get(ctx context.Context) (core.Workspace, error) {
	w, err := scanWorkspace(s.db.QueryRow(ctx, `
		SELECT `+workspaceColumns+` FROM workspaces
		WHERE id = `+scopeWorkspace+` AND deleted_at IS NULL`))
	if err != nil {
		return core.Workspace{}, translate(err, "get current workspace", "workspace not found")
	}
	return w, nil
}

// Update saves Name, Slug and Description of the current workspace and sets
// UpdatedAt to at. core.ErrConflict ("slug already taken") when another live
// workspace has the slug; core.ErrNotFound when w.ID is not the current
// workspace or it is soft-deleted.
func (s *WorkspaceStore) Update(ctx context.Context, w core.Workspace, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE workspaces SET name = $2, slug = $3, description = $4, updated_at = $5
		WHERE id = $1 AND id = `+scopeWorkspace+` AND deleted_at IS NULL
		RETURNING id`,
		w.ID, w.Name, w.Slug, nullIfEmpty(w.Description), at).Scan(&got)
	return translate(err, fmt.Sprintf("update workspace %s", w.ID), "workspace not found")
}

// SetPlan changes the plan of the current workspace and sets UpdatedAt to
// at; core.ErrNotFound when there is none or it is soft-deleted. An unknown
// plan fails the plan CHECK constraint.
func (s *WorkspaceStore) SetPlan(ctx context.Context, plan core.Plan, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE workspaces SET plan = $1, updated_at = $2
		WHERE id = `+scopeWorkspace+` AND deleted_at IS NULL
		RETURNING id`,
		string(plan), at).Scan(&got)
	return translate(err, fmt.Sprintf("set plan %s", plan), "workspace not found")
}

// SoftDelete sets DeletedAt (and UpdatedAt) of the current workspace to at:
// it disappears from every read and its slug is free again (the unique index
// only binds live rows). core.ErrNotFound when there is none or it is
// already deleted.
func (s *WorkspaceStore) SoftDelete(ctx context.Context, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE workspaces SET deleted_at = $1, updated_at = $1
		WHERE id = `+scopeWorkspace+` AND deleted_at IS NULL
		RETURNING id`,
		at).Scan(&got)
	return translate(err, "soft delete current workspace", "workspace not found")
}

// ListMembers returns the members of the current workspace with their
// account details, in the order they joined (ties broken by user id); an
// empty slice when the scope has no workspace.
func (s *WorkspaceStore) ListMembers(ctx context.Context) ([]core.Member, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.user_id, u.email, COALESCE(u.username, ''), m.role, m.joined_at
		FROM workspace_members m JOIN users u ON u.id = m.user_id
		WHERE m.workspace_id = `+scopeWorkspace+`
		ORDER BY m.joined_at, m.user_id`)
	if err != nil {
		return nil, translate(err, "list members", "workspace not found")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.Member, error) {
		var m core.Member
		var role string
		if err := row.Scan(&m.UserID, &m.Email, &m.Username, &role, &m.JoinedAt); err != nil {
			return core.Member{}, err
		}
		m.Role, m.JoinedAt = core.Role(role), m.JoinedAt.UTC()
		return m, nil
	})
	if err != nil {
		return nil, translate(err, "list members", "workspace not found")
	}
	if out == nil {
		out = []core.Member{}
	}
	return out, nil
}

// SetMemberRole changes userID's role in the current workspace;
// core.ErrNotFound ("member not found") when userID is not a member of it.
// An unknown role fails the role CHECK constraint.
func (s *WorkspaceStore) SetMemberRole(ctx context.Context, userID uuid.UUID, role core.Role) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE workspace_members SET role = $2
		WHERE workspace_id = `+scopeWorkspace+` AND user_id = $1
		RETURNING user_id`,
		userID, string(role)).Scan(&got)
	return translate(err, fmt.Sprintf("set role of member %s", userID), "member not found")
}

// RemoveMember deletes userID's membership of the current workspace;
// core.ErrNotFound ("member not found") when userID is not a member of it.
func (s *WorkspaceStore) RemoveMember(ctx context.Context, userID uuid.UUID) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		DELETE FROM workspace_members
		WHERE workspace_id = `+scopeWorkspace+` AND user_id = $1
		RETURNING user_id`,
		userID).Scan(&got)
	return translate(err, fmt.Sprintf("remove member %s", userID), "member not found")
}

// LockMembers locks every membership row of the current workspace (SELECT
// ... FOR UPDATE) until the transaction ends and returns how many members
// and owners it has: two concurrent "is this the last owner?" checks
// serialize, and the second sees the first's change. Zero and zero when the
// scope has no workspace.
func (s *WorkspaceStore) LockMembers(ctx context.Context) (members, owners int, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE role = 'owner')
		FROM (
			SELECT role FROM workspace_members
			WHERE workspace_id = `+scopeWorkspace+`
			FOR UPDATE
		) locked`).Scan(&members, &owners)
	if err != nil {
		return 0, 0, translate(err, "lock members", "workspace not found")
	}
	return members, owners, nil
}
