package core

import (
	"time"

	"github.com/google/uuid"
)

// TransformationStatus is where a transformation job is; emitted UPPER_CASE.
type TransformationStatus string

// Statuses: PENDING → PROCESSING → COMPLETED | FAILED | CANCELLED.
const (
	StatusPending    TransformationStatus = "PENDING"
	StatusProcessing TransformationStatus = "PROCESSING"
	StatusCompleted  TransformationStatus = "COMPLETED"
	StatusFailed     TransformationStatus = "FAILED"
	StatusCancelled  TransformationStatus = "CANCELLED"
)

// Final reports whether no worker will change the status any more.
func (s TransformationStatus) Final() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// OutputPart is one unit of a transformation's output: a post, an email, a
// newsletter section, or the whole text.
type OutputPart struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// Transformation is one job turning a document into another form.
type Transformation struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	DocumentID  uuid.UUID
	CreatedBy   uuid.UUID
	// Type is a transform.Type (SUMMARY, SOCIAL_MEDIA, ...).
	Type string
	// Parameters are validated, with defaults filled in.
	Parameters map[string]any
	PresetID   *uuid.UUID
	// RequestedProvider is the caller's provider override, "" for the
	// configured order.
	RequestedProvider string
	Status            TransformationStatus
	Progress          int
	Message           string
	Result            string
	Parts             []OutputPart
	ErrorMessage      string
	AIProvider        string
	AIModel           string
	InputTokens       int
	OutputTokens      int
	AICost            float64
	Attempts          int
	ProcessingTimeMS  int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
	StartedAt         *time.Time
	CompletedAt       *time.Time
	HeartbeatAt       *time.Time
	DeletedAt         *time.Time
}

// TransformationOutcome is what a worker writes when a job completes.
type TransformationOutcome struct {
	Result           string
	Parts            []OutputPart
	AIProvider       string
	AIModel          string
	InputTokens      int
	OutputTokens     int
	AICost           float64
	ProcessingTimeMS int64
}

// Preset is a named, reusable set of parameters for one transformation type.
type Preset struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	CreatedBy   uuid.UUID
	Name        string
	Description string
	Type        string
	Parameters  map[string]any
	// IsShared makes the preset visible to every member of the workspace;
	// otherwise only its creator sees it.
	IsShared   bool
	UsageCount int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}
