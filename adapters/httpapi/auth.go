package httpapi

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/auth"
)

// UserBody is the User of the contract.
type UserBody struct {
	ID          uuid.UUID `json:"id"`
	Email       string    `json:"email" format:"email"`
	Username    string    `json:"username"`
	IsActive    bool      `json:"is_active"`
	IsVerified  bool      `json:"is_verified"`
	WorkspaceID uuid.UUID `json:"workspace_id" doc:"The personal workspace created with the account"`
	Role        string    `json:"role" enum:"owner,admin,member,viewer"`
	CreatedAt   time.Time `json:"created_at"`
}

// TokenPairBody is the TokenPair of the contract.
type TokenPairBody struct {
	AccessToken  string `json:"access_token" doc:"A JWT for the Authorization: Bearer header"`
	RefreshToken string `json:"refresh_token" doc:"Opaque; single use: every refresh returns a new one"`
	TokenType    string `json:"token_type" enum:"bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Access token lifetime in seconds"`
}

type tokenPairOutput struct {
	CacheControl string `header:"Cache-Control"`
	Pragma       string `header:"Pragma"`
	Body         TokenPairBody
}

func tokenOutput(p auth.TokenPair) *tokenPairOutput {
	return &tokenPairOutput{CacheControl: "no-store", Pragma: "no-cache", Body: TokenPairBody{
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, TokenType: "bearer", ExpiresIn: int(p.ExpiresIn.Seconds()),
	}}
}

type registerInput struct {
	Body struct {
		Email         string `json:"email" maxLength:"254" doc:"Case-insensitive and unique" example:"ada@example.com"`
		Password      string `json:"password" maxLength:"1024" doc:"12 to 72 bytes; common passwords are refused"`
		Username      string `json:"username,omitempty" maxLength:"50" doc:"Defaults to the email's local part"`
		WorkspaceName string `json:"workspace_name,omitempty" maxLength:"100" doc:"Name of the personal workspace"`
	}
}

type userOutput struct {
	Body UserBody
}

type loginJSON struct {
	Email    string `json:"email" maxLength:"254"`
	Password string `json:"password" maxLength:"1024"`
}

type tokenInput struct {
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}

type refreshInput struct {
	Body struct {
		RefreshToken string `json:"refresh_token" maxLength:"256"`
	}
}

type logoutInput struct {
	Body *struct {
		RefreshToken string `json:"refresh_token,omitempty" maxLength:"256" doc:"Also end the session of this refresh token (if it is yours)"`
		All          bool   `json:"all,omitempty" doc:"End every session of the account"`
	} `required:"false"`
}

type messageBody struct {
	Message string `json:"message"`
}

type messageOutput struct {
	Body messageBody
}

// WorkspaceRef is the current workspace in a profile.
type WorkspaceRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
	Slug string    `json:"slug"`
	Role string    `json:"role" enum:"owner,admin,member,viewer"`
}

type profileBody struct {
	ID             uuid.UUID      `json:"id"`
	Email          string         `json:"email"`
	Username       string         `json:"username"`
	IsActive       bool           `json:"is_active"`
	IsVerified     bool           `json:"is_verified"`
	CreatedAt      time.Time      `json:"created_at"`
	LastLoginAt    *time.Time     `json:"last_login_at"`
	Workspace      *WorkspaceRef  `json:"workspace" doc:"The current workspace of the access token"`
	Workspaces     []WorkspaceRef `json:"workspaces"`
	ActiveSessions int            `json:"active_sessions"`
}

type profileOutput struct {
	Body profileBody
}

// SessionBody is one login session.
type SessionBody struct {
	ID         uuid.UUID `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	IPAddress  string    `json:"ip_address"`
	Current    bool      `json:"current" doc:"The session of the access token making this request"`
}

type sessionsOutput struct {
	Body struct {
		Sessions []SessionBody `json:"sessions"`
	}
}

type sessionIDInput struct {
	ID string `path:"id" doc:"Session id (UUID)"`
}

type changePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"1024"`
		NewPassword     string `json:"new_password" maxLength:"1024" doc:"12 to 72 bytes; common passwords are refused"`
	}
}

func (s *server) registerAuth() {
	tags := []string{"Auth"}
	huma.Register(s.api, s.public(huma.Operation{
		OperationID: "register", Method: http.MethodPost, Path: "/api/auth/register", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary:     "Create an account and its personal workspace",
		Description: "Registrations count against the per-IP auth rate limit.",
		Errors:      []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}), func(ctx context.Context, in *registerInput) (*userOutput, error) {
		r, err := s.deps.Auth.Register(ctx, auth.RegisterInput{Email: in.Body.Email, Password: in.Body.Password,
			Username: in.Body.Username, WorkspaceName: in.Body.WorkspaceName})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		u := r.User
		return &userOutput{Body: UserBody{ID: u.ID, Email: u.Email, Username: u.Username, IsActive: u.IsActive, IsVerified: u.IsVerified,
			WorkspaceID: r.Workspace.ID, Role: string(r.Role), CreatedAt: u.CreatedAt}}, nil
	})

	tokenOp := huma.Operation{
		OperationID: "token", Method: http.MethodPost, Path: "/api/auth/token", Tags: tags,
		Summary: "Log in: exchange email and password for a token pair",
		Description: "Accepts the OAuth2 password form (`username` = email, `password`) or JSON `{email, password}`. " +
			"Unknown email and wrong password get the same 401. Failed attempts are limited per client IP and per account (429 with Retry-After).",
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}
	huma.Register(s.api, s.public(tokenOp), s.token)
	s.api.OpenAPI().Paths["/api/auth/token"].Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/x-www-form-urlencoded": {Schema: &huma.Schema{Type: "object", Required: []string{"username", "password"}, Properties: map[string]*huma.Schema{
			"username": {Type: "string", Description: "The account's email"}, "password": {Type: "string", Format: "password"},
			"grant_type": {Type: "string", Description: "Optional; `password` if given"},
		}}},
		"application/json": {Schema: &huma.Schema{Type: "object", Required: []string{"email", "password"}, Properties: map[string]*huma.Schema{
			"email": {Type: "string", Format: "email"}, "password": {Type: "string", Format: "password"},
		}}},
	}}

	huma.Register(s.api, s.public(huma.Operation{
		OperationID: "refresh", Method: http.MethodPost, Path: "/api/auth/refresh", Tags: tags,
		Summary: "Rotate a refresh token for a new token pair",
		Description: "The presented refresh token stops working. Presenting an already rotated token is treated as theft: " +
			"401, and the whole session (every token descended from that login) is revoked.",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *refreshInput) (*tokenPairOutput, error) {
		pair, err := s.deps.Auth.Refresh(ctx, in.Body.RefreshToken)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return tokenOutput(pair), nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "logout", Method: http.MethodPost, Path: "/api/auth/logout", Tags: tags,
		Summary:     "End the current session, another of yours, or all of them",
		Description: "Ended sessions' access tokens are refused at once.",
	}), func(ctx context.Context, in *logoutInput) (*messageOutput, error) {
		var li auth.LogoutInput
		if in.Body != nil {
			li = auth.LogoutInput{RefreshToken: in.Body.RefreshToken, All: in.Body.All}
		}
		if _, err := s.deps.Auth.Logout(ctx, li); err != nil {
			return nil, s.fail(ctx, err)
		}
		msg := "logged out"
		if li.All {
			msg = "logged out of every session"
		}
		return &messageOutput{Body: messageBody{Message: msg}}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "me", Method: http.MethodGet, Path: "/api/auth/me", Tags: tags, Summary: "The caller's profile",
	}), func(ctx context.Context, _ *struct{}) (*profileOutput, error) {
		p, err := s.deps.Auth.Me(ctx)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		u := p.User
		out := profileBody{ID: u.ID, Email: u.Email, Username: u.Username, IsActive: u.IsActive, IsVerified: u.IsVerified,
			CreatedAt: u.CreatedAt, LastLoginAt: u.LastLoginAt, ActiveSessions: p.ActiveSessions, Workspaces: make([]WorkspaceRef, 0, len(p.Workspaces))}
		for _, w := range p.Workspaces {
			out.Workspaces = append(out.Workspaces, workspaceRef(w))
		}
		if p.Current != nil {
			ref := workspaceRef(*p.Current)
			out.Workspace = &ref
		}
		return &profileOutput{Body: out}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listSessions", Method: http.MethodGet, Path: "/api/auth/sessions", Tags: tags, Summary: "The caller's active sessions",
	}), func(ctx context.Context, _ *struct{}) (*sessionsOutput, error) {
		list, err := s.deps.Auth.Sessions(ctx)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		id, _ := core.IdentityFrom(ctx)
		out := &sessionsOutput{}
		out.Body.Sessions = make([]SessionBody, 0, len(list))
		for _, x := range list {
			out.Body.Sessions = append(out.Body.Sessions, SessionBody{ID: x.ID, CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt,
				ExpiresAt: x.ExpiresAt, UserAgent: x.UserAgent, IPAddress: x.IPAddress, Current: x.ID == id.SessionID})
		}
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "revokeSession", Method: http.MethodDelete, Path: "/api/auth/sessions/{id}", Tags: tags,
		Summary: "End one of the caller's sessions", DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *sessionIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := s.deps.Auth.RevokeSession(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "changePassword", Method: http.MethodPost, Path: "/api/auth/change-password", Tags: tags,
		Summary: "Change the password and end every other session",
		Errors:  []int{http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}), func(ctx context.Context, in *changePasswordInput) (*messageOutput, error) {
		if err := s.deps.Auth.ChangePassword(ctx, auth.ChangePasswordInput{CurrentPassword: in.Body.CurrentPassword, NewPassword: in.Body.NewPassword}); err != nil {
			return nil, s.fail(ctx, err)
		}
		return &messageOutput{Body: messageBody{Message: "password changed; other sessions have been ended"}}, nil
	})
}

func workspaceRef(w core.WorkspaceMembership) WorkspaceRef {
	return WorkspaceRef{ID: w.Workspace.ID, Name: w.Workspace.Name, Slug: w.Workspace.Slug, Role: string(w.Role)}
}

// parseUUID parses an id from the request; a malformed one is a 422 naming
// the field.
func parseUUID(s, location string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, core.Invalid("invalid id", core.FieldError{Location: location, Message: "must be a UUID"})
	}
	return id, nil
}

// token accepts the OAuth2 password form or JSON.
func (s *server) token(ctx context.Context, in *tokenInput) (*tokenPairOutput, error) {
	mediaType, _, err := mime.ParseMediaType(in.ContentType)
	if in.ContentType == "" {
		mediaType, err = "application/json", nil
	}
	if err != nil {
		return nil, newProblem(http.StatusUnsupportedMediaType, "unsupported content type; send application/x-www-form-urlencoded or application/json", nil)
	}
	var email, password string
	switch mediaType {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(in.RawBody))
		if err != nil {
			return nil, newProblem(http.StatusBadRequest, "the request body is not a valid form", nil)
		}
		email, password = form.Get("username"), form.Get("password")
		if email == "" {
			email = form.Get("email")
		}
		if gt := form.Get("grant_type"); gt != "" && gt != "password" {
			return nil, s.fail(ctx, core.Invalid("unsupported grant type", core.FieldError{Location: "body.grant_type", Message: "must be password"}))
		}
	case "application/json":
		var body loginJSON
		if err := json.Unmarshal(in.RawBody, &body); err != nil {
			return nil, newProblem(http.StatusBadRequest, "the request body is not valid JSON", nil)
		}
		email, password = body.Email, body.Password
	default:
		return nil, newProblem(http.StatusUnsupportedMediaType, "unsupported content type; send application/x-www-form-urlencoded or application/json", nil)
	}
	var fields []core.FieldError
	if email == "" {
		fields = append(fields, core.FieldError{Location: "body.username", Message: "the email is required (form field username, or JSON email)"})
	}
	if password == "" {
		fields = append(fields, core.FieldError{Location: "body.password", Message: "required"})
	}
	if len(email) > 254 || len(password) > 1024 {
		fields = append(fields, core.FieldError{Location: "body", Message: "email or password too long"})
	}
	if len(fields) > 0 {
		return nil, s.fail(ctx, core.Invalid("validation failed", fields...))
	}
	pair, err := s.deps.Auth.Login(ctx, auth.LoginInput{Email: email, Password: password})
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return tokenOutput(pair), nil
}
