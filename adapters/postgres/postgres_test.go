package postgres_test

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/migrations"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

// newDatabase creates a database, migrates it twice (the second run must be a
// no-op) and returns its URL and a pool to it, closed at cleanup. params are
// added to the URL's query, e.g. pool_max_conns.
func newDatabase(t testing.TB, params url.Values) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL := testinfra.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, postgres.Migrate(ctx, dbURL, migrations.FS))
	require.NoError(t, postgres.Migrate(ctx, dbURL, migrations.FS), "Migrate is idempotent")

	pool, err := postgres.NewPool(ctx, urlAs(t, dbURL, "", params))
	require.NoError(t, err)
	t.Cleanup(pool.Close) // registered after NewDatabase's, so it runs before the drop
	return dbURL, pool
}

func TestUnitOfWork(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, nil)
	porttest.TestUnitOfWork(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

// TestTenantIsolation runs the isolation suite connected as a login role
// that is a plain member of the app role, so that it checks the policies as
// well as the stores' own filters (a superuser session would switch to the
// app role too, but this leaves no doubt).
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestTenantIsolation(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

// TestDocumentStore runs the document suite as the login role of
// TestTenantIsolation: the grants and policies of the documents table must
// let a correctly scoped transaction do everything the port promises.
func TestDocumentStore(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestDocumentStore(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

// TestTransformationStore and TestPresetStore run their suites as the login
// role of TestTenantIsolation: the grants and policies of the transformations
// and transformation_presets tables must let a correctly scoped transaction
// do everything the ports promise.
func TestTransformationStore(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestTransformationStore(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

func TestPresetStore(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestPresetStore(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

// TestTransformationIsolation runs the transformation isolation suite as the
// same login role, so that the policies are checked with the stores' filters.
func TestTransformationIsolation(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestTransformationIsolation(t, func(t *testing.T) ports.UnitOfWork { return postgres.NewUnitOfWork(pool) })
}

// TestDocumentSearchOfAHugeVocabulary stores a text of more distinct words
// than a tsvector holds (to_tsvector alone would fail the insert): the
// document is stored whole, and its title and the beginning of its text are
// searchable.
func TestDocumentSearchOfAHugeVocabulary(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	tn := seedTenant(t, d.admin, "huge")
	uow := postgres.NewUnitOfWork(d.appPool(t, nil))
	ctx := tn.ctx()

	var b strings.Builder
	const words = 60000 // about 2 MB of 32-character words: twice the limit
	for i := range words {
		fmt.Fprintf(&b, "%x ", md5.Sum([]byte(strconv.Itoa(i))))
	}
	text := b.String()
	first := fmt.Sprintf("%x", md5.Sum([]byte("0")))
	doc := &core.Document{WorkspaceID: tn.workspace, CreatedBy: tn.user, Title: "Checksums zanzibar",
		ContentType: "text/plain", SizeBytes: int64(len(text)), Text: text}
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		return tx.Documents().Create(ctx, doc)
	}))
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		got, err := tx.Documents().Get(ctx, doc.ID)
		require.NoError(t, err)
		require.Equal(t, text, got.Text, "the text is stored whole")
		for _, q := range []string{"zanzibar", first} {
			list, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: q})
			require.NoError(t, err)
			require.Len(t, list, 1, "query %s", q)
			require.Equal(t, doc.ID, list[0].ID, "query %s", q)
		}
		return nil
	}))
	// Soft delete and restore leave the search as it was.
	require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Documents().SoftDelete(ctx, doc.ID, time.Now()))
		_, err := tx.Documents().Restore(ctx, doc.ID, time.Now())
		require.NoError(t, err)
		list, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: "zanzibar " + first})
		require.NoError(t, err)
		require.Len(t, list, 1)
		return nil
	}))
}

// TestUnitOfWorkScopesIdentityToTransaction proves the settings row-level
// security reads: a trigger on audit_events records what the transaction saw
// (its role and settings), and the same (only) pooled connection sees
// nothing once Do has returned. The trigger function is SECURITY DEFINER, as
// the app role may write nothing but the app's tables.
func TestUnitOfWorkScopesIdentityToTransaction(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, url.Values{"pool_max_conns": {"1"}})
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		CREATE TABLE seen_identity (seq serial, pid int, role text, user_id text, workspace_id text);
		CREATE FUNCTION record_identity() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
		BEGIN
			INSERT INTO seen_identity (pid, role, user_id, workspace_id)
			VALUES (pg_backend_pid(), current_setting('role'),
				current_setting('app.user_id', true), current_setting('app.workspace_id', true));
			RETURN NEW;
		END $$;
		CREATE TRIGGER audit_events_record_identity AFTER INSERT ON audit_events
			FOR EACH ROW EXECUTE FUNCTION record_identity();`)
	require.NoError(t, err)
	uow := postgres.NewUnitOfWork(pool)
	appendEvent := func(ctx context.Context) {
		t.Helper()
		require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			return tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginSucceeded})
		}))
	}
	type seen struct {
		pid                       int
		role, userID, workspaceID string
	}
	last := func() seen {
		t.Helper()
		var s seen
		require.NoError(t, pool.QueryRow(ctx,
			`SELECT pid, role, user_id, workspace_id FROM seen_identity ORDER BY seq DESC LIMIT 1`).
			Scan(&s.pid, &s.role, &s.userID, &s.workspaceID))
		return s
	}
	outside := func() seen {
		t.Helper()
		var s seen
		require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid(), current_setting('role'),
			COALESCE(current_setting('app.user_id', true), ''),
			COALESCE(current_setting('app.workspace_id', true), '')`).Scan(&s.pid, &s.role, &s.userID, &s.workspaceID))
		return s
	}

	userID, workspaceID := uuid.New(), uuid.New()
	appendEvent(core.WithIdentity(ctx, core.Identity{UserID: userID, WorkspaceID: workspaceID, Role: core.RoleOwner}))
	inside := last()
	require.Equal(t, seen{pid: inside.pid, role: postgres.AppRole, userID: userID.String(), workspaceID: workspaceID.String()}, inside)

	after := outside()
	require.Equal(t, inside.pid, after.pid, "pool_max_conns=1: the same connection")
	require.Equal(t, seen{pid: inside.pid, role: "none"}, after, "the role and the identity ended with the transaction")

	// A caller without a workspace, then no identity at all: empty settings,
	// never the previous transaction's, and the app role all the same.
	appendEvent(core.WithIdentity(ctx, core.Identity{UserID: userID}))
	require.Equal(t, seen{pid: inside.pid, role: postgres.AppRole, userID: userID.String()}, last())
	appendEvent(ctx)
	require.Equal(t, seen{pid: inside.pid, role: postgres.AppRole}, last())

	// A rolled-back transaction leaves nothing behind either.
	errBoom := errors.New("boom")
	require.ErrorIs(t, uow.Do(core.WithIdentity(ctx, core.Identity{UserID: userID, WorkspaceID: workspaceID}),
		func(ctx context.Context, tx ports.Tx) error { return errBoom }), errBoom)
	require.Equal(t, seen{pid: inside.pid, role: "none"}, outside())
}

// TestSoftDeletedRowsAreInvisible covers what no port can do: rows
// soft-deleted in SQL disappear from reads and release their unique keys.
func TestSoftDeletedRowsAreInvisible(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, nil)
	ctx := context.Background()
	uow := postgres.NewUnitOfWork(pool)

	owner := &core.User{ID: uuid.New(), Email: "Owner@Example.com", PasswordHash: "h"}
	gone := &core.User{ID: uuid.New(), Email: "gone@example.com", PasswordHash: "h"}
	kept := &core.Workspace{ID: uuid.New(), Name: "Kept", Slug: "kept"}
	deleted := &core.Workspace{ID: uuid.New(), Name: "Deleted", Slug: "deleted"}
	for _, u := range []*core.User{owner, gone} {
		require.NoError(t, uow.Do(as(ctx, u.ID, uuid.Nil), func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, u)
		}))
	}
	for _, w := range []*core.Workspace{kept, deleted} {
		w.CreatedBy = owner.ID
		require.NoError(t, uow.Do(as(ctx, owner.ID, w.ID), func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Workspaces().Create(ctx, w))
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: w.ID, UserID: owner.ID, Role: core.RoleOwner})
		}))
	}
	_, err := pool.Exec(ctx, `UPDATE users SET deleted_at = now() WHERE id = $1`, gone.ID)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE workspaces SET deleted_at = now() WHERE id = $1`, deleted.ID)
	require.NoError(t, err)

	require.NoError(t, uow.Do(as(ctx, gone.ID, uuid.Nil), func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Users().Get(ctx, gone.ID)
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = tx.Users().GetByEmail(ctx, "GONE@example.com")
		require.ErrorIs(t, err, core.ErrNotFound)
		require.ErrorIs(t, tx.Users().RecordLogin(ctx, gone.ID, time.Now()), core.ErrNotFound)
		require.ErrorIs(t, tx.Users().UpdatePassword(ctx, gone.ID, "x", time.Now()), core.ErrNotFound)
		return nil
	}))
	require.NoError(t, uow.Do(as(ctx, owner.ID, kept.ID), func(ctx context.Context, tx ports.Tx) error {
		_, err = tx.Workspaces().Membership(ctx, deleted.ID, owner.ID)
		require.ErrorIs(t, err, core.ErrNotFound)
		list, err := tx.Workspaces().ListForUser(ctx, owner.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.Equal(t, kept.ID, list[0].Workspace.ID)

		require.ErrorIs(t, tx.Workspaces().AddMember(ctx,
			core.Membership{WorkspaceID: kept.ID, UserID: gone.ID, Role: core.RoleMember}), core.ErrNotFound)
		return nil
	}))
	require.NoError(t, uow.Do(as(ctx, owner.ID, deleted.ID), func(ctx context.Context, tx ports.Tx) error {
		_, err := tx.Workspaces().Get(ctx)
		require.ErrorIs(t, err, core.ErrNotFound)
		require.ErrorIs(t, tx.Workspaces().SoftDelete(ctx, time.Now()), core.ErrNotFound)
		require.ErrorIs(t, tx.Workspaces().SetPlan(ctx, core.PlanPro, time.Now()), core.ErrNotFound)
		return nil
	}))
	require.ErrorIs(t, uow.Do(as(ctx, owner.ID, deleted.ID), func(ctx context.Context, tx ports.Tx) error {
		return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: deleted.ID, UserID: owner.ID, Role: core.RoleMember})
	}), core.ErrNotFound)

	// The email and the slug are free again.
	again := &core.User{ID: uuid.New(), Email: "Gone@Example.com", PasswordHash: "h"}
	againWS := &core.Workspace{ID: uuid.New(), Name: "Again", Slug: "deleted", CreatedBy: again.ID}
	require.NoError(t, uow.Do(as(ctx, again.ID, againWS.ID), func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Users().Create(ctx, again))
		return tx.Workspaces().Create(ctx, againWS)
	}))
}

// as returns ctx carrying the identity of userID in workspaceID (either may
// be uuid.Nil), the scope of the transactions of UnitOfWork.Do.
func as(ctx context.Context, userID, workspaceID uuid.UUID) context.Context {
	return core.WithIdentity(ctx, core.Identity{UserID: userID, WorkspaceID: workspaceID, Role: core.RoleOwner})
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	// The URL carries pool parameters, as a DATABASE_URL may: Migrate
	// takes the same URL as NewPool.
	dbURL := urlAs(t, testinfra.NewDatabase(t), "", url.Values{"pool_max_conns": {"4"}, "pool_max_conn_lifetime": {"1h"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = postgres.Migrate(ctx, dbURL, migrations.FS) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "starter %d", i)
	}

	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	pool, err := postgres.NewPool(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	var applied int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&applied))
	require.Equal(t, len(files), applied)
	var tables int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
		AND tablename IN ('users', 'workspaces', 'workspace_members', 'audit_events')`).Scan(&tables))
	require.Equal(t, 4, tables)
}

func TestMigrateAppliesInOrderAndStopsAtAFailure(t *testing.T) {
	t.Parallel()
	dbURL := testinfra.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	good := fstest.MapFS{
		"0002_b.sql": {Data: []byte(`ALTER TABLE a ADD COLUMN y int;`)},
		"0001_a.sql": {Data: []byte(`CREATE TABLE a (x int); INSERT INTO a (x) VALUES (1);`)},
		"README.md":  {Data: []byte(`not a migration`)},
	}
	require.NoError(t, postgres.Migrate(ctx, dbURL, good), "0001 runs before 0002")

	bad := fstest.MapFS{
		"0001_a.sql": good["0001_a.sql"],
		"0002_b.sql": good["0002_b.sql"],
		"0003_c.sql": {Data: []byte(`CREATE TABLE c (x int); SELECT no_such_column FROM a;`)},
	}
	err := postgres.Migrate(ctx, dbURL, bad)
	require.Error(t, err)
	require.ErrorContains(t, err, "0003_c.sql")

	pool, err := postgres.NewPool(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	var versions []string
	rows, err := pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	require.NoError(t, err)
	for rows.Next() {
		var v string
		require.NoError(t, rows.Scan(&v))
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"0001", "0002"}, versions, "the failed migration is not recorded")
	var c *string
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('c')::text`).Scan(&c))
	require.Nil(t, c, "the failed migration left nothing behind")
}

func TestMigrateRejectsMisnamedMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":          {"1_a.sql": {Data: []byte(`SELECT 1;`)}},
		"duplicate version": {"0001_a.sql": {Data: []byte(`SELECT 1;`)}, "0001_b.sql": {Data: []byte(`SELECT 1;`)}},
	} {
		// Checked before connecting: no database needed.
		require.Error(t, postgres.Migrate(ctx, "postgres://127.0.0.1:1/none?connect_timeout=1", fsys), name)
	}
}

func TestHealthCheck(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := postgres.NewHealthCheck(pool)
	require.Equal(t, "database", hc.Name())
	require.NoError(t, hc.Check(ctx))

	// NewPool does not connect, so a dead server shows up only in the check.
	dead, err := postgres.NewPool(ctx, "postgres://postgres@127.0.0.1:1/none?connect_timeout=1")
	require.NoError(t, err)
	defer dead.Close()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	require.Error(t, postgres.NewHealthCheck(dead).Check(short))
}

func TestNewPoolRejectsABadURL(t *testing.T) {
	t.Parallel()
	_, err := postgres.NewPool(context.Background(), "postgres://u:secret@host:notaport/db")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret", "the password is not echoed")
}

func TestPoolStatsCollector(t *testing.T) {
	t.Parallel()
	_, pool := newDatabase(t, url.Values{"pool_max_conns": {"3"}})
	ctx := context.Background()
	require.NoError(t, postgres.NewUnitOfWork(pool).Do(ctx, func(context.Context, ports.Tx) error { return nil }))

	// A pedantic registry checks that Collect matches Describe.
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(postgres.NewPoolStatsCollector(pool)))
	families, err := reg.Gather()
	require.NoError(t, err)
	values := map[string]float64{}
	for _, f := range families {
		require.Len(t, f.GetMetric(), 1, f.GetName())
		m := f.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			values[f.GetName()] = m.GetGauge().GetValue()
		case m.GetCounter() != nil:
			values[f.GetName()] = m.GetCounter().GetValue()
		}
	}
	for _, name := range []string{
		"repurpose_db_pool_acquired_connections", "repurpose_db_pool_idle_connections",
		"repurpose_db_pool_constructing_connections", "repurpose_db_pool_total_connections",
		"repurpose_db_pool_max_connections", "repurpose_db_pool_acquires_total",
		"repurpose_db_pool_acquire_duration_seconds_total", "repurpose_db_pool_empty_acquires_total",
		"repurpose_db_pool_empty_acquire_wait_seconds_total", "repurpose_db_pool_canceled_acquires_total",
	} {
		require.Contains(t, values, name)
	}
	require.Len(t, values, 10)
	require.Equal(t, float64(3), values["repurpose_db_pool_max_connections"])
	require.Equal(t, float64(0), values["repurpose_db_pool_acquired_connections"])
	require.GreaterOrEqual(t, values["repurpose_db_pool_acquires_total"], float64(1))
	require.GreaterOrEqual(t, values["repurpose_db_pool_total_connections"], float64(1))
}

// TestJobRecovery runs the sweeper's cross-tenant read as the RLS-bound
// login role: the sweeper policy of migration 0005 must let it see the
// stale jobs of every workspace.
func TestJobRecovery(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	pool := d.appPool(t, nil)
	porttest.TestJobRecovery(t, func(t *testing.T) (ports.UnitOfWork, ports.JobRecovery) {
		return postgres.NewUnitOfWork(pool), postgres.NewJobRecovery(pool)
	})
}
