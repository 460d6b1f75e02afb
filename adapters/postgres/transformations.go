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

// TransformationStore keeps the transformation jobs of the current workspace
// in the transformations table, inside one transaction of UnitOfWork. Every
// statement filters on the transaction's scope itself, and the row-level
// security policies of migrations/0004_transformations.sql filter again
// underneath.
//
// Every status change is one conditional UPDATE (on the id, the scope, the
// row being live and the status it changes from) returning the row: of
// concurrent changes from the same status exactly one applies; the others
// wait for its row lock, re-check the condition on the committed row and
// change nothing.
type TransformationStore struct {
	db querier
}

var _ ports.TransformationStore = (*TransformationStore)(nil)

// transformationColumns are read by scanTransformation.
const transformationColumns = `id, workspace_id, document_id, created_by, type, parameters, preset_id,
	COALESCE(requested_provider, ''), status, progress, COALESCE(message, ''), COALESCE(result, ''), parts,
	COALESCE(error_message, ''), COALESCE(ai_provider, ''), COALESCE(ai_model, ''), input_tokens,
	output_tokens, ai_cost::float8, attempts, processing_time_ms, created_at, updated_at, started_at,
	completed_at, heartbeat_at, deleted_at`

func scanTransformation(row pgx.Row) (core.Transformation, error) {
	var t core.Transformation
	var status string
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.DocumentID, &t.CreatedBy, &t.Type, &t.Parameters, &t.PresetID,
		&t.RequestedProvider, &status, &t.Progress, &t.Message, &t.Result, &t.Parts,
		&t.ErrorMessage, &t.AIProvider, &t.AIModel, &t.InputTokens,
		&t.OutputTokens, &t.AICost, &t.Attempts, &t.ProcessingTimeMS, &t.CreatedAt, &t.UpdatedAt, &t.StartedAt,
		&t.CompletedAt, &t.HeartbeatAt, &t.DeletedAt); err != nil {
		return core.Transformation{}, err
	}
	t.Status = core.TransformationStatus(status)
	if t.Parameters == nil {
		t.Parameters = map[string]any{}
	}
	if t.Parts == nil {
		t.Parts = []core.OutputPart{}
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.StartedAt, t.CompletedAt = utcPtr(t.StartedAt), utcPtr(t.CompletedAt)
	t.HeartbeatAt, t.DeletedAt = utcPtr(t.HeartbeatAt), utcPtr(t.DeletedAt)
	return t, nil
}

// partsOrEmpty is the value of the jsonb parts column: [] for nil.
func partsOrEmpty(p []core.OutputPart) []core.OutputPart {
	if p == nil {
		return []core.OutputPart{}
	}
	return p
}

// Create inserts t into the current workspace as PENDING (whatever t.Status
// says), giving it an id when it has none and the transaction's time as
// CreatedAt/UpdatedAt when they are zero; t receives the stored values.
// core.ErrNotFound when t.WorkspaceID is not the current (live) workspace
// ("workspace not found"), the document is not a live document of it
// ("document not found"), the preset is not one of its presets ("preset not
// found"), or CreatedBy is not a user; core.ErrConflict when the id is taken.
func (s *TransformationStore) Create(ctx context.Context, t *core.Transformation) error {
	op := fmt.Sprintf("create transformation in workspace %s", t.WorkspaceID)
	if t.ID == uuid.Nil {
		t.ID = uuid.New()
	}
	t.Status, t.Parameters, t.Parts = core.StatusPending, metadataOrEmpty(t.Parameters), partsOrEmpty(t.Parts)
	err := s.db.QueryRow(ctx, `
		INSERT INTO transformations (id, workspace_id, document_id, created_by, type, parameters, preset_id,
			requested_provider, status, progress, message, result, parts, error_message, ai_provider, ai_model,
			input_tokens, output_tokens, ai_cost, attempts, processing_time_ms, created_at, updated_at)
		SELECT $1::uuid, d.workspace_id, d.id, $4::uuid, $5::text, $6::jsonb, $7::uuid,
			$8::text, 'PENDING', $9::integer, $10::text, $11::text, $12::jsonb, $13::text, $14::text, $15::text,
			$16::integer, $17::integer, $18::numeric, $19::integer, $20::bigint,
			COALESCE($21::timestamptz, now()), COALESCE($22::timestamptz, now())
		FROM documents d JOIN workspaces w ON w.id = d.workspace_id
		WHERE d.id = $3 AND d.workspace_id = $2 AND d.workspace_id = `+scopeWorkspace+`
			AND d.deleted_at IS NULL AND w.deleted_at IS NULL
			AND ($7::uuid IS NULL OR EXISTS (
				SELECT 1 FROM transformation_presets p WHERE p.id = $7 AND p.workspace_id = d.workspace_id))
		RETURNING created_at, updated_at`,
		t.ID, t.WorkspaceID, t.DocumentID, t.CreatedBy, t.Type, t.Parameters, t.PresetID,
		nullIfEmpty(t.RequestedProvider), t.Progress, nullIfEmpty(t.Message), nullIfEmpty(t.Result), t.Parts,
		nullIfEmpty(t.ErrorMessage), nullIfEmpty(t.AIProvider), nullIfEmpty(t.AIModel),
		t.InputTokens, t.OutputTokens, t.AICost, t.Attempts, t.ProcessingTimeMS,
		nullIfZero(t.CreatedAt), nullIfZero(t.UpdatedAt),
	).Scan(&t.CreatedAt, &t.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return translate(err, op, s.missingReference(ctx, t))
	}
	if err != nil {
		return translate(err, op, "workspace not found")
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return nil
}

// missingReference tells which reference of t made Create insert nothing.
func (s *TransformationStore) missingReference(ctx context.Context, t *core.Transformation) string {
	var workspace, document bool
	err := s.db.QueryRow(ctx, `
		SELECT
			EXISTS (SELECT 1 FROM workspaces w WHERE w.id = $1 AND w.id = `+scopeWorkspace+` AND w.deleted_at IS NULL),
			EXISTS (SELECT 1 FROM documents d WHERE d.id = $2 AND d.workspace_id = $1 AND d.deleted_at IS NULL)`,
		t.WorkspaceID, t.DocumentID).Scan(&workspace, &document)
	switch {
	case err != nil || !workspace:
		return "workspace not found"
	case !document:
		return "document not found"
	default:
		return "preset not found"
	}
}

// Get returns a live transformation of the current workspace;
// core.ErrNotFound ("transformation not found") otherwise.
func (s *TransformationStore) Get(ctx context.Context, id uuid.UUID) (core.Transformation, error) {
	t, err := scanTransformation(s.db.QueryRow(ctx, `
		SELECT `+transformationColumns+` FROM transformations
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL`, id))
	if err != nil {
		return core.Transformation{}, translate(err, fmt.Sprintf("get transformation %s", id), "transformation not found")
	}
	return t, nil
}

// List returns the current workspace's live transformations newest first
// (CreatedAt, then ID, descending), filtered by the set fields of filter, at
// most filter.Limit of them (every one when Limit <= 0), strictly after
// filter.Before when set. An empty slice when there are none.
func (s *TransformationStore) List(ctx context.Context, filter ports.TransformationFilter) ([]core.Transformation, error) {
	q := newKeysetList(`SELECT ` + transformationColumns + ` FROM transformations
		WHERE workspace_id = ` + scopeWorkspace + ` AND deleted_at IS NULL`)
	if filter.Status != "" {
		q.and(`status = ` + q.arg(string(filter.Status)) + `::text`)
	}
	if filter.DocumentID != nil {
		q.and(`document_id = ` + q.arg(*filter.DocumentID) + `::uuid`)
	}
	if filter.Type != "" {
		q.and(`type = ` + q.arg(filter.Type) + `::text`)
	}
	if filter.Before != nil {
		q.after(filter.Before.CreatedAt, filter.Before.ID)
	}
	return collectPage(ctx, s.db, q, filter.Limit, "list transformations", func(row pgx.CollectableRow) (core.Transformation, error) {
		return scanTransformation(row)
	})
}

// transition runs one conditional UPDATE of a live transformation of the
// current workspace whose status is one of from, with set as its SET list
// ($1 is the id, $2 the from statuses, args from $3 on), and returns the
// changed row. pgx.ErrNoRows (untranslated) when nothing matched.
func (s *TransformationStore) transition(ctx context.Context, id uuid.UUID, from []core.TransformationStatus,
	set string, args ...any) (core.Transformation, error) {
	sql, args := transitionQuery(id, from, set, args...)
	return scanTransformation(s.db.QueryRow(ctx, sql, args...))
}

// transitionQuery is the SQL and arguments of transition.
func transitionQuery(id uuid.UUID, from []core.TransformationStatus, set string, args ...any) (string, []any) {
	statuses := make([]string, len(from))
	for i, st := range from {
		statuses[i] = string(st)
	}
	return `
		UPDATE transformations SET ` + set + `
		WHERE id = $1 AND workspace_id = ` + scopeWorkspace + ` AND deleted_at IS NULL AND status = ANY($2::text[])
		RETURNING ` + transformationColumns, append([]any{id, statuses}, args...)
}

// claimSet is the SET list of a claim ($3 is now).
const claimSet = `status = 'PROCESSING', attempts = attempts + 1, started_at = COALESCE(started_at, $3),
	heartbeat_at = $3, progress = 0, updated_at = $3`

// Claim moves a PENDING transformation to PROCESSING (see the port).
func (s *TransformationStore) Claim(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusPending}, claimSet, now)
	if err != nil {
		return core.Transformation{}, translate(err, fmt.Sprintf("claim transformation %s", id), "transformation not found")
	}
	return t, nil
}

// ClaimForRun claims a PENDING transformation and reads the plan of the
// current workspace and the live document (see the port): three
// statements in one pipeline, the document's found through the claimed
// row.
func (s *TransformationStore) ClaimForRun(ctx context.Context, id uuid.UUID, now time.Time) (ports.ClaimedJob, error) {
	op := fmt.Sprintf("claim transformation %s", id)
	b := &pgx.Batch{}
	claim, args := transitionQuery(id, []core.TransformationStatus{core.StatusPending}, claimSet, now)
	b.Queue(claim, args...)
	b.Queue(`SELECT plan FROM workspaces WHERE id = ` + scopeWorkspace + ` AND deleted_at IS NULL`)
	b.Queue(`
		SELECT `+documentColumns+` FROM documents
		WHERE id = (SELECT document_id FROM transformations WHERE id = $1 AND workspace_id = `+scopeWorkspace+`)
			AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL`, id)
	br := s.db.SendBatch(ctx, b)
	job, err := readClaimedJob(br)
	if err = closeBatch(br, err); err != nil {
		return ports.ClaimedJob{}, translate(err, op, "transformation not found")
	}
	return job, nil
}

// readClaimedJob reads the results of ClaimForRun's pipeline.
func readClaimedJob(br pgx.BatchResults) (ports.ClaimedJob, error) {
	t, err := scanTransformation(br.QueryRow())
	if err != nil {
		return ports.ClaimedJob{}, err
	}
	var plan string
	if err := br.QueryRow().Scan(&plan); err != nil {
		return ports.ClaimedJob{}, translate(err, "get current workspace", "workspace not found")
	}
	job := ports.ClaimedJob{Transformation: t, Plan: core.Plan(plan)}
	switch d, err := scanDocument(br.QueryRow(), true); {
	case err == nil:
		job.Document = &d
	case !errors.Is(err, pgx.ErrNoRows):
		return ports.ClaimedJob{}, err
	}
	return job, nil
}

// Progress records progress and message of a PROCESSING transformation (see
// the port).
func (s *TransformationStore) Progress(ctx context.Context, id uuid.UUID, progress int, message string, now time.Time) error {
	_, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusProcessing}, `progress = $3,
		message = $4, heartbeat_at = $5, updated_at = $5`, progress, nullIfEmpty(message), now)
	return translate(err, fmt.Sprintf("progress of transformation %s", id), "transformation not found")
}

// Complete writes the outcome of a PROCESSING transformation (see the port).
func (s *TransformationStore) Complete(ctx context.Context, id uuid.UUID, o core.TransformationOutcome, now time.Time) (core.Transformation, error) {
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusProcessing}, `status = 'COMPLETED',
		progress = 100, message = 'completed', result = $3, parts = $4, ai_provider = $5, ai_model = $6, input_tokens = $7,
		output_tokens = $8, ai_cost = $9, processing_time_ms = $10, error_message = NULL,
		completed_at = $11, heartbeat_at = $11, updated_at = $11`,
		nullIfEmpty(o.Result), partsOrEmpty(o.Parts), nullIfEmpty(o.AIProvider), nullIfEmpty(o.AIModel),
		o.InputTokens, o.OutputTokens, o.AICost, o.ProcessingTimeMS, now)
	if err != nil {
		return core.Transformation{}, translate(err, fmt.Sprintf("complete transformation %s", id), "transformation not found")
	}
	return t, nil
}

// Fail makes a PROCESSING transformation FAILED (see the port).
func (s *TransformationStore) Fail(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error) {
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusProcessing}, `status = 'FAILED',
		message = 'failed', error_message = $3, completed_at = $4, heartbeat_at = $4, updated_at = $4`, nullIfEmpty(message), now)
	if err != nil {
		return core.Transformation{}, translate(err, fmt.Sprintf("fail transformation %s", id), "transformation not found")
	}
	return t, nil
}

// Requeue puts a PROCESSING transformation back to PENDING (see the port);
// HeartbeatAt is cleared and StartedAt kept.
func (s *TransformationStore) Requeue(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error) {
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusProcessing}, `status = 'PENDING',
		progress = 0, message = $3, heartbeat_at = NULL, updated_at = $4`, nullIfEmpty(message), now)
	if err != nil {
		return core.Transformation{}, translate(err, fmt.Sprintf("requeue transformation %s", id), "transformation not found")
	}
	return t, nil
}

// Cancel makes a PENDING or PROCESSING transformation CANCELLED, setting
// CompletedAt (see the port).
func (s *TransformationStore) Cancel(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("cancel transformation %s", id)
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusPending, core.StatusProcessing},
		`status = 'CANCELLED', message = 'cancelled', completed_at = $3, updated_at = $3`, now)
	if err != nil {
		return core.Transformation{}, s.wrongState(ctx, op, id, err)
	}
	return t, nil
}

// Retry puts a FAILED or CANCELLED transformation back to PENDING (see the
// port): progress 0, message, error, result, parts and CompletedAt cleared;
// Attempts and StartedAt kept.
func (s *TransformationStore) Retry(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error) {
	op := fmt.Sprintf("retry transformation %s", id)
	t, err := s.transition(ctx, id, []core.TransformationStatus{core.StatusFailed, core.StatusCancelled},
		`status = 'PENDING', progress = 0, message = NULL, error_message = NULL, result = NULL, parts = '[]',
		completed_at = NULL, heartbeat_at = NULL, updated_at = $3`, now)
	if err != nil {
		return core.Transformation{}, s.wrongState(ctx, op, id, err)
	}
	return t, nil
}

// wrongState explains a transition that changed nothing: core.ECONFLICT
// with the status the transformation is in when it is there, core.ErrNotFound
// otherwise. The SELECT runs on a fresh snapshot (READ COMMITTED), so it sees
// the change that made the UPDATE miss.
func (s *TransformationStore) wrongState(ctx context.Context, op string, id uuid.UUID, err error) error {
	if !errors.Is(err, pgx.ErrNoRows) {
		return translate(err, op, "transformation not found")
	}
	var status string
	err = s.db.QueryRow(ctx, `
		SELECT status FROM transformations
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL`, id).Scan(&status)
	if err != nil {
		return translate(err, op, "transformation not found")
	}
	return fmt.Errorf("%s: %w", op, core.Errorf(core.ECONFLICT, "the transformation is already %s", status))
}

// SoftDelete hides a live transformation of the current workspace (see the
// port).
func (s *TransformationStore) SoftDelete(ctx context.Context, id uuid.UUID, now time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE transformations SET deleted_at = $2, updated_at = $2
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL
		RETURNING id`, id, now).Scan(&got)
	return translate(err, fmt.Sprintf("soft delete transformation %s", id), "transformation not found")
}

// CountProcessing counts the current workspace's PROCESSING jobs, a
// soft-deleted one included (it still runs until its worker stops).
func (s *TransformationStore) CountProcessing(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `
		SELECT count(*) FROM transformations
		WHERE workspace_id = `+scopeWorkspace+` AND status = 'PROCESSING'`).Scan(&n)
	if err != nil {
		return 0, translate(err, "count processing transformations", "workspace not found")
	}
	return n, nil
}

// CountCreatedSince counts the current workspace's transformations created
// at or after since, soft-deleted ones included.
func (s *TransformationStore) CountCreatedSince(ctx context.Context, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `
		SELECT count(*) FROM transformations
		WHERE workspace_id = `+scopeWorkspace+` AND created_at >= $1`, since).Scan(&n)
	if err != nil {
		return 0, translate(err, "count transformations", "workspace not found")
	}
	return n, nil
}

// SpendSince sums the AI cost of the current workspace's transformations
// created at or after since, soft-deleted ones included. Only the rows
// that cost something are read (transformations_workspace_spend_idx).
func (s *TransformationStore) SpendSince(ctx context.Context, since time.Time) (float64, error) {
	var total float64
	err := s.db.QueryRow(ctx, `
		SELECT COALESCE(sum(ai_cost), 0)::float8 FROM transformations
		WHERE workspace_id = `+scopeWorkspace+` AND created_at >= $1 AND ai_cost > 0`, since).Scan(&total)
	if err != nil {
		return 0, translate(err, "sum transformation spend", "workspace not found")
	}
	return total, nil
}
