package memory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// UserStore keeps accounts inside one transaction of UnitOfWork.
type UserStore struct {
	tx *tx
}

var _ ports.UserStore = (*UserStore)(nil)

// emailKey is the comparison form of an email, as lower(email) in the
// PostgreSQL index.
func emailKey(email string) string { return strings.ToLower(email) }

// copyUser returns u with its own pointers.
func copyUser(u core.User) core.User {
	u.LastLoginAt = dbTimePtr(u.LastLoginAt)
	u.DeletedAt = dbTimePtr(u.DeletedAt)
	return u
}

// Create inserts a copy of u with the transaction's time as
// CreatedAt/UpdatedAt when they are zero; u receives the stored times.
// u.ID must be the scope's user (the caller picks the id and scopes the
// transaction to it), else core.ErrNotFound, checked before anything else as
// PostgreSQL checks a policy before a unique index. core.ErrConflict ("email
// already registered") when a live user has the same email in any case.
func (s *UserStore) Create(ctx context.Context, u *core.User) error {
	const op = "create user"
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	if !s.tx.scope.isUser(u.ID) {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	if u.Email == "" {
		return fmt.Errorf("%s: email is empty", op)
	}
	st := s.tx.uow
	if _, ok := st.users[u.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	key := emailKey(u.Email)
	live := u.DeletedAt == nil
	if _, taken := st.emails[key]; taken && live {
		return coded(op, core.ECONFLICT, "email already registered")
	}
	stored := copyUser(*u)
	stored.CreatedAt = dbTimeOr(u.CreatedAt, s.tx.now)
	stored.UpdatedAt = dbTimeOr(u.UpdatedAt, s.tx.now)
	u.CreatedAt, u.UpdatedAt = stored.CreatedAt, stored.UpdatedAt

	st.users[stored.ID] = stored
	if live {
		st.emails[key] = stored.ID
	}
	s.tx.onRollback(func() {
		delete(st.users, stored.ID)
		if live {
			delete(st.emails, key)
		}
	})
	return nil
}

// live returns the live user id.
func (s *UserStore) live(id uuid.UUID) (core.User, bool) {
	u, ok := s.tx.uow.users[id]
	if !ok || u.DeletedAt != nil {
		return core.User{}, false
	}
	return u, true
}

// Get returns the live user id, in any scope (accounts are readable by
// everyone, as the users policy allows); core.ErrNotFound otherwise.
func (s *UserStore) Get(ctx context.Context, id uuid.UUID) (core.User, error) {
	op := fmt.Sprintf("get user %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.User{}, err
	}
	u, ok := s.live(id)
	if !ok {
		return core.User{}, coded(op, core.ENOTFOUND, "user not found")
	}
	return copyUser(u), nil
}

// GetWithRole returns the live user id with their role in the live
// workspace workspaceID ("" when not a member or the scope may not see it).
func (s *UserStore) GetWithRole(ctx context.Context, id, workspaceID uuid.UUID) (core.User, core.Role, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return core.User{}, "", err
	}
	if workspaceID == uuid.Nil {
		return u, "", nil
	}
	wm, _, ok := (&WorkspaceStore{tx: s.tx}).membership(workspaceID, id)
	if !ok {
		return u, "", nil
	}
	return u, wm.Role, nil
}

// GetByEmail returns the live user whose email equals email in any case, in
// any scope; core.ErrNotFound otherwise.
func (s *UserStore) GetByEmail(ctx context.Context, email string) (core.User, error) {
	const op = "get user by email"
	if err := s.tx.usable(ctx, op); err != nil {
		return core.User{}, err
	}
	id, ok := s.tx.uow.emails[emailKey(email)]
	if !ok {
		return core.User{}, coded(op, core.ENOTFOUND, "user not found")
	}
	return copyUser(s.tx.uow.users[id]), nil
}

// update applies change to the live user id, recording how to undo it.
func (s *UserStore) update(ctx context.Context, op string, id uuid.UUID, change func(*core.User)) error {
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.live(id)
	if !ok || !s.tx.scope.isUser(id) {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	next := copyUser(prev)
	change(&next)
	st := s.tx.uow
	st.users[id] = next
	s.tx.onRollback(func() { st.users[id] = prev })
	return nil
}

// RecordLogin sets LastLoginAt of the live user id, who must be the scope's
// user; core.ErrNotFound otherwise. UpdatedAt is kept.
func (s *UserStore) RecordLogin(ctx context.Context, id uuid.UUID, at time.Time) error {
	return s.update(ctx, fmt.Sprintf("record login of user %s", id), id, func(u *core.User) {
		u.LastLoginAt = dbTimePtr(&at)
	})
}

// UpdatePassword replaces the password hash of the live user id, who must be
// the scope's user, and sets UpdatedAt to at; core.ErrNotFound otherwise.
func (s *UserStore) UpdatePassword(ctx context.Context, id uuid.UUID, passwordHash string, at time.Time) error {
	return s.update(ctx, fmt.Sprintf("update password of user %s", id), id, func(u *core.User) {
		u.PasswordHash = passwordHash
		u.UpdatedAt = dbTime(at)
	})
}
