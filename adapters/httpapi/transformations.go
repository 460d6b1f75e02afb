package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/sse"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/core/transformation"
)

// ParamBody describes one parameter of a transformation type.
type ParamBody struct {
	Type     string   `json:"type" enum:"string,integer,boolean,array"`
	Default  any      `json:"default,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	Min      *int     `json:"min,omitempty" doc:"Smallest integer, or shortest string or list"`
	Max      *int     `json:"max,omitempty" doc:"Largest integer, or longest string or list"`
	Required bool     `json:"required,omitempty"`
}

// TypeBody is one entry of the catalog.
type TypeBody struct {
	Type        string               `json:"type"`
	Description string               `json:"description"`
	Parameters  map[string]ParamBody `json:"parameters"`
}

type typesOutput struct {
	Body struct {
		TransformationTypes []TypeBody `json:"transformation_types"`
		Count               int        `json:"count"`
	}
}

func (s *server) registerTransformationCatalog() {
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "transformationTypes", Method: http.MethodGet, Path: "/api/transformations/types/available", Tags: []string{"Transformations"},
		Summary: "The transformation types and their parameters",
	}), func(ctx context.Context, _ *struct{}) (*typesOutput, error) {
		out := &typesOutput{}
		for _, spec := range transform.Specs() {
			t := TypeBody{Type: string(spec.Type), Description: spec.Description, Parameters: map[string]ParamBody{}}
			for _, p := range spec.Params {
				pb := ParamBody{Type: string(p.Kind), Default: p.Default, Enum: p.Enum, Required: p.Required}
				if p.Min != 0 || p.Max != 0 {
					pb.Min, pb.Max = intPtr(p.Min), intPtr(p.Max)
				}
				t.Parameters[p.Name] = pb
			}
			out.Body.TransformationTypes = append(out.Body.TransformationTypes, t)
		}
		out.Body.Count = len(out.Body.TransformationTypes)
		return out, nil
	})
}

// TransformationBody is the Transformation of the contract.
type TransformationBody struct {
	ID                 uuid.UUID         `json:"id"`
	WorkspaceID        uuid.UUID         `json:"workspace_id"`
	DocumentID         uuid.UUID         `json:"document_id"`
	CreatedBy          uuid.UUID         `json:"created_by"`
	TransformationType string            `json:"transformation_type"`
	Parameters         map[string]any    `json:"parameters"`
	PresetID           *uuid.UUID        `json:"preset_id"`
	Status             string            `json:"status" enum:"PENDING,PROCESSING,COMPLETED,FAILED,CANCELLED"`
	Progress           int               `json:"progress"`
	Message            string            `json:"message"`
	Result             *string           `json:"result"`
	Parts              []core.OutputPart `json:"parts"`
	ErrorMessage       *string           `json:"error_message"`
	AIProvider         *string           `json:"ai_provider"`
	AIModel            *string           `json:"ai_model"`
	InputTokens        int               `json:"input_tokens"`
	OutputTokens       int               `json:"output_tokens"`
	AICost             float64           `json:"ai_cost"`
	Attempts           int               `json:"attempts"`
	ProcessingTimeMS   *int64            `json:"processing_time_ms"`
	CreatedAt          time.Time         `json:"created_at"`
	StartedAt          *time.Time        `json:"started_at"`
	CompletedAt        *time.Time        `json:"completed_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func transformationBody(t core.Transformation) TransformationBody {
	b := TransformationBody{ID: t.ID, WorkspaceID: t.WorkspaceID, DocumentID: t.DocumentID, CreatedBy: t.CreatedBy,
		TransformationType: t.Type, Parameters: t.Parameters, PresetID: t.PresetID, Status: string(t.Status), Progress: t.Progress,
		Message: t.Message, Result: optString(t.Result), Parts: t.Parts, ErrorMessage: optString(t.ErrorMessage),
		AIProvider: optString(t.AIProvider), AIModel: optString(t.AIModel), InputTokens: t.InputTokens, OutputTokens: t.OutputTokens,
		AICost: t.AICost, Attempts: t.Attempts, CreatedAt: t.CreatedAt, StartedAt: t.StartedAt, CompletedAt: t.CompletedAt, UpdatedAt: t.UpdatedAt}
	if b.Parts == nil {
		b.Parts = []core.OutputPart{}
	}
	if t.Status == core.StatusCompleted {
		b.ProcessingTimeMS = &t.ProcessingTimeMS
	}
	return b
}

type transformationOutput struct {
	Body TransformationBody
}

type createTransformationInput struct {
	Body struct {
		DocumentID         string         `json:"document_id" format:"uuid"`
		TransformationType string         `json:"transformation_type" maxLength:"40" doc:"SUMMARY, SOCIAL_MEDIA, BLOG_POST, EMAIL_SEQUENCE, NEWSLETTER or CUSTOM (case-insensitive)"`
		Parameters         map[string]any `json:"parameters,omitempty" doc:"See GET /api/transformations/types/available; defaults are filled in"`
		PresetID           string         `json:"preset_id,omitempty" format:"uuid" doc:"A preset whose parameters are merged under these"`
		Provider           string         `json:"provider,omitempty" maxLength:"40" doc:"One of the configured AI providers, to override their order"`
	}
}

type transformationIDInput struct {
	ID string `path:"id" doc:"Transformation id (UUID)"`
}

type listTransformationsInput struct {
	Status             string `query:"status" maxLength:"20"`
	DocumentID         string `query:"document_id" maxLength:"40"`
	TransformationType string `query:"transformation_type" maxLength:"40"`
	Limit              int    `query:"limit" doc:"1..100, default 50"`
	Cursor             string `query:"cursor" maxLength:"200"`
}

type transformationsOutput struct {
	Body struct {
		Transformations []TransformationBody `json:"transformations"`
		Count           int                  `json:"count"`
		NextCursor      *string              `json:"next_cursor"`
	}
}

// StatusBody is a transformation's status, also the data of every live event.
type StatusBody struct {
	TransformationID uuid.UUID `json:"transformation_id"`
	Status           string    `json:"status" enum:"PENDING,PROCESSING,COMPLETED,FAILED,CANCELLED"`
	Progress         int       `json:"progress"`
	Message          string    `json:"message"`
	ErrorMessage     *string   `json:"error_message"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func transformationStatus(t core.Transformation) StatusBody {
	return StatusBody{TransformationID: t.ID, Status: string(t.Status), Progress: t.Progress, Message: t.Message,
		ErrorMessage: optString(t.ErrorMessage), UpdatedAt: t.UpdatedAt}
}

func (s *server) registerTransformations() {
	tags := []string{"Transformations"}
	svc := s.deps.Transformations
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "createTransformation", Method: http.MethodPost, Path: "/api/transformations", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary:     "Queue a transformation of a document (member)",
		Description: "Returns the PENDING transformation at once; follow it with GET .../status, the SSE stream or the WebSocket.",
		Errors:      []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *createTransformationInput) (*transformationOutput, error) {
		in2 := transformation.CreateInput{DocumentID: uuid.MustParse(in.Body.DocumentID), Type: in.Body.TransformationType,
			Parameters: in.Body.Parameters, Provider: in.Body.Provider}
		if in.Body.PresetID != "" {
			p := uuid.MustParse(in.Body.PresetID)
			in2.PresetID = &p
		}
		t, err := svc.Create(ctx, in2)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &transformationOutput{Body: transformationBody(t)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listTransformations", Method: http.MethodGet, Path: "/api/transformations", Tags: tags,
		Summary: "The current workspace's transformations, newest first", Errors: []int{http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *listTransformationsInput) (*transformationsOutput, error) {
		li := transformation.ListInput{Status: in.Status, Type: in.TransformationType, Limit: in.Limit, Cursor: in.Cursor}
		if in.DocumentID != "" {
			id, err := parseUUID(in.DocumentID, "query.document_id")
			if err != nil {
				return nil, s.fail(ctx, err)
			}
			li.DocumentID = &id
		}
		page, err := svc.List(ctx, li)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &transformationsOutput{}
		out.Body.Transformations = make([]TransformationBody, 0, len(page.Transformations))
		for _, t := range page.Transformations {
			out.Body.Transformations = append(out.Body.Transformations, transformationBody(t))
		}
		out.Body.Count = len(out.Body.Transformations)
		if page.NextCursor != "" {
			out.Body.NextCursor = &page.NextCursor
		}
		return out, nil
	})

	get := func(ctx context.Context, raw string) (core.Transformation, error) {
		id, err := parseUUID(raw, "path.id")
		if err != nil {
			return core.Transformation{}, s.fail(ctx, err)
		}
		t, err := svc.Get(ctx, id)
		if err != nil {
			return core.Transformation{}, s.fail(ctx, err)
		}
		return t, nil
	}
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getTransformation", Method: http.MethodGet, Path: "/api/transformations/{id}", Tags: tags, Summary: "A transformation",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *transformationIDInput) (*transformationOutput, error) {
		t, err := get(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &transformationOutput{Body: transformationBody(t)}, nil
	})
	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getTransformationStatus", Method: http.MethodGet, Path: "/api/transformations/{id}/status", Tags: tags,
		Summary: "A transformation's status and progress", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *transformationIDInput) (*struct{ Body StatusBody }, error) {
		t, err := get(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		return &struct{ Body StatusBody }{Body: transformationStatus(t)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "cancelTransformation", Method: http.MethodPost, Path: "/api/transformations/{id}/cancel", Tags: tags,
		Summary:     "Cancel a pending or running transformation",
		Description: "A running job stops within seconds and its result is never written. 409 when already final.",
		Errors:      []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *transformationIDInput) (*struct {
		Body struct {
			TransformationID uuid.UUID `json:"transformation_id"`
			Status           string    `json:"status"`
		}
	}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		t, err := svc.Cancel(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &struct {
			Body struct {
				TransformationID uuid.UUID `json:"transformation_id"`
				Status           string    `json:"status"`
			}
		}{}
		out.Body.TransformationID, out.Body.Status = t.ID, string(t.Status)
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "retryTransformation", Method: http.MethodPost, Path: "/api/transformations/{id}/retry", Tags: tags,
		Summary: "Queue a failed or cancelled transformation again", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *transformationIDInput) (*transformationOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		t, err := svc.Retry(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return &transformationOutput{Body: transformationBody(t)}, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "deleteTransformation", Method: http.MethodDelete, Path: "/api/transformations/{id}", Tags: tags, DefaultStatus: http.StatusNoContent,
		Summary: "Delete a transformation (soft; cancels it first if running)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *transformationIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := svc.Delete(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	sse.Register(s.api, s.secured(huma.Operation{
		OperationID: "transformationEvents", Method: http.MethodGet, Path: "/api/transformations/{id}/events", Tags: tags,
		Summary:     "Server-sent status events until the transformation is final",
		Description: "The current status first, then each change; the stream closes after COMPLETED, FAILED or CANCELLED.",
		Errors:      []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), map[string]any{"status": StatusBody{}}, func(ctx context.Context, in *transformationIDInput, send sse.Sender) {
		s.streamStatus(ctx, in.ID, send)
	})
}

// streamStatus sends the current status, then each change, until final.
// It subscribes before reading the status so no change falls in between,
// and re-reads the row now and then in case an event was dropped.
func (s *server) streamStatus(ctx context.Context, raw string, send sse.Sender) {
	id, err := parseUUID(raw, "path.id")
	if err != nil {
		_ = send(sse.Message{Data: problemFor(ctx, s.log, err)})
		return
	}
	ident, _ := core.IdentityFrom(ctx)
	events, cancel, err := s.deps.Events.Subscribe(ctx, ident.WorkspaceID)
	if err != nil {
		s.log.ErrorContext(ctx, "subscribe to events", "err", err)
		return
	}
	defer cancel()
	t, err := s.deps.Transformations.Get(ctx, id)
	if err != nil {
		_ = send(sse.Message{Data: problemFor(ctx, s.log, err)})
		return
	}
	last := transformationStatus(t)
	if send.Data(last) != nil || t.Status.Final() {
		return
	}
	recheck := time.NewTicker(5 * time.Second)
	defer recheck.Stop()
	for {
		var next StatusBody
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			if e.TransformationID != id {
				continue
			}
			cur, err := s.deps.Transformations.Get(ctx, id)
			if err != nil {
				return
			}
			next = transformationStatus(cur)
		case <-recheck.C:
			cur, err := s.deps.Transformations.Get(ctx, id)
			if err != nil {
				return
			}
			next = transformationStatus(cur)
		}
		if next != last {
			last = next
			if send.Data(next) != nil {
				return
			}
		}
		if core.TransformationStatus(next.Status).Final() {
			return
		}
	}
}
