package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/workspace"
)

// WorkspaceBody is the Workspace of the contract.
type WorkspaceBody struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Slug        string    `json:"slug"`
	Description string    `json:"description"`
	Plan        string    `json:"plan" enum:"free,starter,pro,enterprise"`
	Role        string    `json:"role,omitempty" enum:"owner,admin,member,viewer" doc:"The caller's role (absent for platform admins acting on a workspace they are not in)"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func workspaceBody(w core.Workspace, role core.Role) WorkspaceBody {
	return WorkspaceBody{ID: w.ID, Name: w.Name, Slug: w.Slug, Description: w.Description, Plan: string(w.Plan),
		Role: string(role), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type workspaceOutput struct {
	Body WorkspaceBody
}

type workspaceIDInput struct {
	ID string `path:"id" doc:"Workspace id (UUID)"`
}

type createWorkspaceInput struct {
	Body struct {
		Name        string `json:"name" maxLength:"100" doc:"1 to 100 characters"`
		Slug        string `json:"slug,omitempty" maxLength:"50" doc:"3 to 50 lower-case letters, digits and dashes; derived from the name when absent"`
		Description string `json:"description,omitempty" maxLength:"1000"`
	}
}

type updateWorkspaceInput struct {
	ID   string `path:"id" doc:"Workspace id (UUID)"`
	Body struct {
		Name        *string `json:"name,omitempty" maxLength:"100"`
		Slug        *string `json:"slug,omitempty" maxLength:"50"`
		Description *string `json:"description,omitempty" maxLength:"1000"`
	}
}

// MemberBody is one workspace member.
type MemberBody struct {
	UserID   uuid.UUID `json:"user_id"`
	Email    string    `json:"email"`
	Username string    `json:"username"`
	Role     string    `json:"role" enum:"owner,admin,member,viewer"`
	JoinedAt time.Time `json:"joined_at"`
}

func memberBody(m core.Member) MemberBody {
	return MemberBody{UserID: m.UserID, Email: m.Email, Username: m.Username, Role: string(m.Role), JoinedAt: m.JoinedAt}
}

type memberInput struct {
	ID     string `path:"id" doc:"Workspace id (UUID)"`
	UserID string `path:"user_id" doc:"Member's user id (UUID)"`
}

type memberRoleInput struct {
	ID     string `path:"id" doc:"Workspace id (UUID)"`
	UserID string `path:"user_id" doc:"Member's user id (UUID)"`
	Body   struct {
		Role string `json:"role" maxLength:"20" doc:"owner, admin, member or viewer (case-insensitive)"`
	}
}

// InvitationBody is a pending invitation; Token is only set in the response
// that created it.
type InvitationBody struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role" enum:"owner,admin,member,viewer"`
	InvitedBy uuid.UUID `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Token     string    `json:"token,omitempty" doc:"Shown only when the invitation is created"`
}

func invitationBody(i core.Invitation) InvitationBody {
	return InvitationBody{ID: i.ID, Email: i.Email, Role: string(i.Role), InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

type inviteInput struct {
	ID   string `path:"id" doc:"Workspace id (UUID)"`
	Body struct {
		Email string `json:"email" maxLength:"254"`
		Role  string `json:"role" maxLength:"20" doc:"owner (owners only), admin, member or viewer"`
	}
}

type invitationIDInput struct {
	ID           string `path:"id" doc:"Workspace id (UUID)"`
	InvitationID string `path:"invitation_id" doc:"Invitation id (UUID)"`
}

type acceptInput struct {
	Body struct {
		Token string `json:"token" maxLength:"256"`
	}
}

type auditInput struct {
	ID     string `path:"id" doc:"Workspace id (UUID)"`
	Action string `query:"action" maxLength:"100" doc:"Only events of this action, e.g. member.role_changed"`
	Limit  int    `query:"limit" doc:"1..100, default 50"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
}

// AuditEventBody is one audit event.
type AuditEventBody struct {
	ID         uuid.UUID      `json:"id"`
	ActorID    *uuid.UUID     `json:"actor_id"`
	Action     string         `json:"action"`
	EntityType string         `json:"entity_type"`
	EntityID   *uuid.UUID     `json:"entity_id"`
	IPAddress  string         `json:"ip_address"`
	RequestID  string         `json:"request_id"`
	CreatedAt  time.Time      `json:"created_at"`
	Changes    map[string]any `json:"changes"`
}

type planInput struct {
	ID   string `path:"id" doc:"Workspace id (UUID)"`
	Body struct {
		Plan string `json:"plan" maxLength:"20" doc:"free, starter, pro or enterprise (case-insensitive)"`
	}
}

func parseRole(s, location string) (core.Role, error) {
	r, ok := core.ParseRole(s)
	if !ok {
		return "", core.Invalid("invalid role", core.FieldError{Location: location, Message: "one of owner, admin, member, viewer"})
	}
	return r, nil
}

func (s *server) registerWorkspaces() {
	tags := []string{"Workspaces"}
	ws := s.deps.Workspaces
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listWorkspaces", Method: http.MethodGet, Path: "/api/workspaces", Tags: tags, Summary: "The caller's workspaces",
	}), func(ctx context.Context, _ *struct{}) (*workspacesOutput, error) {
		list, err := ws.List(ctx)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := make([]WorkspaceBody, 0, len(list))
		for _, m := range list {
			out = append(out, workspaceBody(m.Workspace, m.Role))
		}
		return &workspacesOutput{Body: workspacesBody{Workspaces: out, Count: len(out)}}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "createWorkspace", Method: http.MethodPost, Path: "/api/workspaces", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary: "Create a workspace (the caller becomes its owner)", Errors: []int{http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *createWorkspaceInput) (*workspaceOutput, error) {
		m, err := ws.Create(ctx, workspace.CreateInput{Name: in.Body.Name, Slug: in.Body.Slug, Description: in.Body.Description})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &workspaceOutput{Body: workspaceBody(m.Workspace, m.Role)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getWorkspace", Method: http.MethodGet, Path: "/api/workspaces/{id}", Tags: tags,
		Summary: "A workspace the caller belongs to (404 otherwise)", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*workspaceOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		m, err := ws.Get(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &workspaceOutput{Body: workspaceBody(m.Workspace, m.Role)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "updateWorkspace", Method: http.MethodPatch, Path: "/api/workspaces/{id}", Tags: tags, Summary: "Edit a workspace (admin)",
		Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *updateWorkspaceInput) (*workspaceOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		m, err := ws.Update(ctx, id, workspace.UpdateInput{Name: in.Body.Name, Slug: in.Body.Slug, Description: in.Body.Description})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &workspaceOutput{Body: workspaceBody(m.Workspace, m.Role)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "deleteWorkspace", Method: http.MethodDelete, Path: "/api/workspaces/{id}", Tags: tags, DefaultStatus: http.StatusNoContent,
		Summary: "Delete a workspace (owner; soft delete)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := ws.Delete(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "switchWorkspace", Method: http.MethodPost, Path: "/api/workspaces/{id}/switch", Tags: tags,
		Summary:     "A new token pair whose current workspace is this one",
		Description: "The session's previous refresh token stops working; presenting it later is treated as reuse.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*tokenPairOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		pair, err := s.deps.Auth.SwitchWorkspace(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return tokenOutput(pair), nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listMembers", Method: http.MethodGet, Path: "/api/workspaces/{id}/members", Tags: tags, Summary: "Members of a workspace",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*membersOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		list, err := ws.Members(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := make([]MemberBody, 0, len(list))
		for _, m := range list {
			out = append(out, memberBody(m))
		}
		return &membersOutput{Body: membersBody{Members: out, Count: len(out)}}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "updateMember", Method: http.MethodPatch, Path: "/api/workspaces/{id}/members/{user_id}", Tags: tags,
		Summary:     "Change a member's role (admin; owners for the owner role)",
		Description: "The last owner can't be demoted (409).",
		Errors:      []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *memberRoleInput) (*struct{ Body MemberBody }, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		userID, err := parseUUID(in.UserID, "path.user_id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		role, err := parseRole(in.Body.Role, "body.role")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		m, err := ws.SetMemberRole(ctx, id, userID, role)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &struct{ Body MemberBody }{Body: memberBody(m)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "removeMember", Method: http.MethodDelete, Path: "/api/workspaces/{id}/members/{user_id}", Tags: tags,
		DefaultStatus: http.StatusNoContent, Summary: "Remove a member (admin), or leave (yourself)",
		Description: "The last owner can't leave (409). Removed members' tokens stop working for this workspace at once.",
		Errors:      []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *memberInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		userID, err := parseUUID(in.UserID, "path.user_id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := ws.RemoveMember(ctx, id, userID); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "createInvitation", Method: http.MethodPost, Path: "/api/workspaces/{id}/invitations", Tags: tags,
		DefaultStatus: http.StatusCreated, Summary: "Invite someone by email (admin)",
		Description: "The token is shown only in this response; it expires after 7 days and works once, for the invited email.",
		Errors:      []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *inviteInput) (*struct{ Body InvitationBody }, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		role, err := parseRole(in.Body.Role, "body.role")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		inv, err := ws.Invite(ctx, id, in.Body.Email, role)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		body := invitationBody(inv.Invitation)
		body.Token = inv.Token
		return &struct{ Body InvitationBody }{Body: body}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listInvitations", Method: http.MethodGet, Path: "/api/workspaces/{id}/invitations", Tags: tags,
		Summary: "Pending invitations (admin; tokens are never listed)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*invitationsOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		list, err := ws.Invitations(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := make([]InvitationBody, 0, len(list))
		for _, i := range list {
			out = append(out, invitationBody(i))
		}
		return &invitationsOutput{Body: invitationsBody{Invitations: out, Count: len(out)}}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "revokeInvitation", Method: http.MethodDelete, Path: "/api/workspaces/{id}/invitations/{invitation_id}", Tags: tags,
		DefaultStatus: http.StatusNoContent, Summary: "Revoke a pending invitation (admin)",
		Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *invitationIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		invID, err := parseUUID(in.InvitationID, "path.invitation_id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := ws.RevokeInvitation(ctx, id, invID); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "acceptInvitation", Method: http.MethodPost, Path: "/api/invitations/accept", Tags: tags,
		Summary:     "Join a workspace with an invitation token",
		Description: "404 for an unknown, expired, revoked or used token; 403 when the invitation was sent to another email; 409 when already a member.",
		Errors:      []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *acceptInput) (*struct {
		Body struct {
			Workspace WorkspaceBody `json:"workspace"`
			Role      string        `json:"role" enum:"owner,admin,member,viewer"`
		}
	}, error) {
		m, err := ws.Accept(ctx, in.Body.Token)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &struct {
			Body struct {
				Workspace WorkspaceBody `json:"workspace"`
				Role      string        `json:"role" enum:"owner,admin,member,viewer"`
			}
		}{}
		out.Body.Workspace, out.Body.Role = workspaceBody(m.Workspace, m.Role), string(m.Role)
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "workspaceUsage", Method: http.MethodGet, Path: "/api/workspaces/{id}/usage", Tags: tags,
		Summary: "Plan, limits and usage", Description: "Limits of 0 are unlimited.", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *workspaceIDInput) (*usageOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		u, err := ws.Usage(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &usageOutput{}
		out.Body.Plan, out.Body.Limits = string(u.Plan), u.Limits
		out.Body.Usage = usageBody{Members: u.Members, Documents: u.Documents, StorageBytes: u.StorageBytes,
			AIRequestsThisMonth: u.AIRequestsThisMonth, AISpendThisMonthUSD: u.AISpendThisMonthUSD, ConcurrentTransformations: u.ConcurrentTransformations}
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listAuditEvents", Method: http.MethodGet, Path: "/api/workspaces/{id}/audit-events", Tags: tags,
		Summary: "The workspace's audit trail, newest first (admin)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *auditInput) (*auditOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		page, err := ws.AuditEvents(ctx, id, in.Action, in.Limit, in.Cursor)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &auditOutput{}
		out.Body.AuditEvents = make([]AuditEventBody, 0, len(page.Events))
		for _, e := range page.Events {
			out.Body.AuditEvents = append(out.Body.AuditEvents, AuditEventBody{ID: e.ID, ActorID: e.ActorID, Action: e.Action, EntityType: e.EntityType,
				EntityID: e.EntityID, IPAddress: e.IPAddress, RequestID: e.RequestID, CreatedAt: e.CreatedAt, Changes: e.Changes})
		}
		out.Body.Count = len(out.Body.AuditEvents)
		if page.NextCursor != "" {
			out.Body.NextCursor = &page.NextCursor
		}
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "setWorkspacePlan", Method: http.MethodPut, Path: "/api/admin/workspaces/{id}/plan", Tags: []string{"Admin"},
		Summary: "Change a workspace's plan (platform admins)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *planInput) (*workspaceOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		plan, ok := core.ParsePlan(in.Body.Plan)
		if !ok {
			return nil, s.fail(ctx, core.Invalid("invalid plan", core.FieldError{Location: "body.plan", Message: "one of free, starter, pro, enterprise"}))
		}
		w, err := ws.SetPlan(ctx, id, plan)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &workspaceOutput{Body: workspaceBody(w, "")}, nil
	})
}

type usageBody struct {
	Members                   int     `json:"members"`
	Documents                 int     `json:"documents"`
	StorageBytes              int64   `json:"storage_bytes"`
	AIRequestsThisMonth       int     `json:"ai_requests_this_month"`
	AISpendThisMonthUSD       float64 `json:"ai_spend_this_month_usd"`
	ConcurrentTransformations int     `json:"concurrent_transformations"`
}

type usageOutput struct {
	Body struct {
		Plan   string          `json:"plan" enum:"free,starter,pro,enterprise"`
		Limits core.PlanLimits `json:"limits" doc:"0 means unlimited"`
		Usage  usageBody       `json:"usage"`
	}
}

type auditOutput struct {
	Body struct {
		AuditEvents []AuditEventBody `json:"audit_events"`
		Count       int              `json:"count"`
		NextCursor  *string          `json:"next_cursor"`
	}
}

type workspacesBody struct {
	Workspaces []WorkspaceBody `json:"workspaces"`
	Count      int             `json:"count"`
}

type workspacesOutput struct{ Body workspacesBody }

type membersBody struct {
	Members []MemberBody `json:"members"`
	Count   int          `json:"count"`
}

type membersOutput struct{ Body membersBody }

type invitationsBody struct {
	Invitations []InvitationBody `json:"invitations"`
	Count       int              `json:"count"`
}

type invitationsOutput struct{ Body invitationsBody }
