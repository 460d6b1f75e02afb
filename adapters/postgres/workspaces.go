package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// WorkspaceStore keeps workspaces and memberships, inside one transaction of
// UnitOfWork.
type WorkspaceStore struct {
	db pgx.Tx
}

var _ ports.WorkspaceStore = (*WorkspaceStore)(nil)

// Create inserts w, giving it an id when it has none, PlanFree when it has no
// plan and the transaction's time as CreatedAt/UpdatedAt when they are zero;
// w receives the stored values. core.ErrConflict ("slug already taken") when
// a live workspace has the slug, core.ErrNotFound when CreatedBy is not a
// user.
func (s *WorkspaceStore) Create(ctx context.Context, w *core.Workspace) error {
	if w.ID == uuid.Nil {
		w.ID = uuid.New()
	}
	if w.Plan == "" {
		w.Plan = core.PlanFree
	}
	err := s.db.QueryRow(ctx, `
		INSERT INTO workspaces (id, name, slug, description, plan, created_by, created_at, updated_at, deleted_at)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), COALESCE($8, now()), $9)
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

// AddMember inserts m, with the transaction's time as JoinedAt when it is
// zero. core.ErrConflict ("already a member") when the user is a member
// already, core.ErrNotFound when the workspace or the user does not exist or
// is soft-deleted.
func (s *WorkspaceStore) AddMember(ctx context.Context, m core.Membership) error {
	// Selecting from the live rows turns a soft-deleted workspace or user
	// into "no row" as well; the foreign keys still guard against a
	// concurrent hard delete.
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		INSERT INTO workspace_members (workspace_id, user_id, role, joined_at)
		SELECT w.id, u.id, $3, COALESCE($4, now())
		FROM workspaces w, users u
		WHERE w.id = $1 AND w.deleted_at IS NULL AND u.id = $2 AND u.deleted_at IS NULL
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
// in it; core.ErrNotFound ("workspace not found") when the user is not a
// member or the workspace is soft-deleted, so callers cannot tell the two
// apart.
func (s *WorkspaceStore) Membership(ctx context.Context, workspaceID, userID uuid.UUID) (core.WorkspaceMembership, error) {
	wm, err := scanMembership(s.db.QueryRow(ctx, `
		SELECT `+membershipColumns+`
		FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.workspace_id = $1 AND m.user_id = $2 AND w.deleted_at IS NULL`,
		workspaceID, userID))
	if err != nil {
		return core.WorkspaceMembership{}, translate(err,
			fmt.Sprintf("membership of user %s in workspace %s", userID, workspaceID), "workspace not found")
	}
	return wm, nil
}

// ListForUser returns the live workspaces userID belongs to, oldest
// membership first (ties broken by workspace creation, then id); an empty
// slice when there are none.
func (s *WorkspaceStore) ListForUser(ctx context.Context, userID uuid.UUID) ([]core.WorkspaceMembership, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+membershipColumns+`
		FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
		WHERE m.user_id = $1 AND w.deleted_at IS NULL
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
