package postgres

import (
	"context"
	"fmt"
	"strings"

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

// CheckTenantRole begins a transaction exactly as UnitOfWork does (the
// switch to AppRole and empty tenant settings in the BEGIN round trip),
// reports the role it runs as, and rolls back. It returns an error when the
// switch itself fails (AppRole is missing, or the pool's role is not a
// member of it): then no tenant query could run at all. A TenantRole that is
// not Safe means the policies would not isolate tenants.
func CheckTenantRole(ctx context.Context, pool *pgxpool.Pool) (TenantRole, error) {
	return checkTenantRole(ctx, pool, AppRole)
}

// checkTenantRole is CheckTenantRole for transactions that switch to role;
// tests point it at roles of their own, since AppRole is shared by every
// database of the server.
func checkTenantRole(ctx context.Context, pool *pgxpool.Pool, role string) (TenantRole, error) {
	ptx, err := pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: beginSQL(role, "", "")})
	if err != nil {
		return TenantRole{}, fmt.Errorf("switch to role %s: %w", role, err)
	}
	defer func() {
		rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_ = ptx.Rollback(rbCtx)
	}()
	var r TenantRole
	if err := ptx.QueryRow(ctx, tenantRoleSQL).Scan(&r.Name, &r.Superuser, &r.BypassRLS, &r.OwnedTables); err != nil {
		return TenantRole{}, fmt.Errorf("describe tenant role: %w", err)
	}
	if len(r.OwnedTables) == 0 {
		r.OwnedTables = nil
	}
	return r, nil
}
