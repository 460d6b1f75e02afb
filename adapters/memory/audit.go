package memory

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// AuditLog appends to the audit trail inside one transaction of UnitOfWork.
type AuditLog struct {
	tx *tx
}

var _ ports.AuditLog = (*AuditLog)(nil)

// auditRecord is a stored event; its changes are kept as JSON, like the jsonb
// column, so that reading them back yields what PostgreSQL would (numbers as
// float64) and a fresh map every time.
type auditRecord struct {
	e       core.AuditEvent // Changes is nil
	changes []byte
}

// event returns a copy of the stored event.
func (r auditRecord) event() core.AuditEvent {
	e := r.e
	e.WorkspaceID, e.ActorID, e.EntityID = uuidPtr(e.WorkspaceID), uuidPtr(e.ActorID), uuidPtr(e.EntityID)
	// The bytes were produced by json.Marshal of a map, so they decode.
	_ = json.Unmarshal(r.changes, &e.Changes)
	return e
}

// Append records e, giving it an id when it has none and the transaction's
// time when CreatedAt is zero. Changes is stored as a JSON object ({} when
// nil); a value that cannot be encoded as JSON is an error.
func (a *AuditLog) Append(ctx context.Context, e core.AuditEvent) error {
	op := fmt.Sprintf("append audit event %s", e.Action)
	if err := a.tx.usable(ctx, op); err != nil {
		return err
	}
	if e.Action == "" {
		return fmt.Errorf("%s: action is empty", op)
	}
	changes := e.Changes
	if changes == nil {
		changes = map[string]any{}
	}
	raw, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("%s: encode changes: %w", op, err)
	}
	if e.ID == uuid.Nil {
		e.ID = uuid.New()
	}
	e.CreatedAt = dbTimeOr(e.CreatedAt, a.tx.now)
	e.Changes = nil
	e.WorkspaceID, e.ActorID, e.EntityID = uuidPtr(e.WorkspaceID), uuidPtr(e.ActorID), uuidPtr(e.EntityID)

	st := a.tx.uow
	n := len(st.audit)
	st.audit = append(st.audit, auditRecord{e: e, changes: raw})
	// Transactions are serialized, so nothing was appended after ours.
	a.tx.onRollback(func() { st.audit = st.audit[:n] })
	return nil
}
