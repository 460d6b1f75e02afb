package core

import (
	"context"

	"github.com/google/uuid"
)

// Action is something a member may do in a workspace. The roles allowed to
// do each are in one table, minRole, so every use case (workspaces now,
// documents, transformations and presets later) asks the same question.
type Action string

// Actions, grouped by the role of API.md that first gets them.
const (
	// Viewer.
	ActReadWorkspace Action = "workspace.read"
	ActReadMembers   Action = "members.read"
	ActReadUsage     Action = "usage.read"
	ActReadContent   Action = "content.read" // documents, transformations, presets
	// Member.
	ActCreateContent  Action = "content.create"
	ActEditOwnContent Action = "content.edit_own"
	// Admin.
	ActEditAnyContent    Action = "content.edit_any"
	ActUpdateWorkspace   Action = "workspace.update"
	ActManageMembers     Action = "members.manage" // roles below owner
	ActManageInvitations Action = "invitations.manage"
	ActReadAudit         Action = "audit.read"
	// Owner.
	ActDeleteWorkspace Action = "workspace.delete"
	ActManageOwners    Action = "owners.manage"
)

var minRole = map[Action]Role{
	ActReadWorkspace: RoleViewer, ActReadMembers: RoleViewer, ActReadUsage: RoleViewer, ActReadContent: RoleViewer,
	ActCreateContent: RoleMember, ActEditOwnContent: RoleMember,
	ActEditAnyContent: RoleAdmin, ActUpdateWorkspace: RoleAdmin, ActManageMembers: RoleAdmin,
	ActManageInvitations: RoleAdmin, ActReadAudit: RoleAdmin,
	ActDeleteWorkspace: RoleOwner, ActManageOwners: RoleOwner,
}

// Can reports whether role may perform action.
func (r Role) Can(action Action) bool {
	min, ok := minRole[action]
	return ok && r.AtLeast(min)
}

// Authorize returns an EFORBIDDEN error naming the missing role when role
// may not perform action.
func Authorize(role Role, action Action) error {
	if role.Can(action) {
		return nil
	}
	min := minRole[action]
	return Errorf(EFORBIDDEN, "this action needs the %s role or higher", min)
}

// AuthorizeEdit checks an edit or delete of an object created by ownerID:
// members may change their own objects, admins anyone's.
func AuthorizeEdit(id Identity, ownerID uuid.UUID) error {
	if ownerID == id.UserID {
		return Authorize(id.Role, ActEditOwnContent)
	}
	return Authorize(id.Role, ActEditAnyContent)
}

// InCurrentWorkspace returns the caller's identity when it has a current
// workspace and its role allows action there.
func InCurrentWorkspace(ctx context.Context, action Action) (Identity, error) {
	id, ok := IdentityFrom(ctx)
	if !ok {
		return Identity{}, ErrUnauthorized
	}
	if id.WorkspaceID == uuid.Nil {
		return Identity{}, Errorf(ENOTFOUND, "no current workspace; switch to one first")
	}
	return id, Authorize(id.Role, action)
}
