package core

import (
	"time"

	"github.com/google/uuid"
)

// Document is a piece of long-form content in a workspace: its extracted
// text and what is known about where it came from.
type Document struct {
	ID               uuid.UUID
	WorkspaceID      uuid.UUID
	CreatedBy        uuid.UUID
	Title            string
	Description      string
	OriginalFilename string
	ContentType      string
	SizeBytes        int64
	WordCount        int
	SHA256           string
	// Version starts at 1 and grows by one with every change; If-Match
	// compares against it.
	Version   int
	Text      string
	Metadata  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
}

// Audit actions of documents.
const (
	AuditDocumentCreated  = "document.created"
	AuditDocumentUpdated  = "document.updated"
	AuditDocumentDeleted  = "document.deleted"
	AuditDocumentRestored = "document.restored"
)
