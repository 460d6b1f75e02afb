package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TransformationStore keeps transformation jobs inside one transaction of
// UnitOfWork. Transformations are readable and writable only in the scope's
// workspace, live ones only; they are never removed. Status changes check
// the status they change from, as the PostgreSQL adapter's conditional
// updates do (transactions are serialized here, so that is enough).
type TransformationStore struct {
	tx *tx
}

var _ ports.TransformationStore = (*TransformationStore)(nil)

// transformationRecord is a stored transformation, its parameters kept as
// JSON like the jsonb column.
type transformationRecord struct {
	t          core.Transformation // Parameters is nil
	parameters []byte
}

// transformation returns a copy of the stored transformation.
func (r transformationRecord) transformation() core.Transformation {
	t := r.t
	t.PresetID = uuidPtr(t.PresetID)
	t.StartedAt, t.CompletedAt = dbTimePtr(t.StartedAt), dbTimePtr(t.CompletedAt)
	t.HeartbeatAt, t.DeletedAt = dbTimePtr(t.HeartbeatAt), dbTimePtr(t.DeletedAt)
	t.Parts = append([]core.OutputPart{}, t.Parts...)
	_ = json.Unmarshal(r.parameters, &t.Parameters)
	return t
}

// newTransformationRecord validates t as the table's types and constraints
// would and returns its record, with t's values as stored.
func newTransformationRecord(op string, t core.Transformation) (transformationRecord, error) {
	switch {
	case t.Progress < 0 || t.Progress > 100:
		return transformationRecord{}, fmt.Errorf("%s: progress %d out of range", op, t.Progress)
	case t.InputTokens < 0 || t.OutputTokens < 0 || t.Attempts < 0 || t.ProcessingTimeMS < 0 || t.AICost < 0:
		return transformationRecord{}, fmt.Errorf("%s: negative count", op)
	case t.InputTokens > math.MaxInt32 || t.OutputTokens > math.MaxInt32 || t.Attempts > math.MaxInt32:
		return transformationRecord{}, fmt.Errorf("%s: count out of range", op)
	case t.AICost >= 1e6:
		return transformationRecord{}, fmt.Errorf("%s: cost out of range", op)
	}
	params := t.Parameters
	if params == nil {
		params = map[string]any{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return transformationRecord{}, fmt.Errorf("%s: encode parameters: %w", op, err)
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return transformationRecord{}, fmt.Errorf("%s: parameters contain a NUL character", op)
	}
	t.Parameters = nil
	t.Parts = append([]core.OutputPart{}, t.Parts...)
	// numeric(12,6)
	t.AICost = math.Round(t.AICost*1e6) / 1e6
	t.PresetID = uuidPtr(t.PresetID)
	t.CreatedAt, t.UpdatedAt = dbTime(t.CreatedAt), dbTime(t.UpdatedAt)
	t.StartedAt, t.CompletedAt = dbTimePtr(t.StartedAt), dbTimePtr(t.CompletedAt)
	t.HeartbeatAt, t.DeletedAt = dbTimePtr(t.HeartbeatAt), dbTimePtr(t.DeletedAt)
	return transformationRecord{t: t, parameters: raw}, nil
}

// Create inserts a copy of t into the scope's workspace as PENDING, giving it
// an id when it has none and the transaction's time as CreatedAt/UpdatedAt
// when they are zero; t receives the stored values. core.ErrNotFound when
// t.WorkspaceID is not the scope's live workspace ("workspace not found"),
// the document is not a live document of it ("document not found"), the
// preset is not one of its presets ("preset not found") or CreatedBy is not
// a user; core.ErrConflict when the id is taken.
func (s *TransformationStore) Create(ctx context.Context, t *core.Transformation) error {
	op := fmt.Sprintf("create transformation in workspace %s", t.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	if w, ok := st.workspaces[t.WorkspaceID]; !ok || w.DeletedAt != nil || !s.tx.scope.isWorkspace(t.WorkspaceID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if d, ok := st.documents[t.DocumentID]; !ok || d.d.WorkspaceID != t.WorkspaceID || d.d.DeletedAt != nil {
		return coded(op, core.ENOTFOUND, "document not found")
	}
	if t.PresetID != nil {
		if p, ok := st.presets[*t.PresetID]; !ok || p.p.WorkspaceID != t.WorkspaceID {
			return coded(op, core.ENOTFOUND, "preset not found")
		}
	}
	if t.ID == uuid.Nil {
		t.ID = uuid.New()
	}
	t.Status = core.StatusPending
	if t.Parameters == nil {
		t.Parameters = map[string]any{}
	}
	if t.Parts == nil {
		t.Parts = []core.OutputPart{}
	}
	t.CreatedAt = dbTimeOr(t.CreatedAt, s.tx.now)
	t.UpdatedAt = dbTimeOr(t.UpdatedAt, s.tx.now)
	r, err := newTransformationRecord(op, *t)
	if err != nil {
		return err
	}
	// Only these columns are inserted.
	r.t.StartedAt, r.t.CompletedAt, r.t.HeartbeatAt, r.t.DeletedAt = nil, nil, nil, nil
	if _, ok := st.transformations[t.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	if _, ok := st.users[t.CreatedBy]; !ok {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	st.transformations[t.ID] = r
	addToSet(st.transformationsOf, t.WorkspaceID, t.ID)
	id, workspaceID := t.ID, t.WorkspaceID
	s.tx.onRollback(func() {
		delete(st.transformations, id)
		removeFromSet(st.transformationsOf, workspaceID, id)
	})
	return nil
}

// find returns the live transformation id of the scope's workspace.
func (s *TransformationStore) find(id uuid.UUID) (transformationRecord, bool) {
	r, ok := s.tx.uow.transformations[id]
	if !ok || !s.tx.scope.isWorkspace(r.t.WorkspaceID) || r.t.DeletedAt != nil {
		return transformationRecord{}, false
	}
	return r, true
}

// Get returns a live transformation of the scope's workspace;
// core.ErrNotFound ("transformation not found") otherwise.
func (s *TransformationStore) Get(ctx context.Context, id uuid.UUID) (core.Transformation, error) {
	op := fmt.Sprintf("get transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	r, ok := s.find(id)
	if !ok {
		return core.Transformation{}, coded(op, core.ENOTFOUND, "transformation not found")
	}
	return r.transformation(), nil
}

// List returns the scope workspace's live transformations newest first
// (CreatedAt, then ID as bytes, descending), filtered by the set fields of
// filter (see the port).
func (s *TransformationStore) List(ctx context.Context, filter ports.TransformationFilter) ([]core.Transformation, error) {
	if err := s.tx.usable(ctx, "list transformations"); err != nil {
		return nil, err
	}
	out := []core.Transformation{}
	if s.tx.scope.workspaceID == uuid.Nil {
		return out, nil
	}
	st := s.tx.uow
	var records []transformationRecord
	for id := range st.transformationsOf[s.tx.scope.workspaceID] {
		r := st.transformations[id]
		switch {
		case r.t.DeletedAt != nil,
			filter.Status != "" && r.t.Status != filter.Status,
			filter.DocumentID != nil && r.t.DocumentID != *filter.DocumentID,
			filter.Type != "" && r.t.Type != filter.Type:
			continue
		}
		if b := filter.Before; b != nil && !newerFirst(dbTime(b.CreatedAt), b.ID, r.t.CreatedAt, r.t.ID) {
			continue
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		return newerFirst(records[i].t.CreatedAt, records[i].t.ID, records[j].t.CreatedAt, records[j].t.ID)
	})
	if filter.Limit > 0 && len(records) > filter.Limit {
		records = records[:filter.Limit]
	}
	for _, r := range records {
		out = append(out, r.transformation())
	}
	return out, nil
}

// transition applies change to the live transformation id of the scope's
// workspace when its status is one of from, and returns the changed
// transformation; ok is false (and nothing changes) when there is no such
// transformation in such a status, and prev tells whether it is there.
func (s *TransformationStore) transition(op string, id uuid.UUID, from []core.TransformationStatus,
	change func(t *core.Transformation)) (got core.Transformation, prev transformationRecord, found bool, err error) {
	prev, found = s.find(id)
	if !found || !slices.Contains(from, prev.t.Status) {
		return core.Transformation{}, prev, found, coded(op, core.ENOTFOUND, "transformation not found")
	}
	next := prev.transformation()
	change(&next)
	r, err := newTransformationRecord(op, next)
	if err != nil {
		return core.Transformation{}, prev, found, err
	}
	st := s.tx.uow
	st.transformations[id] = r
	s.tx.onRollback(func() { st.transformations[id] = prev })
	return r.transformation(), prev, found, nil
}

// Claim moves a PENDING transformation to PROCESSING (see the port).
func (s *TransformationStore) Claim(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("claim transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, _, _, err := s.transition(op, id, []core.TransformationStatus{core.StatusPending}, func(t *core.Transformation) {
		t.Status, t.Attempts, t.Progress = core.StatusProcessing, t.Attempts+1, 0
		if t.StartedAt == nil {
			t.StartedAt = &now
		}
		t.HeartbeatAt, t.UpdatedAt = &now, now
	})
	return got, err
}

// ClaimForRun claims a PENDING transformation with its plan and live
// document (see the port).
func (s *TransformationStore) ClaimForRun(ctx context.Context, id uuid.UUID, now time.Time) (ports.ClaimedJob, error) {
	t, err := s.Claim(ctx, id, now)
	if err != nil {
		return ports.ClaimedJob{}, err
	}
	w, err := s.tx.Workspaces().Get(ctx)
	if err != nil {
		return ports.ClaimedJob{}, err
	}
	job := ports.ClaimedJob{Transformation: t, Plan: w.Plan}
	switch d, err := s.tx.Documents().Get(ctx, t.DocumentID); {
	case err == nil:
		job.Document = &d
	case !errors.Is(err, core.ErrNotFound):
		return ports.ClaimedJob{}, err
	}
	return job, nil
}

// Progress records progress and message of a PROCESSING transformation (see
// the port).
func (s *TransformationStore) Progress(ctx context.Context, id uuid.UUID, progress int, message string, now time.Time) error {
	op := fmt.Sprintf("progress of transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	_, _, _, err := s.transition(op, id, []core.TransformationStatus{core.StatusProcessing}, func(t *core.Transformation) {
		t.Progress, t.Message, t.HeartbeatAt, t.UpdatedAt = progress, message, &now, now
	})
	return err
}

// Complete writes the outcome of a PROCESSING transformation (see the port).
func (s *TransformationStore) Complete(ctx context.Context, id uuid.UUID, o core.TransformationOutcome, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("complete transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, _, _, err := s.transition(op, id, []core.TransformationStatus{core.StatusProcessing}, func(t *core.Transformation) {
		t.Status, t.Progress, t.Message, t.Result, t.Parts = core.StatusCompleted, 100, "completed", o.Result, o.Parts
		t.AIProvider, t.AIModel, t.InputTokens, t.OutputTokens = o.AIProvider, o.AIModel, o.InputTokens, o.OutputTokens
		t.AICost, t.ProcessingTimeMS, t.ErrorMessage = o.AICost, o.ProcessingTimeMS, ""
		t.CompletedAt, t.HeartbeatAt, t.UpdatedAt = &now, &now, now
	})
	return got, err
}

// Fail makes a PROCESSING transformation FAILED (see the port).
func (s *TransformationStore) Fail(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("fail transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, _, _, err := s.transition(op, id, []core.TransformationStatus{core.StatusProcessing}, func(t *core.Transformation) {
		t.Status, t.Message, t.ErrorMessage = core.StatusFailed, "failed", message
		t.CompletedAt, t.HeartbeatAt, t.UpdatedAt = &now, &now, now
	})
	return got, err
}

// Requeue puts a PROCESSING transformation back to PENDING (see the port);
// HeartbeatAt is cleared and StartedAt kept.
func (s *TransformationStore) Requeue(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("requeue transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, _, _, err := s.transition(op, id, []core.TransformationStatus{core.StatusProcessing}, func(t *core.Transformation) {
		t.Status, t.Progress, t.Message, t.HeartbeatAt, t.UpdatedAt = core.StatusPending, 0, message, nil, now
	})
	return got, err
}

// Cancel makes a PENDING or PROCESSING transformation CANCELLED, setting
// CompletedAt (see the port).
func (s *TransformationStore) Cancel(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("cancel transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, prev, found, err := s.transition(op, id, []core.TransformationStatus{core.StatusPending, core.StatusProcessing},
		func(t *core.Transformation) {
			t.Status, t.Message, t.CompletedAt, t.UpdatedAt = core.StatusCancelled, "cancelled", &now, now
		})
	return got, wrongState(op, prev, found, err)
}

// Retry puts a FAILED or CANCELLED transformation back to PENDING (see the
// port): progress 0, message, error, result, parts and CompletedAt cleared;
// Attempts and StartedAt kept.
func (s *TransformationStore) Retry(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("retry transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Transformation{}, err
	}
	got, prev, found, err := s.transition(op, id, []core.TransformationStatus{core.StatusFailed, core.StatusCancelled},
		func(t *core.Transformation) {
			t.Status, t.Progress, t.Message, t.ErrorMessage, t.Result = core.StatusPending, 0, "", "", ""
			t.Parts, t.CompletedAt, t.HeartbeatAt, t.UpdatedAt = []core.OutputPart{}, nil, nil, now
		})
	return got, wrongState(op, prev, found, err)
}

// wrongState turns the not-found error of a transition that changed a
// transformation that is there into core.ECONFLICT naming its status.
func wrongState(op string, prev transformationRecord, found bool, err error) error {
	if err == nil || !found || core.ErrorCode(err) != core.ENOTFOUND {
		return err
	}
	return fmt.Errorf("%s: %w", op, core.Errorf(core.ECONFLICT, "the transformation is already %s", prev.t.Status))
}

// SoftDelete hides a live transformation of the scope's workspace (see the
// port).
func (s *TransformationStore) SoftDelete(ctx context.Context, id uuid.UUID, now time.Time) error {
	op := fmt.Sprintf("soft delete transformation %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.find(id)
	if !ok {
		return coded(op, core.ENOTFOUND, "transformation not found")
	}
	next := prev
	next.t.DeletedAt, next.t.UpdatedAt = dbTimePtr(&now), dbTime(now)
	st := s.tx.uow
	st.transformations[id] = next
	s.tx.onRollback(func() { st.transformations[id] = prev })
	return nil
}

// CountProcessing counts the scope workspace's PROCESSING jobs, a
// soft-deleted one included.
func (s *TransformationStore) CountProcessing(ctx context.Context) (int, error) {
	if err := s.tx.usable(ctx, "count processing transformations"); err != nil {
		return 0, err
	}
	n := 0
	for id := range s.tx.uow.transformationsOf[s.tx.scope.workspaceID] {
		if s.tx.uow.transformations[id].t.Status == core.StatusProcessing {
			n++
		}
	}
	return n, nil
}

// CountCreatedSince counts the scope workspace's transformations created at
// or after since, soft-deleted ones included.
func (s *TransformationStore) CountCreatedSince(ctx context.Context, since time.Time) (int, error) {
	if err := s.tx.usable(ctx, "count transformations"); err != nil {
		return 0, err
	}
	n := 0
	since = dbTime(since)
	for id := range s.tx.uow.transformationsOf[s.tx.scope.workspaceID] {
		if !s.tx.uow.transformations[id].t.CreatedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// SpendSince sums the AI cost of the scope workspace's transformations
// created at or after since, soft-deleted ones included.
func (s *TransformationStore) SpendSince(ctx context.Context, since time.Time) (float64, error) {
	if err := s.tx.usable(ctx, "sum transformation spend"); err != nil {
		return 0, err
	}
	total := 0.0
	since = dbTime(since)
	for id := range s.tx.uow.transformationsOf[s.tx.scope.workspaceID] {
		if t := s.tx.uow.transformations[id].t; !t.CreatedAt.Before(since) {
			total += t.AICost
		}
	}
	return total, nil
}
