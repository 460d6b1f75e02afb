package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transformation"
)

// PresetBody is the Preset of the contract.
type PresetBody struct {
	ID                 uuid.UUID      `json:"id"`
	WorkspaceID        uuid.UUID      `json:"workspace_id"`
	CreatedBy          uuid.UUID      `json:"created_by"`
	Name               string         `json:"name"`
	Description        string         `json:"description"`
	TransformationType string         `json:"transformation_type"`
	Parameters         map[string]any `json:"parameters"`
	IsShared           bool           `json:"is_shared"`
	UsageCount         int            `json:"usage_count"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

func presetBody(p core.Preset) PresetBody {
	params := p.Parameters
	if params == nil {
		params = map[string]any{}
	}
	return PresetBody{ID: p.ID, WorkspaceID: p.WorkspaceID, CreatedBy: p.CreatedBy, Name: p.Name, Description: p.Description,
		TransformationType: p.Type, Parameters: params, IsShared: p.IsShared, UsageCount: p.UsageCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

type presetOutput struct {
	Body PresetBody
}

type createPresetInput struct {
	Body struct {
		Name               string         `json:"name" maxLength:"200" doc:"1 to 100 characters, unique in the workspace (case-insensitive)"`
		Description        string         `json:"description,omitempty" maxLength:"1000"`
		TransformationType string         `json:"transformation_type" maxLength:"40" doc:"SUMMARY, SOCIAL_MEDIA, BLOG_POST, EMAIL_SEQUENCE, NEWSLETTER or CUSTOM (case-insensitive)"`
		Parameters         map[string]any `json:"parameters,omitempty" doc:"See GET /api/transformations/types/available; defaults are filled in"`
		IsShared           bool           `json:"is_shared,omitempty" doc:"Visible to every member of the workspace; otherwise only to you"`
	}
}

type presetIDInput struct {
	ID string `path:"id" doc:"Preset id (UUID)"`
}

type updatePresetInput struct {
	ID   string `path:"id" doc:"Preset id (UUID)"`
	Body struct {
		Name        *string        `json:"name,omitempty" maxLength:"200"`
		Description *string        `json:"description,omitempty" maxLength:"1000"`
		Parameters  map[string]any `json:"parameters,omitempty" doc:"Replace the parameters (validated against the preset's type)"`
		IsShared    *bool          `json:"is_shared,omitempty"`
	}
}

type listPresetsInput struct {
	TransformationType string `query:"transformation_type" maxLength:"40"`
	IncludeShared      bool   `query:"include_shared" default:"true" doc:"Include the presets other members shared"`
	Limit              int    `query:"limit" doc:"1..100, default 50"`
	Cursor             string `query:"cursor" maxLength:"200"`
}

type presetsOutput struct {
	Body struct {
		Presets    []PresetBody `json:"presets"`
		Count      int          `json:"count"`
		NextCursor *string      `json:"next_cursor"`
	}
}

func (s *server) registerPresets() {
	tags := []string{"Presets"}
	svc := s.deps.Transformations
	const path = "/api/transformation-presets"

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "createPreset", Method: http.MethodPost, Path: path, Tags: tags, DefaultStatus: http.StatusCreated,
		Summary: "Save a named set of parameters for one transformation type (member)",
		Errors:  []int{http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *createPresetInput) (*presetOutput, error) {
		p, err := svc.CreatePreset(ctx, transformation.PresetInput{Name: in.Body.Name, Description: in.Body.Description,
			Type: in.Body.TransformationType, Parameters: in.Body.Parameters, IsShared: in.Body.IsShared})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &presetOutput{Body: presetBody(p)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listPresets", Method: http.MethodGet, Path: path, Tags: tags,
		Summary: "Your presets and the shared ones, newest first", Errors: []int{http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *listPresetsInput) (*presetsOutput, error) {
		page, err := svc.ListPresets(ctx, in.TransformationType, in.IncludeShared, in.Limit, in.Cursor)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &presetsOutput{}
		out.Body.Presets = make([]PresetBody, 0, len(page.Presets))
		for _, p := range page.Presets {
			out.Body.Presets = append(out.Body.Presets, presetBody(p))
		}
		out.Body.Count = len(out.Body.Presets)
		if page.NextCursor != "" {
			out.Body.NextCursor = &page.NextCursor
		}
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getPreset", Method: http.MethodGet, Path: path + "/{id}", Tags: tags, Summary: "A preset",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *presetIDInput) (*presetOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		p, err := svc.GetPreset(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &presetOutput{Body: presetBody(p)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "updatePreset", Method: http.MethodPatch, Path: path + "/{id}", Tags: tags,
		Summary: "Edit a preset (its creator, or an admin)",
		Errors:  []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *updatePresetInput) (*presetOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		p, err := svc.UpdatePreset(ctx, id, transformation.PresetUpdate{Name: in.Body.Name, Description: in.Body.Description,
			Parameters: in.Body.Parameters, IsShared: in.Body.IsShared})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &presetOutput{Body: presetBody(p)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "deletePreset", Method: http.MethodDelete, Path: path + "/{id}", Tags: tags, DefaultStatus: http.StatusNoContent,
		Summary: "Delete a preset (its creator, or an admin)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *presetIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := svc.DeletePreset(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "usePreset", Method: http.MethodPost, Path: path + "/{id}/use", Tags: tags, DefaultStatus: http.StatusNoContent,
		Summary: "Count one use of a preset (member)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *presetIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := svc.UsePreset(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})
}
