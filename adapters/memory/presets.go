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

	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// PresetStore keeps transformation presets inside one transaction of
// UnitOfWork. A preset is visible (readable and writable) in the scope's
// workspace when it is shared or the scope user's own, as the row-level
// security policies of the PostgreSQL adapter have it; a preset written so
// that the scope's user could not see it (private and someone else's) is
// refused as core.ErrNotFound, as PostgreSQL refuses to return such a row.
type PresetStore struct {
	tx *tx
}

var _ ports.PresetStore = (*PresetStore)(nil)

// presetRecord is a stored preset, its parameters kept as JSON.
type presetRecord struct {
	p          core.Preset // Parameters is nil
	parameters []byte
}

func (r presetRecord) preset() core.Preset {
	p := r.p
	_ = json.Unmarshal(r.parameters, &p.Parameters)
	return p
}

func newPresetRecord(op string, p core.Preset) (presetRecord, error) {
	if p.UsageCount < 0 || p.UsageCount > math.MaxInt32 {
		return presetRecord{}, fmt.Errorf("%s: usage count %d out of range", op, p.UsageCount)
	}
	params := p.Parameters
	if params == nil {
		params = map[string]any{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return presetRecord{}, fmt.Errorf("%s: encode parameters: %w", op, err)
	}
	if bytes.Contains(raw, []byte(`\u0000`)) {
		return presetRecord{}, fmt.Errorf("%s: parameters contain a NUL character", op)
	}
	p.Parameters = nil
	p.CreatedAt, p.UpdatedAt = dbTime(p.CreatedAt), dbTime(p.UpdatedAt)
	return presetRecord{p: p, parameters: raw}, nil
}

// visible reports whether the scope sees p.
func (s *PresetStore) visible(p core.Preset) bool {
	return s.tx.scope.isWorkspace(p.WorkspaceID) && (p.IsShared || s.tx.scope.isUser(p.CreatedBy))
}

// nameTaken reports whether another preset than id of workspaceID has name,
// case-insensitively.
func (s *PresetStore) nameTaken(workspaceID, id uuid.UUID, name string) bool {
	st := s.tx.uow
	for other := range st.presetsOf[workspaceID] {
		if other != id && strings.EqualFold(strings.ToLower(st.presets[other].p.Name), strings.ToLower(name)) {
			return true
		}
	}
	return false
}

// Create inserts a copy of p into the scope's workspace (see the port and
// the PostgreSQL adapter).
func (s *PresetStore) Create(ctx context.Context, p *core.Preset) error {
	op := fmt.Sprintf("create preset in workspace %s", p.WorkspaceID)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	st := s.tx.uow
	if w, ok := st.workspaces[p.WorkspaceID]; !ok || w.DeletedAt != nil || !s.tx.scope.isWorkspace(p.WorkspaceID) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	if p.Parameters == nil {
		p.Parameters = map[string]any{}
	}
	p.CreatedAt = dbTimeOr(p.CreatedAt, s.tx.now)
	p.UpdatedAt = dbTimeOr(p.UpdatedAt, s.tx.now)
	r, err := newPresetRecord(op, *p)
	if err != nil {
		return err
	}
	if !s.visible(r.p) {
		return coded(op, core.ENOTFOUND, "workspace not found")
	}
	if _, ok := st.presets[p.ID]; ok {
		return coded(op, core.ECONFLICT, "already exists")
	}
	if s.nameTaken(p.WorkspaceID, p.ID, p.Name) {
		return coded(op, core.ECONFLICT, "a preset with this name exists")
	}
	if _, ok := st.users[p.CreatedBy]; !ok {
		return coded(op, core.ENOTFOUND, "user not found")
	}
	st.presets[p.ID] = r
	addToSet(st.presetsOf, p.WorkspaceID, p.ID)
	id, workspaceID := p.ID, p.WorkspaceID
	s.tx.onRollback(func() {
		delete(st.presets, id)
		removeFromSet(st.presetsOf, workspaceID, id)
	})
	return nil
}

func (s *PresetStore) find(id uuid.UUID) (presetRecord, bool) {
	r, ok := s.tx.uow.presets[id]
	if !ok || !s.visible(r.p) {
		return presetRecord{}, false
	}
	return r, true
}

// Get returns a preset visible to the scope; core.ErrNotFound ("preset not
// found") otherwise.
func (s *PresetStore) Get(ctx context.Context, id uuid.UUID) (core.Preset, error) {
	op := fmt.Sprintf("get preset %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Preset{}, err
	}
	r, ok := s.find(id)
	if !ok {
		return core.Preset{}, coded(op, core.ENOTFOUND, "preset not found")
	}
	return r.preset(), nil
}

// List returns the presets visible to the scope newest first (see the port).
func (s *PresetStore) List(ctx context.Context, filter ports.PresetFilter) ([]core.Preset, error) {
	if err := s.tx.usable(ctx, "list presets"); err != nil {
		return nil, err
	}
	out := []core.Preset{}
	st := s.tx.uow
	var records []presetRecord
	for id := range st.presetsOf[s.tx.scope.workspaceID] {
		r := st.presets[id]
		switch {
		case !s.visible(r.p),
			!filter.IncludeShared && !s.tx.scope.isUser(r.p.CreatedBy),
			filter.Type != "" && r.p.Type != filter.Type:
			continue
		}
		if b := filter.Before; b != nil && !newerFirst(dbTime(b.CreatedAt), b.ID, r.p.CreatedAt, r.p.ID) {
			continue
		}
		records = append(records, r)
	}
	sort.Slice(records, func(i, j int) bool {
		return newerFirst(records[i].p.CreatedAt, records[i].p.ID, records[j].p.CreatedAt, records[j].p.ID)
	})
	if filter.Limit > 0 && len(records) > filter.Limit {
		records = records[:filter.Limit]
	}
	for _, r := range records {
		out = append(out, r.preset())
	}
	return out, nil
}

// Update saves Name, Description, Parameters and IsShared of a visible
// preset and sets UpdatedAt to at (see the port).
func (s *PresetStore) Update(ctx context.Context, p core.Preset, at time.Time) (core.Preset, error) {
	op := fmt.Sprintf("update preset %s", p.ID)
	if err := s.tx.usable(ctx, op); err != nil {
		return core.Preset{}, err
	}
	prev, ok := s.find(p.ID)
	if !ok {
		return core.Preset{}, coded(op, core.ENOTFOUND, "preset not found")
	}
	next := prev.preset()
	next.Name, next.Description, next.Parameters, next.IsShared, next.UpdatedAt = p.Name, p.Description, p.Parameters, p.IsShared, at
	r, err := newPresetRecord(op, next)
	if err != nil {
		return core.Preset{}, err
	}
	if !s.visible(r.p) {
		return core.Preset{}, coded(op, core.ENOTFOUND, "preset not found")
	}
	if s.nameTaken(r.p.WorkspaceID, r.p.ID, r.p.Name) {
		return core.Preset{}, coded(op, core.ECONFLICT, "a preset with this name exists")
	}
	s.put(r, prev)
	return r.preset(), nil
}

// Delete removes a visible preset; the transformations made from it lose the
// reference (ON DELETE SET NULL). core.ErrNotFound otherwise.
func (s *PresetStore) Delete(ctx context.Context, id uuid.UUID) error {
	op := fmt.Sprintf("delete preset %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.find(id)
	if !ok {
		return coded(op, core.ENOTFOUND, "preset not found")
	}
	st := s.tx.uow
	workspaceID := prev.p.WorkspaceID
	delete(st.presets, id)
	removeFromSet(st.presetsOf, workspaceID, id)
	s.tx.onRollback(func() {
		st.presets[id] = prev
		addToSet(st.presetsOf, workspaceID, id)
	})
	// Presets are referenced by transformations of their workspace only.
	for tid := range st.transformationsOf[workspaceID] {
		r := st.transformations[tid]
		if r.t.PresetID == nil || *r.t.PresetID != id {
			continue
		}
		old := r
		r.t.PresetID = nil
		st.transformations[tid] = r
		s.tx.onRollback(func() { st.transformations[tid] = old })
	}
	return nil
}

// IncrementUsage adds one to a visible preset's UsageCount (see the port).
func (s *PresetStore) IncrementUsage(ctx context.Context, id uuid.UUID) error {
	op := fmt.Sprintf("increment usage of preset %s", id)
	if err := s.tx.usable(ctx, op); err != nil {
		return err
	}
	prev, ok := s.find(id)
	if !ok {
		return coded(op, core.ENOTFOUND, "preset not found")
	}
	if prev.p.UsageCount >= math.MaxInt32 {
		return fmt.Errorf("%s: usage count out of range", op)
	}
	next := prev
	next.p.UsageCount++
	s.put(next, prev)
	return nil
}

func (s *PresetStore) put(next, prev presetRecord) {
	st := s.tx.uow
	st.presets[next.p.ID] = next
	s.tx.onRollback(func() { st.presets[prev.p.ID] = prev })
}
