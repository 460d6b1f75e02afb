package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// AuditLog appends to and reads the audit trail inside one transaction of
// UnitOfWork. Events are readable only in the scope's workspace; they can be
// appended with no workspace (account-level events) or the scope's.
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
// nil); a value that cannot be encoded as JSON is an error. e.WorkspaceID
// must be nil or the scope's workspace, else core.ErrNotFound; the other
// references are not checked, as the trail outlives what it names.
func (a *AuditLog) Append(ctx context.Context, e core.AuditEvent) error {
	op := fmt.Sprintf("append audit event %s", e.Action)
	if err := a.tx.usable(ctx, op); err != nil {
		return err
	}
	if e.WorkspaceID != nil && !a.tx.scope.isWorkspace(*e.WorkspaceID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
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
	var workspaceID uuid.UUID
	if e.WorkspaceID != nil {
		workspaceID = *e.WorkspaceID
		st.auditOf[workspaceID] = append(st.auditOf[workspaceID], n)
	}
	// Transactions are serialized, so nothing was appended after ours.
	a.tx.onRollback(func() {
		st.audit = st.audit[:n]
		if workspaceID != uuid.Nil {
			if of := st.auditOf[workspaceID]; len(of) == 1 {
				delete(st.auditOf, workspaceID)
			} else {
				st.auditOf[workspaceID] = of[:len(of)-1]
			}
		}
	})
	return nil
}

// List returns the scope workspace's events newest first (CreatedAt, then ID
// as bytes, descending, like PostgreSQL's uuid order): only those with
// filter.Action when it is set, only those strictly after filter.Before in
// that order when it is set, and at most filter.Limit of them when it is
// positive (Limit <= 0: no limit). An empty slice when there are none or the
// scope has no workspace.
func (a *AuditLog) List(ctx context.Context, filter ports.AuditFilter) ([]core.AuditEvent, error) {
	if err := a.tx.usable(ctx, "list audit events"); err != nil {
		return nil, err
	}
	st := a.tx.uow
	out := []core.AuditEvent{}
	if a.tx.scope.workspaceID == uuid.Nil {
		return out, nil
	}
	records := make([]auditRecord, 0, len(st.auditOf[a.tx.scope.workspaceID]))
	for _, i := range st.auditOf[a.tx.scope.workspaceID] {
		r := st.audit[i]
		if filter.Action != "" && r.e.Action != filter.Action {
			continue
		}
		if b := filter.Before; b != nil && !newerFirst(dbTime(b.CreatedAt), b.ID, r.e.CreatedAt, r.e.ID) {
			continue
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		return newerFirst(records[i].e.CreatedAt, records[i].e.ID, records[j].e.CreatedAt, records[j].e.ID)
	})
	if filter.Limit > 0 && len(records) > filter.Limit {
		records = records[:filter.Limit]
	}
	for _, r := range records {
		out = append(out, r.event())
	}
	return out, nil
}

// newerFirst reports whether the event at (at, id) comes before the one at
// (otherAt, otherID) in the newest-first order.
func newerFirst(at time.Time, id uuid.UUID, otherAt time.Time, otherID uuid.UUID) bool {
	if !at.Equal(otherAt) {
		return at.After(otherAt)
	}
	return bytes.Compare(id[:], otherID[:]) > 0
}
