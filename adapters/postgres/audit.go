package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// AuditLog appends to the audit_events table inside one transaction of
// UnitOfWork, so an event is kept exactly when the change it records is.
type AuditLog struct {
	db pgx.Tx
}

var _ ports.AuditLog = (*AuditLog)(nil)

// Append records e, giving it an id when it has none and the transaction's
// time when CreatedAt is zero. Changes is stored as a JSON object ({} when
// nil); a value that cannot be encoded as JSON is an error.
func (a *AuditLog) Append(ctx context.Context, e core.AuditEvent) error {
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	changes := e.Changes
	if changes == nil {
		changes = map[string]any{}
	}
	_, err := a.db.Exec(ctx, `
		INSERT INTO audit_events (id, workspace_id, actor_id, action, entity_type, entity_id,
			ip_address, request_id, changes, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, COALESCE($10, now()))`,
		e.ID, e.WorkspaceID, e.ActorID, e.Action, nullIfEmpty(e.EntityType), e.EntityID,
		nullIfEmpty(e.IPAddress), nullIfEmpty(e.RequestID), changes, nullIfZero(e.CreatedAt),
	)
	return translate(err, fmt.Sprintf("append audit event %s", e.Action), "audit event not found")
}
