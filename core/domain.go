package core

import (
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
	AuditMembershipCreated = "member.added"
)

// NormalizeEmail returns the comparison form of an email address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
