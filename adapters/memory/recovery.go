package memory

import (
	"context"
	"sort"
	"time"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

var _ ports.JobRecovery = (*UnitOfWork)(nil)

// StaleJobs implements ports.JobRecovery over every workspace of the store.
func (u *UnitOfWork) StaleJobs(_ context.Context, pendingBefore, heartbeatBefore time.Time, limit int) (pending, stalled []ports.Job, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	type aged struct {
		job ports.Job
		at  time.Time
	}
	var p, s []aged
	for _, r := range u.transformations {
		t := r.t
		if t.DeletedAt != nil {
			continue
		}
		job := ports.Job{TransformationID: t.ID, WorkspaceID: t.WorkspaceID}
		switch t.Status {
		case core.StatusPending:
			if t.UpdatedAt.Before(pendingBefore) {
				p = append(p, aged{job, t.UpdatedAt})
			}
		case core.StatusProcessing:
			beat := t.UpdatedAt
			if t.HeartbeatAt != nil {
				beat = *t.HeartbeatAt
			}
			if beat.Before(heartbeatBefore) {
				s = append(s, aged{job, beat})
			}
		}
	}
	pick := func(list []aged) []ports.Job {
		sort.Slice(list, func(i, j int) bool { return list[i].at.Before(list[j].at) })
		out := []ports.Job{}
		for i := 0; i < len(list) && i < limit; i++ {
			out = append(out, list[i].job)
		}
		return out
	}
	return pick(p), pick(s), nil
}
