package memory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// DocumentStore keeps documents inside one transaction of UnitOfWork.
// Documents are readable and writable only in the scope's workspace, live or
// soft-deleted; they are never removed.
//
// Search (DocumentFilter.Query) matches a document when every
// whitespace-separated word of the query is a case-insensitive substring of
// its title, description or text. The PostgreSQL adapter matches whole words
// (full-text search): for queries of whole words, the two agree.
type DocumentStore struct {
	tx *tx
}

var _ ports.DocumentStore = (*DocumentStore)(nil)

// documentRecord is a stored document. Its metadata is kept as JSON, like
// the jsonb column, so that reading it back yields what PostgreSQL would
// (numbers as float64) and a fresh map every time; search is the lower-cased
// text that queries match, computed when the document is written, as the
// generated column is.
type documentRecord struct {
	d        core.Document // Metadata is nil
	metadata []byte
	search   string
}

// document returns a copy of the stored document, without its text unless
// withText.
func (r documentRecord) document(withText bool) core.Document {
	d := r.d
	d.DeletedAt = dbTimePtr(d.DeletedAt)
	if !withText {
		d.Text = ""
	}
	// The bytes were produced by json.Marshal of a map, so they decode.
	_ = json.Unmarshal(r.metadata, &d.Metadata)
	return d
}

// newDocumentRecord validates d as the table's types and constraints would
// and returns its record, with d's times as stored.
func newDocumentRecord(op string, d core.Document) (documentRecord, error) {
	for name, v := range map[string]string{
		"title": d.Title, "description": d.Description, "original filename": d.OriginalFilename,
		"content type": d.ContentType, "sha256": d.SHA256, "text": d.Text,
	} {
		// What a text column refuses.
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return documentRecord{}, fmt.Errorf("%s: %s is not valid UTF-8 text without NUL", op, name)
		}
	}
	switch {
	case d.Version < 1 || d.Version > math.MaxInt32:
		return documentRecord{}, fmt.Errorf("%s: version %d out of range", op, d.Version)
	case d.SizeBytes < 0:
		return documentRecord{}, fmt.Errorf("%s: negative size", op)
	case d.WordCount < 0 || d.WordCount > math.MaxInt32:
		return documentRecord{}, fmt.Errorf("%s: word count %d out of range", op, d.WordCount)
	}
	metadata := d.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	raw, err := json.Marshal(metadata)
	if err != nil {
		return documentRecord{}, fmt.Errorf("%s: encode metadata: %w", op, err)
	}
	// jsonb refuses the NUL character, which JSON can encode.
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return documentRecord{}, fmt.Errorf("%s: metadata contains a NUL character", op)
	}
	d.Metadata = nil
	d.CreatedAt, d.UpdatedAt, d.DeletedAt = dbTime(d.CreatedAt), dbTime(d.UpdatedAt), dbTimePtr(d.DeletedAt)
	return documentRecord{
		d: d, metadata: raw,
		search: strings.ToLower(d.Title + " " + d.Description + " " + d.Text),
	}, nil
}

// matches reports whether each of the lower-cased words is a substring of
// the record's search text.
func (r documentRecord) matches(words []string) bool {
	for _, w := range words {
		if !strings.Contains(r.search, w) {
			return false
		}
	}
	return true
}

// Create inserts a copy of d, giving it an id when it has none, Version 1
// when it is zero and the transaction's time as CreatedAt/UpdatedAt when
// they are zero; d receives the filled values. core.ErrNotFound when
// d.WorkspaceID is not the scope's workspace or the workspace is
// soft-deleted, or CreatedBy is not a user (a foreign key); core.ErrConflict
// when the id is taken. The checks come in PostgreSQL's order: scope,
// constraints, unique keys, foreign keys.
func (s *DocumentStore) Create(ctx context.Context, d *core.Document) error {
	op := fmt.Sprintf("create document in workspace %s", d.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	if w, ok := st.workspaces[d.WorkspaceID]; !ok || w.DeletedAt != nil || !s.tx.scope.isWorkspace(d.WorkspaceID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if d.ID == uuid.Nil {
		d.ID = uuid.New()
	}
	if d.Version == 0 {
		d.Version = 1
	}
	if d.Metadata == nil {
		d.Metadata = map[string]any{}
	}
	d.CreatedAt = dbTimeOr(d.CreatedAt, s.tx.now)
	d.UpdatedAt = dbTimeOr(d.UpdatedAt, s.tx.now)
	r, err := newDocumentRecord(op, *d)
	if err != nil {
		return err
	}
	if _, ok := st.documents[d.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	// A foreign key: soft-deleted users still exist.
	if _, ok := st.users[d.CreatedBy]; !ok {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	st.documents[d.ID] = r
	addToSet(st.documentsOf, d.WorkspaceID, d.ID)
	id, workspaceID := d.ID, d.WorkspaceID
	s.tx.onRollback(func() {
		delete(st.documents, id)
		removeFromSet(st.documentsOf, workspaceID, id)
	})
	return nil
}

// find returns the document id of the scope's workspace when it is live (or
// soft-deleted, when deleted is true).
func (s *DocumentStore) find(id uuid.UUID, deleted bool) (documentRecord, bool) {
	r, ok := s.tx.uow.documents[id]
	if !ok || !s.tx.scope.isWorkspace(r.d.WorkspaceID) || (r.d.DeletedAt != nil) != deleted {
		return documentRecord{}, false
	}
	return r, true
}

// Get returns a live document of the scope's workspace with its text and
// metadata; core.ErrNotFound ("document not found") otherwise.
func (s *DocumentStore) Get(ctx context.Context, id uuid.UUID) (core.Document, error) {
	return s.get(ctx, id, false)
}

// GetDeleted returns a soft-deleted document of the scope's workspace with
// its text and metadata; core.ErrNotFound ("document not found") otherwise.
func (s *DocumentStore) GetDeleted(ctx context.Context, id uuid.UUID) (core.Document, error) {
	return s.get(ctx, id, true)
}

func (s *DocumentStore) get(ctx context.Context, id uuid.UUID, deleted bool) (core.Document, error) {
	op := fmt.Sprintf("get document %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Document{}, err
	}
	r, ok := s.find(id, deleted)
	if !ok {
		return core.Document{}, coded(op, core.ENOTFOUND, "document not found")
	}
	return r.document(true), nil
}

// List returns the scope workspace's live documents without their text,
// newest first (CreatedAt, then ID as bytes, descending, like PostgreSQL's
// uuid order): only those strictly after filter.Before in that order when it
// is set, only those matching filter.Query when it is not blank (see
// DocumentStore), and at most filter.Limit of them when it is positive
// (Limit <= 0: no limit). An empty slice when there are none or the scope has
// no workspace.
func (s *DocumentStore) List(ctx context.Context, filter ports.DocumentFilter) ([]core.Document, error) {
	if err := s.tx.usable(ctx, "list documents"); err != nil {
		return nil, err
	}
	out := []core.Document{}
	if s.tx.scope.workspaceID == uuid.Nil {
		return out, nil
	}
	st := s.tx.uow
	words := strings.Fields(strings.ToLower(filter.Query))
	var records []documentRecord
	for id := range st.documentsOf[s.tx.scope.workspaceID] {
		r := st.documents[id]
		if r.d.DeletedAt != nil || !r.matches(words) {
			continue
		}
		if b := filter.Before; b != nil && !newerFirst(dbTime(b.CreatedAt), b.ID, r.d.CreatedAt, r.d.ID) {
			continue
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		return newerFirst(records[i].d.CreatedAt, records[i].d.ID, records[j].d.CreatedAt, records[j].d.ID)
	})
	if filter.Limit > 0 && len(records) > filter.Limit {
		records = records[:filter.Limit]
	}
	for _, r := range records {
		out = append(out, r.document(false))
	}
	return out, nil
}

// Update saves Title, Description, Text, ContentType, SizeBytes, WordCount,
// SHA256 and Metadata of the live document d.ID of the scope's workspace when
// its version is still expectedVersion, increments the version and sets
// UpdatedAt to at; it returns the stored document. Other fields of d are
// ignored. core.EPRECONDITION when the document is there at another version,
// core.ErrNotFound ("document not found") when it is not there at all.
func (s *DocumentStore) Update(ctx context.Context, d core.Document, expectedVersion int, at time.Time) (core.Document, error) {
	op := fmt.Sprintf("update document %s", d.ID)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Document{}, err
	}
	prev, ok := s.find(d.ID, false)
	if !ok {
		return core.Document{}, coded(op, core.ENOTFOUND, "document not found")
	}
	if prev.d.Version != expectedVersion {
		return core.Document{}, fmt.Errorf("%s: at version %d: %w", op, prev.d.Version,
			core.Errorf(core.EPRECONDITION, "the document changed since version %d", expectedVersion))
	}
	next := prev.d
	next.Title, next.Description, next.Text, next.ContentType = d.Title, d.Description, d.Text, d.ContentType
	next.SizeBytes, next.WordCount, next.SHA256, next.Metadata = d.SizeBytes, d.WordCount, d.SHA256, d.Metadata
	next.Version++
	next.UpdatedAt = at
	r, err := newDocumentRecord(op, next)
	if err != nil {
		return core.Document{}, err
	}
	s.put(r, prev)
	return r.document(true), nil
}

// SoftDelete sets DeletedAt and UpdatedAt of a live document of the scope's
// workspace to at; core.ErrNotFound ("document not found") otherwise.
func (s *DocumentStore) SoftDelete(ctx context.Context, id uuid.UUID, at time.Time) error {
	op := fmt.Sprintf("soft delete document %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.find(id, false)
	if !ok {
		return coded(op, core.ENOTFOUND, "document not found")
	}
	next := prev
	next.d.DeletedAt, next.d.UpdatedAt = dbTimePtr(&at), dbTime(at)
	s.put(next, prev)
	return nil
}

// Restore makes a soft-deleted document of the scope's workspace live again,
// incrementing its version and setting UpdatedAt to at, and returns it;
// core.ErrNotFound ("document not found") otherwise.
func (s *DocumentStore) Restore(ctx context.Context, id uuid.UUID, at time.Time) (core.Document, error) {
	op := fmt.Sprintf("restore document %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Document{}, err
	}
	prev, ok := s.find(id, true)
	if !ok {
		return core.Document{}, coded(op, core.ENOTFOUND, "document not found")
	}
	if prev.d.Version >= math.MaxInt32 {
		return core.Document{}, fmt.Errorf("%s: version %d out of range", op, prev.d.Version+1)
	}
	next := prev
	next.d.DeletedAt, next.d.UpdatedAt = nil, dbTime(at)
	next.d.Version++
	s.put(next, prev)
	return next.document(true), nil
}

// put replaces the record prev of a document by next and records the undo.
func (s *DocumentStore) put(next, prev documentRecord) {
	st := s.tx.uow
	st.documents[next.d.ID] = next
	s.tx.onRollback(func() { st.documents[prev.d.ID] = prev })
}

// Usage counts the scope workspace's live documents and sums their
// SizeBytes; zero and zero when the scope has no workspace.
func (s *DocumentStore) Usage(ctx context.Context) (count int, size int64, err error) {
	if err := s.tx.usable(ctx, "document usage"); err != nil {
		return 0, 0, err
	}
	if s.tx.scope.workspaceID == uuid.Nil {
		return 0, 0, nil
	}
	st := s.tx.uow
	for id := range st.documentsOf[s.tx.scope.workspaceID] {
		if r := st.documents[id]; r.d.DeletedAt == nil {
			count++
			size += r.d.SizeBytes
		}
	}
	return count, size, nil
}
