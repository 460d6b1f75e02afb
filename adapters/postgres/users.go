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

// UserStore keeps accounts in the users table, inside one transaction of
// UnitOfWork. Identities are global (login by email, member lists), so any
// scope reads any user; only the scope's user writes their own row.
type UserStore struct {
	db querier
}

var _ ports.UserStore = (*UserStore)(nil)

const userColumns = `id, email, COALESCE(username, ''), password_hash, is_active, is_verified,
	created_at, updated_at, last_login_at, deleted_at`

func scanUser(row pgx.Row) (core.User, error) {
	var u core.User
	if err := row.Scan(&u.ID, &u.Email, &u.Username, &u.PasswordHash, &u.IsActive, &u.IsVerified,
		&u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt, &u.DeletedAt); err != nil {
		return core.User{}, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.LastLoginAt, u.DeletedAt = utcPtr(u.LastLoginAt), utcPtr(u.DeletedAt)
	return u, nil
}

// Create inserts u, giving it an id when it has none and the transaction's
// time as CreatedAt/UpdatedAt when they are zero; u receives the stored
// values. A user creates only their own row: u.ID must be the scope's user
// (core.ErrNotFound otherwise, here and by the users_insert policy).
// core.ErrConflict ("email already registered") when a live user has the
// same email in any case.
func (s *UserStore) Create(ctx context.Context, u *core.User) error {
	if u.ID == uuid.Nil {
		u.ID = uuid.New()
	}
	err := s.db.QueryRow(ctx, `
		INSERT INTO users (id, email, username, password_hash, is_active, is_verified,
			created_at, updated_at, last_login_at, deleted_at)
		SELECT $1::uuid, $2::text, $3::text, $4::text, $5::boolean, $6::boolean,
			COALESCE($7::timestamptz, now()), COALESCE($8::timestamptz, now()), $9::timestamptz, $10::timestamptz
		WHERE $1::uuid = `+scopeUser+`
		RETURNING created_at, updated_at`,
		u.ID, u.Email, nullIfEmpty(u.Username), u.PasswordHash, u.IsActive, u.IsVerified,
		nullIfZero(u.CreatedAt), nullIfZero(u.UpdatedAt), u.LastLoginAt, u.DeletedAt,
	).Scan(&u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return translate(err, "create user", "user not found")
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return nil
}

// Get returns the live user id; core.ErrNotFound otherwise.
func (s *UserStore) Get(ctx context.Context, id uuid.UUID) (core.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1 AND deleted_at IS NULL`, id))
	if err != nil {
		return core.User{}, translate(err, fmt.Sprintf("get user %s", id), "user not found")
	}
	return u, nil
}

// GetWithRole returns the live user id with their role in the live
// workspace workspaceID ("" when not a member), in one statement.
func (s *UserStore) GetWithRole(ctx context.Context, id, workspaceID uuid.UUID) (core.User, core.Role, error) {
	var (
		u    core.User
		role string
	)
	err := s.db.QueryRow(ctx, `
		SELECT `+userColumns+`, COALESCE((
			SELECT m.role::text FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
			WHERE m.workspace_id = $2 AND m.user_id = users.id AND w.deleted_at IS NULL
				AND (m.workspace_id = `+scopeWorkspace+` OR m.user_id = `+scopeUser+`)), '')
		FROM users WHERE id = $1 AND deleted_at IS NULL`, id, workspaceID).Scan(
		&u.ID, &u.Email, &u.Username, &u.PasswordHash, &u.IsActive, &u.IsVerified,
		&u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt, &u.DeletedAt, &role)
	if err != nil {
		return core.User{}, "", translate(err, fmt.Sprintf("get user %s", id), "user not found")
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	u.LastLoginAt, u.DeletedAt = utcPtr(u.LastLoginAt), utcPtr(u.DeletedAt)
	return u, core.Role(role), nil
}

// GetByEmail returns the live user whose email equals email in any case;
// core.ErrNotFound otherwise. It uses the users_email_key index.
func (s *UserStore) GetByEmail(ctx context.Context, email string) (core.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL`, email))
	if err != nil {
		return core.User{}, translate(err, "get user by email", "user not found")
	}
	return u, nil
}

// RecordLogin sets LastLoginAt of the live user id, who must be the scope's
// user; core.ErrNotFound otherwise. A login is not an edit of the account:
// UpdatedAt is kept.
func (s *UserStore) RecordLogin(ctx context.Context, id uuid.UUID, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE users SET last_login_at = $2
		WHERE id = $1 AND id = `+scopeUser+` AND deleted_at IS NULL
		RETURNING id`,
		id, at).Scan(&got)
	return translate(err, fmt.Sprintf("record login of user %s", id), "user not found")
}

// UpdatePassword replaces the password hash of the live user id, who must be
// the scope's user, and sets UpdatedAt to at; core.ErrNotFound otherwise.
func (s *UserStore) UpdatePassword(ctx context.Context, id uuid.UUID, passwordHash string, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE users SET password_hash = $2, updated_at = $3
		WHERE id = $1 AND id = `+scopeUser+` AND deleted_at IS NULL
		RETURNING id`,
		id, passwordHash, at).Scan(&got)
	return translate(err, fmt.Sprintf("update password of user %s", id), "user not found")
}
