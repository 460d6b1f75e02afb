package transformation

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// PresetInput creates a preset.
type PresetInput struct {
	Name        string
	Description string
	Type        string
	Parameters  map[string]any
	IsShared    bool
}

// PresetUpdate changes a preset; nil fields are unchanged.
type PresetUpdate struct {
	Name        *string
	Description *string
	// Parameters replace the preset's, validated against its type.
	Parameters map[string]any
	IsShared   *bool
}

// PresetPage is one page of presets.
type PresetPage struct {
	Presets    []core.Preset
	NextCursor string
}

const maxPresetDescription = 1000

var (
	errPresetNotFound = core.Errorf(core.ENOTFOUND, "preset not found")
	errPresetConflict = core.Errorf(core.ECONFLICT, "a preset with this name exists")
)

func presetErr(err error) error {
	switch {
	case errors.Is(err, core.ErrNotFound):
		return errPresetNotFound
	case errors.Is(err, core.ErrConflict):
		return errPresetConflict
	}
	return err
}

func presetName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n < 1 || n > 100 {
		return "", core.Invalid("invalid name", core.FieldError{Location: "body.name", Message: "1 to 100 characters"})
	}
	return s, nil
}

func presetDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxPresetDescription {
		return "", core.Invalid("invalid description", core.FieldError{Location: "body.description", Message: "at most 1000 characters"})
	}
	return s, nil
}

// CreatePreset saves a named set of validated parameters (defaults filled
// in) for one transformation type (member).
func (s *Service) CreatePreset(ctx context.Context, in PresetInput) (core.Preset, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActCreateContent)
	if err != nil {
		return core.Preset{}, err
	}
	name, err := presetName(in.Name)
	if err != nil {
		return core.Preset{}, err
	}
	desc, err := presetDescription(in.Description)
	if err != nil {
		return core.Preset{}, err
	}
	typ, ok := transform.ParseType(in.Type)
	if !ok {
		return core.Preset{}, core.Invalid("unknown transformation type", core.FieldError{Location: "body.transformation_type",
			Message: "one of SUMMARY, SOCIAL_MEDIA, BLOG_POST, EMAIL_SEQUENCE, NEWSLETTER, CUSTOM"})
	}
	params, err := transform.Validate(typ, in.Parameters, "body.parameters")
	if err != nil {
		return core.Preset{}, err
	}
	now := s.clock.Now()
	p := core.Preset{ID: uuid.Must(uuid.NewV7()), WorkspaceID: id.WorkspaceID, CreatedBy: id.UserID, Name: name, Description: desc,
		Type: string(typ), Parameters: params, IsShared: in.IsShared, CreatedAt: now, UpdatedAt: now}
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		if err := tx.Presets().Create(ctx, &p); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			"preset.created", "preset", core.Ref(p.ID), map[string]any{"name": p.Name, "type": p.Type, "is_shared": p.IsShared}))
	})
	if err != nil {
		return core.Preset{}, presetErr(err)
	}
	return p, nil
}

// GetPreset returns a preset visible to the caller (viewer).
func (s *Service) GetPreset(ctx context.Context, presetID uuid.UUID) (core.Preset, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return core.Preset{}, err
	}
	var p core.Preset
	err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		p, err = tx.Presets().Get(ctx, presetID)
		return err
	})
	if err != nil {
		return core.Preset{}, presetErr(err)
	}
	return p, nil
}

// ListPresets returns the caller's presets and, when includeShared, the
// shared ones, newest first (viewer).
func (s *Service) ListPresets(ctx context.Context, typ string, includeShared bool, limit int, cursor string) (PresetPage, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return PresetPage{}, err
	}
	limit, err := core.PageLimit(limit)
	if err != nil {
		return PresetPage{}, err
	}
	filter := ports.PresetFilter{IncludeShared: includeShared, Limit: limit + 1}
	if typ != "" {
		t, ok := transform.ParseType(typ)
		if !ok {
			return PresetPage{}, core.Invalid("invalid type", core.FieldError{Location: "query.transformation_type", Message: "unknown type"})
		}
		filter.Type = string(t)
	}
	at, cid, ok, err := core.DecodeCursor(cursor)
	if err != nil {
		return PresetPage{}, err
	}
	if ok {
		filter.Before = &ports.TransformationPosition{CreatedAt: at, ID: cid}
	}
	var page PresetPage
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		list, err := tx.Presets().List(ctx, filter)
		if err != nil {
			return err
		}
		if len(list) > limit {
			list = list[:limit]
			last := list[len(list)-1]
			page.NextCursor = core.EncodeCursor(last.CreatedAt, last.ID)
		}
		page.Presets = list
		return nil
	})
	return page, err
}

// UpdatePreset changes a preset (its creator as member, or an admin).
func (s *Service) UpdatePreset(ctx context.Context, presetID uuid.UUID, in PresetUpdate) (core.Preset, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return core.Preset{}, err
	}
	var name, desc string
	if in.Name != nil {
		if name, err = presetName(*in.Name); err != nil {
			return core.Preset{}, err
		}
	}
	if in.Description != nil {
		if desc, err = presetDescription(*in.Description); err != nil {
			return core.Preset{}, err
		}
	}
	var p core.Preset
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		cur, err := tx.Presets().Get(ctx, presetID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, cur.CreatedBy); err != nil {
			return err
		}
		next := cur
		changes := map[string]any{}
		if in.Name != nil && name != cur.Name {
			next.Name = name
			changes["name"] = map[string]any{"from": cur.Name, "to": name}
		}
		if in.Description != nil && desc != cur.Description {
			next.Description = desc
			changes["description"] = map[string]any{"from": cur.Description, "to": desc}
		}
		if in.Parameters != nil {
			params, err := transform.Validate(transform.Type(cur.Type), in.Parameters, "body.parameters")
			if err != nil {
				return err
			}
			next.Parameters = params
			changes["parameters"] = params
		}
		if in.IsShared != nil && *in.IsShared != cur.IsShared {
			// A private preset is its creator's alone: anyone else making it
			// private would lose it (the store keeps only visible rows).
			if !*in.IsShared && cur.CreatedBy != id.UserID {
				return core.Errorf(core.EFORBIDDEN, "only the preset's creator can make it private")
			}
			next.IsShared = *in.IsShared
			changes["is_shared"] = map[string]any{"from": cur.IsShared, "to": *in.IsShared}
		}
		now := s.clock.Now()
		if p, err = tx.Presets().Update(ctx, next, now); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			"preset.updated", "preset", core.Ref(p.ID), changes))
	})
	if err != nil {
		return core.Preset{}, presetErr(err)
	}
	return p, nil
}

// DeletePreset removes a preset (its creator as member, or an admin).
func (s *Service) DeletePreset(ctx context.Context, presetID uuid.UUID) error {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return err
	}
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		cur, err := tx.Presets().Get(ctx, presetID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, cur.CreatedBy); err != nil {
			return err
		}
		if err := tx.Presets().Delete(ctx, presetID); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, s.clock.Now(), core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			"preset.deleted", "preset", core.Ref(presetID), map[string]any{"name": cur.Name, "type": cur.Type}))
	})
	return presetErr(err)
}

// UsePreset counts one use of a visible preset (member).
func (s *Service) UsePreset(ctx context.Context, presetID uuid.UUID) error {
	if _, err := core.InCurrentWorkspace(ctx, core.ActCreateContent); err != nil {
		return err
	}
	err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		return tx.Presets().IncrementUsage(ctx, presetID)
	})
	return presetErr(err)
}
