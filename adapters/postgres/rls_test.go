package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/adapters/postgres"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/migrations"
	"github.com/repurpose/repurpose/ports"
)

// Row-level security tests. The policies bind every role but superusers and
// BYPASSRLS roles, so a test connected as the superuser of TEST_DATABASE_URL
// would pass whatever the policies say: these tests connect as a LOGIN role
// of their own, a plain member of postgres.AppRole, and check that they do
// (requireLoginRole). The superuser pool only seeds data, reads the catalog
// and double-checks what the app role could not see.

// tenantTables are the tables holding a tenant's rows.
var tenantTables = []string{"workspaces", "workspace_members", "invitations", "audit_events", "documents",
	"transformations", "transformation_presets"}

// rlsDB is a migrated database with a login role that is a member of the app
// role.
type rlsDB struct {
	url   string        // the superuser's URL
	admin *pgxpool.Pool // the superuser's pool: bypasses row-level security
	role  string        // the login role, a member of postgres.AppRole
}

func newRLSDB(t *testing.T) *rlsDB {
	t.Helper()
	dbURL, admin := newDatabase(t, nil)
	d := &rlsDB{url: dbURL, admin: admin, role: "rp_test_" + testinfra.RandomSuffix()}
	createRole(t, admin, d.role, "LOGIN IN ROLE "+postgres.AppRole)
	return d
}

// createRole creates a role (roles belong to the whole server, so names are
// random) and drops it at cleanup, after the pools opened later are closed.
func createRole(t *testing.T, admin *pgxpool.Pool, name, options string) {
	t.Helper()
	ctx := context.Background()
	_, err := admin.Exec(ctx, "CREATE ROLE "+name+" "+options)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP ROLE IF EXISTS "+name); err != nil {
			t.Logf("drop role %s: %v", name, err)
		}
	})
}

// poolAs returns a pool to d's database connected as role (the superuser
// of TEST_DATABASE_URL when empty), closed at cleanup; params are added to
// the URL's query, e.g. pool_max_conns.
func (d *rlsDB) poolAs(t *testing.T, role string, params url.Values) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.NewPool(context.Background(), urlAs(t, d.url, role, params))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// appPool returns a pool connected as d's login role, after checking that
// it really is that role and that the role is bound by row-level security.
func (d *rlsDB) appPool(t *testing.T, params url.Values) *pgxpool.Pool {
	t.Helper()
	pool := d.poolAs(t, d.role, params)
	requireLoginRole(t, pool, d.role)
	return pool
}

// requireLoginRole checks that pool's sessions run as role, neither a
// superuser nor BYPASSRLS.
func requireLoginRole(t *testing.T, pool *pgxpool.Pool, role string) {
	t.Helper()
	var current, session string
	var super, bypass bool
	require.NoError(t, pool.QueryRow(context.Background(), `
		SELECT current_user, session_user, rolsuper, rolbypassrls
		FROM pg_roles WHERE rolname = current_user`).Scan(&current, &session, &super, &bypass))
	require.Equal(t, role, current, "the test must run as the login role, not a superuser")
	require.Equal(t, role, session)
	require.False(t, super, "a superuser bypasses every policy")
	require.False(t, bypass, "a BYPASSRLS role bypasses every policy")
}

// tenant is one workspace with its owner, an invitation, audit events, a
// document, a (private) preset and a transformation, seeded by the superuser.
type tenant struct {
	user, workspace, invitation, document uuid.UUID
	preset, transformation                uuid.UUID
	tokenHash                             string
	events                                []uuid.UUID
}

func (tn tenant) ctx() context.Context {
	return as(context.Background(), tn.user, tn.workspace)
}

func seedTenant(t *testing.T, admin *pgxpool.Pool, name string) tenant {
	t.Helper()
	ctx := context.Background()
	suffix := testinfra.RandomSuffix()
	tn := tenant{user: uuid.New(), workspace: uuid.New(), invitation: uuid.New(), document: uuid.New(),
		preset: uuid.New(), transformation: uuid.New(), tokenHash: "hash-" + name + "-" + suffix}
	_, err := admin.Exec(ctx, `INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')`,
		tn.user, name+"-"+suffix+"@example.com")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `INSERT INTO workspaces (id, name, slug, created_by) VALUES ($1, $2, $3, $4)`,
		tn.workspace, name, name+"-"+suffix, tn.user)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`,
		tn.workspace, tn.user)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
		VALUES ($1, $2, $3, 'member', $4, $5, now() + interval '7 days')`,
		tn.invitation, tn.workspace, "invitee-"+name+"@example.com", tn.tokenHash, tn.user)
	require.NoError(t, err)
	for i := range 3 {
		id := uuid.New()
		_, err = admin.Exec(ctx, `
			INSERT INTO audit_events (id, workspace_id, actor_id, action, created_at)
			VALUES ($1, $2, $3, $4, now() - make_interval(secs => $5))`,
			id, tn.workspace, tn.user, core.AuditWorkspaceUpdated, i)
		require.NoError(t, err)
		tn.events = append(tn.events, id)
	}
	_, err = admin.Exec(ctx, `
		INSERT INTO documents (id, workspace_id, created_by, title, content_type, size_bytes, content)
		VALUES ($1, $2, $3, $4, 'text/plain', 11, 'Words of ' || $4)`,
		tn.document, tn.workspace, tn.user, name)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO transformation_presets (id, workspace_id, created_by, name, type)
		VALUES ($1, $2, $3, $4, 'SUMMARY')`,
		tn.preset, tn.workspace, tn.user, name)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO transformations (id, workspace_id, document_id, created_by, type, preset_id)
		VALUES ($1, $2, $3, $4, 'SUMMARY', $5)`,
		tn.transformation, tn.workspace, tn.document, tn.user, tn.preset)
	require.NoError(t, err)
	return tn
}

// inTx runs fn in a transaction of pool whose settings are userID and
// workspaceID ("" for none) and rolls it back. It does not switch roles: the
// statements run as the pool's login role.
func inTx(t *testing.T, pool *pgxpool.Pool, userID, workspaceID string, fn func(tx pgx.Tx) error) error {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SELECT set_config('app.user_id', $1, true), set_config('app.workspace_id', $2, true)`,
		userID, workspaceID)
	require.NoError(t, err)
	return fn(tx)
}

func requireSQLState(t *testing.T, err error, code string, msgAndArgs ...any) {
	t.Helper()
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr), "want SQLSTATE %s, got %v (%v)", code, err, msgAndArgs)
	require.Equal(t, code, pgErr.Code, msgAndArgs...)
}

func countRows(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, table string) int {
	t.Helper()
	var n int
	require.NoError(t, q.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestRLSWithoutTenantSeesNothing(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	seedTenant(t, d.admin, "b")
	app := d.appPool(t, nil)
	ctx := context.Background()

	for _, table := range tenantTables {
		require.Positive(t, countRows(t, d.admin, table), "%s is seeded", table)
		// The policies do apply to the login role (zero rows alone could be
		// the default deny of a role no policy names): A's settings show
		// A's rows.
		require.NoError(t, inTx(t, app, a.user.String(), a.workspace.String(), func(tx pgx.Tx) error {
			want := 1
			if table == "audit_events" {
				want = len(a.events)
			}
			require.Equal(t, want, countRows(t, tx, table), table)
			return nil
		}))
		// Outside any transaction setting: the settings do not even exist.
		require.Zero(t, countRows(t, app, table), table)
		// Empty settings, as UnitOfWork makes them for an anonymous caller.
		require.NoError(t, inTx(t, app, "", "", func(tx pgx.Tx) error {
			require.Zero(t, countRows(t, tx, table), table)
			return nil
		}))
	}
	// Identities are global: login looks users up by email before any scope.
	require.Equal(t, 2, countRows(t, app, "users"))

	// The same through the ports, in transactions that switch to the app
	// role, without an identity and with a user but no workspace.
	uow := postgres.NewUnitOfWork(app)
	stranger := uuid.New()
	for name, ctx := range map[string]context.Context{"no identity": ctx, "no workspace": as(ctx, stranger, uuid.Nil)} {
		require.NoError(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Workspaces().Get(ctx)
			require.ErrorIs(t, err, core.ErrNotFound, name)
			members, err := tx.Workspaces().ListMembers(ctx)
			require.NoError(t, err)
			require.Empty(t, members, name)
			n, owners, err := tx.Workspaces().LockMembers(ctx)
			require.NoError(t, err)
			require.Zero(t, n+owners, name)
			invs, err := tx.Invitations().ListPending(ctx, time.Now())
			require.NoError(t, err)
			require.Empty(t, invs, name)
			events, err := tx.Audit().List(ctx, ports.AuditFilter{Limit: 100})
			require.NoError(t, err)
			require.Empty(t, events, name)
			docs, err := tx.Documents().List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Empty(t, docs, name)
			count, size, err := tx.Documents().Usage(ctx)
			require.NoError(t, err)
			require.Zero(t, count, name)
			require.Zero(t, size, name)
			_, err = tx.Documents().Get(ctx, a.document)
			require.ErrorIs(t, err, core.ErrNotFound, name)
			trs, err := tx.Transformations().List(ctx, ports.TransformationFilter{})
			require.NoError(t, err)
			require.Empty(t, trs, name)
			_, err = tx.Transformations().Get(ctx, a.transformation)
			require.ErrorIs(t, err, core.ErrNotFound, name)
			presets, err := tx.Presets().List(ctx, ports.PresetFilter{IncludeShared: true})
			require.NoError(t, err)
			require.Empty(t, presets, name)
			_, err = tx.Presets().Get(ctx, a.preset)
			require.ErrorIs(t, err, core.ErrNotFound, name)
			return nil
		}), name)
	}
}

func TestRLSRefusesCrossTenantWrites(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	b := seedTenant(t, d.admin, "b")
	app := d.appPool(t, nil)
	ctx := context.Background()
	ua, wa := a.user.String(), a.workspace.String()

	// Inserts outside the tenant fail the WITH CHECK of the policies.
	inserts := map[string]struct {
		sql  string
		args []any
	}{
		"workspace of another id": {`INSERT INTO workspaces (id, name, slug, created_by) VALUES ($1, 'x', $2, $3)`,
			[]any{uuid.New(), "x-" + testinfra.RandomSuffix(), a.user}},
		"membership in B": {`INSERT INTO workspace_members (workspace_id, user_id, role) VALUES ($1, $2, 'owner')`,
			[]any{b.workspace, a.user}},
		"invitation to B": {`INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by, expires_at)
			VALUES ($1, 'x@example.com', 'admin', $2, $3, now() + interval '1 day')`,
			[]any{b.workspace, "h-" + testinfra.RandomSuffix(), a.user}},
		"audit event of B": {`INSERT INTO audit_events (workspace_id, action) VALUES ($1, 'x')`,
			[]any{b.workspace}},
		"user of another id": {`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'h')`,
			[]any{uuid.New(), "x-" + testinfra.RandomSuffix() + "@example.com"}},
		"document in B": {`INSERT INTO documents (workspace_id, created_by, title, content_type) VALUES ($1, $2, 'x', 'text/plain')`,
			[]any{b.workspace, a.user}},
	}
	for name, ins := range inserts {
		err := inTx(t, app, ua, wa, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, ins.sql, ins.args...)
			return err
		})
		requireSQLState(t, err, "42501", name)
		require.ErrorContains(t, err, "row-level security", name)
	}

	// Updates and deletes of B's rows find nothing to change.
	hidden := map[string]struct {
		sql  string
		args []any
	}{
		"rename B":             {`UPDATE workspaces SET name = 'taken' WHERE id = $1`, []any{b.workspace}},
		"promote in B":         {`UPDATE workspace_members SET role = 'viewer' WHERE workspace_id = $1`, []any{b.workspace}},
		"remove from B":        {`DELETE FROM workspace_members WHERE workspace_id = $1`, []any{b.workspace}},
		"revoke B's":           {`UPDATE invitations SET revoked_at = now() WHERE workspace_id = $1`, []any{b.workspace}},
		"accept B's by token":  {`UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE token_hash = $1`, []any{b.tokenHash, a.user}},
		"B's owner's password": {`UPDATE users SET password_hash = 'x' WHERE id = $1`, []any{b.user}},
		"edit B's document":    {`UPDATE documents SET title = 'pwned' WHERE id = $1`, []any{b.document}},
		"delete B's document":  {`UPDATE documents SET deleted_at = now() WHERE workspace_id = $1`, []any{b.workspace}},
	}
	for name, up := range hidden {
		require.NoError(t, inTx(t, app, ua, wa, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, up.sql, up.args...)
			require.NoError(t, err, name)
			require.Zero(t, tag.RowsAffected(), name)
			return nil
		}))
	}

	// Moving one's own rows into B fails the WITH CHECK of the update.
	moves := map[string]string{
		"workspace_members": `UPDATE workspace_members SET workspace_id = $2 WHERE workspace_id = $1`,
		"invitations":       `UPDATE invitations SET workspace_id = $2 WHERE workspace_id = $1`,
		"workspaces":        `UPDATE workspaces SET id = $2 WHERE id = $1`,
		"documents":         `UPDATE documents SET workspace_id = $2 WHERE workspace_id = $1`,
		"transformations":   `UPDATE transformations SET workspace_id = $2 WHERE workspace_id = $1`,
		"presets":           `UPDATE transformation_presets SET workspace_id = $2 WHERE workspace_id = $1`,
	}
	for name, sql := range moves {
		err := inTx(t, app, ua, wa, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, sql, a.workspace, b.workspace)
			return err
		})
		requireSQLState(t, err, "42501", name)
	}

	// Through the ports, in A's scope: B's rows do not exist.
	uow := postgres.NewUnitOfWork(app)
	at := time.Now()
	checks := map[string]func(context.Context, ports.Tx) error{
		"AddMember to B": func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().AddMember(ctx, core.Membership{WorkspaceID: b.workspace, UserID: a.user, Role: core.RoleOwner})
		},
		"Create workspace B": func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Create(ctx, &core.Workspace{ID: uuid.New(), Name: "x", Slug: "x-" + testinfra.RandomSuffix(), CreatedBy: a.user})
		},
		"Update B": func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().Update(ctx, core.Workspace{ID: b.workspace, Name: "x", Slug: "x-" + testinfra.RandomSuffix()}, at)
		},
		"Membership of B's owner in B": func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Workspaces().Membership(ctx, b.workspace, b.user)
			return err
		},
		"SetMemberRole of B's owner": func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SetMemberRole(ctx, b.user, core.RoleViewer)
		},
		"RemoveMember B's owner": func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().RemoveMember(ctx, b.user)
		},
		"Create invitation to B": func(ctx context.Context, tx ports.Tx) error {
			return tx.Invitations().Create(ctx, &core.Invitation{WorkspaceID: b.workspace, Email: "x@example.com", Role: core.RoleAdmin,
				TokenHash: "h-" + testinfra.RandomSuffix(), InvitedBy: a.user, ExpiresAt: at.Add(time.Hour)})
		},
		"Revoke B's invitation": func(ctx context.Context, tx ports.Tx) error {
			return tx.Invitations().Revoke(ctx, b.invitation, at)
		},
		"MarkAccepted B's invitation": func(ctx context.Context, tx ports.Tx) error {
			return tx.Invitations().MarkAccepted(ctx, b.invitation, a.user, at)
		},
		"Append to B's trail": func(ctx context.Context, tx ports.Tx) error {
			return tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &b.workspace, Action: "x"})
		},
		"RecordLogin of B's owner": func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().RecordLogin(ctx, b.user, at)
		},
		"Create another user": func(ctx context.Context, tx ports.Tx) error {
			return tx.Users().Create(ctx, &core.User{ID: uuid.New(), Email: testinfra.RandomSuffix() + "@example.com", PasswordHash: "h"})
		},
		"Create a document in B": func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().Create(ctx, &core.Document{WorkspaceID: b.workspace, CreatedBy: a.user, Title: "x", ContentType: "text/plain"})
		},
		"Get B's document": func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Documents().Get(ctx, b.document)
			return err
		},
		"Update B's document": func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Documents().Update(ctx, core.Document{ID: b.document, Title: "pwned", ContentType: "text/plain"}, 1, at)
			return err
		},
		"Update B's document at a wrong version": func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Documents().Update(ctx, core.Document{ID: b.document, Title: "pwned", ContentType: "text/plain"}, 2, at)
			return err
		},
		"SoftDelete B's document": func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().SoftDelete(ctx, b.document, at)
		},
	}
	for name, check := range checks {
		require.ErrorIs(t, uow.Do(a.ctx(), check), core.ErrNotFound, name)
	}

	// B is untouched.
	var name string
	var members, invPending, events, docs int
	require.NoError(t, d.admin.QueryRow(ctx, `
		SELECT w.name,
			(SELECT count(*) FROM workspace_members m WHERE m.workspace_id = w.id AND m.role = 'owner'),
			(SELECT count(*) FROM invitations i WHERE i.workspace_id = w.id AND i.revoked_at IS NULL AND i.accepted_at IS NULL),
			(SELECT count(*) FROM audit_events e WHERE e.workspace_id = w.id),
			(SELECT count(*) FROM documents doc WHERE doc.workspace_id = w.id AND doc.deleted_at IS NULL
				AND doc.title = 'b' AND doc.version = 1)
		FROM workspaces w WHERE w.id = $1`, b.workspace).Scan(&name, &members, &invPending, &events, &docs))
	require.Equal(t, "b", name)
	require.Equal(t, 1, members)
	require.Equal(t, 1, invPending)
	require.Equal(t, len(b.events), events)
	require.Equal(t, 1, docs, "B's document is untouched and A created none in B")
	var hash string
	require.NoError(t, d.admin.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = $1`, b.user).Scan(&hash))
	require.Equal(t, "h", hash)
}

func TestRLSAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	app := d.appPool(t, nil)
	ctx := context.Background()

	for name, sql := range map[string]string{
		"update":   `UPDATE audit_events SET action = 'forged' WHERE workspace_id = $1`,
		"delete":   `DELETE FROM audit_events WHERE workspace_id = $1`,
		"truncate": `TRUNCATE audit_events`,
	} {
		// Even in the events' own workspace.
		err := inTx(t, app, a.user.String(), a.workspace.String(), func(tx pgx.Tx) error {
			if strings.HasPrefix(sql, "TRUNCATE") {
				_, err := tx.Exec(ctx, sql)
				return err
			}
			_, err := tx.Exec(ctx, sql, a.workspace)
			return err
		})
		requireSQLState(t, err, "42501", name)
		require.ErrorContains(t, err, "permission denied", name)
	}
	// Appending and reading work.
	uow := postgres.NewUnitOfWork(app)
	require.NoError(t, uow.Do(a.ctx(), func(ctx context.Context, tx ports.Tx) error {
		require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{WorkspaceID: &a.workspace, Action: core.AuditMemberRoleChanged}))
		require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginFailed}), "account-level event")
		events, err := tx.Audit().List(ctx, ports.AuditFilter{})
		require.NoError(t, err)
		require.Len(t, events, len(a.events)+1, "the account-level event belongs to no workspace")
		return nil
	}))
	require.Equal(t, len(a.events)+2, countRows(t, d.admin, "audit_events"))
}

// TestRLSDocumentsAreSoftDeletedOnly: the app role cannot delete a document,
// not even of its own workspace; the store hides it instead.
func TestRLSDocumentsAreSoftDeletedOnly(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	app := d.appPool(t, nil)
	ctx := context.Background()

	for name, sql := range map[string]string{
		"delete":   `DELETE FROM documents WHERE workspace_id = $1`,
		"truncate": `TRUNCATE documents`,
	} {
		err := inTx(t, app, a.user.String(), a.workspace.String(), func(tx pgx.Tx) error {
			if strings.HasPrefix(sql, "TRUNCATE") {
				_, err := tx.Exec(ctx, sql)
				return err
			}
			_, err := tx.Exec(ctx, sql, a.workspace)
			return err
		})
		requireSQLState(t, err, "42501", name)
		require.ErrorContains(t, err, "permission denied", name)
	}
	uow := postgres.NewUnitOfWork(app)
	require.NoError(t, uow.Do(a.ctx(), func(ctx context.Context, tx ports.Tx) error {
		return tx.Documents().SoftDelete(ctx, a.document, time.Now())
	}))
	var deleted bool
	require.NoError(t, d.admin.QueryRow(ctx, `SELECT deleted_at IS NOT NULL FROM documents WHERE id = $1`, a.document).Scan(&deleted))
	require.True(t, deleted, "the row stays, marked deleted")
}

// TestRLSOneConnectionForTwoTenants uses a pool of one connection for A,
// then B, then A again (one of them failing), and checks after each
// transaction that the connection carries no setting and no role.
func TestRLSOneConnectionForTwoTenants(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	b := seedTenant(t, d.admin, "b")
	ctx := context.Background()
	// The login role, and also the superuser with its one DATABASE_URL as
	// in development: UnitOfWork switches both to the app role.
	for name, pool := range map[string]*pgxpool.Pool{
		"login role": d.appPool(t, url.Values{"pool_max_conns": {"1"}}),
		"superuser":  d.poolAs(t, "", url.Values{"pool_max_conns": {"1"}}),
	} {
		t.Run(name, func(t *testing.T) {
			uow := postgres.NewUnitOfWork(pool)
			var pid int
			require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
			requireClean := func(after string) {
				t.Helper()
				var samePID int
				var role, user, workspace, token, current string
				require.NoError(t, pool.QueryRow(ctx, `SELECT pg_backend_pid(), current_setting('role'), current_user,
					COALESCE(current_setting('app.user_id', true), ''),
					COALESCE(current_setting('app.workspace_id', true), ''),
					COALESCE(current_setting('app.invitation_token_hash', true), '')`).
					Scan(&samePID, &role, &current, &user, &workspace, &token))
				require.Equal(t, pid, samePID, "pool_max_conns=1: always the same connection")
				require.Equal(t, "none", role, after)
				require.NotEqual(t, postgres.AppRole, current, after)
				require.Empty(t, user, after)
				require.Empty(t, workspace, after)
				require.Empty(t, token, after)
			}

			seesOnly := func(tn, other tenant) {
				t.Helper()
				require.NoError(t, uow.Do(tn.ctx(), func(ctx context.Context, tx ports.Tx) error {
					w, err := tx.Workspaces().Get(ctx)
					require.NoError(t, err)
					require.Equal(t, tn.workspace, w.ID)
					members, err := tx.Workspaces().ListMembers(ctx)
					require.NoError(t, err)
					require.Len(t, members, 1)
					require.Equal(t, tn.user, members[0].UserID)
					list, err := tx.Workspaces().ListForUser(ctx, tn.user)
					require.NoError(t, err)
					require.Len(t, list, 1)
					require.Equal(t, tn.workspace, list[0].Workspace.ID)
					invs, err := tx.Invitations().ListPending(ctx, time.Now())
					require.NoError(t, err)
					require.Len(t, invs, 1)
					require.Equal(t, tn.invitation, invs[0].ID)
					docs, err := tx.Documents().List(ctx, ports.DocumentFilter{})
					require.NoError(t, err)
					require.Len(t, docs, 1)
					require.Equal(t, tn.document, docs[0].ID)
					_, err = tx.Documents().Get(ctx, other.document)
					require.ErrorIs(t, err, core.ErrNotFound)
					events, err := tx.Audit().List(ctx, ports.AuditFilter{Limit: 100})
					require.NoError(t, err)
					var ids []uuid.UUID
					for _, e := range events {
						ids = append(ids, e.ID)
					}
					require.ElementsMatch(t, tn.events, ids)
					_, err = tx.Workspaces().Membership(ctx, other.workspace, other.user)
					require.ErrorIs(t, err, core.ErrNotFound)
					list, err = tx.Workspaces().ListForUser(ctx, other.user)
					require.NoError(t, err)
					require.Empty(t, list)
					return nil
				}))
				requireClean("after a transaction of " + tn.workspace.String())
			}

			seesOnly(a, b)
			seesOnly(b, a)
			errBoom := errors.New("boom")
			require.ErrorIs(t, uow.Do(a.ctx(), func(ctx context.Context, tx ports.Tx) error {
				_, err := tx.Invitations().FindByTokenHash(ctx, b.tokenHash)
				require.NoError(t, err)
				return errBoom
			}), errBoom)
			requireClean("after a failed transaction")
			seesOnly(b, a)
			seesOnly(a, b)
		})
	}
}

// TestRLSInvitationTokenIsACapability: an invitation of another workspace is
// readable by its token hash, for that one lookup only.
func TestRLSInvitationTokenIsACapability(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	a := seedTenant(t, d.admin, "a")
	b := seedTenant(t, d.admin, "b")
	ctx := context.Background()
	// A trigger records the token setting a later statement of the same
	// transaction sees.
	_, err := d.admin.Exec(ctx, `
		CREATE TABLE seen_token (seq serial, token text);
		CREATE FUNCTION record_token() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
		BEGIN
			INSERT INTO seen_token (token) VALUES (COALESCE(current_setting('app.invitation_token_hash', true), ''));
			RETURN NEW;
		END $$;
		CREATE TRIGGER audit_events_record_token AFTER INSERT ON audit_events
			FOR EACH ROW EXECUTE FUNCTION record_token();`)
	require.NoError(t, err)
	app := d.appPool(t, nil)
	uow := postgres.NewUnitOfWork(app)

	require.NoError(t, uow.Do(a.ctx(), func(ctx context.Context, tx ports.Tx) error {
		inv, err := tx.Invitations().FindByTokenHash(ctx, b.tokenHash)
		require.NoError(t, err)
		require.Equal(t, b.invitation, inv.ID)
		require.Equal(t, b.workspace, inv.WorkspaceID)
		require.True(t, inv.Pending(time.Now()))

		_, err = tx.Invitations().FindByTokenHash(ctx, "no-such-hash")
		require.ErrorIs(t, err, core.ErrNotFound)
		_, err = tx.Invitations().FindByTokenHash(ctx, "")
		require.ErrorIs(t, err, core.ErrNotFound)

		// The lookup left no capability behind: B's invitation is not A's
		// to list, revoke or accept.
		require.NoError(t, tx.Audit().Append(ctx, core.AuditEvent{Action: core.AuditLoginSucceeded}))
		invs, err := tx.Invitations().ListPending(ctx, time.Now())
		require.NoError(t, err)
		require.Len(t, invs, 1)
		require.Equal(t, a.invitation, invs[0].ID)
		require.ErrorIs(t, tx.Invitations().Revoke(ctx, b.invitation, time.Now()), core.ErrNotFound)
		require.ErrorIs(t, tx.Invitations().MarkAccepted(ctx, b.invitation, a.user, time.Now()), core.ErrNotFound)
		return nil
	}))
	var token string
	require.NoError(t, d.admin.QueryRow(ctx, `SELECT token FROM seen_token ORDER BY seq DESC LIMIT 1`).Scan(&token))
	require.Empty(t, token, "the token setting is cleared right after the lookup")

	// Without the lookup, the token column is no key to anything.
	require.NoError(t, inTx(t, app, a.user.String(), a.workspace.String(), func(tx pgx.Tx) error {
		var n int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM invitations WHERE token_hash = $1`, b.tokenHash).Scan(&n))
		require.Zero(t, n)
		return nil
	}))
}

// TestRLSCatalog checks the schema itself: every table with a workspace_id
// (and users and workspaces) has row-level security enabled and forced with
// policies; the app role can touch no table that has not; the app role is no
// superuser, has no BYPASSRLS and owns nothing.
func TestRLSCatalog(t *testing.T) {
	t.Parallel()
	_, admin := newDatabase(t, nil)
	ctx := context.Background()

	rows, err := admin.Query(ctx, `
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
			(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
			EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped),
			has_table_privilege($1, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
		ORDER BY c.relname`, postgres.AppRole)
	require.NoError(t, err)
	type table struct {
		name                  string
		rls, forced           bool
		policies              int
		hasWorkspace, granted bool
	}
	tables, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (table, error) {
		var tb table
		err := row.Scan(&tb.name, &tb.rls, &tb.forced, &tb.policies, &tb.hasWorkspace, &tb.granted)
		return tb, err
	})
	require.NoError(t, err)
	withWorkspace := map[string]bool{}
	for _, tb := range tables {
		if tb.hasWorkspace || tb.granted || tb.name == "users" || tb.name == "workspaces" {
			require.True(t, tb.rls, "%s: row level security enabled", tb.name)
			require.True(t, tb.forced, "%s: row level security forced", tb.name)
			require.Positive(t, tb.policies, "%s: at least one policy", tb.name)
		}
		if tb.hasWorkspace {
			withWorkspace[tb.name] = true
		}
	}
	for _, name := range []string{"workspace_members", "invitations", "audit_events", "documents",
		"transformations", "transformation_presets"} {
		require.True(t, withWorkspace[name], "%s has a workspace_id", name)
	}

	// The policies of documents, transformations and presets: one per
	// command the app role has a grant for, each on the current workspace;
	// presets are further limited to the shared ones and the user's own,
	// except for INSERT.
	type policy struct {
		name, cmd        string
		roles            []string
		using, withCheck string
	}
	type wantPolicy struct{ name, cmd string }
	for _, c := range []struct {
		table   string
		want    []wantPolicy
		byOwner map[string]bool // commands whose USING also checks the owner
	}{
		{"documents", []wantPolicy{{"documents_insert", "INSERT"}, {"documents_select", "SELECT"}, {"documents_update", "UPDATE"}}, nil},
		{"transformations", []wantPolicy{{"transformations_insert", "INSERT"}, {"transformations_select", "SELECT"},
			{"transformations_sweeper_select", "SELECT"}, {"transformations_update", "UPDATE"}}, nil},
		{"transformation_presets", []wantPolicy{{"transformation_presets_delete", "DELETE"},
			{"transformation_presets_insert", "INSERT"}, {"transformation_presets_select", "SELECT"},
			{"transformation_presets_update", "UPDATE"}}, map[string]bool{"SELECT": true, "UPDATE": true, "DELETE": true}},
	} {
		rows, err = admin.Query(ctx, `
			SELECT policyname, cmd, roles::text[], COALESCE(qual, ''), COALESCE(with_check, '')
			FROM pg_policies WHERE schemaname = 'public' AND tablename = $1 ORDER BY policyname`, c.table)
		require.NoError(t, err)
		policies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (policy, error) {
			var p policy
			err := row.Scan(&p.name, &p.cmd, &p.roles, &p.using, &p.withCheck)
			return p, err
		})
		require.NoError(t, err)
		require.Len(t, policies, len(c.want), c.table)
		for i, want := range c.want {
			p := policies[i]
			require.Equal(t, want.name, p.name)
			require.Equal(t, want.cmd, p.cmd, p.name)
			require.Equal(t, []string{postgres.AppRole}, p.roles, p.name)
			if p.name == "transformations_sweeper_select" {
				// The sweeper's cross-tenant read: SELECT only, and only in a
				// transaction that turned the sweeper setting on.
				require.Equal(t, "(current_setting('app.sweeper'::text, true) = 'on'::text)", p.using)
				require.Empty(t, p.withCheck)
				continue
			}
			for _, expr := range []string{p.using, p.withCheck} {
				if expr != "" {
					require.Contains(t, expr, "current_setting('app.workspace_id'", p.name)
					require.Contains(t, expr, "workspace_id =", p.name)
				}
			}
			if c.byOwner[want.cmd] {
				require.Contains(t, p.using, "current_setting('app.user_id'", p.name)
				require.Contains(t, p.using, "is_shared", p.name)
			}
			require.Equal(t, want.cmd != "INSERT", p.using != "", "%s: USING", p.name)
			require.Equal(t, want.cmd != "SELECT" && want.cmd != "DELETE", p.withCheck != "", "%s: WITH CHECK", p.name)
		}
	}
	require.Contains(t, tables, table{name: "schema_migrations"}, "the app role has no business with migrations")

	var super, bypass, login bool
	var owned int
	require.NoError(t, admin.QueryRow(ctx, `
		SELECT r.rolsuper, r.rolbypassrls, r.rolcanlogin,
			(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)
			+ (SELECT count(*) FROM pg_namespace n WHERE n.nspowner = r.oid)
			+ (SELECT count(*) FROM pg_proc p WHERE p.proowner = r.oid)
		FROM pg_roles r WHERE r.rolname = $1`, postgres.AppRole).Scan(&super, &bypass, &login, &owned))
	require.False(t, super, "the app role is not a superuser")
	require.False(t, bypass, "the app role has no BYPASSRLS")
	require.False(t, login, "the app role is switched to, never logged in as")
	require.Zero(t, owned, "the app role owns nothing")

	// The append-only trail and the soft-deleted accounts, workspaces and
	// documents.
	for table, privileges := range map[string]map[string]bool{
		"audit_events":           {"SELECT": true, "INSERT": true, "UPDATE": false, "DELETE": false, "TRUNCATE": false},
		"users":                  {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": false, "TRUNCATE": false},
		"workspaces":             {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": false, "TRUNCATE": false},
		"workspace_members":      {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "TRUNCATE": false},
		"invitations":            {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": false, "TRUNCATE": false},
		"documents":              {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": false, "TRUNCATE": false},
		"transformations":        {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": false, "TRUNCATE": false},
		"transformation_presets": {"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "TRUNCATE": false},
	} {
		for privilege, want := range privileges {
			var got bool
			require.NoError(t, admin.QueryRow(ctx, `SELECT has_table_privilege($1, $2, $3)`,
				postgres.AppRole, table, privilege).Scan(&got))
			require.Equal(t, want, got, "%s on %s", privilege, table)
		}
	}
}

func TestCheckTenantRole(t *testing.T) {
	t.Parallel()
	d := newRLSDB(t)
	ctx := context.Background()

	t.Run("safe as the superuser of a single DATABASE_URL", func(t *testing.T) {
		role, err := postgres.CheckTenantRole(ctx, d.admin)
		require.NoError(t, err)
		require.Equal(t, postgres.TenantRole{Name: postgres.AppRole}, role)
		require.True(t, role.Safe())
		require.Empty(t, role.Problems())
	})

	t.Run("safe as a login role member of the app role", func(t *testing.T) {
		role, err := postgres.CheckTenantRole(ctx, d.appPool(t, nil))
		require.NoError(t, err)
		require.True(t, role.Safe(), "%+v", role)
		require.Equal(t, postgres.AppRole, role.Name)
	})

	t.Run("unsafe with BYPASSRLS, or as a member of such a role", func(t *testing.T) {
		bypass := "rp_bypass_" + testinfra.RandomSuffix()
		createRole(t, d.admin, bypass, "NOLOGIN BYPASSRLS")
		role, err := postgres.CheckTenantRoleAs(ctx, d.admin, bypass)
		require.NoError(t, err)
		require.Equal(t, bypass, role.Name)
		require.True(t, role.BypassRLS)
		require.False(t, role.Superuser)
		require.False(t, role.Safe())
		require.Equal(t, []string{"has BYPASSRLS"}, role.Problems())

		// A role that may SET ROLE to a BYPASSRLS role is one statement away.
		member := "rp_member_" + testinfra.RandomSuffix()
		createRole(t, d.admin, member, "NOLOGIN IN ROLE "+bypass)
		role, err = postgres.CheckTenantRoleAs(ctx, d.admin, member)
		require.NoError(t, err)
		require.True(t, role.BypassRLS)
		require.False(t, role.Safe())
	})

	t.Run("unsafe as a superuser or a table owner", func(t *testing.T) {
		var superuser string
		require.NoError(t, d.admin.QueryRow(ctx, `SELECT current_user`).Scan(&superuser))
		role, err := postgres.CheckTenantRoleAs(ctx, d.admin, superuser)
		require.NoError(t, err)
		require.True(t, role.Superuser)
		require.True(t, role.BypassRLS)
		require.Contains(t, role.OwnedTables, "workspaces")
		require.False(t, role.Safe())

		owner := "rp_owner_" + testinfra.RandomSuffix()
		createRole(t, d.admin, owner, "NOLOGIN")
		_, err = d.admin.Exec(ctx, `CREATE TABLE owned_by_test (x int); ALTER TABLE owned_by_test OWNER TO `+owner)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = d.admin.Exec(context.Background(), `DROP TABLE IF EXISTS owned_by_test`) })
		role, err = postgres.CheckTenantRoleAs(ctx, d.admin, owner)
		require.NoError(t, err)
		require.Equal(t, []string{"owned_by_test"}, role.OwnedTables)
		require.Equal(t, []string{"owns tables (owned_by_test)"}, role.Problems())
	})

	t.Run("the switch fails for a role that is not a member of the app role", func(t *testing.T) {
		outsider := "rp_outsider_" + testinfra.RandomSuffix()
		createRole(t, d.admin, outsider, "LOGIN")
		pool := d.poolAs(t, outsider, url.Values{"pool_max_conns": {"1"}})
		requireLoginRole(t, pool, outsider)
		_, err := postgres.CheckTenantRole(ctx, pool)
		requireSQLState(t, err, "42501")
		uow := postgres.NewUnitOfWork(pool)
		for range 2 {
			// The first statement travels with BEGIN and the switch; the
			// failed switch aborts the transaction, so the server skips
			// it, and it fails with the switch's error. The connection of
			// the failed transaction is not reused: the second attempt
			// fails the same way.
			statements := 0
			err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				statements++
				_, err := tx.Workspaces().Get(ctx)
				require.Error(t, err, "no statement runs without the switch")
				return err
			})
			require.Equal(t, 1, statements)
			requireSQLState(t, err, "42501")
			require.ErrorContains(t, err, "permission denied to set role")
		}
	})
}

// TestModuleChecksTenantRoleAtStart starts the fx module as the server does:
// after the migrations, a safe role starts; an unsafe one is refused with
// RequireSafeRole and only logged without it.
func TestModuleChecksTenantRoleAtStart(t *testing.T) {
	t.Parallel()
	start := func(t *testing.T, cfg postgres.Config) (string, error) {
		t.Helper()
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		app := fx.New(fx.NopLogger, fx.Supply(cfg, log), postgres.Module, fx.Invoke(func(ports.UnitOfWork) {}))
		require.NoError(t, app.Err())
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := app.Start(ctx)
		if err == nil {
			require.NoError(t, app.Stop(ctx))
		}
		mu.Lock()
		defer mu.Unlock()
		return logs.String(), err
	}

	t.Run("safe: migrates, then starts", func(t *testing.T) {
		t.Parallel()
		dbURL := testinfra.NewDatabase(t)
		logs, err := start(t, postgres.Config{URL: dbURL, AutoMigrate: true, Migrations: migrations.FS, RequireSafeRole: true})
		require.NoError(t, err)
		require.Contains(t, logs, "database migrations applied")
		require.Contains(t, logs, "row-level security")
	})

	t.Run("unsafe: refused in production, a warning otherwise", func(t *testing.T) {
		t.Parallel()
		dbURL, admin := newDatabase(t, nil)
		// The app role owns a table of this database (ownership is per
		// database, so other tests' databases are not affected).
		_, err := admin.Exec(context.Background(),
			`CREATE TABLE owned_by_app (x int); ALTER TABLE owned_by_app OWNER TO `+postgres.AppRole)
		require.NoError(t, err)

		_, err = start(t, postgres.Config{URL: dbURL, RequireSafeRole: true})
		require.ErrorContains(t, err, "refusing to start")
		require.ErrorContains(t, err, "owns tables (owned_by_app)")

		logs, err := start(t, postgres.Config{URL: dbURL})
		require.NoError(t, err)
		require.Contains(t, logs, "level=WARN")
		require.Contains(t, logs, "owned_by_app")
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
