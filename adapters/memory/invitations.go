package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// InvitationStore keeps invitations inside one transaction of UnitOfWork.
// Invitations are readable and writable only in the scope's workspace, except
// through FindByTokenHash, whose token is the capability. They are never
// deleted: accepting or revoking one only records when and by whom.
type InvitationStore struct {
	tx *tx
}

var _ ports.InvitationStore = (*InvitationStore)(nil)

// copyInvitation returns inv with its own pointers and its times as stored.
func copyInvitation(inv core.Invitation) core.Invitation {
	inv.CreatedAt = dbTime(inv.CreatedAt)
	inv.ExpiresAt = dbTime(inv.ExpiresAt)
	inv.AcceptedAt = dbTimePtr(inv.AcceptedAt)
	inv.AcceptedBy = uuidPtr(inv.AcceptedBy)
	inv.RevokedAt = dbTimePtr(inv.RevokedAt)
	return inv
}

// Create inserts a copy of inv, giving it an id when it has none and the
// transaction's time as CreatedAt when it is zero; inv receives both.
// core.ErrNotFound when inv.WorkspaceID is not the scope's workspace, the
// workspace is soft-deleted, or InvitedBy is not a user (a foreign key);
// core.ErrConflict when the id or the token hash is already used. The checks
// come in PostgreSQL's order: scope, constraints, unique keys, foreign keys.
func (s *InvitationStore) Create(ctx context.Context, inv *core.Invitation) error {
	op := fmt.Sprintf("create invitation to workspace %s", inv.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	if w, ok := st.workspaces[inv.WorkspaceID]; !ok || w.DeletedAt != nil || !s.tx.scope.isWorkspace(inv.WorkspaceID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	switch {
	case inv.Email == "":
		return fmt.Errorf("%s: email is empty", op)
	case inv.TokenHash == "":
		return fmt.Errorf("%s: token hash is empty", op)
	case !validRoles[inv.Role]:
		return fmt.Errorf("%s: unknown role %q", op, inv.Role)
	}
	if inv.ID == uuid.Nil {
		inv.ID = uuid.New()
	}
	if _, ok := st.invitations[inv.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	if _, ok := st.tokens[inv.TokenHash]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	if _, ok := st.users[inv.InvitedBy]; !ok {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	inv.CreatedAt = dbTimeOr(inv.CreatedAt, s.tx.now)
	stored := copyInvitation(*inv)

	st.invitations[stored.ID] = stored
	st.tokens[stored.TokenHash] = stored.ID
	n := len(st.invitesOf[stored.WorkspaceID])
	st.invitesOf[stored.WorkspaceID] = append(st.invitesOf[stored.WorkspaceID], stored.ID)
	// Transactions are serialized, so nothing was appended after ours.
	s.tx.onRollback(func() {
		delete(st.invitations, stored.ID)
		delete(st.tokens, stored.TokenHash)
		if n == 0 {
			delete(st.invitesOf, stored.WorkspaceID)
		} else {
			st.invitesOf[stored.WorkspaceID] = st.invitesOf[stored.WorkspaceID][:n]
		}
	})
	return nil
}

// ListPending returns the scope workspace's invitations pending at now,
// newest first (CreatedAt, then ID, descending); an empty slice when there
// are none or the scope has no workspace.
func (s *InvitationStore) ListPending(ctx context.Context, now time.Time) ([]core.Invitation, error) {
	if err := s.tx.usable(ctx, "list pending invitations"); err != nil {
		return nil, err
	}
	st := s.tx.uow
	out := []core.Invitation{}
	if s.tx.scope.workspaceID == uuid.Nil {
		return out, nil
	}
	for _, id := range st.invitesOf[s.tx.scope.workspaceID] {
		if inv := st.invitations[id]; inv.Pending(now) {
			out = append(out, copyInvitation(inv))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return bytes.Compare(out[i].ID[:], out[j].ID[:]) > 0
	})
	return out, nil
}

// FindByTokenHash returns the invitation of any workspace whose token hash
// is tokenHash, in whatever state; core.ErrNotFound when none has it.
func (s *InvitationStore) FindByTokenHash(ctx context.Context, tokenHash string) (core.Invitation, error) {
	const op = "find invitation by token"
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Invitation{}, err
	}
	id, ok := s.tx.uow.tokens[tokenHash]
	if !ok {
		return core.Invitation{}, coded(op, core.ENOTFOUND, "invitation not found")
	}
	return copyInvitation(s.tx.uow.invitations[id]), nil
}

// Revoke sets RevokedAt of an invitation of the scope's workspace pending at
// at; core.ErrNotFound ("invitation not found") otherwise.
func (s *InvitationStore) Revoke(ctx context.Context, id uuid.UUID, at time.Time) error {
	return s.end(ctx, fmt.Sprintf("revoke invitation %s", id), id, at, func(inv *core.Invitation) {
		inv.RevokedAt = dbTimePtr(&at)
	})
}

// MarkAccepted sets AcceptedAt and AcceptedBy of an invitation of the scope's
// workspace pending at at; core.ErrNotFound ("invitation not found")
// otherwise, and also when userID is not a user (a foreign key).
func (s *InvitationStore) MarkAccepted(ctx context.Context, id, userID uuid.UUID, at time.Time) error {
	op := fmt.Sprintf("accept invitation %s", id)
	return s.end(ctx, op, id, at, func(inv *core.Invitation) {
		inv.AcceptedAt = dbTimePtr(&at)
		inv.AcceptedBy = uuidPtr(&userID)
	}, userID)
}

// end applies change to the invitation id of the scope's workspace when it is
// pending at at, and records the undo. The users in mustExist are foreign
// keys of the change.
func (s *InvitationStore) end(ctx context.Context, op string, id uuid.UUID, at time.Time, change func(*core.Invitation), mustExist ...uuid.UUID) error {
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	prev, ok := st.invitations[id]
	if !ok || !s.tx.scope.isWorkspace(prev.WorkspaceID) || !prev.Pending(at) {
		return coded(op, core.ENOTFOUND, "invitation not found")
	}
	for _, userID := range mustExist {
		if _, ok := st.users[userID]; !ok {
			return coded(op, core.ENOTFOUND, "user not found")
		}
	}
	next := copyInvitation(prev)
	change(&next)
	st.invitations[id] = next
	s.tx.onRollback(func() { st.invitations[id] = prev })
	return nil
}
