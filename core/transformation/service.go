// Package transformation holds the transformation use cases (create with
// validated parameters and presets, list, status, cancel, retry, delete)
// and the worker that runs a queued job: claim, generate through the AI
// port with progress events, enforce the output format, complete.
package transformation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// Limits is how the plan's limits reach this package.
type Limits func(plan core.Plan) core.PlanLimits

// Config holds the pipeline settings.
type Config struct {
	// Providers are the configured provider names (AI_PROVIDERS); a
	// request's provider override must be one of them.
	Providers []string
}

// Service implements the transformation use cases in the caller's current
// workspace.
type Service struct {
	uow    ports.UnitOfWork
	queue  ports.Queue
	events ports.EventBus
	clock  ports.Clock
	limits Limits
	cfg    Config
	log    *slog.Logger
}

// NewService wires the use cases.
func NewService(uow ports.UnitOfWork, queue ports.Queue, events ports.EventBus, clock ports.Clock, limits Limits, cfg Config, log *slog.Logger) *Service {
	return &Service{uow: uow, queue: queue, events: events, clock: clock, limits: limits, cfg: cfg, log: log}
}

// monthStart is the start of the calendar month (UTC) of t, the window of
// the monthly AI request quota.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// CreateInput is a transformation request.
type CreateInput struct {
	DocumentID uuid.UUID
	Type       string
	Parameters map[string]any
	PresetID   *uuid.UUID
	Provider   string
}

// Create validates the request, inserts the PENDING transformation and its
// audit event in one transaction, then enqueues it (member).
func (s *Service) Create(ctx context.Context, in CreateInput) (core.Transformation, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActCreateContent)
	if err != nil {
		return core.Transformation{}, err
	}
	typ, ok := transform.ParseType(in.Type)
	if !ok {
		return core.Transformation{}, core.Invalid("unknown transformation type", core.FieldError{Location: "body.transformation_type",
			Message: "one of SUMMARY, SOCIAL_MEDIA, BLOG_POST, EMAIL_SEQUENCE, NEWSLETTER, CUSTOM"})
	}
	provider := strings.ToLower(strings.TrimSpace(in.Provider))
	if provider != "" && !slices.Contains(s.cfg.Providers, provider) {
		return core.Transformation{}, core.Invalid("unknown provider", core.FieldError{Location: "body.provider",
			Message: "one of " + strings.Join(s.cfg.Providers, ", ")})
	}
	var t core.Transformation
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		params := map[string]any{}
		if in.PresetID != nil {
			p, err := tx.Presets().Get(ctx, *in.PresetID)
			if errors.Is(err, core.ErrNotFound) {
				return core.Errorf(core.ENOTFOUND, "preset not found")
			}
			if err != nil {
				return err
			}
			if p.Type != string(typ) {
				return core.Invalid("the preset is for another type", core.FieldError{Location: "body.preset_id",
					Message: fmt.Sprintf("a %s preset can't configure a %s transformation", p.Type, typ)})
			}
			for k, v := range p.Parameters {
				params[k] = v
			}
			if err := tx.Presets().IncrementUsage(ctx, p.ID); err != nil {
				return err
			}
		}
		for k, v := range in.Parameters {
			params[k] = v
		}
		validated, err := transform.Validate(typ, params, "body.parameters")
		if err != nil {
			return err
		}
		ws, err := tx.Workspaces().Get(ctx)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		if err := checkBudgets(ctx, tx, ws.Plan, s.limits(ws.Plan), now, 0); err != nil {
			return err
		}
		t = core.Transformation{ID: uuid.Must(uuid.NewV7()), WorkspaceID: id.WorkspaceID, DocumentID: in.DocumentID, CreatedBy: id.UserID,
			Type: string(typ), Parameters: validated, PresetID: in.PresetID, RequestedProvider: provider, Status: core.StatusPending,
			Message: "queued", CreatedAt: now, UpdatedAt: now}
		// The insert checks that the document is live in the workspace
		// (ENOTFOUND "document not found" otherwise), without reading its
		// content here.
		if err := tx.Transformations().Create(ctx, &t); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			"transformation.created", "transformation", core.Ref(t.ID), map[string]any{"type": t.Type, "document_id": t.DocumentID.String()}))
	})
	if err != nil {
		return core.Transformation{}, err
	}
	s.enqueue(ctx, t)
	return t, nil
}

// checkBudgets refuses (EQUOTA) a transformation of a workspace that has
// used its plan's AI requests this month (counted excludes the
// transformations already created for this request: 0 at create, 1 when the
// worker checks again before the call) or reached its AI spend budget.
// Each count reads at most limit index entries before it refuses, so it
// stays cheap however busy the workspace; an unlimited plan reads nothing.
func checkBudgets(ctx context.Context, tx ports.Tx, plan core.Plan, limits core.PlanLimits, now time.Time, counted int) error {
	if limit := limits.AIRequestsPerMonth; limit > 0 {
		used, err := tx.Transformations().CountCreatedSince(ctx, monthStart(now))
		if err != nil {
			return err
		}
		if err := core.CheckCount("AI requests per month", plan, used-counted, limit); err != nil {
			return err
		}
	}
	if budget := limits.AISpendPerMonthUSD; budget > 0 {
		spent, err := tx.Transformations().SpendSince(ctx, monthStart(now))
		if err != nil {
			return err
		}
		if spent >= budget {
			return core.QuotaExceeded("AI spend per month", plan, fmt.Sprintf("$%.2f", budget))
		}
	}
	return nil
}

// enqueue hands a PENDING transformation to the queue. A failure is logged,
// not returned: the row is committed and the sweeper re-enqueues PENDING
// rows that no queue holds.
func (s *Service) enqueue(ctx context.Context, t core.Transformation) {
	if err := s.queue.Enqueue(ctx, ports.Job{TransformationID: t.ID, WorkspaceID: t.WorkspaceID}); err != nil {
		s.log.ErrorContext(ctx, "enqueue transformation", "transformation_id", t.ID, "workspace_id", t.WorkspaceID, "err", err)
	}
}

var errNotFound = core.Errorf(core.ENOTFOUND, "transformation not found")

func notFound(err error) error {
	if errors.Is(err, core.ErrNotFound) {
		return errNotFound
	}
	return err
}

// Get returns a transformation (viewer).
func (s *Service) Get(ctx context.Context, transformationID uuid.UUID) (core.Transformation, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return core.Transformation{}, err
	}
	var t core.Transformation
	err := s.uow.Autocommit(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		t, err = tx.Transformations().Get(ctx, transformationID)
		return err
	})
	return t, notFound(err)
}

// ListInput filters a list.
type ListInput struct {
	Status     string
	DocumentID *uuid.UUID
	Type       string
	Limit      int
	Cursor     string
}

// Page is one page of transformations.
type Page struct {
	Transformations []core.Transformation
	NextCursor      string
}

// List returns the current workspace's transformations, newest first (viewer).
func (s *Service) List(ctx context.Context, in ListInput) (Page, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return Page{}, err
	}
	limit, err := core.PageLimit(in.Limit)
	if err != nil {
		return Page{}, err
	}
	in.Limit = limit
	filter := ports.TransformationFilter{DocumentID: in.DocumentID, Limit: in.Limit + 1}
	if in.Status != "" {
		st := core.TransformationStatus(strings.ToUpper(in.Status))
		if !slices.Contains([]core.TransformationStatus{core.StatusPending, core.StatusProcessing, core.StatusCompleted, core.StatusFailed, core.StatusCancelled}, st) {
			return Page{}, core.Invalid("invalid status", core.FieldError{Location: "query.status", Message: "one of PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED"})
		}
		filter.Status = st
	}
	if in.Type != "" {
		typ, ok := transform.ParseType(in.Type)
		if !ok {
			return Page{}, core.Invalid("invalid type", core.FieldError{Location: "query.transformation_type", Message: "unknown type"})
		}
		filter.Type = string(typ)
	}
	at, cid, ok, err := core.DecodeCursor(in.Cursor)
	if err != nil {
		return Page{}, err
	}
	if ok {
		filter.Before = &ports.TransformationPosition{CreatedAt: at, ID: cid}
	}
	var page Page
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		list, err := tx.Transformations().List(ctx, filter)
		if err != nil {
			return err
		}
		if len(list) > in.Limit {
			list = list[:in.Limit]
			last := list[len(list)-1]
			page.NextCursor = core.EncodeCursor(last.CreatedAt, last.ID)
		}
		page.Transformations = list
		return nil
	})
	return page, err
}

// Cancel stops a PENDING or PROCESSING transformation at once (its creator
// as member, anyone's as admin); a running worker is told through the
// event bus and its late result is never written. ECONFLICT when final.
func (s *Service) Cancel(ctx context.Context, transformationID uuid.UUID) (core.Transformation, error) {
	t, err := s.changeStatus(ctx, transformationID, "transformation.cancelled", ports.TransformationStore.Cancel)
	if err != nil {
		return core.Transformation{}, err
	}
	s.publish(ctx, EventCancelled, t)
	return t, nil
}

// Retry puts a FAILED or CANCELLED transformation back in the queue.
func (s *Service) Retry(ctx context.Context, transformationID uuid.UUID) (core.Transformation, error) {
	t, err := s.changeStatus(ctx, transformationID, "transformation.retried", ports.TransformationStore.Retry)
	if err != nil {
		return core.Transformation{}, err
	}
	s.enqueue(ctx, t)
	return t, nil
}

// changeStatus applies a status transition the caller may make (their own
// transformation as member, anyone's as admin) and records it in the audit
// trail, in one transaction.
func (s *Service) changeStatus(ctx context.Context, transformationID uuid.UUID, action string,
	transition func(ports.TransformationStore, context.Context, uuid.UUID, time.Time) (core.Transformation, error)) (core.Transformation, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return core.Transformation{}, err
	}
	var t core.Transformation
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		cur, err := tx.Transformations().Get(ctx, transformationID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, cur.CreatedBy); err != nil {
			return err
		}
		now := s.clock.Now()
		if t, err = transition(tx.Transformations(), ctx, transformationID, now); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			action, "transformation", core.Ref(t.ID), map[string]any{"status": map[string]any{"from": string(cur.Status), "to": string(t.Status)}}))
	})
	return t, notFound(err)
}

// Delete soft-deletes a transformation, cancelling it first if it is still
// running.
func (s *Service) Delete(ctx context.Context, transformationID uuid.UUID) error {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return err
	}
	var cancelled *core.Transformation
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		cur, err := tx.Transformations().Get(ctx, transformationID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, cur.CreatedBy); err != nil {
			return err
		}
		now := s.clock.Now()
		if !cur.Status.Final() {
			t, err := tx.Transformations().Cancel(ctx, transformationID, now)
			if err != nil {
				return err
			}
			cancelled = &t
		}
		if err := tx.Transformations().SoftDelete(ctx, transformationID, now); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			"transformation.deleted", "transformation", core.Ref(transformationID), nil))
	})
	if err != nil {
		return notFound(err)
	}
	if cancelled != nil {
		s.publish(ctx, EventCancelled, *cancelled)
	}
	return nil
}

// Event types published on the bus.
const (
	EventStarted   = "transformation_started"
	EventProgress  = "transformation_progress"
	EventCompleted = "transformation_completed"
	EventFailed    = "transformation_failed"
	EventCancelled = "transformation_cancelled"
)

// StatusData is the data of every status event (and of GET .../status).
func StatusData(t core.Transformation) map[string]any {
	return map[string]any{"transformation_id": t.ID.String(), "status": string(t.Status), "progress": t.Progress,
		"message": t.Message, "error_message": t.ErrorMessage, "updated_at": t.UpdatedAt.UTC().Format(time.RFC3339Nano)}
}

func (s *Service) publish(ctx context.Context, typ string, t core.Transformation) {
	publish(ctx, s.events, s.log, s.clock, typ, t, nil)
}

func publish(ctx context.Context, bus ports.EventBus, log *slog.Logger, clock ports.Clock, typ string, t core.Transformation, extra map[string]any) {
	data := StatusData(t)
	for k, v := range extra {
		data[k] = v
	}
	e := ports.Event{Type: typ, WorkspaceID: t.WorkspaceID, TransformationID: t.ID, Data: data, Timestamp: clock.Now()}
	if err := bus.Publish(context.WithoutCancel(ctx), e); err != nil {
		log.WarnContext(ctx, "publish transformation event", "type", typ, "transformation_id", t.ID, "err", err)
	}
}
