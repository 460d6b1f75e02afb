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

// PresetStore keeps the transformation presets of the current workspace in
// the transformation_presets table, inside one transaction of UnitOfWork. A
// preset is visible to the scope's user when it is theirs or shared; every
// statement filters on that itself, and the row-level security policies of
// migrations/0004_transformations.sql filter again underneath.
//
// Because Create and Update read the row back, a preset written so that the
// scope's user could not see it (private and someone else's) is refused as
// core.ErrNotFound.
type PresetStore struct {
	db querier
}

var _ ports.PresetStore = (*PresetStore)(nil)

const presetColumns = `id, workspace_id, created_by, name, COALESCE(description, ''), type, parameters,
	is_shared, usage_count, created_at, updated_at`

// presetVisible is the visibility of a preset to the scope, as SQL.
const presetVisible = `workspace_id = ` + scopeWorkspace + ` AND (is_shared OR created_by = ` + scopeUser + `)`

func scanPreset(row pgx.Row) (core.Preset, error) {
	var p core.Preset
	if err := row.Scan(&p.ID, &p.WorkspaceID, &p.CreatedBy, &p.Name, &p.Description, &p.Type, &p.Parameters,
		&p.IsShared, &p.UsageCount, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return core.Preset{}, err
	}
	if p.Parameters == nil {
		p.Parameters = map[string]any{}
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// Create inserts p into the current workspace, giving it an id when it has
// none and the transaction's time as CreatedAt/UpdatedAt when they are zero;
// p receives the stored values. core.ErrConflict ("a preset with this name
// exists") when the workspace has a preset of that name in any case, or the
// id is taken; core.ErrNotFound when p.WorkspaceID is not the current (live)
// workspace or CreatedBy is not a user.
func (s *PresetStore) Create(ctx context.Context, p *core.Preset) error {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	p.Parameters = metadataOrEmpty(p.Parameters)
	err := s.db.QueryRow(ctx, `
		INSERT INTO transformation_presets (id, workspace_id, created_by, name, description, type, parameters,
			is_shared, usage_count, created_at, updated_at)
		SELECT $1::uuid, w.id, $3::uuid, $4::text, $5::text, $6::text, $7::jsonb,
			$8::boolean, $9::integer, COALESCE($10::timestamptz, now()), COALESCE($11::timestamptz, now())
		FROM workspaces w
		WHERE w.id = $2 AND w.id = `+scopeWorkspace+` AND w.deleted_at IS NULL
		RETURNING created_at, updated_at`,
		p.ID, p.WorkspaceID, p.CreatedBy, p.Name, nullIfEmpty(p.Description), p.Type, p.Parameters,
		p.IsShared, p.UsageCount, nullIfZero(p.CreatedAt), nullIfZero(p.UpdatedAt),
	).Scan(&p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return translate(err, fmt.Sprintf("create preset in workspace %s", p.WorkspaceID), "workspace not found")
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return nil
}

// Get returns a preset visible to the scope; core.ErrNotFound ("preset not
// found") otherwise.
func (s *PresetStore) Get(ctx context.Context, id uuid.UUID) (core.Preset, error) {
	p, err := scanPreset(s.db.QueryRow(ctx, `
		SELECT `+presetColumns+` FROM transformation_presets WHERE id = $1 AND `+presetVisible, id))
	if err != nil {
		return core.Preset{}, translate(err, fmt.Sprintf("get preset %s", id), "preset not found")
	}
	return p, nil
}

// List returns the presets visible to the scope newest first (CreatedAt,
// then ID, descending): only of filter.Type when set, only the scope user's
// own unless filter.IncludeShared, strictly after filter.Before when set, at
// most filter.Limit (<= 0: no limit).
func (s *PresetStore) List(ctx context.Context, filter ports.PresetFilter) ([]core.Preset, error) {
	q := newKeysetList(`SELECT ` + presetColumns + ` FROM transformation_presets WHERE ` + presetVisible)
	if !filter.IncludeShared {
		q.and(`created_by = ` + scopeUser)
	}
	if filter.Type != "" {
		q.and(`type = ` + q.arg(filter.Type) + `::text`)
	}
	if filter.Before != nil {
		q.after(filter.Before.CreatedAt, filter.Before.ID)
	}
	return collectPage(ctx, s.db, q, filter.Limit, "list presets", func(row pgx.CollectableRow) (core.Preset, error) {
		return scanPreset(row)
	})
}

// Update saves Name, Description, Parameters and IsShared of a visible
// preset and sets UpdatedAt to at; core.ErrConflict on a duplicate name,
// core.ErrNotFound ("preset not found") otherwise.
func (s *PresetStore) Update(ctx context.Context, p core.Preset, at time.Time) (core.Preset, error) {
	got, err := scanPreset(s.db.QueryRow(ctx, `
		UPDATE transformation_presets SET name = $2, description = $3, parameters = $4, is_shared = $5,
			updated_at = $6
		WHERE id = $1 AND `+presetVisible+`
		RETURNING `+presetColumns,
		p.ID, p.Name, nullIfEmpty(p.Description), metadataOrEmpty(p.Parameters), p.IsShared, at))
	if err != nil {
		return core.Preset{}, translate(err, fmt.Sprintf("update preset %s", p.ID), "preset not found")
	}
	return got, nil
}

// Delete removes a visible preset; the transformations made from it keep
// their parameters and lose the reference. core.ErrNotFound ("preset not
// found") otherwise.
func (s *PresetStore) Delete(ctx context.Context, id uuid.UUID) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		DELETE FROM transformation_presets WHERE id = $1 AND `+presetVisible+` RETURNING id`, id).Scan(&got)
	return translate(err, fmt.Sprintf("delete preset %s", id), "preset not found")
}

// IncrementUsage adds one to a visible preset's UsageCount (UpdatedAt is
// left alone); core.ErrNotFound ("preset not found") otherwise.
func (s *PresetStore) IncrementUsage(ctx context.Context, id uuid.UUID) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE transformation_presets SET usage_count = usage_count + 1
		WHERE id = $1 AND `+presetVisible+` RETURNING id`, id).Scan(&got)
	return translate(err, fmt.Sprintf("increment usage of preset %s", id), "preset not found")
}
