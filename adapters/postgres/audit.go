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
// UnitOfWork, so an event is kept exactly when the change it records is. The
// app role may only INSERT and SELECT there: the trail is append-only.
type AuditLog struct {
	db querier
}

var _ ports.AuditLog = (*AuditLog)(nil)

// Append records e, giving it an id when it has none and the transaction's
// time when CreatedAt is zero. Changes is stored as a JSON object ({} when
// nil); a value that cannot be encoded as JSON is an error. e.WorkspaceID
// must be nil (an account-level event) or the current workspace;
// core.ErrNotFound otherwise.
func (a *AuditLog) Append(ctx context.Context, e core.AuditEvent) error {
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	changes := e.Changes
	if changes == nil {
		changes = map[string]any{}
	}
	op := fmt.Sprintf("append audit event %s", e.Action)
	if e.WorkspaceID != nil && e.WorkspaceID.String() != a.db.ScopeWorkspace() {
		return translate(pgx.ErrNoRows, op, "workspace not found")
	}
	// Sent with the transaction's next statement or its COMMIT: nothing
	// reads it back (the app role cannot even read an account-level
	// event: no tenant's SELECT policy shows it). The insert policy checks
	// the workspace again.
	a.db.ExecLater(op, `
		INSERT INTO audit_events (id, workspace_id, actor_id, action, entity_type, entity_id,
			ip_address, request_id, changes, created_at)
		VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text, $5::text, $6::uuid,
			$7::text, $8::text, $9::jsonb, COALESCE($10::timestamptz, now()))`,
		e.ID, e.WorkspaceID, e.ActorID, e.Action, nullIfEmpty(e.EntityType), e.EntityID,
		nullIfEmpty(e.IPAddress), nullIfEmpty(e.RequestID), changes, nullIfZero(e.CreatedAt),
	)
	return nil
}

// auditColumns are read by scanAuditEvent.
const auditColumns = `id, workspace_id, actor_id, action, COALESCE(entity_type, ''), entity_id,
	COALESCE(ip_address, ''), COALESCE(request_id, ''), changes, created_at`

func scanAuditEvent(row pgx.Row) (core.AuditEvent, error) {
	var e core.AuditEvent
	if err := row.Scan(&e.ID, &e.WorkspaceID, &e.ActorID, &e.Action, &e.EntityType, &e.EntityID,
		&e.IPAddress, &e.RequestID, &e.Changes, &e.CreatedAt); err != nil {
		return core.AuditEvent{}, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return e, nil
}

// List returns the current workspace's events newest first (CreatedAt, then
// ID, descending): at most filter.Limit of them (every one when Limit <= 0),
// only those strictly older than filter.Before when it is set, and only
// filter.Action when set. An empty slice when the scope has no workspace.
// The audit_events_workspace_created_id_idx index serves the filter, the
// order and the cursor in one range scan.
func (a *AuditLog) List(ctx context.Context, filter ports.AuditFilter) ([]core.AuditEvent, error) {
	q := newKeysetList(`SELECT ` + auditColumns + ` FROM audit_events WHERE workspace_id = ` + scopeWorkspace)
	if filter.Action != "" {
		q.and(`action = ` + q.arg(filter.Action))
	}
	if filter.Before != nil {
		q.after(filter.Before.CreatedAt, filter.Before.ID)
	}
	return collectPage(ctx, a.db, q, filter.Limit, "list audit events", func(row pgx.CollectableRow) (core.AuditEvent, error) {
		return scanAuditEvent(row)
	})
}
