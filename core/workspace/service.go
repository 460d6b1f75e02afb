// Package workspace holds the tenancy use cases: workspaces, members and
// their roles, invitations, plans and usage, and the audit trail. Every
// action runs in one transaction scoped to the workspace it acts on, that
// first checks the caller's membership (non-members get "not found", never
// "forbidden") and then the caller's role with core.Authorize.
package workspace

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/ports"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

// Config holds the tenancy settings.
type Config struct {
	// Limits per plan; plans missing here use core.DefaultPlanLimits.
	Limits map[core.Plan]core.PlanLimits
	// PlatformAdmins are the (normalized) emails allowed to change plans.
	PlatformAdmins []string
}

// Service implements the tenancy use cases.
type Service struct {
	uow    ports.UnitOfWork
	clock  ports.Clock
	limits map[core.Plan]core.PlanLimits
	admins []string
}

// NewService wires the tenancy use cases.
func NewService(uow ports.UnitOfWork, clock ports.Clock, cfg Config) *Service {
	limits := core.DefaultPlanLimits()
	for p, l := range cfg.Limits {
		limits[p] = l
	}
	admins := make([]string, 0, len(cfg.PlatformAdmins))
	for _, a := range cfg.PlatformAdmins {
		if a = core.NormalizeEmail(a); a != "" {
			admins = append(admins, a)
		}
	}
	return &Service{uow: uow, clock: clock, limits: limits, admins: admins}
}

// Limits returns the limits of plan.
func (s *Service) Limits(plan core.Plan) core.PlanLimits { return s.limits[plan] }

// IsPlatformAdmin reports whether the caller is a platform operator.
func (s *Service) IsPlatformAdmin(ctx context.Context) bool {
	id, ok := core.IdentityFrom(ctx)
	return ok && id.Email != "" && slices.Contains(s.admins, core.NormalizeEmail(id.Email))
}

func caller(ctx context.Context) (core.Identity, error) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return core.Identity{}, core.ErrUnauthorized
	}
	return id, nil
}

var errWorkspaceNotFound = core.Errorf(core.ENOTFOUND, "workspace not found")

// inWorkspace runs fn in one transaction scoped to workspaceID after
// checking that the caller is a member allowed to perform action.
func (s *Service) inWorkspace(ctx context.Context, workspaceID uuid.UUID, action core.Action,
	fn func(ctx context.Context, tx ports.Tx, me core.WorkspaceMembership) error) error {
	id, err := caller(ctx)
	if err != nil {
		return err
	}
	scope := id
	scope.WorkspaceID = workspaceID
	return s.uow.Do(core.WithIdentity(ctx, scope), func(ctx context.Context, tx ports.Tx) error {
		me, err := tx.Workspaces().Membership(ctx, workspaceID, id.UserID)
		if errors.Is(err, core.ErrNotFound) {
			return errWorkspaceNotFound
		}
		if err != nil {
			return err
		}
		if err := core.Authorize(me.Role, action); err != nil {
			return err
		}
		return fn(ctx, tx, me)
	})
}

func (s *Service) event(ctx context.Context, workspaceID uuid.UUID, action, entityType string, entityID uuid.UUID, changes map[string]any) core.AuditEvent {
	id, _ := core.IdentityFrom(ctx)
	return core.NewAuditEvent(ctx, s.clock.Now(), core.Ref(workspaceID), core.Ref(id.UserID), action, entityType, core.Ref(entityID), changes)
}

// List returns the caller's workspaces, oldest membership first.
func (s *Service) List(ctx context.Context) ([]core.WorkspaceMembership, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var out []core.WorkspaceMembership
	err = s.uow.Do(core.WithIdentity(ctx, core.Identity{UserID: id.UserID}), func(ctx context.Context, tx ports.Tx) error {
		out, err = tx.Workspaces().ListForUser(ctx, id.UserID)
		return err
	})
	return out, err
}

// CreateInput is a new workspace.
type CreateInput struct {
	Name        string
	Slug        string
	Description string
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

func validateName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
		return "", core.Invalid("invalid workspace name", core.FieldError{Location: "body.name", Message: "1 to 100 characters"})
	}
	return name, nil
}

func validateSlug(slug string) (string, error) {
	slug = strings.ToLower(strings.TrimSpace(slug))
	if len(slug) < 3 || len(slug) > 50 || !slugPattern.MatchString(slug) {
		return "", core.Invalid("invalid slug", core.FieldError{Location: "body.slug", Message: "3 to 50 lower-case letters, digits and single dashes"})
	}
	return slug, nil
}

func validateDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > 1000 {
		return "", core.Invalid("invalid description", core.FieldError{Location: "body.description", Message: "at most 1000 characters"})
	}
	return d, nil
}

// Create makes a workspace with the caller as its owner. Without a slug one
// is derived from the name (with a random suffix if that one is taken); a
// given slug that is taken is a conflict.
func (s *Service) Create(ctx context.Context, in CreateInput) (core.WorkspaceMembership, error) {
	id, err := caller(ctx)
	if err != nil {
		return core.WorkspaceMembership{}, err
	}
	name, err := validateName(in.Name)
	if err != nil {
		return core.WorkspaceMembership{}, err
	}
	desc, err := validateDescription(in.Description)
	if err != nil {
		return core.WorkspaceMembership{}, err
	}
	slug, derived := in.Slug, in.Slug == ""
	if derived {
		slug = core.Slugify(name, 40)
		if len(slug) < 3 {
			slug += "-workspace"
		}
	} else if slug, err = validateSlug(slug); err != nil {
		return core.WorkspaceMembership{}, err
	}
	for attempt := 0; ; attempt++ {
		now := s.clock.Now()
		ws := core.Workspace{ID: uuid.New(), Name: name, Slug: slug, Description: desc, Plan: core.PlanFree, CreatedBy: id.UserID, CreatedAt: now, UpdatedAt: now}
		scope := core.WithIdentity(ctx, core.Identity{UserID: id.UserID, WorkspaceID: ws.ID, Email: id.Email})
		err = s.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
			if err := tx.Workspaces().Create(ctx, &ws); err != nil {
				return err
			}
			if err := tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: ws.ID, UserID: id.UserID, Role: core.RoleOwner, JoinedAt: now}); err != nil {
				return err
			}
			return tx.Audit().Append(ctx, s.event(ctx, ws.ID, core.AuditWorkspaceCreated, "workspace", ws.ID,
				map[string]any{"name": name, "slug": ws.Slug, "description": desc, "plan": string(ws.Plan)}))
		})
		if errors.Is(err, core.ErrConflict) {
			if derived && attempt < 3 {
				slug = core.UniqueSlug(name)
				continue
			}
			return core.WorkspaceMembership{}, core.Errorf(core.ECONFLICT, "slug already taken")
		}
		if err != nil {
			return core.WorkspaceMembership{}, err
		}
		return core.WorkspaceMembership{Workspace: ws, Role: core.RoleOwner}, nil
	}
}

// Get returns a workspace the caller belongs to.
func (s *Service) Get(ctx context.Context, workspaceID uuid.UUID) (core.WorkspaceMembership, error) {
	var out core.WorkspaceMembership
	err := s.inWorkspace(ctx, workspaceID, core.ActReadWorkspace, func(_ context.Context, _ ports.Tx, me core.WorkspaceMembership) error {
		out = me
		return nil
	})
	return out, err
}

// UpdateInput changes a workspace; nil fields stay.
type UpdateInput struct {
	Name        *string
	Slug        *string
	Description *string
}

// Update edits a workspace (admin).
func (s *Service) Update(ctx context.Context, workspaceID uuid.UUID, in UpdateInput) (core.WorkspaceMembership, error) {
	var out core.WorkspaceMembership
	err := s.inWorkspace(ctx, workspaceID, core.ActUpdateWorkspace, func(ctx context.Context, tx ports.Tx, me core.WorkspaceMembership) error {
		w := me.Workspace
		changes := map[string]any{}
		if in.Name != nil {
			name, err := validateName(*in.Name)
			if err != nil {
				return err
			}
			if name != w.Name {
				changes["name"] = map[string]any{"from": w.Name, "to": name}
				w.Name = name
			}
		}
		if in.Slug != nil {
			slug, err := validateSlug(*in.Slug)
			if err != nil {
				return err
			}
			if slug != w.Slug {
				changes["slug"] = map[string]any{"from": w.Slug, "to": slug}
				w.Slug = slug
			}
		}
		if in.Description != nil {
			d, err := validateDescription(*in.Description)
			if err != nil {
				return err
			}
			if d != w.Description {
				changes["description"] = map[string]any{"from": w.Description, "to": d}
				w.Description = d
			}
		}
		out = core.WorkspaceMembership{Workspace: w, Role: me.Role}
		if len(changes) == 0 {
			return nil
		}
		now := s.clock.Now()
		if err := tx.Workspaces().Update(ctx, w, now); err != nil {
			if errors.Is(err, core.ErrConflict) {
				return core.Errorf(core.ECONFLICT, "slug already taken")
			}
			return err
		}
		out.Workspace.UpdatedAt = now
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditWorkspaceUpdated, "workspace", workspaceID, changes))
	})
	return out, err
}

// Delete soft-deletes a workspace (owner). Its members' tokens for it stop
// working at once.
func (s *Service) Delete(ctx context.Context, workspaceID uuid.UUID) error {
	return s.inWorkspace(ctx, workspaceID, core.ActDeleteWorkspace, func(ctx context.Context, tx ports.Tx, me core.WorkspaceMembership) error {
		if err := tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditWorkspaceDeleted, "workspace", workspaceID,
			map[string]any{"name": me.Workspace.Name, "slug": me.Workspace.Slug})); err != nil {
			return err
		}
		return tx.Workspaces().SoftDelete(ctx, s.clock.Now())
	})
}

// SetPlan changes a workspace's plan; platform admins only, whether or not
// they are members.
func (s *Service) SetPlan(ctx context.Context, workspaceID uuid.UUID, plan core.Plan) (core.Workspace, error) {
	id, err := caller(ctx)
	if err != nil {
		return core.Workspace{}, err
	}
	if !s.IsPlatformAdmin(ctx) {
		return core.Workspace{}, core.Errorf(core.EFORBIDDEN, "only platform admins change plans")
	}
	scope := id
	scope.WorkspaceID = workspaceID
	var out core.Workspace
	err = s.uow.Do(core.WithIdentity(ctx, scope), func(ctx context.Context, tx ports.Tx) error {
		w, err := tx.Workspaces().Get(ctx)
		if errors.Is(err, core.ErrNotFound) {
			return errWorkspaceNotFound
		}
		if err != nil {
			return err
		}
		out = w
		if w.Plan == plan {
			return nil
		}
		now := s.clock.Now()
		if err := tx.Workspaces().SetPlan(ctx, plan, now); err != nil {
			return err
		}
		out.Plan, out.UpdatedAt = plan, now
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditWorkspacePlan, "workspace", workspaceID,
			map[string]any{"plan": map[string]any{"from": string(w.Plan), "to": string(plan)}}))
	})
	return out, err
}

// Members lists a workspace's members.
func (s *Service) Members(ctx context.Context, workspaceID uuid.UUID) ([]core.Member, error) {
	var out []core.Member
	err := s.inWorkspace(ctx, workspaceID, core.ActReadMembers, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		var err error
		out, err = tx.Workspaces().ListMembers(ctx)
		return err
	})
	return out, err
}

// lockedMembers locks the workspace's memberships and returns them with the
// owner count and the caller's role as of the lock: a role read before the
// lock may be stale if a concurrent request changed it.
func lockedMembers(ctx context.Context, tx ports.Tx) (members []core.Member, owners int, myRole core.Role, err error) {
	if _, owners, err = tx.Workspaces().LockMembers(ctx); err != nil {
		return nil, 0, "", err
	}
	if members, err = tx.Workspaces().ListMembers(ctx); err != nil {
		return nil, 0, "", err
	}
	id, _ := core.IdentityFrom(ctx)
	me, ok := findMember(members, id.UserID)
	if !ok {
		return nil, 0, "", errWorkspaceNotFound
	}
	return members, owners, me.Role, nil
}

func findMember(members []core.Member, userID uuid.UUID) (core.Member, bool) {
	for _, m := range members {
		if m.UserID == userID {
			return m, true
		}
	}
	return core.Member{}, false
}

var errMemberNotFound = core.Errorf(core.ENOTFOUND, "member not found")

// SetMemberRole changes a member's role (admin; owners only for anything
// touching the owner role). The last owner can't be demoted.
func (s *Service) SetMemberRole(ctx context.Context, workspaceID, userID uuid.UUID, role core.Role) (core.Member, error) {
	var out core.Member
	err := s.inWorkspace(ctx, workspaceID, core.ActManageMembers, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		members, owners, myRole, err := lockedMembers(ctx, tx)
		if err != nil {
			return err
		}
		if err := core.Authorize(myRole, core.ActManageMembers); err != nil {
			return err
		}
		target, ok := findMember(members, userID)
		if !ok {
			return errMemberNotFound
		}
		if (target.Role == core.RoleOwner || role == core.RoleOwner) && !myRole.Can(core.ActManageOwners) {
			return core.Errorf(core.EFORBIDDEN, "only owners can grant or change the owner role")
		}
		out = target
		if target.Role == role {
			return nil
		}
		if target.Role == core.RoleOwner && owners <= 1 {
			return core.Errorf(core.ECONFLICT, "the last owner can't be demoted; make someone else owner first")
		}
		if err := tx.Workspaces().SetMemberRole(ctx, userID, role); err != nil {
			return err
		}
		out.Role = role
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditMemberRoleChanged, "member", userID,
			map[string]any{"role": map[string]any{"from": string(target.Role), "to": string(role)}}))
	})
	return out, err
}

// RemoveMember removes a member (admin; owners only for owners), or lets a
// member leave. The last owner can't leave.
func (s *Service) RemoveMember(ctx context.Context, workspaceID, userID uuid.UUID) error {
	id, err := caller(ctx)
	if err != nil {
		return err
	}
	self := userID == id.UserID
	action := core.ActManageMembers
	if self {
		action = core.ActReadWorkspace // anyone may leave
	}
	return s.inWorkspace(ctx, workspaceID, action, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		members, owners, myRole, err := lockedMembers(ctx, tx)
		if err != nil {
			return err
		}
		if err := core.Authorize(myRole, action); err != nil {
			return err
		}
		target, ok := findMember(members, userID)
		if !ok {
			return errMemberNotFound
		}
		if !self && target.Role == core.RoleOwner && !myRole.Can(core.ActManageOwners) {
			return core.Errorf(core.EFORBIDDEN, "only owners can remove an owner")
		}
		if target.Role == core.RoleOwner && owners <= 1 {
			return core.Errorf(core.ECONFLICT, "the last owner can't leave; make someone else owner first")
		}
		if err := tx.Workspaces().RemoveMember(ctx, userID); err != nil {
			return err
		}
		action := core.AuditMemberRemoved
		if self {
			action = core.AuditMemberLeft
		}
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, action, "member", userID,
			map[string]any{"email": target.Email, "role": string(target.Role)}))
	})
}

// NewInvitation is a created invitation with its token, shown only once.
type NewInvitation struct {
	Invitation core.Invitation
	Token      string
}

// Invite invites email with role (admin; owners only for the owner role).
// Members plus pending invitations may not pass the plan's member limit.
func (s *Service) Invite(ctx context.Context, workspaceID uuid.UUID, email string, role core.Role) (NewInvitation, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) || len(email) > 254 {
		return NewInvitation{}, core.Invalid("invalid email address", core.FieldError{Location: "body.email", Message: "must be a valid email address"})
	}
	var out NewInvitation
	err = s.inWorkspace(ctx, workspaceID, core.ActManageInvitations, func(ctx context.Context, tx ports.Tx, me core.WorkspaceMembership) error {
		list, _, myRole, err := lockedMembers(ctx, tx)
		if err != nil {
			return err
		}
		if err := core.Authorize(myRole, core.ActManageInvitations); err != nil {
			return err
		}
		if role == core.RoleOwner && !myRole.Can(core.ActManageOwners) {
			return core.Errorf(core.EFORBIDDEN, "only owners can invite owners")
		}
		members := len(list)
		normalized := core.NormalizeEmail(addr.Address)
		for _, m := range list {
			if core.NormalizeEmail(m.Email) == normalized {
				return core.Errorf(core.ECONFLICT, "already a member")
			}
		}
		now := s.clock.Now()
		pending, err := tx.Invitations().ListPending(ctx, now)
		if err != nil {
			return err
		}
		for _, p := range pending {
			if core.NormalizeEmail(p.Email) == normalized {
				return core.Errorf(core.ECONFLICT, "a pending invitation for this email exists")
			}
		}
		plan := me.Workspace.Plan
		if err := core.CheckCount("members", plan, members+len(pending), s.limits[plan].Members); err != nil {
			return err
		}
		token, hash := auth.NewRefreshToken()
		inviter, _ := core.IdentityFrom(ctx)
		inv := core.Invitation{ID: uuid.New(), WorkspaceID: workspaceID, Email: addr.Address, Role: role, TokenHash: hash,
			InvitedBy: inviter.UserID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
		if err := tx.Invitations().Create(ctx, &inv); err != nil {
			return err
		}
		out = NewInvitation{Invitation: inv, Token: token}
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditInvitationCreated, "invitation", inv.ID,
			map[string]any{"email": inv.Email, "role": string(role)}))
	})
	return out, err
}

// Invitations lists a workspace's pending invitations (admin).
func (s *Service) Invitations(ctx context.Context, workspaceID uuid.UUID) ([]core.Invitation, error) {
	var out []core.Invitation
	err := s.inWorkspace(ctx, workspaceID, core.ActManageInvitations, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		var err error
		out, err = tx.Invitations().ListPending(ctx, s.clock.Now())
		return err
	})
	return out, err
}

// RevokeInvitation ends a pending invitation (admin).
func (s *Service) RevokeInvitation(ctx context.Context, workspaceID, invitationID uuid.UUID) error {
	return s.inWorkspace(ctx, workspaceID, core.ActManageInvitations, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		if err := tx.Invitations().Revoke(ctx, invitationID, s.clock.Now()); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				return core.Errorf(core.ENOTFOUND, "invitation not found")
			}
			return err
		}
		return tx.Audit().Append(ctx, s.event(ctx, workspaceID, core.AuditInvitationRevoked, "invitation", invitationID, nil))
	})
}

var errInvitationNotFound = core.Errorf(core.ENOTFOUND, "invitation not found, expired or already used")

// Accept joins the caller to the workspace of a pending invitation sent to
// the caller's email. Unknown, expired, revoked or used tokens are not
// found; another email is forbidden; an existing member is a conflict.
func (s *Service) Accept(ctx context.Context, token string) (core.WorkspaceMembership, error) {
	id, err := caller(ctx)
	if err != nil {
		return core.WorkspaceMembership{}, err
	}
	if token == "" || len(token) > 256 {
		return core.WorkspaceMembership{}, errInvitationNotFound
	}
	hash := auth.HashRefreshToken(token)
	var inv core.Invitation
	var user core.User
	err = s.uow.Do(core.WithIdentity(ctx, core.Identity{UserID: id.UserID}), func(ctx context.Context, tx ports.Tx) error {
		var err error
		if inv, err = tx.Invitations().FindByTokenHash(ctx, hash); err != nil {
			return err
		}
		user, err = tx.Users().Get(ctx, id.UserID)
		return err
	})
	if errors.Is(err, core.ErrNotFound) {
		return core.WorkspaceMembership{}, errInvitationNotFound
	}
	if err != nil {
		return core.WorkspaceMembership{}, err
	}
	now := s.clock.Now()
	if !inv.Pending(now) {
		return core.WorkspaceMembership{}, errInvitationNotFound
	}
	if core.NormalizeEmail(inv.Email) != core.NormalizeEmail(user.Email) {
		return core.WorkspaceMembership{}, core.Errorf(core.EFORBIDDEN, "this invitation was sent to another email address")
	}
	var out core.WorkspaceMembership
	scope := core.WithIdentity(ctx, core.Identity{UserID: id.UserID, WorkspaceID: inv.WorkspaceID, Email: id.Email})
	err = s.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
		ws, err := tx.Workspaces().Get(ctx)
		if errors.Is(err, core.ErrNotFound) {
			return errInvitationNotFound
		}
		if err != nil {
			return err
		}
		members, _, err := tx.Workspaces().LockMembers(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Workspaces().Membership(ctx, inv.WorkspaceID, id.UserID); err == nil {
			return core.Errorf(core.ECONFLICT, "already a member of this workspace")
		} else if !errors.Is(err, core.ErrNotFound) {
			return err
		}
		if err := core.CheckCount("members", ws.Plan, members, s.limits[ws.Plan].Members); err != nil {
			return err
		}
		if err := tx.Invitations().MarkAccepted(ctx, inv.ID, id.UserID, now); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				return errInvitationNotFound
			}
			return err
		}
		if err := tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: inv.WorkspaceID, UserID: id.UserID, Role: inv.Role, JoinedAt: now}); err != nil {
			if errors.Is(err, core.ErrConflict) {
				return core.Errorf(core.ECONFLICT, "already a member of this workspace")
			}
			return err
		}
		out = core.WorkspaceMembership{Workspace: ws, Role: inv.Role}
		return tx.Audit().Append(ctx, s.event(ctx, inv.WorkspaceID, core.AuditInvitationAccept, "invitation", inv.ID,
			map[string]any{"email": inv.Email, "role": string(inv.Role)}))
	})
	return out, err
}

// Usage is a workspace's plan, its limits and what it uses of them.
type Usage struct {
	Plan   core.Plan
	Limits core.PlanLimits
	// Members is counted now; the document, storage and AI counters are
	// filled in as those capabilities land (zero until then).
	Members                   int
	Documents                 int
	StorageBytes              int64
	AIRequestsThisMonth       int
	AISpendThisMonthUSD       float64
	ConcurrentTransformations int
}

// Usage reports a workspace's plan usage (any member).
func (s *Service) Usage(ctx context.Context, workspaceID uuid.UUID) (Usage, error) {
	var out Usage
	err := s.inWorkspace(ctx, workspaceID, core.ActReadUsage, func(ctx context.Context, tx ports.Tx, me core.WorkspaceMembership) error {
		members, _, err := tx.Workspaces().LockMembers(ctx)
		if err != nil {
			return err
		}
		out = Usage{Plan: me.Workspace.Plan, Limits: s.limits[me.Workspace.Plan], Members: members}
		return nil
	})
	return out, err
}

// AuditPage is one page of audit events.
type AuditPage struct {
	Events     []core.AuditEvent
	NextCursor string
}

// AuditEvents lists a workspace's audit trail newest first (admin).
func (s *Service) AuditEvents(ctx context.Context, workspaceID uuid.UUID, action string, limit int, cursor string) (AuditPage, error) {
	limit, err := core.PageLimit(limit)
	if err != nil {
		return AuditPage{}, err
	}
	before, err := decodeCursor(cursor)
	if err != nil {
		return AuditPage{}, err
	}
	var page AuditPage
	err = s.inWorkspace(ctx, workspaceID, core.ActReadAudit, func(ctx context.Context, tx ports.Tx, _ core.WorkspaceMembership) error {
		events, err := tx.Audit().List(ctx, ports.AuditFilter{Action: action, Limit: limit + 1, Before: before})
		if err != nil {
			return err
		}
		if len(events) > limit {
			events = events[:limit]
			last := events[len(events)-1]
			page.NextCursor = core.EncodeCursor(last.CreatedAt, last.ID)
		}
		page.Events = events
		return nil
	})
	return page, err
}

func decodeCursor(c string) (*ports.AuditPosition, error) {
	at, id, ok, err := core.DecodeCursor(c)
	if !ok {
		return nil, err
	}
	return &ports.AuditPosition{CreatedAt: at, ID: id}, nil
}
