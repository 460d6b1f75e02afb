package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// InvitationStore keeps invitations to the current workspace in the
// invitations table, inside one transaction of UnitOfWork. Only the hash of
// a token is stored.
type InvitationStore struct {
	db querier
}

var _ ports.InvitationStore = (*InvitationStore)(nil)

const invitationColumns = `id, workspace_id, email, role, token_hash, invited_by,
	created_at, expires_at, accepted_at, accepted_by, revoked_at`

func scanInvitation(row pgx.Row) (core.Invitation, error) {
	var inv core.Invitation
	var role string
	if err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &role, &inv.TokenHash, &inv.InvitedBy,
		&inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt, &inv.AcceptedBy, &inv.RevokedAt); err != nil {
		return core.Invitation{}, err
	}
	inv.Role = core.Role(role)
	inv.CreatedAt, inv.ExpiresAt = inv.CreatedAt.UTC(), inv.ExpiresAt.UTC()
	inv.AcceptedAt, inv.RevokedAt = utcPtr(inv.AcceptedAt), utcPtr(inv.RevokedAt)
	return inv, nil
}

// Create inserts inv, giving it an id when it has none and the
// transaction's time as CreatedAt when it is zero; inv receives the stored
// values. core.ErrNotFound when inv.WorkspaceID is not the current
// workspace, or it is soft-deleted, or InvitedBy is not a user;
// core.ErrConflict when another invitation has the token hash. An unknown
// role fails the role CHECK constraint.
func (s *InvitationStore) Create(ctx context.Context, inv *core.Invitation) error {
	if inv.ID == uuid.Nil {
		inv.ID = uuid.New()
	}
	err := s.db.QueryRow(ctx, `
		INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by,
			created_at, expires_at, accepted_at, accepted_by, revoked_at)
		SELECT $1::uuid, w.id, $3::text, $4::text, $5::text, $6::uuid,
			COALESCE($7::timestamptz, now()), $8::timestamptz, $9::timestamptz, $10::uuid, $11::timestamptz
		FROM workspaces w
		WHERE w.id = $2 AND w.id = `+scopeWorkspace+` AND w.deleted_at IS NULL
		RETURNING created_at`,
		inv.ID, inv.WorkspaceID, inv.Email, string(inv.Role), inv.TokenHash, inv.InvitedBy,
		nullIfZero(inv.CreatedAt), inv.ExpiresAt, inv.AcceptedAt, inv.AcceptedBy, inv.RevokedAt,
	).Scan(&inv.CreatedAt)
	if err != nil {
		return translate(err, fmt.Sprintf("create invitation to workspace %s", inv.WorkspaceID), "workspace not found")
	}
	inv.CreatedAt = inv.CreatedAt.UTC()
	return nil
}

// ListPending returns the current workspace's invitations neither accepted
// nor revoked and expiring after now, newest first (ties broken by id,
// descending); an empty slice when there are none or the scope has no
// workspace.
func (s *InvitationStore) ListPending(ctx context.Context, now time.Time) ([]core.Invitation, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+invitationColumns+` FROM invitations
		WHERE workspace_id = `+scopeWorkspace+`
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1
		ORDER BY created_at DESC, id DESC`, now)
	if err != nil {
		return nil, translate(err, "list pending invitations", "workspace not found")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.Invitation, error) {
		return scanInvitation(row)
	})
	if err != nil {
		return nil, translate(err, "list pending invitations", "workspace not found")
	}
	if out == nil {
		out = []core.Invitation{}
	}
	return out, nil
}

// Revoke sets RevokedAt of the invitation id of the current workspace when
// it is pending at at; core.ErrNotFound ("invitation not found") when it is
// unknown, of another workspace, or no longer pending.
func (s *InvitationStore) Revoke(ctx context.Context, id uuid.UUID, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE invitations SET revoked_at = $2
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+`
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2
		RETURNING id`,
		id, at).Scan(&got)
	return translate(err, fmt.Sprintf("revoke invitation %s", id), "invitation not found")
}

// FindByTokenHash returns the invitation of any workspace whose token hash
// is tokenHash, in whatever state; core.ErrNotFound ("invitation not found")
// when none has it.
//
// The token is the capability: the invitations_select_by_token policy shows
// the one invitation whose hash the transaction has put in
// app.invitation_token_hash. The setting is made for this lookup only and
// cleared right after it; the three statements are pipelined in one round
// trip.
func (s *InvitationStore) FindByTokenHash(ctx context.Context, tokenHash string) (core.Invitation, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('app.invitation_token_hash', $1, true)`, tokenHash)
	b.Queue(`SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, tokenHash)
	b.Queue(`SELECT set_config('app.invitation_token_hash', '', true)`)
	br := s.db.SendBatch(ctx, b)
	var inv core.Invitation
	_, err := br.Exec()
	if err == nil {
		inv, err = scanInvitation(br.QueryRow())
	}
	// Close reads what is left, the clearing statement included; its
	// failure matters more than "no row".
	if cerr := br.Close(); cerr != nil && (err == nil || errors.Is(err, pgx.ErrNoRows)) {
		err = cerr
	}
	if err != nil {
		return core.Invitation{}, translate(err, "find invitation by token", "invitation not found")
	}
	return inv, nil
}

// MarkAccepted sets AcceptedAt and AcceptedBy of the invitation id of the
// current workspace when it is pending at at; core.ErrNotFound ("invitation
// not found") when it is unknown, of another workspace, or no longer pending
// (of concurrent acceptances, the first to commit wins and the others, which
// waited on its row lock and re-checked the row, find it accepted), or
// userID is not a user.
func (s *InvitationStore) MarkAccepted(ctx context.Context, id, userID uuid.UUID, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE invitations SET accepted_at = $3, accepted_by = $2
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+`
			AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3
		RETURNING id`,
		id, userID, at).Scan(&got)
	return translate(err, fmt.Sprintf("accept invitation %s", id), "invitation not found")
}
