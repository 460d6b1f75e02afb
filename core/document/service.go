// Package document holds the document use cases: creating documents from
// JSON text or uploaded files (through the TextExtractor port), reading,
// listing and searching, versioned edits with If-Match, soft delete and
// restore, within the plan's document and storage limits.
package document

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Limits is how the plan's limits reach this package.
type Limits func(plan core.Plan) core.PlanLimits

// Service implements the document use cases in the caller's current
// workspace.
type Service struct {
	uow       ports.UnitOfWork
	extractor ports.TextExtractor
	clock     ports.Clock
	limits    Limits
}

// NewService wires the document use cases.
func NewService(uow ports.UnitOfWork, extractor ports.TextExtractor, clock ports.Clock, limits Limits) *Service {
	return &Service{uow: uow, extractor: extractor, clock: clock, limits: limits}
}

// MaxTitleRunes and MaxDescriptionRunes bound the editable fields.
const (
	MaxTitleRunes       = 300
	MaxDescriptionRunes = 2000
)

// contentTypes maps the JSON content_type values to the file extension the
// extractor reads them as.
var contentTypes = map[string]string{"text/plain": ".txt", "text/markdown": ".md", "text/html": ".html"}

func checkText(field, value string, maxRunes int, required bool) (string, error) {
	v := strings.TrimSpace(value)
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", core.Invalid("invalid "+field, core.FieldError{Location: "body." + field, Message: "must be valid UTF-8 text"})
	}
	if required && v == "" {
		return "", core.Invalid("invalid "+field, core.FieldError{Location: "body." + field, Message: "required"})
	}
	if utf8.RuneCountInString(v) > maxRunes {
		return "", core.Invalid("invalid "+field, core.FieldError{Location: "body." + field, Message: "too long"})
	}
	return v, nil
}

// CreateInput is a document given as text.
type CreateInput struct {
	Title       string
	Content     string
	Description string
	// ContentType is text/plain (default), text/markdown or text/html (its
	// text is extracted).
	ContentType string
}

// Create stores a document given as text (member).
func (s *Service) Create(ctx context.Context, in CreateInput) (core.Document, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActCreateContent)
	if err != nil {
		return core.Document{}, err
	}
	ct := strings.ToLower(strings.TrimSpace(in.ContentType))
	if ct == "" {
		ct = "text/plain"
	}
	ext, ok := contentTypes[ct]
	if !ok {
		return core.Document{}, core.Invalid("invalid content type", core.FieldError{Location: "body.content_type", Message: "one of text/plain, text/markdown, text/html"})
	}
	title, err := checkText("title", in.Title, MaxTitleRunes, true)
	if err != nil {
		return core.Document{}, err
	}
	desc, err := checkText("description", in.Description, MaxDescriptionRunes, false)
	if err != nil {
		return core.Document{}, err
	}
	if strings.TrimSpace(in.Content) == "" {
		return core.Document{}, core.Invalid("the content is empty", core.FieldError{Location: "body.content", Message: "required"})
	}
	extracted, err := s.extractor.Extract(ctx, "content"+ext, []byte(in.Content))
	if err != nil {
		return core.Document{}, relocate(err, "body.content")
	}
	d := s.newDocument(id, title, desc, "", []byte(in.Content), extracted)
	return d, s.insert(ctx, id, &d)
}

// UploadInput is an uploaded file.
type UploadInput struct {
	Filename    string
	Content     []byte
	Title       string
	Description string
}

// Upload stores a document from a file, extracting its text (member).
func (s *Service) Upload(ctx context.Context, in UploadInput) (core.Document, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActCreateContent)
	if err != nil {
		return core.Document{}, err
	}
	title, err := checkText("title", in.Title, MaxTitleRunes, false)
	if err != nil {
		return core.Document{}, err
	}
	desc, err := checkText("description", in.Description, MaxDescriptionRunes, false)
	if err != nil {
		return core.Document{}, err
	}
	if len(in.Content) == 0 {
		return core.Document{}, core.Invalid("the file is empty", core.FieldError{Location: "body.file", Message: "empty"})
	}
	name := core.SanitizeFilename(in.Filename)
	extracted, err := s.extractor.Extract(ctx, name, in.Content)
	if err != nil {
		return core.Document{}, relocate(err, "body.file")
	}
	if title == "" {
		title = strings.TrimSuffix(name, path.Ext(name))
		if t, ok := extracted.Metadata["title"].(string); ok && strings.TrimSpace(t) != "" {
			title = strings.TrimSpace(t)
		}
		if r := []rune(title); len(r) > MaxTitleRunes {
			title = string(r[:MaxTitleRunes])
		}
	}
	d := s.newDocument(id, title, desc, name, in.Content, extracted)
	return d, s.insert(ctx, id, &d)
}

// relocate points the field errors of an extraction failure at field.
func relocate(err error, field string) error {
	var e *core.Error
	if errors.As(err, &e) && e.Code == core.EINVALID && len(e.Fields) == 0 {
		return &core.Error{Code: e.Code, Message: e.Message, Fields: []core.FieldError{{Location: field, Message: e.Message}}, Err: e.Err}
	}
	return err
}

func (s *Service) newDocument(id core.Identity, title, desc, filename string, raw []byte, x ports.ExtractedText) core.Document {
	sum := sha256.Sum256(raw)
	now := s.clock.Now()
	meta := x.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	return core.Document{ID: uuid.Must(uuid.NewV7()), WorkspaceID: id.WorkspaceID, CreatedBy: id.UserID, Title: title, Description: desc,
		OriginalFilename: filename, ContentType: x.ContentType, SizeBytes: int64(len(raw)), WordCount: core.WordCount(x.Text),
		SHA256: hex.EncodeToString(sum[:]), Version: 1, Text: x.Text, Metadata: meta, CreatedAt: now, UpdatedAt: now}
}

func (s *Service) insert(ctx context.Context, id core.Identity, d *core.Document) error {
	return s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		ws, err := tx.Workspaces().Get(ctx)
		if err != nil {
			return err
		}
		limits := s.limits(ws.Plan)
		count, bytes, err := tx.Documents().Usage(ctx)
		if err != nil {
			return err
		}
		if err := core.CheckCount("documents", ws.Plan, count, limits.Documents); err != nil {
			return err
		}
		if limits.StorageBytes > 0 && bytes+d.SizeBytes > limits.StorageBytes {
			return core.QuotaExceeded("storage", ws.Plan, limits.StorageBytes)
		}
		if err := tx.Documents().Create(ctx, d); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, s.clock.Now(), core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			core.AuditDocumentCreated, "document", core.Ref(d.ID), map[string]any{"title": d.Title, "content_type": d.ContentType,
				"size_bytes": d.SizeBytes, "original_filename": d.OriginalFilename}))
	})
}

var errDocumentNotFound = core.Errorf(core.ENOTFOUND, "document not found")

func notFound(err error) error {
	if errors.Is(err, core.ErrNotFound) {
		return errDocumentNotFound
	}
	return err
}

// Get returns a document of the current workspace (viewer).
func (s *Service) Get(ctx context.Context, docID uuid.UUID) (core.Document, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return core.Document{}, err
	}
	var d core.Document
	err := s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		var err error
		d, err = tx.Documents().Get(ctx, docID)
		return err
	})
	return d, notFound(err)
}

// Page is one page of documents.
type Page struct {
	Documents  []core.Document
	NextCursor string
}

// List returns the current workspace's documents, newest first, matching q
// when given (viewer).
func (s *Service) List(ctx context.Context, q string, limit int, cursor string) (Page, error) {
	if _, err := core.InCurrentWorkspace(ctx, core.ActReadContent); err != nil {
		return Page{}, err
	}
	limit, err := core.PageLimit(limit)
	if err != nil {
		return Page{}, err
	}
	if utf8.RuneCountInString(q) > 200 {
		return Page{}, core.Invalid("invalid query", core.FieldError{Location: "query.q", Message: "at most 200 characters"})
	}
	before, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	var page Page
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		docs, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: strings.TrimSpace(q), Limit: limit + 1, Before: before})
		if err != nil {
			return err
		}
		if len(docs) > limit {
			docs = docs[:limit]
			last := docs[len(docs)-1]
			page.NextCursor = core.EncodeCursor(last.CreatedAt, last.ID)
		}
		page.Documents = docs
		return nil
	})
	return page, err
}

// UpdateInput changes a document; nil fields stay.
type UpdateInput struct {
	Title       *string
	Description *string
	Content     *string
	// IfMatch, when set, is the version the caller last read: a different
	// current version is EPRECONDITION (412).
	IfMatch *int
}

// Update edits a document (its creator as member, anyone's as admin).
func (s *Service) Update(ctx context.Context, docID uuid.UUID, in UpdateInput) (core.Document, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return core.Document{}, err
	}
	var out core.Document
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		d, err := tx.Documents().Get(ctx, docID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, d.CreatedBy); err != nil {
			return err
		}
		if in.IfMatch != nil && *in.IfMatch != d.Version {
			return core.Errorf(core.EPRECONDITION, "the document is at version %d, not %d", d.Version, *in.IfMatch)
		}
		changes := map[string]any{}
		if in.Title != nil {
			t, err := checkText("title", *in.Title, MaxTitleRunes, true)
			if err != nil {
				return err
			}
			if t != d.Title {
				changes["title"] = map[string]any{"from": d.Title, "to": t}
				d.Title = t
			}
		}
		if in.Description != nil {
			v, err := checkText("description", *in.Description, MaxDescriptionRunes, false)
			if err != nil {
				return err
			}
			if v != d.Description {
				changes["description"] = map[string]any{"from": d.Description, "to": v}
				d.Description = v
			}
		}
		if in.Content != nil {
			if strings.TrimSpace(*in.Content) == "" {
				return core.Invalid("the content is empty", core.FieldError{Location: "body.content", Message: "must not be empty"})
			}
			ext := ".txt"
			for ct, e := range contentTypes {
				if ct == d.ContentType {
					ext = e
				}
			}
			x, err := s.extractor.Extract(ctx, "content"+ext, []byte(*in.Content))
			if err != nil {
				return relocate(err, "body.content")
			}
			sum := sha256.Sum256([]byte(*in.Content))
			if hash := hex.EncodeToString(sum[:]); hash != d.SHA256 {
				changes["content"] = map[string]any{"from_sha256": d.SHA256, "to_sha256": hash, "size_bytes": len(*in.Content)}
				ws, err := tx.Workspaces().Get(ctx)
				if err != nil {
					return err
				}
				_, used, err := tx.Documents().Usage(ctx)
				if err != nil {
					return err
				}
				if max := s.limits(ws.Plan).StorageBytes; max > 0 && used-d.SizeBytes+int64(len(*in.Content)) > max {
					return core.QuotaExceeded("storage", ws.Plan, max)
				}
				d.Text, d.SHA256, d.SizeBytes, d.WordCount = x.Text, hash, int64(len(*in.Content)), core.WordCount(x.Text)
			}
		}
		if len(changes) == 0 {
			out = d
			return nil
		}
		now := s.clock.Now()
		if out, err = tx.Documents().Update(ctx, d, d.Version, now); err != nil {
			return err
		}
		changes["version"] = out.Version
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			core.AuditDocumentUpdated, "document", core.Ref(d.ID), changes))
	})
	return out, notFound(err)
}

// Delete soft-deletes a document (its creator as member, anyone's as admin).
func (s *Service) Delete(ctx context.Context, docID uuid.UUID) error {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return err
	}
	return notFound(s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		d, err := tx.Documents().Get(ctx, docID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, d.CreatedBy); err != nil {
			return err
		}
		now := s.clock.Now()
		if err := tx.Documents().SoftDelete(ctx, docID, now); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			core.AuditDocumentDeleted, "document", core.Ref(docID), map[string]any{"title": d.Title}))
	}))
}

// Restore brings back a soft-deleted document (its creator, or an admin).
func (s *Service) Restore(ctx context.Context, docID uuid.UUID) (core.Document, error) {
	id, err := core.InCurrentWorkspace(ctx, core.ActEditOwnContent)
	if err != nil {
		return core.Document{}, err
	}
	var out core.Document
	err = s.uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		d, err := tx.Documents().GetDeleted(ctx, docID)
		if err != nil {
			return err
		}
		if err := core.AuthorizeEdit(id, d.CreatedBy); err != nil {
			return err
		}
		ws, err := tx.Workspaces().Get(ctx)
		if err != nil {
			return err
		}
		count, bytes, err := tx.Documents().Usage(ctx)
		if err != nil {
			return err
		}
		limits := s.limits(ws.Plan)
		if err := core.CheckCount("documents", ws.Plan, count, limits.Documents); err != nil {
			return err
		}
		if limits.StorageBytes > 0 && bytes+d.SizeBytes > limits.StorageBytes {
			return core.QuotaExceeded("storage", ws.Plan, limits.StorageBytes)
		}
		now := s.clock.Now()
		if out, err = tx.Documents().Restore(ctx, docID, now); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, core.NewAuditEvent(ctx, now, core.Ref(id.WorkspaceID), core.Ref(id.UserID),
			core.AuditDocumentRestored, "document", core.Ref(docID), map[string]any{"title": d.Title}))
	})
	return out, notFound(err)
}

func decodeCursor(c string) (*ports.DocumentPosition, error) {
	at, id, ok, err := core.DecodeCursor(c)
	if !ok {
		return nil, err
	}
	return &ports.DocumentPosition{CreatedAt: at, ID: id}, nil
}
