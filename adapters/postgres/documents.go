package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// DocumentStore keeps the documents of the current workspace in the
// documents table, inside one transaction of UnitOfWork. Every statement
// filters on the transaction's scope itself, and the row-level security
// policies of migrations/0003_documents.sql filter again underneath.
//
// Search (DocumentFilter.Query) is PostgreSQL full-text search with the
// 'simple' configuration over the generated documents.search column: a
// document matches when each word of the query is a word of its title,
// description or text, compared case-insensitively and without stemming
// ("report" finds "Report", not "reports"). Punctuation separates words and
// a query of punctuation only matches nothing. For a text of hundreds of
// thousands of distinct tokens, only its beginning is searchable (see the
// migration).
type DocumentStore struct {
	db querier
}

var _ ports.DocumentStore = (*DocumentStore)(nil)

// documentSummaryColumns are every column but the text, for lists; read by
// scanDocument with withText false.
const documentSummaryColumns = `id, workspace_id, created_by, title, COALESCE(description, ''),
	COALESCE(original_filename, ''), content_type, size_bytes, word_count, COALESCE(sha256, ''),
	version, metadata, created_at, updated_at, deleted_at`

// documentColumns are documentSummaryColumns and the text, read by
// scanDocument with withText true.
const documentColumns = documentSummaryColumns + `, content`

func scanDocument(row pgx.Row, withText bool) (core.Document, error) {
	var d core.Document
	dest := []any{&d.ID, &d.WorkspaceID, &d.CreatedBy, &d.Title, &d.Description,
		&d.OriginalFilename, &d.ContentType, &d.SizeBytes, &d.WordCount, &d.SHA256,
		&d.Version, &d.Metadata, &d.CreatedAt, &d.UpdatedAt, &d.DeletedAt}
	if withText {
		dest = append(dest, &d.Text)
	}
	if err := row.Scan(dest...); err != nil {
		return core.Document{}, err
	}
	if d.Metadata == nil {
		d.Metadata = map[string]any{}
	}
	d.CreatedAt, d.UpdatedAt, d.DeletedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), utcPtr(d.DeletedAt)
	return d, nil
}

// metadataOrEmpty is the value of the jsonb metadata column: {} for nil.
func metadataOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Create inserts d into the current workspace, giving it an id when it has
// none, Version 1 when it is zero and the transaction's time as
// CreatedAt/UpdatedAt when they are zero; d receives the stored values.
// Metadata is stored as a JSON object ({} when nil). core.ErrNotFound when
// d.WorkspaceID is not the current workspace or it is soft-deleted, or
// CreatedBy is not a user; core.ErrConflict when the id is taken.
func (s *DocumentStore) Create(ctx context.Context, d *core.Document) error {
	if d.ID == uuid.Nil {
		d.ID = uuid.New()
	}
	if d.Version == 0 {
		d.Version = 1
	}
	d.Metadata = metadataOrEmpty(d.Metadata)
	err := s.db.QueryRow(ctx, `
		INSERT INTO documents (id, workspace_id, created_by, title, description, original_filename,
			content_type, size_bytes, word_count, sha256, version, content, metadata,
			created_at, updated_at, deleted_at)
		SELECT $1::uuid, w.id, $3::uuid, $4::text, $5::text, $6::text,
			$7::text, $8::bigint, $9::integer, $10::text, $11::integer, $12::text, $13::jsonb,
			COALESCE($14::timestamptz, now()), COALESCE($15::timestamptz, now()), $16::timestamptz
		FROM workspaces w
		WHERE w.id = $2 AND w.id = `+scopeWorkspace+` AND w.deleted_at IS NULL
		RETURNING created_at, updated_at`,
		d.ID, d.WorkspaceID, d.CreatedBy, d.Title, nullIfEmpty(d.Description), nullIfEmpty(d.OriginalFilename),
		d.ContentType, d.SizeBytes, d.WordCount, nullIfEmpty(d.SHA256), d.Version, d.Text, d.Metadata,
		nullIfZero(d.CreatedAt), nullIfZero(d.UpdatedAt), d.DeletedAt,
	).Scan(&d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return translate(err, fmt.Sprintf("create document in workspace %s", d.WorkspaceID), "workspace not found")
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return nil
}

// Get returns a live document of the current workspace with its text and
// metadata; core.ErrNotFound ("document not found") when it is unknown,
// soft-deleted or of another workspace.
func (s *DocumentStore) Get(ctx context.Context, id uuid.UUID) (core.Document, error) {
	return s.get(ctx, id, false)
}

// GetDeleted returns a soft-deleted document of the current workspace with
// its text and metadata; core.ErrNotFound ("document not found") when it is
// unknown, live or of another workspace.
func (s *DocumentStore) GetDeleted(ctx context.Context, id uuid.UUID) (core.Document, error) {
	return s.get(ctx, id, true)
}

func (s *DocumentStore) get(ctx context.Context, id uuid.UUID, deleted bool) (core.Document, error) {
	d, err := scanDocument(s.db.QueryRow(ctx, `
		SELECT `+documentColumns+` FROM documents
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND (deleted_at IS NOT NULL) = $2`,
		id, deleted), true)
	if err != nil {
		return core.Document{}, translate(err, fmt.Sprintf("get document %s", id), "document not found")
	}
	return d, nil
}

// List returns the current workspace's live documents without their text,
// newest first (CreatedAt, then ID, descending): at most filter.Limit of
// them (every one when Limit <= 0), only those strictly after filter.Before
// in that order when it is set, and only those matching filter.Query when it
// is not blank (see DocumentStore). An empty slice when there are none or the
// scope has no workspace. The documents_workspace_created_id_idx index
// serves the order and the cursor, documents_search_idx the query.
func (s *DocumentStore) List(ctx context.Context, filter ports.DocumentFilter) ([]core.Document, error) {
	q := newKeysetList(`SELECT ` + documentSummaryColumns + ` FROM documents
		WHERE workspace_id = ` + scopeWorkspace + ` AND deleted_at IS NULL`)
	if query := strings.TrimSpace(filter.Query); query != "" {
		// plainto_tsquery ANDs the words of the query and ignores
		// operators and punctuation: "every word appears", never a syntax
		// error.
		q.and(`search @@ plainto_tsquery('simple', ` + q.arg(query) + `::text)`)
	}
	if filter.Before != nil {
		q.after(filter.Before.CreatedAt, filter.Before.ID)
	}
	return collectPage(ctx, s.db, q, filter.Limit, "list documents", func(row pgx.CollectableRow) (core.Document, error) {
		return scanDocument(row, false)
	})
}

// Update saves Title, Description, Text, ContentType, SizeBytes, WordCount,
// SHA256 and Metadata of the live document d.ID of the current workspace
// when its version is still expectedVersion, increments the version and sets
// UpdatedAt to at; it returns the stored document. Other fields of d are
// ignored.
//
// core.EPRECONDITION when the document is there at another version,
// core.ErrNotFound ("document not found") when it is not there at all. Of
// concurrent updates expecting the same version exactly one succeeds: the
// others wait for its row lock, find the version moved on when it commits,
// and the statement that tells them apart runs on a fresh snapshot (READ
// COMMITTED) that sees the winner's version.
func (s *DocumentStore) Update(ctx context.Context, d core.Document, expectedVersion int, at time.Time) (core.Document, error) {
	op := fmt.Sprintf("update document %s", d.ID)
	got, err := scanDocument(s.db.QueryRow(ctx, `
		UPDATE documents SET title = $3, description = $4, content = $5, content_type = $6,
			size_bytes = $7, word_count = $8, sha256 = $9, metadata = $10,
			version = version + 1, updated_at = $11
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL AND version = $2
		RETURNING `+documentColumns,
		d.ID, expectedVersion, d.Title, nullIfEmpty(d.Description), d.Text, d.ContentType,
		d.SizeBytes, d.WordCount, nullIfEmpty(d.SHA256), metadataOrEmpty(d.Metadata), at), true)
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return core.Document{}, translate(err, op, "document not found")
	}
	var version int
	err = s.db.QueryRow(ctx, `
		SELECT version FROM documents
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL`, d.ID).Scan(&version)
	if err != nil {
		return core.Document{}, translate(err, op, "document not found")
	}
	return core.Document{}, fmt.Errorf("%s: at version %d: %w", op, version,
		core.Errorf(core.EPRECONDITION, "the document changed since version %d", expectedVersion))
}

// SoftDelete sets DeletedAt and UpdatedAt of a live document of the current
// workspace to at, hiding it from Get, List and Usage; core.ErrNotFound
// ("document not found") when it is unknown, already deleted or of another
// workspace.
func (s *DocumentStore) SoftDelete(ctx context.Context, id uuid.UUID, at time.Time) error {
	var got uuid.UUID
	err := s.db.QueryRow(ctx, `
		UPDATE documents SET deleted_at = $2, updated_at = $2
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL
		RETURNING id`,
		id, at).Scan(&got)
	return translate(err, fmt.Sprintf("soft delete document %s", id), "document not found")
}

// Restore makes a soft-deleted document of the current workspace live again,
// incrementing its version and setting UpdatedAt to at, and returns it;
// core.ErrNotFound ("document not found") when it is unknown, live or of
// another workspace.
func (s *DocumentStore) Restore(ctx context.Context, id uuid.UUID, at time.Time) (core.Document, error) {
	d, err := scanDocument(s.db.QueryRow(ctx, `
		UPDATE documents SET deleted_at = NULL, version = version + 1, updated_at = $2
		WHERE id = $1 AND workspace_id = `+scopeWorkspace+` AND deleted_at IS NOT NULL
		RETURNING `+documentColumns,
		id, at), true)
	if err != nil {
		return core.Document{}, translate(err, fmt.Sprintf("restore document %s", id), "document not found")
	}
	return d, nil
}

// Usage counts the current workspace's live documents and sums their
// SizeBytes; zero and zero when the scope has no workspace. An index-only
// scan of documents_workspace_created_id_idx.
func (s *DocumentStore) Usage(ctx context.Context) (documents int, bytes int64, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT count(*), COALESCE(sum(size_bytes), 0)::bigint FROM documents
		WHERE workspace_id = `+scopeWorkspace+` AND deleted_at IS NULL`).Scan(&documents, &bytes)
	if err != nil {
		return 0, 0, translate(err, "document usage", "workspace not found")
	}
	return documents, bytes, nil
}
