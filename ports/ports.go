// Package ports declares the small interfaces the core consumes. Each method
// documents its error contract in terms of core's coded errors; adapters in
// adapters/ implement them and prove it with the suites in ports/porttest.
package ports

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
)

// Clock tells the time; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// UnitOfWork runs a group of store operations in one transaction.
type UnitOfWork interface {
	// Do runs fn in one transaction scoped to the identity in ctx (user and
	// current workspace, if any). When fn returns an error or panics, nothing
	// written through tx is kept and Do returns fn's error. The stores of tx
	// must not be used after fn returns.
	Do(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Autocommit runs fn like Do, except that each store operation may be
	// a transaction of its own, committed as it runs: when fn fails after
	// one succeeded, that one may be kept. For closures of one operation
	// (a read, one conditional update), where it saves a round trip.
	Autocommit(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx gives access to the stores inside one transaction.
//
// Tenant isolation: the transaction is scoped to the identity in the ctx
// given to UnitOfWork.Do (core.WithIdentity): its UserID and its current
// WorkspaceID. Methods documented as acting on "the current workspace" take
// the workspace from that scope, never from an argument, and anything of
// another workspace is core.ErrNotFound. Adapters enforce this in code
// (memory) or underneath with row-level security (PostgreSQL).
type Tx interface {
	Users() UserStore
	Workspaces() WorkspaceStore
	Invitations() InvitationStore
	Documents() DocumentStore
	Transformations() TransformationStore
	Presets() PresetStore
	Audit() AuditLog
}

// UserStore keeps accounts.
type UserStore interface {
	// Create inserts u, filling CreatedAt/UpdatedAt when zero; u.ID must be
	// the scope's user (core.ErrNotFound otherwise). It returns
	// core.ErrConflict when another live user has the same email, compared
	// case-insensitively.
	Create(ctx context.Context, u *core.User) error
	// Get returns core.ErrNotFound when no live (not soft-deleted) user has id.
	Get(ctx context.Context, id uuid.UUID) (core.User, error)
	// GetWithRole returns the live user id and, in the same read, their
	// role in the live workspace workspaceID: "" when workspaceID is
	// uuid.Nil or they are not a member (the request authentication path,
	// one round trip instead of two). core.ErrNotFound when no live user
	// has id.
	GetWithRole(ctx context.Context, id, workspaceID uuid.UUID) (core.User, core.Role, error)
	// GetByEmail finds a live user by email, case-insensitively; it returns
	// core.ErrNotFound when there is none.
	GetByEmail(ctx context.Context, email string) (core.User, error)
	// RecordLogin sets LastLoginAt; core.ErrNotFound for an unknown user or
	// one that is not the scope's user (a user changes only their own row).
	RecordLogin(ctx context.Context, id uuid.UUID, at time.Time) error
	// UpdatePassword replaces the password hash; core.ErrNotFound for an
	// unknown user or one that is not the scope's user.
	UpdatePassword(ctx context.Context, id uuid.UUID, passwordHash string, at time.Time) error
}

// WorkspaceStore keeps workspaces and memberships.
type WorkspaceStore interface {
	// Create inserts w, which must be the scope's workspace (the caller scopes
	// the transaction to the new id); core.ErrConflict when the slug is
	// taken, core.ErrNotFound when w.ID is not the scope's workspace.
	Create(ctx context.Context, w *core.Workspace) error
	// AddMember inserts m into the current workspace (m.WorkspaceID must be
	// it); core.ErrConflict when the user is already a member,
	// core.ErrNotFound when the workspace or user does not exist or is not
	// in scope.
	AddMember(ctx context.Context, m core.Membership) error
	// Membership returns the workspace as seen by userID; core.ErrNotFound
	// when the user is not a member, the workspace is soft-deleted, or
	// neither the workspace nor the user is the scope's.
	Membership(ctx context.Context, workspaceID, userID uuid.UUID) (core.WorkspaceMembership, error)
	// ListForUser returns the live workspaces userID belongs to, in the order
	// the user joined them (oldest first); userID must be the scope's user
	// (an empty list otherwise).
	ListForUser(ctx context.Context, userID uuid.UUID) ([]core.WorkspaceMembership, error)
	// Get returns the current workspace; core.ErrNotFound when it is
	// soft-deleted or the scope has none.
	Get(ctx context.Context) (core.Workspace, error)
	// Update saves Name, Slug and Description of the current workspace
	// (w.ID must be it) and sets UpdatedAt; core.ErrConflict when the slug
	// is taken, core.ErrNotFound otherwise.
	Update(ctx context.Context, w core.Workspace, at time.Time) error
	// SetPlan changes the plan of the current workspace; core.ErrNotFound
	// when there is none.
	SetPlan(ctx context.Context, plan core.Plan, at time.Time) error
	// SoftDelete marks the current workspace deleted: it disappears from
	// every read, and its slug becomes free. core.ErrNotFound when there is
	// none.
	SoftDelete(ctx context.Context, at time.Time) error
	// ListMembers returns the members of the current workspace with their
	// account details, in the order they joined.
	ListMembers(ctx context.Context) ([]core.Member, error)
	// SetMemberRole changes a member's role in the current workspace;
	// core.ErrNotFound when userID is not a member of it.
	SetMemberRole(ctx context.Context, userID uuid.UUID, role core.Role) error
	// RemoveMember deletes a membership of the current workspace;
	// core.ErrNotFound when userID is not a member of it.
	RemoveMember(ctx context.Context, userID uuid.UUID) error
	// LockMembers locks the current workspace's memberships until the
	// transaction ends (so "the last owner" checks can't race) and returns
	// how many members and owners it has.
	LockMembers(ctx context.Context) (members, owners int, err error)
}

// InvitationStore keeps invitations to the current workspace.
type InvitationStore interface {
	// Create inserts inv into the current workspace (inv.WorkspaceID must be
	// it); core.ErrNotFound otherwise.
	Create(ctx context.Context, inv *core.Invitation) error
	// ListPending returns the current workspace's invitations still pending
	// at now, newest first.
	ListPending(ctx context.Context, now time.Time) ([]core.Invitation, error)
	// Revoke ends a pending invitation of the current workspace;
	// core.ErrNotFound when it is unknown, of another workspace, or no
	// longer pending at at.
	Revoke(ctx context.Context, id uuid.UUID, at time.Time) error
	// FindByTokenHash finds an invitation of any workspace by the hash of
	// its token (the token is the capability); core.ErrNotFound when none
	// has it. It returns invitations in every state: callers check Pending.
	FindByTokenHash(ctx context.Context, tokenHash string) (core.Invitation, error)
	// MarkAccepted records that userID accepted a pending invitation of the
	// current workspace; core.ErrNotFound when it is not (or no longer)
	// pending at at, so of concurrent acceptances exactly one succeeds.
	MarkAccepted(ctx context.Context, id, userID uuid.UUID, at time.Time) error
}

// AuditLog is the append-only audit trail.
type AuditLog interface {
	// Append records e, filling ID and CreatedAt when zero. e.WorkspaceID
	// must be nil (account-level events) or the current workspace;
	// core.ErrNotFound otherwise. The write may travel with the
	// transaction's next operation or its commit, whose failure it then is.
	Append(ctx context.Context, e core.AuditEvent) error
	// List returns the current workspace's events newest first (CreatedAt,
	// then ID, descending), at most filter.Limit, only those strictly older
	// than filter.Before when it is set, and only filter.Action when set.
	List(ctx context.Context, filter AuditFilter) ([]core.AuditEvent, error)
}

// AuditFilter selects audit events.
type AuditFilter struct {
	Action string
	Limit  int
	// Before is a keyset cursor: the position of the last event of the
	// previous page.
	Before *AuditPosition
}

// AuditPosition is an event's place in the newest-first order.
type AuditPosition struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// SessionStore keeps login sessions and the hashes of their refresh tokens.
// A session is the family of every refresh token rotated from one login.
type SessionStore interface {
	// Create stores s whose current refresh token has hash refreshHash. When
	// the user then has more than maxPerUser active sessions, the oldest are
	// revoked and their IDs returned (maxPerUser <= 0: no cap); the new
	// session itself is never evicted. core.ErrConflict when an active
	// session already has s.ID.
	Create(ctx context.Context, s core.Session, refreshHash string, maxPerUser int) (evicted []uuid.UUID, err error)
	// Get returns an active session; core.ErrNotFound when it is unknown,
	// revoked or expired.
	Get(ctx context.Context, id uuid.UUID) (core.Session, error)
	// Touch sets LastUsedAt of an active session; core.ErrNotFound otherwise.
	Touch(ctx context.Context, id uuid.UUID, at time.Time) error
	// Rotate atomically replaces the current refresh token hash presented by
	// next, sets LastUsedAt to now and ExpiresAt to expiresAt, and returns the
	// updated session. When presented is a hash the session already rotated
	// away from, it revokes the session and returns an error matching
	// core.ErrReuseDetected together with that session (so the caller can
	// record who it belonged to). core.ErrNotFound when no active session knows
	// presented. Of concurrent calls with the same presented hash exactly one
	// succeeds.
	Rotate(ctx context.Context, presented, next string, now, expiresAt time.Time) (core.Session, error)
	// FindByRefresh returns the active session whose current refresh token
	// hash is h; core.ErrNotFound otherwise.
	FindByRefresh(ctx context.Context, h string) (core.Session, error)
	// SetWorkspace changes the current workspace of an active session;
	// core.ErrNotFound otherwise.
	SetWorkspace(ctx context.Context, id, workspaceID uuid.UUID) error
	// Reissue atomically replaces the current refresh token hash of an active
	// session by next without the old token being presented (the old hash
	// becomes rotated-away, so presenting it later is reuse), sets the
	// session's workspace, LastUsedAt to now and ExpiresAt to expiresAt, and
	// returns the updated session. core.ErrNotFound when the session is not
	// active. Used to switch workspaces.
	Reissue(ctx context.Context, id uuid.UUID, next string, workspaceID uuid.UUID, now, expiresAt time.Time) (core.Session, error)
	// Revoke ends an active session at once; core.ErrNotFound when it is not
	// active.
	Revoke(ctx context.Context, id uuid.UUID) error
	// RevokeAllForUser ends every active session of userID except keep
	// (uuid.Nil keeps none) and returns how many it ended.
	RevokeAllForUser(ctx context.Context, userID, keep uuid.UUID) (int, error)
	// ListForUser returns the active sessions of userID, newest first.
	ListForUser(ctx context.Context, userID uuid.UUID) ([]core.Session, error)
}

// RateLimit allows Events per Per; Events <= 0 disables limiting.
type RateLimit struct {
	Events int
	Per    time.Duration
}

// Disabled reports whether the limit lets everything through.
func (l RateLimit) Disabled() bool { return l.Events <= 0 || l.Per <= 0 }

// RateDecision is a rate limiter's answer.
type RateDecision struct {
	Allowed bool
	// RetryAfter is how long until one more event would be allowed; zero when
	// Allowed.
	RetryAfter time.Duration
	// Remaining is how many more events are allowed right now.
	Remaining int
}

// RateLimiter counts events per key with the GCRA (a token bucket of
// limit.Events refilled evenly over limit.Per). Implementations shared by
// several processes keep their state in one place.
type RateLimiter interface {
	// Peek reports whether one more event under key would be allowed,
	// without recording anything.
	Peek(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
	// Hit records one event under key when allowed; a refused event is not
	// recorded.
	Hit(ctx context.Context, key string, limit RateLimit) (RateDecision, error)
	// HitN records n events at once (tokens of one AI call, say) when all
	// n fit; n above limit.Events counts as limit.Events, so one huge
	// request waits for a full bucket instead of never passing.
	HitN(ctx context.Context, key string, limit RateLimit, n int) (RateDecision, error)
	// Reset forgets every event recorded under key.
	Reset(ctx context.Context, key string) error
}

// AccessClaims is what an access token says about its bearer.
type AccessClaims struct {
	UserID      uuid.UUID
	SessionID   uuid.UUID
	WorkspaceID uuid.UUID
	IssuedAt    time.Time
	ExpiresAt   time.Time
}

// AccessTokens issues and verifies signed, short-lived access tokens.
type AccessTokens interface {
	// Issue signs c, setting IssuedAt and ExpiresAt from its own clock and
	// lifetime, and returns the token with the claims it carries.
	Issue(c AccessClaims) (string, AccessClaims, error)
	// Verify returns core.ErrUnauthorized for a token that is malformed,
	// forged, expired, not yet valid, of another type or audience, or
	// signed with an unknown key or algorithm.
	Verify(token string) (AccessClaims, error)
}

// HealthChecker is a dependency that can say whether it answers.
type HealthChecker interface {
	// Name is the key of the check in /api/health, e.g. "database".
	Name() string
	// Check returns nil when the dependency answers within ctx's deadline.
	Check(ctx context.Context) error
}

// ExtractedText is the text of an uploaded file.
type ExtractedText struct {
	Text string
	// ContentType is the canonical type of what was read: text/plain,
	// text/markdown, text/html, application/pdf or
	// application/vnd.openxmlformats-officedocument.wordprocessingml.document.
	ContentType string
	// Metadata holds what the file said about itself (charset, title,
	// author, pages, ...), JSON-safe values only.
	Metadata map[string]any
}

// TextExtractor turns an uploaded file into text.
type TextExtractor interface {
	// Extract reads the file named filename (its extension names the type
	// expected) and returns its text. core.EUNSUPPORTED for an extension that
	// is not accepted, an executable, or content that does not match the
	// extension; core.EINVALID for empty content, a corrupt file or one with
	// no extractable text (the message says which); core.ETOOLARGE when the
	// content expands past the extractor's limits (zip bombs, huge XML).
	Extract(ctx context.Context, filename string, content []byte) (ExtractedText, error)
}

// AIRequest asks a provider for one transformation.
type AIRequest struct {
	// Type is the transformation type (transform.Type's string form).
	Type string
	// Parameters are validated, with defaults filled in (transform.Validate).
	Parameters map[string]any
	Title      string
	// Text is the document's extracted text.
	Text string
	// Prompt is the instruction built from the catalog, for model providers.
	Prompt string
	// Provider pins the request to one provider of a router (the
	// transformation's requested provider); empty: the router's order.
	Provider string
}

// AIPart is one unit of output (a post, an email, a section).
type AIPart struct {
	Title string
	Body  string
}

// AIResult is a provider's answer.
type AIResult struct {
	// Text is the whole output as Markdown.
	Text         string
	Parts        []AIPart
	Provider     string
	Model        string
	InputTokens  int
	OutputTokens int
	// CostUSD is what the call cost, from the router's price table.
	CostUSD float64
}

// AIProviderInfo names a provider and its models.
type AIProviderInfo struct {
	Name   string
	Models []string
}

// AIProvider generates transformations. Errors follow the classes of
// core/aierror.go: core.ERATELIMIT (with RetryAfter) and core.EUNAVAILABLE
// are retryable, core.EUNSUPPORTED fails over without retry,
// core.EFORBIDDEN (auth) and core.EINVALID (invalid request, content
// policy) are final; a cancelled ctx returns an error wrapping ctx.Err().
// Build them with core.AIRateLimited, core.AIUnavailable, ... Messages are
// shown to users: never a key, a prompt or a raw vendor body.
type AIProvider interface {
	// Info names the provider and its models.
	Info(ctx context.Context) (AIProviderInfo, error)
	// Generate runs req. core.EUNSUPPORTED when the provider can't do this
	// type (routers fail over to the next provider); other errors are
	// retryable or final per their code. It honours ctx cancellation.
	Generate(ctx context.Context, req AIRequest) (AIResult, error)
	// GenerateStream is Generate, calling onDelta with each piece of text as
	// it is produced (in order; their concatenation is Result.Text). An
	// error from onDelta stops generation and is returned.
	GenerateStream(ctx context.Context, req AIRequest, onDelta func(delta string) error) (AIResult, error)
}

// DocumentStore keeps the documents of the current workspace (see Tx for
// the scope rules: anything of another workspace is core.ErrNotFound).
type DocumentStore interface {
	// Create inserts d (d.WorkspaceID must be the current workspace; ID,
	// Version 1 and times are filled when zero).
	Create(ctx context.Context, d *core.Document) error
	// Get returns a live document with its Text and Metadata;
	// core.ErrNotFound when unknown, soft-deleted or of another workspace.
	Get(ctx context.Context, id uuid.UUID) (core.Document, error)
	// GetDeleted returns a soft-deleted document (for restore);
	// core.ErrNotFound when unknown, live, or of another workspace.
	GetDeleted(ctx context.Context, id uuid.UUID) (core.Document, error)
	// List returns live documents newest first (CreatedAt, then ID,
	// descending) without their Text, at most filter.Limit, strictly after
	// filter.Before when set, matching filter.Query when set (every word of
	// the query appears in the title, description or text, case-insensitively).
	List(ctx context.Context, filter DocumentFilter) ([]core.Document, error)
	// Update saves Title, Description, Text, ContentType, SizeBytes,
	// WordCount, SHA256 and Metadata of a live document whose Version is
	// still expectedVersion, incrementing Version and setting UpdatedAt to
	// at; it returns the stored document. core.EPRECONDITION when the version
	// moved on, core.ErrNotFound when the document is not there.
	Update(ctx context.Context, d core.Document, expectedVersion int, at time.Time) (core.Document, error)
	// SoftDelete hides a live document; core.ErrNotFound otherwise.
	SoftDelete(ctx context.Context, id uuid.UUID, at time.Time) error
	// Restore makes a soft-deleted document live again (Version + 1);
	// core.ErrNotFound when it is not soft-deleted in this workspace.
	Restore(ctx context.Context, id uuid.UUID, at time.Time) (core.Document, error)
	// Usage counts the current workspace's live documents and their bytes.
	Usage(ctx context.Context) (documents int, bytes int64, err error)
}

// DocumentFilter selects documents.
type DocumentFilter struct {
	Query  string
	Limit  int
	Before *DocumentPosition
}

// DocumentPosition is a document's place in the newest-first order.
type DocumentPosition struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// ClaimedJob is a claimed transformation with what its run needs.
type ClaimedJob struct {
	Transformation core.Transformation
	// Plan is the plan of the transformation's workspace.
	Plan core.Plan
	// Document is the transformation's document, with its text; nil when
	// it is no longer live (soft-deleted).
	Document *core.Document
}

// TransformationStore keeps the transformation jobs of the current
// workspace (see Tx for the scope rules). Every status change is a
// conditional update, so concurrent workers, cancels and retries can't
// overwrite each other: a method whose precondition no longer holds changes
// nothing and says so.
type TransformationStore interface {
	// Create inserts t (PENDING; t.WorkspaceID must be the current
	// workspace; ID and times filled when zero).
	Create(ctx context.Context, t *core.Transformation) error
	// Get returns a live transformation; core.ErrNotFound when unknown,
	// soft-deleted or of another workspace.
	Get(ctx context.Context, id uuid.UUID) (core.Transformation, error)
	// List returns live transformations newest first (CreatedAt, then ID,
	// descending), at most filter.Limit (<= 0: no limit), strictly after
	// filter.Before when set, filtered by the set fields.
	List(ctx context.Context, filter TransformationFilter) ([]core.Transformation, error)
	// Claim moves a PENDING transformation to PROCESSING: Attempts + 1,
	// StartedAt (first claim only) and HeartbeatAt = now, Progress 0.
	// core.ErrNotFound when it is not PENDING (already claimed, cancelled,
	// deleted), so a duplicate delivery finds nothing to do.
	Claim(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error)
	// ClaimForRun claims like Claim and returns, with the claimed
	// transformation, what running it needs: the current workspace's plan
	// and the live document with its text, read in the same go (one round
	// trip in PostgreSQL). core.ErrNotFound as Claim, or when the current
	// workspace is gone (then roll back: the claim was made).
	ClaimForRun(ctx context.Context, id uuid.UUID, now time.Time) (ClaimedJob, error)
	// Progress records progress (0..100) and a message of a PROCESSING
	// transformation and refreshes HeartbeatAt; core.ErrNotFound when it is
	// no longer PROCESSING.
	Progress(ctx context.Context, id uuid.UUID, progress int, message string, now time.Time) error
	// Complete writes the outcome of a PROCESSING transformation and makes it
	// COMPLETED (progress 100, message "completed", CompletedAt); core.ErrNotFound when it is no
	// longer PROCESSING (a cancelled job's late result is dropped).
	Complete(ctx context.Context, id uuid.UUID, outcome core.TransformationOutcome, now time.Time) (core.Transformation, error)
	// Fail makes a PROCESSING transformation FAILED (message "failed") with a
	// caller-safe error message; core.ErrNotFound when it is no longer PROCESSING.
	Fail(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error)
	// Requeue puts a PROCESSING transformation back to PENDING (to be
	// retried), keeping Attempts and recording message; core.ErrNotFound
	// when it is no longer PROCESSING.
	Requeue(ctx context.Context, id uuid.UUID, message string, now time.Time) (core.Transformation, error)
	// Cancel makes a PENDING or PROCESSING transformation CANCELLED (message
	// "cancelled");
	// core.ECONFLICT when it is already final, core.ErrNotFound when it is
	// not there.
	Cancel(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error)
	// Retry puts a FAILED or CANCELLED transformation back to PENDING
	// (progress 0, error and result cleared); core.ECONFLICT from any other
	// status, core.ErrNotFound when it is not there.
	Retry(ctx context.Context, id uuid.UUID, now time.Time) (core.Transformation, error)
	// SoftDelete hides a transformation; core.ErrNotFound when it is not
	// there. It does not change the status (callers cancel first).
	SoftDelete(ctx context.Context, id uuid.UUID, now time.Time) error
	// CountProcessing counts the current workspace's PROCESSING jobs.
	CountProcessing(ctx context.Context) (int, error)
	// CountCreatedSince counts the current workspace's transformations
	// created at or after since, deleted ones included (for monthly quotas).
	CountCreatedSince(ctx context.Context, since time.Time) (int, error)
	// SpendSince sums the AI cost (USD) of the current workspace's
	// transformations created at or after since, deleted ones included
	// (for monthly spend budgets).
	SpendSince(ctx context.Context, since time.Time) (float64, error)
}

// TransformationFilter selects transformations.
type TransformationFilter struct {
	Status     core.TransformationStatus
	DocumentID *uuid.UUID
	Type       string
	Limit      int
	Before     *TransformationPosition
}

// TransformationPosition is a transformation's place in the newest-first
// order.
type TransformationPosition struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// PresetStore keeps the transformation presets of the current workspace.
// A preset is visible to its creator, and to every member when shared.
type PresetStore interface {
	// Create inserts p (p.WorkspaceID must be the current workspace);
	// core.ErrConflict when the workspace already has a preset of that name
	// (case-insensitive).
	Create(ctx context.Context, p *core.Preset) error
	// Get returns a preset visible to the scope's user; core.ErrNotFound
	// otherwise.
	Get(ctx context.Context, id uuid.UUID) (core.Preset, error)
	// List returns the presets visible to the scope's user, newest first,
	// only of filter.Type when set, only their own when !IncludeShared.
	List(ctx context.Context, filter PresetFilter) ([]core.Preset, error)
	// Update saves Name, Description, Parameters and IsShared of a visible
	// preset; core.ErrConflict on a duplicate name, core.ErrNotFound
	// otherwise.
	Update(ctx context.Context, p core.Preset, at time.Time) (core.Preset, error)
	// Delete removes a visible preset; core.ErrNotFound otherwise.
	Delete(ctx context.Context, id uuid.UUID) error
	// IncrementUsage adds one to a visible preset's UsageCount;
	// core.ErrNotFound otherwise.
	IncrementUsage(ctx context.Context, id uuid.UUID) error
}

// PresetFilter selects presets.
type PresetFilter struct {
	Type          string
	IncludeShared bool
	Limit         int
	Before        *TransformationPosition
}

// Job is what the queue carries: which transformation of which workspace.
type Job struct {
	TransformationID uuid.UUID `json:"transformation_id"`
	WorkspaceID      uuid.UUID `json:"workspace_id"`
	// Reclaim is 0 for a job's normal deliveries; the sweeper sets it to
	// the attempt it reclaims when a worker died holding the job. A dead
	// worker's copy may still be held by the queue (asynq's lease, SQS's
	// visibility timeout), so queues dedupe on DedupKey, not on the id
	// alone: the reclaimed copy runs at once, and the old one, when it
	// resurfaces, finds nothing to claim.
	Reclaim int `json:"reclaim,omitempty"`
}

// DedupKey is what queues deduplicate jobs on: the transformation id, plus
// the reclaim number for a reclaimed job.
func (j Job) DedupKey() string {
	if j.Reclaim == 0 {
		return j.TransformationID.String()
	}
	return j.TransformationID.String() + "-reclaim-" + strconv.Itoa(j.Reclaim)
}

// Queue schedules transformation jobs for workers.
type Queue interface {
	// Enqueue schedules job. Enqueuing a job whose DedupKey is already
	// queued is a no-op returning nil, so callers and sweepers may enqueue
	// again safely.
	Enqueue(ctx context.Context, job Job) error
}

// JobHandler runs one job. A nil error or core.ErrNotFound (nothing to do)
// finishes the job; an error wrapping ErrDeferred has the queue deliver it
// again shortly without spending one of its retries (the job could not
// start yet, e.g. its workspace runs all the jobs its plan allows); any
// other error makes the queue deliver it again later with backoff, up to
// its retry limit.
type JobHandler func(ctx context.Context, job Job) error

// ErrDeferred is wrapped by a JobHandler error that asks for a later
// delivery without counting an attempt.
var ErrDeferred = errors.New("job deferred")

// Consumer delivers queued jobs to a handler.
type Consumer interface {
	// Run delivers jobs to handle, at most concurrency at once, until ctx is
	// done; it returns after the running handlers have returned.
	Run(ctx context.Context, concurrency int, handle JobHandler) error
}

// Event is a status or progress event of a transformation.
type Event struct {
	// Type is transformation_started, transformation_progress,
	// transformation_completed, transformation_failed or
	// transformation_cancelled.
	Type             string         `json:"type"`
	WorkspaceID      uuid.UUID      `json:"workspace_id"`
	TransformationID uuid.UUID      `json:"transformation_id"`
	Data             map[string]any `json:"data"`
	Timestamp        time.Time      `json:"timestamp"`
}

// EventBus fans events out to every API instance.
type EventBus interface {
	// Publish sends e to the subscribers of e.WorkspaceID on every instance.
	// Delivery is best effort (subscribers that fall behind may miss events).
	Publish(ctx context.Context, e Event) error
	// Subscribe returns the events of workspaceID published from now on
	// until cancel is called or ctx is done; the channel is then closed.
	Subscribe(ctx context.Context, workspaceID uuid.UUID) (events <-chan Event, cancel func(), err error)
}

// QueueStats is a snapshot of the job queue for operators.
type QueueStats struct {
	Queue string `json:"queue"`
	// Pending jobs wait for a worker; Active run now; Retry wait for their
	// next attempt; Archived ran out of retries (or were dropped).
	Pending   int `json:"pending"`
	Active    int `json:"active"`
	Retry     int `json:"retry"`
	Archived  int `json:"archived"`
	Processed int `json:"processed" doc:"Jobs finished since start (in-process) or today (asynq)"`
	Failed    int `json:"failed" doc:"Failed attempts since start (in-process) or today (asynq)"`
}

// WorkerInfo describes one worker process.
type WorkerInfo struct {
	ID          string    `json:"id"`
	Host        string    `json:"host"`
	PID         int       `json:"pid"`
	Concurrency int       `json:"concurrency"`
	Active      int       `json:"active"`
	Status      string    `json:"status"`
	StartedAt   time.Time `json:"started_at"`
}

// QueueInspector reports on the queue and its workers.
type QueueInspector interface {
	// Stats returns the queue's counters.
	Stats(ctx context.Context) (QueueStats, error)
	// Workers lists the worker processes consuming the queue.
	Workers(ctx context.Context) ([]WorkerInfo, error)
}

// JobRecovery finds transformation jobs that need a nudge, across every
// workspace. It is the one cross-tenant read of the pipeline and returns
// identifiers only, never content.
type JobRecovery interface {
	// StaleJobs returns up to limit live PENDING jobs last updated before
	// pendingBefore (their queue entry may have been lost) and up to limit
	// PROCESSING jobs whose heartbeat is older than heartbeatBefore (their
	// worker died), oldest first.
	StaleJobs(ctx context.Context, pendingBefore, heartbeatBefore time.Time, limit int) (pending, stalled []Job, err error)
}
