package httpapi_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// team is a workspace with one account per role, each holding a token pair
// whose current workspace is the team's.
type team struct {
	id                           string
	owner, admin, member, viewer account
	outsider                     account
}

func (a *api) switchTo(acc *account, workspaceID string) {
	a.t.Helper()
	r := a.do("POST", "/api/workspaces/"+workspaceID+"/switch", nil, bearer(acc.access)...)
	require.Equal(a.t, http.StatusOK, r.status, string(r.raw))
	acc.access, acc.refresh = r.str("access_token"), r.str("refresh_token")
}

// join invites acc with role and accepts as acc.
func (a *api) join(inviter account, workspaceID string, acc *account, role string) {
	a.t.Helper()
	inv := a.do("POST", "/api/workspaces/"+workspaceID+"/invitations", map[string]any{"email": acc.email, "role": role}, bearer(inviter.access)...)
	require.Equal(a.t, http.StatusCreated, inv.status, string(inv.raw))
	acc2 := a.do("POST", "/api/invitations/accept", map[string]any{"token": inv.str("token")}, bearer(acc.access)...)
	require.Equal(a.t, http.StatusOK, acc2.status, string(acc2.raw))
	a.switchTo(acc, workspaceID)
}

func (a *api) newTeam() team {
	a.t.Helper()
	tm := team{owner: a.register("owner"), admin: a.register("admin"), member: a.register("member"), viewer: a.register("viewer"), outsider: a.register("outsider")}
	r := a.do("POST", "/api/workspaces", map[string]any{"name": "Team " + uuid.NewString()[:8]}, bearer(tm.owner.access)...)
	require.Equal(a.t, http.StatusCreated, r.status, string(r.raw))
	tm.id = r.str("id")
	a.switchTo(&tm.owner, tm.id)
	a.join(tm.owner, tm.id, &tm.admin, "admin")
	a.join(tm.owner, tm.id, &tm.member, "member")
	a.join(tm.owner, tm.id, &tm.viewer, "viewer")
	return tm
}

func TestWorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		owner := a.register("wsowner")
		r := a.do("POST", "/api/workspaces", map[string]any{"name": "Acme Marketing!", "description": "campaigns"}, bearer(owner.access)...)
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
		require.Equal(t, "acme-marketing", r.str("slug"))
		require.Equal(t, "owner", r.str("role"))
		require.Equal(t, "free", r.str("plan"))
		id := r.str("id")

		// A derived slug that is taken gets a suffix; a chosen one is a conflict.
		again := a.do("POST", "/api/workspaces", map[string]any{"name": "Acme Marketing"}, bearer(owner.access)...)
		require.Equal(t, http.StatusCreated, again.status)
		require.True(t, strings.HasPrefix(again.str("slug"), "acme-marketing-"), again.str("slug"))
		require.Equal(t, http.StatusConflict, a.do("POST", "/api/workspaces", map[string]any{"name": "X", "slug": "acme-marketing"}, bearer(owner.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("POST", "/api/workspaces", map[string]any{"name": "X", "slug": "Bad Slug!"}, bearer(owner.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("POST", "/api/workspaces", map[string]any{"name": ""}, bearer(owner.access)...).status)

		list := a.do("GET", "/api/workspaces", nil, bearer(owner.access)...)
		require.Equal(t, http.StatusOK, list.status)
		require.EqualValues(t, 3, list.body["count"], "personal + two")

		got := a.do("GET", "/api/workspaces/"+id, nil, bearer(owner.access)...)
		require.Equal(t, http.StatusOK, got.status)
		require.Equal(t, "campaigns", got.str("description"))
		require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", "/api/workspaces/not-a-uuid", nil, bearer(owner.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("GET", "/api/workspaces/"+uuid.NewString(), nil, bearer(owner.access)...).status)

		patched := a.do("PATCH", "/api/workspaces/"+id, map[string]any{"name": "Acme Growth", "slug": "acme-growth"}, bearer(owner.access)...)
		require.Equal(t, http.StatusOK, patched.status, string(patched.raw))
		require.Equal(t, "Acme Growth", patched.str("name"))
		require.Equal(t, "acme-growth", patched.str("slug"))
		require.Equal(t, http.StatusConflict, a.do("PATCH", "/api/workspaces/"+again.str("id"), map[string]any{"slug": "acme-growth"}, bearer(owner.access)...).status)

		// Delete: the workspace disappears, and tokens scoped to it stop working.
		a.switchTo(&owner, id)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(owner.access)...).status)
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/workspaces/"+id, nil, bearer(owner.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(owner.access)...).status)
		a.login(&owner)
		require.Equal(t, http.StatusNotFound, a.do("GET", "/api/workspaces/"+id, nil, bearer(owner.access)...).status)
		require.EqualValues(t, 2, a.do("GET", "/api/workspaces", nil, bearer(owner.access)...).body["count"])
		// The slug is free again.
		require.Equal(t, http.StatusCreated, a.do("POST", "/api/workspaces", map[string]any{"name": "Y", "slug": "acme-growth"}, bearer(owner.access)...).status)
	})
}

func TestRolesAreEnforced(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		tm := a.newTeam()
		ws := "/api/workspaces/" + tm.id

		// Everyone in the team can read; outsiders get 404, never 403.
		for _, acc := range []account{tm.owner, tm.admin, tm.member, tm.viewer} {
			require.Equal(t, http.StatusOK, a.do("GET", ws, nil, bearer(acc.access)...).status)
			require.Equal(t, http.StatusOK, a.do("GET", ws+"/members", nil, bearer(acc.access)...).status)
			require.Equal(t, http.StatusOK, a.do("GET", ws+"/usage", nil, bearer(acc.access)...).status)
		}
		members := a.do("GET", ws+"/members", nil, bearer(tm.viewer.access)...)
		require.EqualValues(t, 4, members.body["count"])

		type call struct {
			method, path string
			body         any
		}
		adminOnly := []call{
			{"PATCH", ws, map[string]any{"description": "x"}},
			{"PATCH", ws + "/members/" + tm.admin.userID, map[string]any{"role": "member"}},
			{"DELETE", ws + "/members/" + tm.admin.userID, nil},
			{"POST", ws + "/invitations", map[string]any{"email": nextEmail("inv"), "role": "viewer"}},
			{"GET", ws + "/invitations", nil},
			{"DELETE", ws + "/invitations/" + uuid.NewString(), nil},
			{"GET", ws + "/audit-events", nil},
		}
		for _, c := range adminOnly {
			for _, acc := range []account{tm.viewer, tm.member} {
				r := a.do(c.method, c.path, c.body, bearer(acc.access)...)
				require.Equal(t, http.StatusForbidden, r.status, "%s %s as %s: %s", c.method, c.path, acc.email, r.raw)
			}
		}
		for _, c := range append(adminOnly, call{"DELETE", ws, nil}, call{"POST", ws + "/switch", nil}) {
			r := a.do(c.method, c.path, c.body, bearer(tm.outsider.access)...)
			require.Equal(t, http.StatusNotFound, r.status, "%s %s as outsider: %s", c.method, c.path, r.raw)
		}

		// Admins manage members below owner, not owners, and can't delete the workspace.
		require.Equal(t, http.StatusForbidden, a.do("DELETE", ws, nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("PATCH", ws+"/members/"+tm.owner.userID, map[string]any{"role": "admin"}, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("PATCH", ws+"/members/"+tm.member.userID, map[string]any{"role": "owner"}, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("DELETE", ws+"/members/"+tm.owner.userID, nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("POST", ws+"/invitations", map[string]any{"email": nextEmail("o"), "role": "owner"}, bearer(tm.admin.access)...).status)
		ok := a.do("PATCH", ws+"/members/"+tm.member.userID, map[string]any{"role": "VIEWER"}, bearer(tm.admin.access)...)
		require.Equal(t, http.StatusOK, ok.status, string(ok.raw))
		require.Equal(t, "viewer", ok.str("role"), "input enums are case-insensitive")
		require.Equal(t, http.StatusUnprocessableEntity, a.do("PATCH", ws+"/members/"+tm.member.userID, map[string]any{"role": "god"}, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("PATCH", ws+"/members/"+tm.outsider.userID, map[string]any{"role": "viewer"}, bearer(tm.admin.access)...).status)

		// The demoted member lost write access at once (same token).
		require.Equal(t, http.StatusForbidden, a.do("POST", ws+"/invitations", map[string]any{"email": nextEmail("x"), "role": "viewer"}, bearer(tm.member.access)...).status)

		// The last owner can neither be demoted nor leave.
		require.Equal(t, http.StatusConflict, a.do("PATCH", ws+"/members/"+tm.owner.userID, map[string]any{"role": "admin"}, bearer(tm.owner.access)...).status)
		require.Equal(t, http.StatusConflict, a.do("DELETE", ws+"/members/"+tm.owner.userID, nil, bearer(tm.owner.access)...).status)
		// With a second owner, the first may leave.
		require.Equal(t, http.StatusOK, a.do("PATCH", ws+"/members/"+tm.admin.userID, map[string]any{"role": "owner"}, bearer(tm.owner.access)...).status)
		require.Equal(t, http.StatusNoContent, a.do("DELETE", ws+"/members/"+tm.owner.userID, nil, bearer(tm.owner.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", ws, nil, bearer(tm.owner.access)...).status, "its token named the workspace it left")

		// Members may leave by themselves.
		require.Equal(t, http.StatusNoContent, a.do("DELETE", ws+"/members/"+tm.viewer.userID, nil, bearer(tm.viewer.access)...).status)
	})
}

func TestRemovedMemberTokenStopsAtOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		tm := a.newTeam()
		require.Equal(t, http.StatusOK, a.do("GET", "/api/auth/me", nil, bearer(tm.member.access)...).status)
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/workspaces/"+tm.id+"/members/"+tm.member.userID, nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/auth/me", nil, bearer(tm.member.access)...).status)
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/workspaces/"+tm.id, nil, bearer(tm.member.access)...).status)
		// Refreshing falls back to a workspace the user still belongs to.
		r := a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": tm.member.refresh})
		require.Equal(t, http.StatusOK, r.status)
		me := a.do("GET", "/api/auth/me", nil, bearer(r.str("access_token"))...)
		require.Equal(t, http.StatusOK, me.status)
		require.Equal(t, tm.member.workspaceID, me.body["workspace"].(map[string]any)["id"])
		require.Equal(t, http.StatusNotFound, a.do("GET", "/api/workspaces/"+tm.id, nil, bearer(r.str("access_token"))...).status)
	})
}

func TestSwitchWorkspace(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("switch")
		r := a.do("POST", "/api/workspaces", map[string]any{"name": "Second"}, bearer(acc.access)...)
		require.Equal(t, http.StatusCreated, r.status)
		second := r.str("id")
		oldRefresh := acc.refresh

		sw := a.do("POST", "/api/workspaces/"+second+"/switch", nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, sw.status, string(sw.raw))
		me := a.do("GET", "/api/auth/me", nil, bearer(sw.str("access_token"))...)
		require.Equal(t, second, me.body["workspace"].(map[string]any)["id"])
		require.EqualValues(t, 1, me.body["active_sessions"], "the same session, new tokens")
		refreshed := a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": sw.str("refresh_token")})
		require.Equal(t, http.StatusOK, refreshed.status)
		me = a.do("GET", "/api/auth/me", nil, bearer(refreshed.str("access_token"))...)
		require.Equal(t, second, me.body["workspace"].(map[string]any)["id"], "refresh keeps the switched workspace")

		// The pre-switch refresh token is spent: presenting it is reuse.
		require.Equal(t, http.StatusUnauthorized, a.do("POST", "/api/auth/refresh", map[string]any{"refresh_token": oldRefresh}).status)

		other := a.register("other")
		require.Equal(t, http.StatusNotFound, a.do("POST", "/api/workspaces/"+second+"/switch", nil, bearer(other.access)...).status)
	})
}

func TestInvitations(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		owner := a.register("host")
		ws := owner.workspaceID
		a.switchTo(&owner, ws)
		guest, stranger := a.register("guest"), a.register("stranger")
		invite := func(email, role string) response {
			return a.do("POST", "/api/workspaces/"+ws+"/invitations", map[string]any{"email": email, "role": role}, bearer(owner.access)...)
		}
		accept := func(acc account, token string) int {
			return a.do("POST", "/api/invitations/accept", map[string]any{"token": token}, bearer(acc.access)...).status
		}

		inv := invite(strings.ToUpper(guest.email), "member")
		require.Equal(t, http.StatusCreated, inv.status, string(inv.raw))
		require.NotEmpty(t, inv.str("token"))
		require.Equal(t, "member", inv.str("role"))
		require.Equal(t, http.StatusConflict, invite(guest.email, "viewer").status, "one pending invitation per email")
		require.Equal(t, http.StatusUnprocessableEntity, invite("not-an-email", "viewer").status)
		require.Equal(t, http.StatusUnprocessableEntity, invite(nextEmail("x"), "superuser").status)

		listed := a.do("GET", "/api/workspaces/"+ws+"/invitations", nil, bearer(owner.access)...)
		require.EqualValues(t, 1, listed.body["count"])
		require.NotContains(t, string(listed.raw), inv.str("token"), "tokens are never listed")
		require.NotContains(t, string(listed.raw), `"token"`)

		require.Equal(t, http.StatusForbidden, accept(stranger, inv.str("token")), "another email")
		require.Equal(t, http.StatusNotFound, accept(guest, "no-such-token"))
		require.Equal(t, http.StatusOK, accept(guest, inv.str("token")))
		require.Equal(t, http.StatusNotFound, accept(guest, inv.str("token")), "single use")
		require.EqualValues(t, 0, a.do("GET", "/api/workspaces/"+ws+"/invitations", nil, bearer(owner.access)...).body["count"])

		// A member invited again: conflict at once.
		require.Equal(t, http.StatusConflict, invite(guest.email, "viewer").status)

		// Revoked.
		late := a.register("late")
		rv := invite(late.email, "viewer")
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/workspaces/"+ws+"/invitations/"+rv.str("id"), nil, bearer(owner.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("DELETE", "/api/workspaces/"+ws+"/invitations/"+rv.str("id"), nil, bearer(owner.access)...).status)
		require.Equal(t, http.StatusNotFound, accept(late, rv.str("token")))

		// Expired after 7 days.
		slow := a.register("slow")
		ex := invite(slow.email, "viewer")
		a.clock.Advance(7*24*time.Hour + time.Minute)
		a.login(&slow) // the old access token expired with the clock
		require.Equal(t, http.StatusNotFound, accept(slow, ex.str("token")))

		// Already a member through another invitation: 409.
		a.login(&owner)
		a.switchTo(&owner, ws)
		twice := a.register("twice")
		first, second := invite(twice.email, "viewer"), ""
		require.Equal(t, http.StatusOK, accept(twice, first.str("token")))
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/workspaces/"+ws+"/members/"+twice.userID, nil, bearer(owner.access)...).status)
		second = invite(twice.email, "viewer").str("token")
		third := a.do("POST", "/api/workspaces", map[string]any{"name": "Other"}, bearer(owner.access)...)
		require.Equal(t, http.StatusCreated, third.status)
		require.Equal(t, http.StatusOK, accept(twice, second))
		_ = third
	})
}

func TestConcurrentAcceptHasOneWinner(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		owner, guest := a.register("host"), a.register("guest")
		a.switchTo(&owner, owner.workspaceID)
		inv := a.do("POST", "/api/workspaces/"+owner.workspaceID+"/invitations", map[string]any{"email": guest.email, "role": "member"}, bearer(owner.access)...)
		require.Equal(t, http.StatusCreated, inv.status)
		statuses := make([]int, 8)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = a.do("POST", "/api/invitations/accept", map[string]any{"token": inv.str("token")}, bearer(guest.access)...).status
			}()
		}
		wg.Wait()
		ok := 0
		for _, s := range statuses {
			if s == http.StatusOK {
				ok++
			} else {
				require.Contains(t, []int{http.StatusNotFound, http.StatusConflict}, s)
			}
		}
		require.Equal(t, 1, ok, "%v", statuses)
		require.EqualValues(t, 2, a.do("GET", "/api/workspaces/"+owner.workspaceID+"/members", nil, bearer(owner.access)...).body["count"])
	})
}

func TestPlansAndUsage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":2},"starter":{"members":3}}`, "PLATFORM_ADMIN_EMAILS": "ops@example.com"})
		owner := a.register("planner")
		ws := owner.workspaceID
		a.switchTo(&owner, ws)
		usage := a.do("GET", "/api/workspaces/"+ws+"/usage", nil, bearer(owner.access)...)
		require.Equal(t, http.StatusOK, usage.status)
		require.Equal(t, "free", usage.str("plan"))
		require.EqualValues(t, 2, usage.body["limits"].(map[string]any)["members"])
		require.EqualValues(t, 1, usage.body["usage"].(map[string]any)["members"])

		require.Equal(t, http.StatusCreated, a.do("POST", "/api/workspaces/"+ws+"/invitations", map[string]any{"email": nextEmail("a"), "role": "viewer"}, bearer(owner.access)...).status)
		over := a.do("POST", "/api/workspaces/"+ws+"/invitations", map[string]any{"email": nextEmail("b"), "role": "viewer"}, bearer(owner.access)...)
		require.Equal(t, http.StatusPaymentRequired, over.status)
		require.Contains(t, over.str("detail"), "members")

		// Only platform admins change plans.
		require.Equal(t, http.StatusForbidden, a.do("PUT", "/api/admin/workspaces/"+ws+"/plan", map[string]any{"plan": "starter"}, bearer(owner.access)...).status)
		ops := account{email: "ops@example.com", password: "a long unusual passphrase"}
		reg := a.do("POST", "/api/auth/register", map[string]any{"email": ops.email, "password": ops.password})
		require.Equal(t, http.StatusCreated, reg.status)
		a.login(&ops)
		up := a.do("PUT", "/api/admin/workspaces/"+ws+"/plan", map[string]any{"plan": "Starter"}, bearer(ops.access)...)
		require.Equal(t, http.StatusOK, up.status, string(up.raw))
		require.Equal(t, "starter", up.str("plan"))
		require.Equal(t, http.StatusUnprocessableEntity, a.do("PUT", "/api/admin/workspaces/"+ws+"/plan", map[string]any{"plan": "platinum"}, bearer(ops.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("PUT", "/api/admin/workspaces/"+uuid.NewString()+"/plan", map[string]any{"plan": "pro"}, bearer(ops.access)...).status)
		require.Equal(t, http.StatusCreated, a.do("POST", "/api/workspaces/"+ws+"/invitations", map[string]any{"email": nextEmail("b"), "role": "viewer"}, bearer(owner.access)...).status)
	})
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		tm := a.newTeam()
		ws := "/api/workspaces/" + tm.id
		require.Equal(t, http.StatusOK, a.do("PATCH", ws+"/members/"+tm.member.userID, map[string]any{"role": "viewer"}, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusOK, a.do("PATCH", ws, map[string]any{"description": "new words"}, bearer(tm.admin.access)...).status)

		all := a.do("GET", ws+"/audit-events", nil, bearer(tm.admin.access)...)
		require.Equal(t, http.StatusOK, all.status, string(all.raw))
		events := all.body["audit_events"].([]any)
		actions := map[string]int{}
		for _, e := range events {
			actions[e.(map[string]any)["action"].(string)]++
		}
		require.Equal(t, 1, actions["workspace.created"])
		require.Equal(t, 3, actions["invitation.created"])
		require.Equal(t, 3, actions["invitation.accepted"])
		require.Equal(t, 1, actions["member.role_changed"])
		require.Equal(t, 1, actions["workspace.updated"])
		require.NotContains(t, string(all.raw), "token\":\"", "no secrets in the trail")

		newest := events[0].(map[string]any)
		require.Equal(t, "workspace.updated", newest["action"])
		require.Equal(t, tm.admin.userID, newest["actor_id"])
		require.Equal(t, "new words", newest["changes"].(map[string]any)["description"].(map[string]any)["to"])
		require.NotEmpty(t, newest["request_id"])

		filtered := a.do("GET", ws+"/audit-events?action=member.role_changed", nil, bearer(tm.admin.access)...)
		require.EqualValues(t, 1, filtered.body["count"])
		change := filtered.body["audit_events"].([]any)[0].(map[string]any)["changes"].(map[string]any)["role"].(map[string]any)
		require.Equal(t, "member", change["from"])
		require.Equal(t, "viewer", change["to"])

		// Paging with the cursor visits every event once.
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			r := a.do("GET", ws+"/audit-events?limit=2&cursor="+cursor, nil, bearer(tm.admin.access)...)
			require.Equal(t, http.StatusOK, r.status, string(r.raw))
			for _, e := range r.body["audit_events"].([]any) {
				id := e.(map[string]any)["id"].(string)
				require.False(t, seen[id], "duplicate %s", id)
				seen[id] = true
			}
			next, _ := r.body["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		require.Len(t, seen, len(events))
		require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", ws+"/audit-events?cursor=garbage!", nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", ws+"/audit-events?limit=1000", nil, bearer(tm.admin.access)...).status)

		// Another tenant's admin sees none of it.
		other := a.register("otheradmin")
		require.Equal(t, http.StatusNotFound, a.do("GET", ws+"/audit-events", nil, bearer(other.access)...).status)
	})
}

// TestTwoOwnersCannotDemoteEachOther races two owners demoting each other:
// the member rows are locked for the check, so one wins and the workspace
// keeps an owner.
func TestTwoOwnersCannotDemoteEachOther(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		for range 5 {
			first, second := a.register("o1"), a.register("o2")
			r := a.do("POST", "/api/workspaces", map[string]any{"name": "Duo"}, bearer(first.access)...)
			require.Equal(t, http.StatusCreated, r.status)
			ws := r.str("id")
			a.switchTo(&first, ws)
			a.join(first, ws, &second, "owner")
			statuses := make([]int, 2)
			var wg sync.WaitGroup
			for i, pair := range [][2]account{{first, second}, {second, first}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses[i] = a.do("PATCH", "/api/workspaces/"+ws+"/members/"+pair[1].userID, map[string]any{"role": "admin"}, bearer(pair[0].access)...).status
				}()
			}
			wg.Wait()
			// The loser is either refused as the last owner (409) or, having
			// been demoted first, no longer an owner at all (403).
			require.Contains(t, statuses, http.StatusOK)
			require.NotEqual(t, statuses[0], statuses[1], "%v", statuses)
			for _, s := range statuses {
				require.Contains(t, []int{http.StatusOK, http.StatusConflict, http.StatusForbidden}, s)
			}
			owners := 0
			for _, m := range a.do("GET", "/api/workspaces/"+ws+"/members", nil, bearer(first.access)...).body["members"].([]any) {
				if m.(map[string]any)["role"] == "owner" {
					owners++
				}
			}
			require.Equal(t, 1, owners)
		}
	})
}
