package core

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Role is a member's role in a workspace; higher roles include lower ones.
type Role string

// Roles, lowest to highest.
const (
	RoleViewer Role = "viewer"
	RoleMember Role = "member"
	RoleAdmin  Role = "admin"
	RoleOwner  Role = "owner"
)

var roleRank = map[Role]int{RoleViewer: 1, RoleMember: 2, RoleAdmin: 3, RoleOwner: 4}

// ParseRole parses a role case-insensitively.
func ParseRole(s string) (Role, bool) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	_, ok := roleRank[r]
	return r, ok
}

// AtLeast reports whether r includes every permission of min.
func (r Role) AtLeast(min Role) bool { return roleRank[r] >= roleRank[min] && roleRank[min] > 0 }

// Plan is a workspace's billing plan.
type Plan string

// Plans.
const (
	PlanFree       Plan = "free"
	PlanStarter    Plan = "starter"
	PlanPro        Plan = "pro"
	PlanEnterprise Plan = "enterprise"
)

// ParsePlan parses a plan case-insensitively.
func ParsePlan(s string) (Plan, bool) {
	p := Plan(strings.ToLower(strings.TrimSpace(s)))
	switch p {
	case PlanFree, PlanStarter, PlanPro, PlanEnterprise:
		return p, true
	}
	return "", false
}

// User is an account. Email is stored as given but compared case-insensitively.
type User struct {
	ID           uuid.UUID
	Email        string
	Username     string
	PasswordHash string
	IsActive     bool
	IsVerified   bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  *time.Time
	DeletedAt    *time.Time
}

// Workspace is a tenant: every document, transformation and preset belongs to one.
type Workspace struct {
	ID          uuid.UUID
	Name        string
	Slug        string
	Description string
	Plan        Plan
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

// Membership links a user to a workspace with a role.
type Membership struct {
	WorkspaceID uuid.UUID
	UserID      uuid.UUID
	Role        Role
	JoinedAt    time.Time
}

// Member is a workspace member with the account details shown in lists.
type Member struct {
	UserID   uuid.UUID
	Email    string
	Username string
	Role     Role
	JoinedAt time.Time
}

// Invitation asks someone, by email, to join a workspace with a role. Only
// the SHA-256 of its token is stored; the token is shown once, at creation.
type Invitation struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Email       string
	Role        Role
	TokenHash   string
	InvitedBy   uuid.UUID
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  *time.Time
	AcceptedBy  *uuid.UUID
	RevokedAt   *time.Time
}

// Pending reports whether the invitation can still be accepted at now.
func (i Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// WorkspaceMembership is a workspace as seen by one of its members.
type WorkspaceMembership struct {
	Workspace Workspace
	Role      Role
}

// Session is one login: the family of every refresh token rotated from it.
type Session struct {
	ID     uuid.UUID
	UserID uuid.UUID
	// WorkspaceID is the current workspace of the session's tokens; refresh
	// keeps it and switching workspaces changes it.
	WorkspaceID uuid.UUID
	CreatedAt   time.Time
	LastUsedAt  time.Time
	ExpiresAt   time.Time
	UserAgent   string
	IPAddress   string
}

// AuditEvent records a security-relevant or tenant-changing action.
type AuditEvent struct {
	ID          uuid.UUID
	WorkspaceID *uuid.UUID
	ActorID     *uuid.UUID
	Action      string
	EntityType  string
	EntityID    *uuid.UUID
	IPAddress   string
	RequestID   string
	Changes     map[string]any
	CreatedAt   time.Time
}

// Audit actions recorded by the auth use cases.
const (
	AuditUserRegistered    = "user.registered"
	AuditLoginSucceeded    = "auth.login_succeeded"
	AuditLoginFailed       = "auth.login_failed"
	AuditLogout            = "auth.logout"
	AuditRefreshReuse      = "auth.refresh_reuse_detected"
	AuditPasswordChanged   = "auth.password_changed"
	AuditSessionRevoked    = "auth.session_revoked"
	AuditWorkspaceCreated  = "workspace.created"
	AuditWorkspaceUpdated  = "workspace.updated"
	AuditWorkspaceDeleted  = "workspace.deleted"
	AuditWorkspacePlan     = "workspace.plan_changed"
	AuditWorkspaceSwitched = "workspace.switched"
	AuditMembershipCreated = "member.added"
	AuditMemberRoleChanged = "member.role_changed"
	AuditMemberRemoved     = "member.removed"
	AuditMemberLeft        = "member.left"
	AuditInvitationCreated = "invitation.created"
	AuditInvitationRevoked = "invitation.revoked"
	AuditInvitationAccept  = "invitation.accepted"
)

// NormalizeEmail returns the comparison form of an email address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// NewAuditEvent builds an event of action on an entity, with the request's
// id and client address from ctx. workspaceID is nil for account-level
// events (logins, password changes) and actorID nil when nobody is known.
func NewAuditEvent(ctx context.Context, at time.Time, workspaceID, actorID *uuid.UUID, action, entityType string, entityID *uuid.UUID, changes map[string]any) AuditEvent {
	meta := RequestMetaFrom(ctx)
	if changes == nil {
		changes = map[string]any{}
	}
	// Version 7 ids grow with time (monotonically within a process), so
	// events of the same instant still list newest first by id.
	return AuditEvent{ID: uuid.Must(uuid.NewV7()), WorkspaceID: workspaceID, ActorID: actorID, Action: action, EntityType: entityType,
		EntityID: entityID, IPAddress: meta.IPAddress, RequestID: meta.RequestID, Changes: changes, CreatedAt: at}
}

// Ref returns a pointer to a copy of id, nil for uuid.Nil.
func Ref(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
