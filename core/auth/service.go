// Package auth holds the authentication use cases: registration, login,
// refresh-token rotation with reuse detection, logout, sessions and password
// changes, and the per-request Authenticate that turns a bearer token into
// a core.Identity.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Config holds the tunables of the auth use cases.
type Config struct {
	RefreshTTL time.Duration
	// MaxSessionsPerUser caps active sessions; the oldest are evicted.
	MaxSessionsPerUser int
	// AuthLimit bounds failed logins per IP and per account, and
	// registrations per IP.
	AuthLimit ports.RateLimit
	// TouchEvery is how stale a session's LastUsedAt may get before an
	// authenticated request refreshes it (one write per session per period,
	// not one per request).
	TouchEvery time.Duration
}

// Metrics observes security events; the HTTP adapter backs it with
// Prometheus counters.
type Metrics interface {
	// AuthFailure counts a refused credential by reason (e.g. "bad_password",
	// "invalid_token", "revoked_session", "refresh_reuse", "rate_limited").
	AuthFailure(reason string)
}

type noMetrics struct{}

func (noMetrics) AuthFailure(string) {}

// Service implements the auth use cases over the ports.
type Service struct {
	uow      ports.UnitOfWork
	sessions ports.SessionStore
	tokens   ports.AccessTokens
	limiter  ports.RateLimiter
	clock    ports.Clock
	hasher   *Hasher
	cfg      Config
	log      *slog.Logger
	metrics  Metrics
}

// NewService wires the auth use cases. metrics may be nil.
func NewService(uow ports.UnitOfWork, sessions ports.SessionStore, tokens ports.AccessTokens, limiter ports.RateLimiter,
	clock ports.Clock, hasher *Hasher, cfg Config, log *slog.Logger, metrics Metrics) *Service {
	if cfg.MaxSessionsPerUser <= 0 {
		cfg.MaxSessionsPerUser = 10
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 7 * 24 * time.Hour
	}
	if cfg.TouchEvery <= 0 {
		cfg.TouchEvery = time.Minute
	}
	if metrics == nil {
		metrics = noMetrics{}
	}
	return &Service{uow: uow, sessions: sessions, tokens: tokens, limiter: limiter, clock: clock, hasher: hasher, cfg: cfg, log: log, metrics: metrics}
}

// TokenPair is what a successful login, refresh or switch returns.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	Claims       ports.AccessClaims
}

// RegisterInput is a registration request.
type RegisterInput struct {
	Email         string
	Password      string
	Username      string
	WorkspaceName string
}

// Registered is the new account with its personal workspace.
type Registered struct {
	User      core.User
	Workspace core.Workspace
	Role      core.Role
}

var usernamePattern = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._-]{1,48}[\p{L}\p{N}]$`)

// Rate-limit key prefixes.
const (
	keyRegisterIP = "auth:register:ip:"
	keyLoginIP    = "auth:login:ip:"
	keyLoginUser  = "auth:login:account:"
)

func validateEmail(email string) (string, error) {
	e := strings.TrimSpace(email)
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || len(e) > 254 || !strings.Contains(e[strings.LastIndex(e, "@"):], ".") {
		return "", core.Invalid("invalid email address", core.FieldError{Location: "body.email", Message: "must be a valid email address"})
	}
	return e, nil
}

// Register creates an account, its personal workspace and the owner
// membership in one transaction. Registrations count against the per-IP
// limit whatever their outcome.
func (s *Service) Register(ctx context.Context, in RegisterInput) (Registered, error) {
	meta := core.RequestMetaFrom(ctx)
	if err := s.hit(ctx, keyRegisterIP+meta.IPAddress); err != nil {
		return Registered{}, err
	}
	email, err := validateEmail(in.Email)
	if err != nil {
		return Registered{}, err
	}
	if err := ValidatePassword(in.Password, email, "body.password"); err != nil {
		return Registered{}, err
	}
	username := strings.TrimSpace(in.Username)
	if username == "" {
		username, _, _ = strings.Cut(email, "@")
		if utf8.RuneCountInString(username) > 50 {
			username = string([]rune(username)[:50])
		}
	} else if !usernamePattern.MatchString(username) {
		return Registered{}, core.Invalid("invalid username", core.FieldError{Location: "body.username", Message: "3 to 50 letters, digits, spaces, '.', '_' or '-'"})
	}
	wsName := strings.TrimSpace(in.WorkspaceName)
	if wsName == "" {
		wsName = username + "'s workspace"
	}
	if utf8.RuneCountInString(wsName) > 100 {
		return Registered{}, core.Invalid("invalid workspace name", core.FieldError{Location: "body.workspace_name", Message: "at most 100 characters"})
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return Registered{}, err
	}
	now := s.clock.Now()
	u := core.User{ID: uuid.New(), Email: email, Username: username, PasswordHash: hash, IsActive: true, CreatedAt: now, UpdatedAt: now}
	ws := core.Workspace{ID: uuid.New(), Name: wsName, Slug: core.UniqueSlug(wsName), Plan: core.PlanFree, CreatedBy: u.ID, CreatedAt: now, UpdatedAt: now}
	// The transaction is scoped to the new account and workspace: row-level
	// security lets it write exactly those rows.
	scoped := core.WithIdentity(ctx, core.Identity{UserID: u.ID, WorkspaceID: ws.ID})
	err = s.uow.Do(scoped, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Users().Create(ctx, &u); err != nil {
			if errors.Is(err, core.ErrConflict) {
				return core.Errorf(core.ECONFLICT, "email already registered")
			}
			return err
		}
		if err := tx.Workspaces().Create(ctx, &ws); err != nil {
			return err
		}
		if err := tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: ws.ID, UserID: u.ID, Role: core.RoleOwner, JoinedAt: now}); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, s.audit(ctx, ws.ID, u.ID, core.AuditUserRegistered, "user", u.ID, map[string]any{"email": email, "username": username}))
	})
	if err != nil {
		return Registered{}, err
	}
	return Registered{User: u, Workspace: ws, Role: core.RoleOwner}, nil
}

// LoginInput is a password login.
type LoginInput struct {
	Email    string
	Password string
}

// Login checks credentials and opens a session. Unknown email and wrong
// password give the same error after the same bcrypt work. Failed attempts
// count per client IP and per account; a successful one clears the
// account's count.
func (s *Service) Login(ctx context.Context, in LoginInput) (TokenPair, error) {
	meta := core.RequestMetaFrom(ctx)
	email := core.NormalizeEmail(in.Email)
	ipKey, userKey := keyLoginIP+meta.IPAddress, keyLoginUser+email
	for _, k := range []string{ipKey, userKey} {
		if err := s.peek(ctx, k); err != nil {
			return TokenPair{}, err
		}
	}
	var (
		user  core.User
		found bool
	)
	err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, core.ErrNotFound) {
			return nil
		}
		user, found = u, err == nil
		return err
	})
	if err != nil {
		return TokenPair{}, err
	}
	ok := false
	if found {
		ok = s.hasher.Matches(user.PasswordHash, in.Password)
	} else {
		s.hasher.SpendDummyCompare(in.Password)
	}
	if !ok || !user.IsActive {
		s.metrics.AuthFailure("bad_credentials")
		for _, k := range []string{ipKey, userKey} {
			if _, err := s.limiter.Hit(ctx, k, s.cfg.AuthLimit); err != nil {
				return TokenPair{}, s.limiterDown(err)
			}
		}
		s.recordQuietly(ctx, s.audit(ctx, uuid.Nil, user.ID, core.AuditLoginFailed, "user", user.ID, map[string]any{"email": email}))
		return TokenPair{}, core.Errorf(core.EUNAUTHORIZED, "incorrect email or password")
	}
	if err := s.limiter.Reset(ctx, userKey); err != nil {
		s.log.WarnContext(ctx, "reset login limit", "err", err)
	}
	var workspaceID uuid.UUID
	err = s.uow.Do(core.WithIdentity(ctx, core.Identity{UserID: user.ID}), func(ctx context.Context, tx ports.Tx) error {
		now := s.clock.Now()
		if err := tx.Users().RecordLogin(ctx, user.ID, now); err != nil {
			return err
		}
		ws, err := tx.Workspaces().ListForUser(ctx, user.ID)
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			workspaceID = ws[0].Workspace.ID
		}
		return tx.Audit().Append(ctx, s.audit(ctx, uuid.Nil, user.ID, core.AuditLoginSucceeded, "user", user.ID, nil))
	})
	if err != nil {
		return TokenPair{}, err
	}
	return s.openSession(ctx, user.ID, workspaceID)
}

// NewRefreshToken returns a 256-bit random opaque token and its SHA-256 hash,
// the only form ever stored.
func NewRefreshToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashRefreshToken(token)
}

// HashRefreshToken is the stored form of a refresh token.
func HashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *Service) openSession(ctx context.Context, userID, workspaceID uuid.UUID) (TokenPair, error) {
	meta := core.RequestMetaFrom(ctx)
	now := s.clock.Now()
	refresh, hash := NewRefreshToken()
	sess := core.Session{ID: uuid.New(), UserID: userID, WorkspaceID: workspaceID, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), UserAgent: truncate(meta.UserAgent, 512), IPAddress: meta.IPAddress}
	evicted, err := s.sessions.Create(ctx, sess, hash, s.cfg.MaxSessionsPerUser)
	if err != nil {
		return TokenPair{}, fmt.Errorf("create session: %w", err)
	}
	if len(evicted) > 0 {
		s.log.InfoContext(ctx, "evicted oldest sessions over the per-user cap", "user_id", userID, "count", len(evicted))
	}
	return s.issue(sess, refresh)
}

func (s *Service) issue(sess core.Session, refresh string) (TokenPair, error) {
	access, claims, err := s.tokens.Issue(ports.AccessClaims{UserID: sess.UserID, SessionID: sess.ID, WorkspaceID: sess.WorkspaceID})
	if err != nil {
		return TokenPair{}, core.Internal(err)
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, ExpiresIn: claims.ExpiresAt.Sub(claims.IssuedAt), Claims: claims}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Refresh rotates a refresh token: the presented one stops working and a
// new pair is returned. Presenting an already rotated token revokes the
// whole session and is recorded.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	if refreshToken == "" || len(refreshToken) > 256 {
		s.metrics.AuthFailure("invalid_refresh")
		return TokenPair{}, core.Errorf(core.EUNAUTHORIZED, "invalid refresh token")
	}
	next, nextHash := NewRefreshToken()
	now := s.clock.Now()
	sess, err := s.sessions.Rotate(ctx, HashRefreshToken(refreshToken), nextHash, now, now.Add(s.cfg.RefreshTTL))
	switch {
	case errors.Is(err, core.ErrReuseDetected):
		s.metrics.AuthFailure("refresh_reuse")
		s.log.WarnContext(ctx, "refresh token reuse detected; session revoked", "user_id", sess.UserID, "session_id", sess.ID)
		s.recordQuietly(ctx, s.audit(ctx, uuid.Nil, sess.UserID, core.AuditRefreshReuse, "session", sess.ID, nil))
		return TokenPair{}, core.ErrReuseDetected
	case errors.Is(err, core.ErrNotFound):
		s.metrics.AuthFailure("invalid_refresh")
		return TokenPair{}, core.Errorf(core.EUNAUTHORIZED, "invalid refresh token")
	case err != nil:
		return TokenPair{}, fmt.Errorf("rotate refresh token: %w", err)
	}
	// The current workspace may have gone (membership removed, workspace
	// deleted) since the last token: fall back to the user's first one.
	workspaceID, err := s.currentWorkspace(ctx, sess.UserID, sess.WorkspaceID)
	if err != nil {
		return TokenPair{}, err
	}
	if workspaceID != sess.WorkspaceID {
		if err := s.sessions.SetWorkspace(ctx, sess.ID, workspaceID); err != nil {
			return TokenPair{}, fmt.Errorf("set session workspace: %w", err)
		}
		sess.WorkspaceID = workspaceID
	}
	return s.issue(sess, next)
}

func (s *Service) currentWorkspace(ctx context.Context, userID, preferred uuid.UUID) (uuid.UUID, error) {
	var chosen uuid.UUID
	err := s.uow.Do(core.WithIdentity(ctx, core.Identity{UserID: userID}), func(ctx context.Context, tx ports.Tx) error {
		if preferred != uuid.Nil {
			if _, err := tx.Workspaces().Membership(ctx, preferred, userID); err == nil {
				chosen = preferred
				return nil
			} else if !errors.Is(err, core.ErrNotFound) {
				return err
			}
		}
		ws, err := tx.Workspaces().ListForUser(ctx, userID)
		if err != nil {
			return err
		}
		if len(ws) > 0 {
			chosen = ws[0].Workspace.ID
		}
		return nil
	})
	return chosen, err
}

// LogoutInput says which sessions to end.
type LogoutInput struct {
	// RefreshToken, when given, names a session of the caller to end too.
	RefreshToken string
	// All ends every session of the caller.
	All bool
}

// Logout ends the caller's current session, the session of RefreshToken if
// it is the caller's, or all of the caller's sessions. It returns how many
// sessions ended.
func (s *Service) Logout(ctx context.Context, in LogoutInput) (int, error) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return 0, core.ErrUnauthorized
	}
	ended := 0
	if in.All {
		n, err := s.sessions.RevokeAllForUser(ctx, id.UserID, uuid.Nil)
		if err != nil {
			return 0, fmt.Errorf("revoke all sessions: %w", err)
		}
		ended = n
	} else {
		if in.RefreshToken != "" {
			sess, err := s.sessions.FindByRefresh(ctx, HashRefreshToken(in.RefreshToken))
			if err == nil && sess.UserID == id.UserID && sess.ID != id.SessionID {
				if err := s.sessions.Revoke(ctx, sess.ID); err == nil {
					ended++
				}
			} else if err != nil && !errors.Is(err, core.ErrNotFound) {
				return 0, fmt.Errorf("find session: %w", err)
			}
		}
		if err := s.sessions.Revoke(ctx, id.SessionID); err == nil {
			ended++
		} else if !errors.Is(err, core.ErrNotFound) {
			return 0, fmt.Errorf("revoke session: %w", err)
		}
	}
	s.recordQuietly(ctx, s.audit(ctx, uuid.Nil, id.UserID, core.AuditLogout, "session", id.SessionID, map[string]any{"all": in.All, "sessions_ended": ended}))
	return ended, nil
}

// Authenticate turns an access token into the caller's identity: the token
// must verify, its session must still be active and belong to its user, and
// the user must still be a member of the token's workspace. Every failure is
// core.ErrUnauthorized, so revocation takes effect at once.
func (s *Service) Authenticate(ctx context.Context, token string) (core.Identity, error) {
	claims, err := s.tokens.Verify(token)
	if err != nil {
		s.metrics.AuthFailure("invalid_token")
		return core.Identity{}, err
	}
	sess, err := s.sessions.Get(ctx, claims.SessionID)
	if err != nil {
		if errors.Is(err, core.ErrNotFound) {
			s.metrics.AuthFailure("revoked_session")
			return core.Identity{}, core.Errorf(core.EUNAUTHORIZED, "session has ended")
		}
		return core.Identity{}, fmt.Errorf("load session: %w", err)
	}
	if sess.UserID != claims.UserID {
		s.metrics.AuthFailure("invalid_token")
		return core.Identity{}, core.ErrUnauthorized
	}
	id := core.Identity{UserID: claims.UserID, SessionID: claims.SessionID, WorkspaceID: claims.WorkspaceID}
	// One read on every request: committed with it, in one round trip.
	err = s.uow.Autocommit(core.WithIdentity(ctx, core.Identity{UserID: id.UserID}), func(ctx context.Context, tx ports.Tx) error {
		u, role, err := tx.Users().GetWithRole(ctx, id.UserID, id.WorkspaceID)
		if err != nil {
			return err
		}
		if !u.IsActive || (id.WorkspaceID != uuid.Nil && role == "") {
			return core.ErrNotFound // deactivated, or no longer a member
		}
		id.Email, id.Role = u.Email, role
		return nil
	})
	if errors.Is(err, core.ErrNotFound) {
		s.metrics.AuthFailure("membership_gone")
		return core.Identity{}, core.Errorf(core.EUNAUTHORIZED, "the account or workspace of this token is no longer available")
	}
	if err != nil {
		return core.Identity{}, err
	}
	if now := s.clock.Now(); now.Sub(sess.LastUsedAt) >= s.cfg.TouchEvery {
		if err := s.sessions.Touch(ctx, sess.ID, now); err != nil && !errors.Is(err, core.ErrNotFound) {
			s.log.WarnContext(ctx, "touch session", "err", err)
		}
	}
	return id, nil
}

// SwitchWorkspace makes workspaceID the current workspace of the caller's
// session and returns a new token pair for it; the session's previous
// refresh token stops working (presenting it later is reuse).
// core.ErrNotFound when the caller is not a member.
func (s *Service) SwitchWorkspace(ctx context.Context, workspaceID uuid.UUID) (TokenPair, error) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return TokenPair{}, core.ErrUnauthorized
	}
	scope := core.WithIdentity(ctx, core.Identity{UserID: id.UserID, WorkspaceID: workspaceID})
	err := s.uow.Do(scope, func(ctx context.Context, tx ports.Tx) error {
		if _, err := tx.Workspaces().Membership(ctx, workspaceID, id.UserID); err != nil {
			if errors.Is(err, core.ErrNotFound) {
				return core.Errorf(core.ENOTFOUND, "workspace not found")
			}
			return err
		}
		return tx.Audit().Append(ctx, s.audit(ctx, workspaceID, id.UserID, core.AuditWorkspaceSwitched, "session", id.SessionID, nil))
	})
	if err != nil {
		return TokenPair{}, err
	}
	refresh, hash := NewRefreshToken()
	now := s.clock.Now()
	sess, err := s.sessions.Reissue(ctx, id.SessionID, hash, workspaceID, now, now.Add(s.cfg.RefreshTTL))
	if errors.Is(err, core.ErrNotFound) {
		return TokenPair{}, core.Errorf(core.EUNAUTHORIZED, "session has ended")
	}
	if err != nil {
		return TokenPair{}, fmt.Errorf("reissue session tokens: %w", err)
	}
	return s.issue(sess, refresh)
}

// Profile is the caller's account with its workspaces.
type Profile struct {
	User           core.User
	Current        *core.WorkspaceMembership
	Workspaces     []core.WorkspaceMembership
	ActiveSessions int
}

// Me returns the caller's profile.
func (s *Service) Me(ctx context.Context) (Profile, error) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return Profile{}, core.ErrUnauthorized
	}
	var p Profile
	err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		u, err := tx.Users().Get(ctx, id.UserID)
		if err != nil {
			return err
		}
		p.User = u
		p.Workspaces, err = tx.Workspaces().ListForUser(ctx, id.UserID)
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	for i := range p.Workspaces {
		if p.Workspaces[i].Workspace.ID == id.WorkspaceID {
			p.Current = &p.Workspaces[i]
		}
	}
	sessions, err := s.sessions.ListForUser(ctx, id.UserID)
	if err != nil {
		return Profile{}, fmt.Errorf("list sessions: %w", err)
	}
	p.ActiveSessions = len(sessions)
	return p, nil
}

// Sessions lists the caller's active sessions, newest first.
func (s *Service) Sessions(ctx context.Context) ([]core.Session, error) {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return nil, core.ErrUnauthorized
	}
	list, err := s.sessions.ListForUser(ctx, id.UserID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return list, nil
}

// RevokeSession ends one of the caller's sessions; core.ErrNotFound when it
// is not the caller's (or not active).
func (s *Service) RevokeSession(ctx context.Context, sessionID uuid.UUID) error {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return core.ErrUnauthorized
	}
	sess, err := s.sessions.Get(ctx, sessionID)
	if errors.Is(err, core.ErrNotFound) || (err == nil && sess.UserID != id.UserID) {
		return core.Errorf(core.ENOTFOUND, "session not found")
	}
	if err != nil {
		return fmt.Errorf("load session: %w", err)
	}
	if err := s.sessions.Revoke(ctx, sessionID); err != nil {
		if errors.Is(err, core.ErrNotFound) {
			return core.Errorf(core.ENOTFOUND, "session not found")
		}
		return fmt.Errorf("revoke session: %w", err)
	}
	s.recordQuietly(ctx, s.audit(ctx, uuid.Nil, id.UserID, core.AuditSessionRevoked, "session", sessionID, nil))
	return nil
}

// ChangePasswordInput is a password change.
type ChangePasswordInput struct {
	CurrentPassword string
	NewPassword     string
}

// ChangePassword replaces the caller's password after checking the current
// one, and ends every other session. A wrong current password is
// EBADREQUEST and counts as a failed login for the account, so a stolen
// access token can't be used to guess it.
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput) error {
	id, ok := core.IdentityFrom(ctx)
	if !ok {
		return core.ErrUnauthorized
	}
	userKey := keyLoginUser + core.NormalizeEmail(id.Email)
	if err := s.peek(ctx, userKey); err != nil {
		return err
	}
	var user core.User
	if err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		user, err = tx.Users().Get(ctx, id.UserID)
		return err
	}); err != nil {
		return err
	}
	if !s.hasher.Matches(user.PasswordHash, in.CurrentPassword) {
		s.metrics.AuthFailure("bad_password")
		if _, err := s.limiter.Hit(ctx, userKey, s.cfg.AuthLimit); err != nil {
			return s.limiterDown(err)
		}
		return core.Errorf(core.EBADREQUEST, "current password is incorrect")
	}
	if err := ValidatePassword(in.NewPassword, user.Email, "body.new_password"); err != nil {
		return err
	}
	if in.NewPassword == in.CurrentPassword {
		return core.Invalid("the new password must differ", core.FieldError{Location: "body.new_password", Message: "must differ from the current password"})
	}
	hash, err := s.hasher.Hash(in.NewPassword)
	if err != nil {
		return err
	}
	if err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Users().UpdatePassword(ctx, id.UserID, hash, s.clock.Now()); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, s.audit(ctx, uuid.Nil, id.UserID, core.AuditPasswordChanged, "user", id.UserID, nil))
	}); err != nil {
		return err
	}
	if _, err := s.sessions.RevokeAllForUser(ctx, id.UserID, id.SessionID); err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	return nil
}

// audit builds an event; uuid.Nil ids are absent. Account-level events
// (logins, logouts, sessions, passwords) carry no workspace.
func (s *Service) audit(ctx context.Context, workspaceID, actorID uuid.UUID, action, entityType string, entityID uuid.UUID, changes map[string]any) core.AuditEvent {
	return core.NewAuditEvent(ctx, s.clock.Now(), core.Ref(workspaceID), core.Ref(actorID), action, entityType, core.Ref(entityID), changes)
}

// recordQuietly appends an audit event in its own transaction, scoped to the
// event's actor and workspace, logging a failure instead of failing the
// request (used where the action itself is not a database change, e.g. a
// failed login or a session ended in Redis).
func (s *Service) recordQuietly(ctx context.Context, e core.AuditEvent) {
	var scope core.Identity
	if e.ActorID != nil {
		scope.UserID = *e.ActorID
	}
	if e.WorkspaceID != nil {
		scope.WorkspaceID = *e.WorkspaceID
	}
	if err := s.uow.Do(core.WithIdentity(ctx, scope), func(ctx context.Context, tx ports.Tx) error { return tx.Audit().Append(ctx, e) }); err != nil {
		s.log.ErrorContext(ctx, "append audit event", "action", e.Action, "err", err)
	}
}

func (s *Service) peek(ctx context.Context, key string) error {
	d, err := s.limiter.Peek(ctx, key, s.cfg.AuthLimit)
	if err != nil {
		return s.limiterDown(err)
	}
	if !d.Allowed {
		s.metrics.AuthFailure("rate_limited")
		return &core.Error{Code: core.ERATELIMIT, Message: "too many attempts; try again later", RetryAfter: d.RetryAfter}
	}
	return nil
}

func (s *Service) hit(ctx context.Context, key string) error {
	d, err := s.limiter.Hit(ctx, key, s.cfg.AuthLimit)
	if err != nil {
		return s.limiterDown(err)
	}
	if !d.Allowed {
		s.metrics.AuthFailure("rate_limited")
		return &core.Error{Code: core.ERATELIMIT, Message: "too many attempts; try again later", RetryAfter: d.RetryAfter}
	}
	return nil
}

// limiterDown fails closed: when the limiter can't answer, auth refuses
// rather than letting unlimited guesses through.
func (s *Service) limiterDown(err error) error {
	s.log.Error("rate limiter unavailable; refusing auth attempt", "err", err)
	return &core.Error{Code: core.EUNAVAILABLE, Message: "authentication is temporarily unavailable", Err: err}
}
