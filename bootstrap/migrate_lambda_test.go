package bootstrap_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/migrations"
)

// The migrations custom resource migrates on create and update, always
// under the same physical id, changes nothing on delete, and fails (so the
// deploy fails) when the database can't be migrated.
func TestMigrationsResource(t *testing.T) {
	t.Parallel()
	db := testinfra.NewDatabase(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	applied := func() int {
		conn, err := pgx.Connect(ctx, db)
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			return 0 // no table yet
		}
		return n
	}

	resource := bootstrap.MigrationsResource(postgres.Config{MigrateURL: db, Migrations: migrations.FS}, log)
	id, _, err := resource(ctx, cfn.Event{RequestType: cfn.RequestDelete})
	require.NoError(t, err)
	require.Equal(t, bootstrap.MigrationsResourceID, id)
	require.Zero(t, applied(), "delete migrates nothing")

	for _, req := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate} {
		id, _, err := resource(ctx, cfn.Event{RequestType: req})
		require.NoError(t, err, "%s", req)
		require.Equal(t, bootstrap.MigrationsResourceID, id)
		require.Positive(t, applied())
	}

	broken := bootstrap.MigrationsResource(postgres.Config{URL: "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		Migrations: migrations.FS}, log)
	_, _, err = broken(ctx, cfn.Event{RequestType: cfn.RequestCreate})
	require.Error(t, err)
}
