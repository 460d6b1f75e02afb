package postgres_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
)

// moduleApp is the postgres fx module, started, with what its tests look at.
type moduleApp struct {
	uow  ports.UnitOfWork
	pool *pgxpool.Pool
	logs func() string
}

// startModule starts the postgres module with cfg, as the composition root
// does, and stops it at cleanup. It returns the start's error.
func startModule(t *testing.T, cfg postgres.Config) (*moduleApp, error) {
	t.Helper()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	m := &moduleApp{logs: func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}}
	app := fx.New(fx.NopLogger, fx.Supply(cfg, log), postgres.Module, fx.Populate(&m.uow, &m.pool))
	require.NoError(t, app.Err())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, app.Stop(ctx))
	})
	return m, nil
}

// urlAs is dbURL with role as its user (unless empty) and params added to
// its query.
func urlAs(t testing.TB, dbURL, role string, params url.Values) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	if role != "" {
		u.User = url.User(role)
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// doConcurrently runs n units of work at once, each holding its connection
// for a while so that the pool opens several, and returns their errors and
// how many ran their closure.
func doConcurrently(uow ports.UnitOfWork, n int) (errs []error, ran int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs = make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = uow.Do(context.Background(), func(ctx context.Context, tx ports.Tx) error {
				mu.Lock()
				ran++
				mu.Unlock()
				_, err := tx.Workspaces().Get(ctx) // any statement: no workspace in the context
				if err != nil && !strings.Contains(err.Error(), "not found") {
					return err
				}
				time.Sleep(50 * time.Millisecond) // hold the connection, not a synchronisation
				return nil
			})
		})
	}
	wg.Wait()
	return errs, ran
}

// TestLazyConnectChecksTenantRoleOnFirstConnection starts the module as the
// Lambda functions do (LazyConnect): no round trip at start, and the role
// check on the pool's first connection, before any statement, once it
// passes.
func TestLazyConnectChecksTenantRoleOnFirstConnection(t *testing.T) {
	t.Parallel()

	t.Run("no round trip at start", func(t *testing.T) {
		t.Parallel()
		// Nothing listens on port 1: a start that connected would fail.
		dead := "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
		m, err := startModule(t, postgres.Config{URL: dead, RequireSafeRole: true, LazyConnect: true})
		require.NoError(t, err)
		err = m.uow.Do(context.Background(), func(context.Context, ports.Tx) error {
			t.Error("fn runs only on a checked connection")
			return nil
		})
		require.Error(t, err)

		_, err = startModule(t, postgres.Config{URL: dead, RequireSafeRole: true})
		require.Error(t, err, "without LazyConnect the start connects, and fails")
	})

	t.Run("safe: checked once, on the first connection", func(t *testing.T) {
		t.Parallel()
		d := newRLSDB(t)
		m, err := startModule(t, postgres.Config{URL: urlAs(t, d.url, d.role, url.Values{"pool_max_conns": {"4"}}),
			RequireSafeRole: true, LazyConnect: true})
		require.NoError(t, err)
		require.Zero(t, m.pool.Stat().TotalConns(), "no connection at start")
		require.NotContains(t, m.logs(), "row-level security", "no check at start")

		errs, ran := doConcurrently(m.uow, 8)
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 8, ran)
		require.Greater(t, m.pool.Stat().TotalConns(), int32(1), "several connections were opened")
		require.Equal(t, 1, strings.Count(m.logs(), "tenant queries run under row-level security"), m.logs())
	})

	t.Run("unsafe and required: every connection refused until the role is fixed", func(t *testing.T) {
		t.Parallel()
		dbURL, admin := newDatabase(t, nil)
		// The app role owns a table of this database (ownership is per
		// database, so other tests' databases are not affected).
		ctx := context.Background()
		_, err := admin.Exec(ctx, `CREATE TABLE owned_by_app (x int); ALTER TABLE owned_by_app OWNER TO `+postgres.AppRole)
		require.NoError(t, err)
		m, err := startModule(t, postgres.Config{URL: urlAs(t, dbURL, "", url.Values{"pool_max_conns": {"4"}}),
			RequireSafeRole: true, LazyConnect: true})
		require.NoError(t, err, "the check is not at start")

		errs, ran := doConcurrently(m.uow, 8)
		require.Zero(t, ran, "no closure runs on an unchecked connection")
		for _, err := range errs {
			require.ErrorIs(t, err, postgres.ErrUnsafeTenantRole)
			require.ErrorContains(t, err, "owns tables (owned_by_app)")
		}
		// Not only the unit of work: nothing runs on the pool.
		_, err = m.pool.Exec(ctx, "SELECT 1")
		require.ErrorIs(t, err, postgres.ErrUnsafeTenantRole)
		require.Error(t, postgres.NewHealthCheck(m.pool).Check(ctx))
		require.Zero(t, m.pool.Stat().TotalConns(), "refused connections are closed")

		// A failed check is not remembered: once the role is fixed, the
		// next connection passes.
		_, err = admin.Exec(ctx, `DROP TABLE owned_by_app`)
		require.NoError(t, err)
		errs, ran = doConcurrently(m.uow, 2)
		require.Equal(t, 2, ran)
		for _, err := range errs {
			require.NoError(t, err)
		}
	})

	t.Run("unsafe, not required: one warning", func(t *testing.T) {
		t.Parallel()
		dbURL, admin := newDatabase(t, nil)
		_, err := admin.Exec(context.Background(),
			`CREATE TABLE owned_by_app (x int); ALTER TABLE owned_by_app OWNER TO `+postgres.AppRole)
		require.NoError(t, err)
		m, err := startModule(t, postgres.Config{URL: dbURL, LazyConnect: true})
		require.NoError(t, err)
		errs, ran := doConcurrently(m.uow, 4)
		require.Equal(t, 4, ran)
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, 1, strings.Count(m.logs(), "level=WARN"), m.logs())
		require.Contains(t, m.logs(), "owned_by_app")
	})

	t.Run("a role that cannot switch to the app role runs nothing", func(t *testing.T) {
		t.Parallel()
		d := newRLSDB(t)
		outsider := "rp_outsider_" + testinfra.RandomSuffix()
		createRole(t, d.admin, outsider, "LOGIN")
		m, err := startModule(t, postgres.Config{URL: urlAs(t, d.url, outsider, url.Values{"pool_max_conns": {"1"}}), LazyConnect: true})
		require.NoError(t, err)
		errs, ran := doConcurrently(m.uow, 2)
		require.Zero(t, ran)
		for _, err := range errs {
			requireSQLState(t, err, "42501")
			require.ErrorContains(t, err, "permission denied to set role")
		}
	})
}
