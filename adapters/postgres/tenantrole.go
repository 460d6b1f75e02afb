package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TenantRole is what CheckTenantRole found out about the role tenant
// queries run as.
type TenantRole struct {
	// Name is the effective role (current_user) inside a transaction of
	// UnitOfWork, after its switch to AppRole.
	Name string
	// Superuser and BypassRLS are set when the role has the attribute, or
	// may SET ROLE to a role that has it: either one skips every row-level
	// security policy.
	Superuser bool
	BypassRLS bool
	// OwnedTables are the tables of the current schema the role owns (or
	// may become the owner of): an owner can disable row-level security.
	OwnedTables []string
}

// Safe reports whether row-level security binds the role.
func (r TenantRole) Safe() bool { return len(r.Problems()) == 0 }

// Problems lists why row-level security would not bind the role, empty when
// it does.
func (r TenantRole) Problems() []string {
	var p []string
	if r.Superuser {
		p = append(p, "is a superuser")
	}
	if r.BypassRLS {
		p = append(p, "has BYPASSRLS")
	}
	if len(r.OwnedTables) > 0 {
		p = append(p, "owns tables ("+strings.Join(r.OwnedTables, ", ")+")")
	}
	return p
}

// tenantRoleSQL describes current_user. pg_has_role(..., 'MEMBER') is true
// of the role itself and of every role it may SET ROLE to (of everything for
// a superuser): what such a role may do, current_user may do after one
// statement.
const tenantRoleSQL = `
	SELECT current_user,
		EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolsuper AND pg_has_role(current_user, r.oid, 'MEMBER')),
		EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolbypassrls AND pg_has_role(current_user, r.oid, 'MEMBER')),
		COALESCE((
			SELECT array_agg(c.relname::text ORDER BY c.relname)
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
				AND pg_has_role(current_user, c.relowner, 'MEMBER')
		), '{}')`

// CheckTenantRole begins a transaction that switches to AppRole with empty
// tenant settings, as a transaction of UnitOfWork does with its first
// statement, reports the role it runs as, and rolls back. It returns an error when the
// switch itself fails (AppRole is missing, or the pool's role is not a
// member of it): then no tenant query could run at all. A TenantRole that is
// not Safe means the policies would not isolate tenants.
func CheckTenantRole(ctx context.Context, pool *pgxpool.Pool) (TenantRole, error) {
	return checkTenantRole(ctx, pool, AppRole)
}

// batchSender is a pool or one of its connections.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// checkTenantRole is CheckTenantRole on db (a pool, or a connection not yet
// in one) for transactions that switch to role; tests point it at roles of
// their own, since AppRole is shared by every database of the server. One
// round trip: BEGIN, the switch as UnitOfWork makes it, the description
// and ROLLBACK.
func checkTenantRole(ctx context.Context, db batchSender, role string) (TenantRole, error) {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(identitySQL, role, "", "")
	b.Queue(tenantRoleSQL)
	b.Queue("ROLLBACK")
	br := db.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return TenantRole{}, fmt.Errorf("begin transaction: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return TenantRole{}, fmt.Errorf("switch to role %s: %w", role, err)
	}
	var r TenantRole
	if err := br.QueryRow().Scan(&r.Name, &r.Superuser, &r.BypassRLS, &r.OwnedTables); err != nil {
		return TenantRole{}, fmt.Errorf("describe tenant role: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return TenantRole{}, fmt.Errorf("roll back: %w", err)
	}
	if len(r.OwnedTables) == 0 {
		r.OwnedTables = nil
	}
	return r, nil
}

// ErrUnsafeTenantRole is the error of every connection of a pool whose
// tenant queries would run unbound by row-level security (see
// CheckTenantRole) while Config.RequireSafeRole is set.
var ErrUnsafeTenantRole = errors.New("tenant queries would not be bound by row-level security")

// tenantRoleCheckTimeout bounds one check: pgxpool builds connections on a
// context that an abandoned acquire does not cancel.
const tenantRoleCheckTimeout = 30 * time.Second

// tenantRoleGuard is the pool's AfterConnect hook: no connection joins the
// pool, so no statement runs, before the role tenant queries run as has
// been checked (CheckTenantRole) on one of them. Until a check passes,
// every new connection is checked, one at a time; a failing check closes
// the connection, which fails the acquire and so the transaction or query
// that wanted it. A passed check is not repeated: every connection of the
// pool logs in as the same role.
type tenantRoleGuard struct {
	role    string // AppRole; the tests' own roles
	require bool   // Config.RequireSafeRole
	log     *slog.Logger
	turn    chan struct{} // held by the running check
	passed  atomic.Bool
}

func newTenantRoleGuard(role string, requireSafe bool, log *slog.Logger) *tenantRoleGuard {
	return &tenantRoleGuard{role: role, require: requireSafe, log: log, turn: make(chan struct{}, 1)}
}

// afterConnect checks conn's role unless a check already passed.
func (g *tenantRoleGuard) afterConnect(ctx context.Context, conn *pgx.Conn) error {
	if g.passed.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, tenantRoleCheckTimeout)
	defer cancel()
	select {
	case g.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("tenant isolation check: %w", ctx.Err())
	}
	defer func() { <-g.turn }()
	if g.passed.Load() {
		return nil
	}
	if err := g.check(ctx, conn); err != nil {
		return err
	}
	g.passed.Store(true)
	return nil
}

// check fails when tenant transactions cannot switch to g.role (no tenant
// query could run), and when they would run unbound by row-level security
// while g.require is set; without it, the latter is only a warning, so a
// development database with a hand-altered role still works.
func (g *tenantRoleGuard) check(ctx context.Context, conn *pgx.Conn) error {
	role, err := checkTenantRole(ctx, conn, g.role)
	if err != nil {
		return fmt.Errorf("tenant isolation check: %w", err)
	}
	if role.Safe() {
		g.log.Info("tenant queries run under row-level security", "role", role.Name)
		return nil
	}
	problems := strings.Join(role.Problems(), ", ")
	if g.require {
		return fmt.Errorf("%w: they would run as role %q, which %s, so the policies would not isolate workspaces; "+
			"connect as a role that is a member of %s and is neither a superuser, nor BYPASSRLS, nor the tables' owner",
			ErrUnsafeTenantRole, role.Name, problems, g.role)
	}
	g.log.Warn("tenant queries are not bound by row-level security; this is refused in production",
		"role", role.Name, "problems", problems)
	return nil
}
