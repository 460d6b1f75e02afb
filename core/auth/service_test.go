package auth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/auth"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/mocks"
	"github.com/repurpose/repurpose/ports/porttest"
)

// fixture wires the service over mockery mocks so each test states exactly
// which port calls it expects; an unexpected call fails the test.
type fixture struct {
	uow        *mocks.UnitOfWork
	tx         *mocks.Tx
	users      *mocks.UserStore
	workspaces *mocks.WorkspaceStore
	audit      *mocks.AuditLog
	sessions   *mocks.SessionStore
	tokens     *mocks.AccessTokens
	limiter    *mocks.RateLimiter
	clock      *porttest.FakeClock
	hasher     *auth.Hasher
	svc        *auth.Service
}

var limit = ports.RateLimit{Events: 5, Per: 15 * time.Minute}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		uow: mocks.NewUnitOfWork(t), tx: mocks.NewTx(t), users: mocks.NewUserStore(t), workspaces: mocks.NewWorkspaceStore(t),
		audit: mocks.NewAuditLog(t), sessions: mocks.NewSessionStore(t), tokens: mocks.NewAccessTokens(t), limiter: mocks.NewRateLimiter(t),
		clock: porttest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)),
	}
	var err error
	f.hasher, err = auth.NewHasher(bcrypt.MinCost)
	require.NoError(t, err)
	runInTx := func(ctx context.Context, fn func(context.Context, ports.Tx) error) error { return fn(ctx, f.tx) }
	f.uow.EXPECT().Do(mock.Anything, mock.Anything).RunAndReturn(runInTx).Maybe()
	f.uow.EXPECT().Autocommit(mock.Anything, mock.Anything).RunAndReturn(runInTx).Maybe()
	f.tx.EXPECT().Users().Return(f.users).Maybe()
	f.tx.EXPECT().Workspaces().Return(f.workspaces).Maybe()
	f.tx.EXPECT().Audit().Return(f.audit).Maybe()
	f.svc = auth.NewService(f.uow, f.sessions, f.tokens, f.limiter, f.clock, f.hasher,
		auth.Config{AuthLimit: limit, MaxSessionsPerUser: 3}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	return f
}

func ctxFrom(ip string) context.Context {
	return core.WithRequestMeta(context.Background(), core.RequestMeta{RequestID: "req-1", IPAddress: ip, UserAgent: "test"})
}

func allowed() ports.RateDecision { return ports.RateDecision{Allowed: true, Remaining: 4} }

func TestLoginUnknownEmailCountsFailureAndOpensNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.limiter.EXPECT().Peek(mock.Anything, "auth:login:ip:10.0.0.1", limit).Return(allowed(), nil).Once()
	f.limiter.EXPECT().Peek(mock.Anything, "auth:login:account:ghost@example.com", limit).Return(allowed(), nil).Once()
	f.users.EXPECT().GetByEmail(mock.Anything, "ghost@example.com").Return(core.User{}, core.ErrNotFound).Once()
	f.limiter.EXPECT().Hit(mock.Anything, "auth:login:ip:10.0.0.1", limit).Return(allowed(), nil).Once()
	f.limiter.EXPECT().Hit(mock.Anything, "auth:login:account:ghost@example.com", limit).Return(allowed(), nil).Once()
	f.audit.EXPECT().Append(mock.Anything, mock.MatchedBy(func(e core.AuditEvent) bool {
		return e.Action == core.AuditLoginFailed && e.ActorID == nil && e.RequestID == "req-1" && e.IPAddress == "10.0.0.1"
	})).Return(nil).Once()

	_, err := f.svc.Login(ctxFrom("10.0.0.1"), auth.LoginInput{Email: " Ghost@Example.com ", Password: "whatever-password"})
	require.ErrorIs(t, err, core.ErrUnauthorized)
	require.Equal(t, "incorrect email or password", core.AsError(err).Message)
	// No session was created: the SessionStore mock has no expectations.
}

func TestLoginWrongPasswordIsTheSameError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hash, err := f.hasher.Hash("the right password!")
	require.NoError(t, err)
	user := core.User{ID: uuid.New(), Email: "ada@example.com", PasswordHash: hash, IsActive: true}
	f.limiter.EXPECT().Peek(mock.Anything, mock.Anything, limit).Return(allowed(), nil).Times(2)
	f.users.EXPECT().GetByEmail(mock.Anything, "ada@example.com").Return(user, nil).Once()
	f.limiter.EXPECT().Hit(mock.Anything, mock.Anything, limit).Return(allowed(), nil).Times(2)
	f.audit.EXPECT().Append(mock.Anything, mock.MatchedBy(func(e core.AuditEvent) bool {
		return e.Action == core.AuditLoginFailed && e.ActorID != nil && *e.ActorID == user.ID
	})).Return(nil).Once()

	_, err = f.svc.Login(ctxFrom("10.0.0.2"), auth.LoginInput{Email: "ada@example.com", Password: "the wrong password"})
	require.ErrorIs(t, err, core.ErrUnauthorized)
	require.Equal(t, "incorrect email or password", core.AsError(err).Message)
}

func TestLoginRateLimitedBeforeAnyLookup(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.limiter.EXPECT().Peek(mock.Anything, "auth:login:ip:10.0.0.3", limit).
		Return(ports.RateDecision{Allowed: false, RetryAfter: 90 * time.Second}, nil).Once()

	_, err := f.svc.Login(ctxFrom("10.0.0.3"), auth.LoginInput{Email: "ada@example.com", Password: "x"})
	require.ErrorIs(t, err, core.ErrRateLimited)
	require.Equal(t, 90*time.Second, core.AsError(err).RetryAfter)
}

func TestLoginFailsClosedWhenLimiterIsDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.limiter.EXPECT().Peek(mock.Anything, mock.Anything, limit).Return(ports.RateDecision{}, errors.New("dial tcp: refused")).Once()

	_, err := f.svc.Login(ctxFrom("10.0.0.4"), auth.LoginInput{Email: "ada@example.com", Password: "x"})
	require.ErrorIs(t, err, core.ErrUnavailable)
	require.NotContains(t, core.AsError(err).Message, "dial tcp", "internals stay in the log")
}

func TestLoginSuccessOpensSessionInFirstWorkspace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hash, err := f.hasher.Hash("the right password!")
	require.NoError(t, err)
	user := core.User{ID: uuid.New(), Email: "ada@example.com", PasswordHash: hash, IsActive: true}
	wsID := uuid.New()
	f.limiter.EXPECT().Peek(mock.Anything, mock.Anything, limit).Return(allowed(), nil).Times(2)
	f.users.EXPECT().GetByEmail(mock.Anything, "ada@example.com").Return(user, nil).Once()
	f.limiter.EXPECT().Reset(mock.Anything, "auth:login:account:ada@example.com").Return(nil).Once()
	f.users.EXPECT().RecordLogin(mock.Anything, user.ID, f.clock.Now()).Return(nil).Once()
	f.workspaces.EXPECT().ListForUser(mock.Anything, user.ID).Return([]core.WorkspaceMembership{
		{Workspace: core.Workspace{ID: wsID}, Role: core.RoleOwner}, {Workspace: core.Workspace{ID: uuid.New()}, Role: core.RoleViewer},
	}, nil).Once()
	f.audit.EXPECT().Append(mock.Anything, mock.MatchedBy(func(e core.AuditEvent) bool { return e.Action == core.AuditLoginSucceeded })).Return(nil).Once()
	var storedHash string
	f.sessions.EXPECT().Create(mock.Anything, mock.MatchedBy(func(s core.Session) bool {
		return s.UserID == user.ID && s.WorkspaceID == wsID && s.ExpiresAt.Equal(f.clock.Now().Add(7*24*time.Hour)) && s.IPAddress == "10.0.0.5"
	}), mock.Anything, 3).RunAndReturn(func(_ context.Context, _ core.Session, h string, _ int) ([]uuid.UUID, error) {
		storedHash = h
		return nil, nil
	}).Once()
	f.tokens.EXPECT().Issue(mock.MatchedBy(func(c ports.AccessClaims) bool { return c.UserID == user.ID && c.WorkspaceID == wsID })).
		RunAndReturn(func(c ports.AccessClaims) (string, ports.AccessClaims, error) {
			c.IssuedAt, c.ExpiresAt = f.clock.Now(), f.clock.Now().Add(15*time.Minute)
			return "access.jwt", c, nil
		}).Once()

	pair, err := f.svc.Login(ctxFrom("10.0.0.5"), auth.LoginInput{Email: "Ada@Example.com", Password: "the right password!"})
	require.NoError(t, err)
	require.Equal(t, "access.jwt", pair.AccessToken)
	require.Equal(t, 15*time.Minute, pair.ExpiresIn)
	require.Len(t, pair.RefreshToken, 43, "256 bits, base64url")
	require.Equal(t, auth.HashRefreshToken(pair.RefreshToken), storedHash, "only the hash is stored")
	require.NotEqual(t, pair.RefreshToken, storedHash)
}

func TestRefreshReuseIsRecordedAndRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sess := core.Session{ID: uuid.New(), UserID: uuid.New(), WorkspaceID: uuid.New()}
	f.sessions.EXPECT().Rotate(mock.Anything, auth.HashRefreshToken("stolen"), mock.Anything, f.clock.Now(), f.clock.Now().Add(7*24*time.Hour)).
		Return(sess, core.ErrReuseDetected).Once()
	f.audit.EXPECT().Append(mock.Anything, mock.MatchedBy(func(e core.AuditEvent) bool {
		return e.Action == core.AuditRefreshReuse && *e.ActorID == sess.UserID && *e.EntityID == sess.ID
	})).Return(nil).Once()

	_, err := f.svc.Refresh(ctxFrom("10.0.0.6"), "stolen")
	require.ErrorIs(t, err, core.ErrReuseDetected)
	require.ErrorIs(t, err, core.ErrUnauthorized)
}

func TestRefreshFallsBackWhenWorkspaceMembershipIsGone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gone, other := uuid.New(), uuid.New()
	sess := core.Session{ID: uuid.New(), UserID: uuid.New(), WorkspaceID: gone}
	f.sessions.EXPECT().Rotate(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(sess, nil).Once()
	f.workspaces.EXPECT().Membership(mock.Anything, gone, sess.UserID).Return(core.WorkspaceMembership{}, core.ErrNotFound).Once()
	f.workspaces.EXPECT().ListForUser(mock.Anything, sess.UserID).Return([]core.WorkspaceMembership{{Workspace: core.Workspace{ID: other}}}, nil).Once()
	f.sessions.EXPECT().SetWorkspace(mock.Anything, sess.ID, other).Return(nil).Once()
	f.tokens.EXPECT().Issue(mock.MatchedBy(func(c ports.AccessClaims) bool { return c.WorkspaceID == other })).Return("a", ports.AccessClaims{}, nil).Once()

	_, err := f.svc.Refresh(ctxFrom("10.0.0.7"), "valid")
	require.NoError(t, err)
}

func TestAuthenticateRefusesEndedSessionsAndForeignTokens(t *testing.T) {
	t.Parallel()
	userID, sessID, wsID := uuid.New(), uuid.New(), uuid.New()
	claims := ports.AccessClaims{UserID: userID, SessionID: sessID, WorkspaceID: wsID}

	t.Run("revoked session", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.tokens.EXPECT().Verify("tok").Return(claims, nil).Once()
		f.sessions.EXPECT().Get(mock.Anything, sessID).Return(core.Session{}, core.ErrNotFound).Once()
		_, err := f.svc.Authenticate(context.Background(), "tok")
		require.ErrorIs(t, err, core.ErrUnauthorized)
	})
	t.Run("session of another user", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.tokens.EXPECT().Verify("tok").Return(claims, nil).Once()
		f.sessions.EXPECT().Get(mock.Anything, sessID).Return(core.Session{ID: sessID, UserID: uuid.New()}, nil).Once()
		_, err := f.svc.Authenticate(context.Background(), "tok")
		require.ErrorIs(t, err, core.ErrUnauthorized)
	})
	t.Run("membership removed", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.tokens.EXPECT().Verify("tok").Return(claims, nil).Once()
		f.sessions.EXPECT().Get(mock.Anything, sessID).Return(core.Session{ID: sessID, UserID: userID, LastUsedAt: f.clock.Now()}, nil).Once()
		f.users.EXPECT().GetWithRole(mock.Anything, userID, wsID).Return(core.User{ID: userID, IsActive: true}, "", nil).Once()
		_, err := f.svc.Authenticate(context.Background(), "tok")
		require.ErrorIs(t, err, core.ErrUnauthorized)
	})
	t.Run("valid, stale session is touched", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.tokens.EXPECT().Verify("tok").Return(claims, nil).Once()
		f.sessions.EXPECT().Get(mock.Anything, sessID).Return(core.Session{ID: sessID, UserID: userID, LastUsedAt: f.clock.Now().Add(-2 * time.Minute)}, nil).Once()
		f.users.EXPECT().GetWithRole(mock.Anything, userID, wsID).Return(core.User{ID: userID, Email: "a@b.co", IsActive: true}, core.RoleAdmin, nil).Once()
		f.sessions.EXPECT().Touch(mock.Anything, sessID, f.clock.Now()).Return(nil).Once()
		id, err := f.svc.Authenticate(context.Background(), "tok")
		require.NoError(t, err)
		require.Equal(t, core.Identity{UserID: userID, SessionID: sessID, WorkspaceID: wsID, Role: core.RoleAdmin, Email: "a@b.co"}, id)
	})
}

func TestChangePasswordWrongCurrentCountsAsFailedLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hash, err := f.hasher.Hash("the right password!")
	require.NoError(t, err)
	id := core.Identity{UserID: uuid.New(), SessionID: uuid.New(), Email: "Ada@example.com"}
	f.limiter.EXPECT().Peek(mock.Anything, "auth:login:account:ada@example.com", limit).Return(allowed(), nil).Once()
	f.users.EXPECT().Get(mock.Anything, id.UserID).Return(core.User{ID: id.UserID, PasswordHash: hash}, nil).Once()
	f.limiter.EXPECT().Hit(mock.Anything, "auth:login:account:ada@example.com", limit).Return(allowed(), nil).Once()

	err = f.svc.ChangePassword(core.WithIdentity(context.Background(), id), auth.ChangePasswordInput{CurrentPassword: "nope", NewPassword: "a brand new passphrase"})
	require.Equal(t, core.EBADREQUEST, core.ErrorCode(err))
	// UpdatePassword and RevokeAllForUser were never called (no expectations).
}

func TestRegisterConflictAndLimit(t *testing.T) {
	t.Parallel()
	t.Run("duplicate email is a conflict and nothing else is written", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.limiter.EXPECT().Hit(mock.Anything, "auth:register:ip:10.0.0.8", limit).Return(allowed(), nil).Once()
		f.users.EXPECT().Create(mock.Anything, mock.Anything).Return(core.ErrConflict).Once()
		_, err := f.svc.Register(ctxFrom("10.0.0.8"), auth.RegisterInput{Email: "ada@example.com", Password: "a long unusual passphrase"})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "email already registered", core.AsError(err).Message)
	})
	t.Run("over the per-IP limit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.limiter.EXPECT().Hit(mock.Anything, "auth:register:ip:10.0.0.9", limit).Return(ports.RateDecision{RetryAfter: time.Minute}, nil).Once()
		_, err := f.svc.Register(ctxFrom("10.0.0.9"), auth.RegisterInput{Email: "ada@example.com", Password: "a long unusual passphrase"})
		require.ErrorIs(t, err, core.ErrRateLimited)
	})
	t.Run("invalid input never reaches the store", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.limiter.EXPECT().Hit(mock.Anything, mock.Anything, limit).Return(allowed(), nil).Times(3)
		for _, in := range []auth.RegisterInput{
			{Email: "not-an-email", Password: "a long unusual passphrase"},
			{Email: "ada@example.com", Password: "short"},
			{Email: "ada@example.com", Password: "a long unusual passphrase", Username: "<script>"},
		} {
			_, err := f.svc.Register(ctxFrom("10.0.0.10"), in)
			require.ErrorIs(t, err, core.ErrInvalid)
			require.NotEmpty(t, core.AsError(err).Fields)
		}
	})
}
