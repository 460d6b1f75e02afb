package porttest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestJobRecovery is the contract suite of ports.JobRecovery: across
// workspaces it finds old PENDING jobs and PROCESSING jobs with a stale
// heartbeat, and nothing else. The stores may be shared with other tests,
// so it only looks at the jobs it made.
func TestJobRecovery(t *testing.T, newStores func(t *testing.T) (ports.UnitOfWork, ports.JobRecovery)) {
	t.Helper()
	uow, recovery := newStores(t)
	old := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	fresh := time.Now().UTC().Truncate(time.Microsecond)

	create := func(user *core.User, w *core.Workspace, at time.Time) ports.Job {
		doc := storeDocument(w.ID, user.ID, "Source", "Words.")
		storeCreateDocument(t, uow, doc)
		tr := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		tr.CreatedAt, tr.UpdatedAt = at, at
		storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Create(ctx, tr)
		})
		return ports.Job{TransformationID: tr.ID, WorkspaceID: w.ID}
	}
	claim := func(user *core.User, job ports.Job, at time.Time) {
		storeDo(t, storeScope(user.ID, job.WorkspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Transformations().Claim(ctx, job.TransformationID, at)
			return err
		})
	}

	userA, wsA := storeNewTenant(t, uow)
	userB, wsB := storeNewTenant(t, uow)
	oldPendingA := create(userA, wsA, old)
	oldPendingB := create(userB, wsB, old)
	freshPending := create(userA, wsA, fresh)
	stalledB := create(userB, wsB, old)
	claim(userB, stalledB, old)
	liveA := create(userA, wsA, old)
	claim(userA, liveA, fresh)
	deleted := create(userA, wsA, old)
	storeDo(t, storeScope(userA.ID, wsA.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Transformations().SoftDelete(ctx, deleted.TransformationID, old)
	})
	mine := []uuid.UUID{oldPendingA.TransformationID, oldPendingB.TransformationID, freshPending.TransformationID,
		stalledB.TransformationID, liveA.TransformationID, deleted.TransformationID}
	only := func(jobs []ports.Job) []ports.Job {
		out := []ports.Job{}
		for _, j := range jobs {
			if slices.Contains(mine, j.TransformationID) {
				out = append(out, j)
			}
		}
		return out
	}

	cutoff := time.Now().UTC().Add(-time.Minute)
	pending, stalled, err := recovery.StaleJobs(context.Background(), cutoff, cutoff, 10000)
	require.NoError(t, err)
	require.ElementsMatch(t, []ports.Job{oldPendingA, oldPendingB}, only(pending), "old PENDING jobs of every workspace, not fresh or deleted ones")
	require.ElementsMatch(t, []ports.Job{stalledB}, only(stalled), "PROCESSING jobs with a stale heartbeat only")

	// Once reclaimed (back to PENDING, touched now) a job is no longer stale.
	storeDo(t, storeScope(userB.ID, wsB.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Transformations().Requeue(ctx, stalledB.TransformationID, "reclaimed", time.Now().UTC())
		return err
	})
	pending, stalled, err = recovery.StaleJobs(context.Background(), cutoff, cutoff, 10000)
	require.NoError(t, err)
	require.NotContains(t, only(pending), stalledB)
	require.Empty(t, only(stalled))
}
