package core_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
)

// TestRoleTable pins the role table of API.md: who may do what.
func TestRoleTable(t *testing.T) {
	t.Parallel()
	allowed := map[core.Role][]core.Action{
		core.RoleViewer: {core.ActReadWorkspace, core.ActReadMembers, core.ActReadUsage, core.ActReadContent},
		core.RoleMember: {core.ActCreateContent, core.ActEditOwnContent},
		core.RoleAdmin:  {core.ActEditAnyContent, core.ActUpdateWorkspace, core.ActManageMembers, core.ActManageInvitations, core.ActReadAudit},
		core.RoleOwner:  {core.ActDeleteWorkspace, core.ActManageOwners},
	}
	order := []core.Role{core.RoleViewer, core.RoleMember, core.RoleAdmin, core.RoleOwner}
	for i, role := range order {
		for j, granted := range order {
			for _, action := range allowed[granted] {
				want := i >= j // a role has every action of the roles below it
				require.Equal(t, want, role.Can(action), "%s %s", role, action)
				if want {
					require.NoError(t, core.Authorize(role, action))
				} else {
					require.ErrorIs(t, core.Authorize(role, action), core.ErrForbidden)
				}
			}
		}
	}
	require.False(t, core.Role("").Can(core.ActReadWorkspace))
	require.False(t, core.RoleOwner.Can(core.Action("unknown")))
}

func TestAuthorizeEdit(t *testing.T) {
	t.Parallel()
	me, other := uuid.New(), uuid.New()
	require.NoError(t, core.AuthorizeEdit(core.Identity{UserID: me, Role: core.RoleMember}, me))
	require.ErrorIs(t, core.AuthorizeEdit(core.Identity{UserID: me, Role: core.RoleMember}, other), core.ErrForbidden)
	require.NoError(t, core.AuthorizeEdit(core.Identity{UserID: me, Role: core.RoleAdmin}, other))
	require.ErrorIs(t, core.AuthorizeEdit(core.Identity{UserID: me, Role: core.RoleViewer}, me), core.ErrForbidden)
}

func TestCheckCount(t *testing.T) {
	t.Parallel()
	require.NoError(t, core.CheckCount("members", core.PlanFree, 2, 3))
	err := core.CheckCount("members", core.PlanFree, 3, 3)
	require.Equal(t, core.EQUOTA, core.ErrorCode(err))
	require.Contains(t, err.Error(), "members")
	require.NoError(t, core.CheckCount("members", core.PlanEnterprise, 1_000_000, 0), "0 is unlimited")
}
