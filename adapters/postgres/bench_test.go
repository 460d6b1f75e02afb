package postgres_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// BenchmarkTenantRead measures what tenant isolation costs one read
// transaction. tenant: UnitOfWork.Do (BEGIN, the switch to the app role and
// the two settings in one round trip), then AuditLog.List of 20 events under
// the row-level security policy. bare: a plain BEGIN, the same select with
// the workspace as a parameter (as the superuser of TEST_DATABASE_URL, which
// row-level security does not bind), COMMIT. Both read through the same
// (workspace_id, created_at DESC, id DESC) index from a table holding other
// workspaces' events too, and decode the rows alike. Target: tenant ns/op at
// most 1.25x bare (at least 0.8x the throughput).
func BenchmarkTenantRead(b *testing.B) {
	_, pool := newDatabase(b, nil)
	ctx := context.Background()

	const workspaces, perWorkspace, page = 50, 40, 20
	var target, owner uuid.UUID
	for i := range workspaces {
		ws, user := uuid.New(), uuid.New()
		if i == workspaces/2 {
			target, owner = ws, user
		}
		_, err := pool.Exec(ctx, `
			INSERT INTO audit_events (workspace_id, actor_id, action, entity_type, entity_id, request_id, changes, created_at)
			SELECT $1, $2, 'workspace.updated', 'workspace', $1, 'req-' || g,
				jsonb_build_object('name', jsonb_build_object('from', 'a' || g, 'to', 'b' || g)),
				now() - make_interval(secs => g)
			FROM generate_series(1, $3) g`, ws, user, perWorkspace)
		require.NoError(b, err)
	}
	_, err := pool.Exec(ctx, `ANALYZE audit_events`)
	require.NoError(b, err)

	b.Run("tenant", func(b *testing.B) {
		uow := postgres.NewUnitOfWork(pool)
		scoped := core.WithIdentity(ctx, core.Identity{UserID: owner, WorkspaceID: target, Role: core.RoleOwner})
		b.ReportAllocs()
		for b.Loop() {
			err := uow.Do(scoped, func(ctx context.Context, tx ports.Tx) error {
				events, err := tx.Audit().List(ctx, ports.AuditFilter{Limit: page})
				if err == nil && len(events) != page {
					b.Fatalf("read %d events, want %d", len(events), page)
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tx, err := pool.BeginTx(ctx, pgx.TxOptions{})
			if err != nil {
				b.Fatal(err)
			}
			rows, err := tx.Query(ctx, `
				SELECT id, workspace_id, actor_id, action, COALESCE(entity_type, ''), entity_id,
					COALESCE(ip_address, ''), COALESCE(request_id, ''), changes, created_at
				FROM audit_events WHERE workspace_id = $1
				ORDER BY created_at DESC, id DESC LIMIT $2`, target, page)
			if err != nil {
				b.Fatal(err)
			}
			events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.AuditEvent, error) {
				var e core.AuditEvent
				err := row.Scan(&e.ID, &e.WorkspaceID, &e.ActorID, &e.Action, &e.EntityType, &e.EntityID,
					&e.IPAddress, &e.RequestID, &e.Changes, &e.CreatedAt)
				e.CreatedAt = e.CreatedAt.UTC()
				return e, err
			})
			if err != nil {
				b.Fatal(err)
			}
			if len(events) != page {
				b.Fatalf("read %d events, want %d", len(events), page)
			}
			if err := tx.Commit(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkUUIDParams measures what a google/uuid UUID costs pgx, encoded
// as a parameter and scanned from a result, with pgx's defaults (through
// its database/sql Value and Scan methods, as strings) and with the codec
// registerTypes adds to every connection. Every statement of the stores
// passes or reads a few.
func BenchmarkUUIDParams(b *testing.B) {
	id := uuid.New()
	for _, c := range []struct {
		name string
		m    *pgtype.Map
	}{
		{"pgx default", pgtype.NewMap()},
		{"registered", func() *pgtype.Map { m := pgtype.NewMap(); pgxuuid.Register(m); return m }()},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			var got uuid.UUID
			for b.Loop() {
				enc, err := c.m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, id, buf[:0])
				if err != nil {
					b.Fatal(err)
				}
				if err := c.m.Scan(pgtype.UUIDOID, pgtype.BinaryFormatCode, enc, &got); err != nil {
					b.Fatal(err)
				}
			}
			require.Equal(b, id, got)
		})
	}
}
