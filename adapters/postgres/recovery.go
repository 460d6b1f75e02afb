package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/repurpose/repurpose/ports"
)

// JobRecovery implements ports.JobRecovery with the sweeper policy of
// migration 0005: one read-only transaction as repurpose_app with
// app.sweeper = 'on'.
type JobRecovery struct {
	pool *pgxpool.Pool
}

var _ ports.JobRecovery = (*JobRecovery)(nil)

// NewJobRecovery returns the sweeper's store.
func NewJobRecovery(pool *pgxpool.Pool) *JobRecovery { return &JobRecovery{pool: pool} }

const staleJobsSQL = `
	(SELECT id, workspace_id, 'pending' FROM transformations
	  WHERE status = 'PENDING' AND deleted_at IS NULL AND updated_at < $1 ORDER BY updated_at LIMIT $3)
	UNION ALL
	(SELECT id, workspace_id, 'stalled' FROM transformations
	  WHERE status = 'PROCESSING' AND coalesce(heartbeat_at, started_at, updated_at) < $2 ORDER BY heartbeat_at LIMIT $3)`

// StaleJobs implements ports.JobRecovery.
func (r *JobRecovery) StaleJobs(ctx context.Context, pendingBefore, heartbeatBefore time.Time, limit int) (pending, stalled []ports.Job, err error) {
	err = pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly,
		BeginQuery: `BEGIN READ ONLY; SELECT set_config('role', 'repurpose_app', true), set_config('app.sweeper', 'on', true)`},
		func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, staleJobsSQL, pendingBefore, heartbeatBefore, limit)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var (
					job  ports.Job
					kind string
				)
				if err := rows.Scan(&job.TransformationID, &job.WorkspaceID, &kind); err != nil {
					return err
				}
				if kind == "pending" {
					pending = append(pending, job)
				} else {
					stalled = append(stalled, job)
				}
			}
			return rows.Err()
		})
	if err != nil {
		return nil, nil, fmt.Errorf("find stale jobs: %w", err)
	}
	return pending, stalled, nil
}
