package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

const presetsPath = "/api/transformation-presets"

func (a *api) createPreset(acc account, body map[string]any) response {
	a.t.Helper()
	return a.do("POST", presetsPath, body, bearer(acc.access)...)
}

func presetNames(r response) []string {
	var names []string
	for _, p := range r.body["presets"].([]any) {
		names = append(names, p.(map[string]any)["name"].(string))
	}
	return names
}

func TestPresetsLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		tm := a.newTeam()

		r := a.createPreset(tm.member, map[string]any{"name": "  Tweets  ", "description": "short", "transformation_type": "social_media",
			"parameters": map[string]any{"platform": "twitter", "post_count": 3}, "is_shared": true})
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
		require.Equal(t, "Tweets", r.str("name"))
		require.Equal(t, "SOCIAL_MEDIA", r.str("transformation_type"))
		require.Equal(t, tm.id, r.str("workspace_id"))
		require.Equal(t, tm.member.userID, r.str("created_by"))
		require.Equal(t, true, r.body["is_shared"])
		require.EqualValues(t, 0, r.body["usage_count"])
		params := r.body["parameters"].(map[string]any)
		require.Equal(t, true, params["hashtags"], "defaults filled in")
		require.Equal(t, "engaging", params["tone"])
		require.EqualValues(t, 3, params["post_count"])
		shared := r.str("id")

		// Names are unique per workspace, case-insensitively.
		dup := a.createPreset(tm.admin, map[string]any{"name": "TWEETS", "transformation_type": "SUMMARY"})
		require.Equal(t, http.StatusConflict, dup.status, string(dup.raw))
		require.Contains(t, dup.str("detail"), "a preset with this name exists")

		private := a.createPreset(tm.member, map[string]any{"name": "Mine", "transformation_type": "SUMMARY", "parameters": map[string]any{"length": "short"}})
		require.Equal(t, http.StatusCreated, private.status, string(private.raw))
		require.Equal(t, false, private.body["is_shared"])

		// The creator sees both; another member only the shared one.
		got := a.do("GET", presetsPath+"/"+shared, nil, bearer(tm.viewer.access)...)
		require.Equal(t, http.StatusOK, got.status, string(got.raw))
		require.Equal(t, "Tweets", got.str("name"))
		require.Equal(t, http.StatusNotFound, a.do("GET", presetsPath+"/"+private.str("id"), nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusOK, a.do("GET", presetsPath+"/"+private.str("id"), nil, bearer(tm.member.access)...).status)
		require.ElementsMatch(t, []string{"Tweets", "Mine"}, presetNames(a.do("GET", presetsPath, nil, bearer(tm.member.access)...)))
		require.Equal(t, []string{"Tweets"}, presetNames(a.do("GET", presetsPath, nil, bearer(tm.viewer.access)...)))

		// Outsiders see nothing of the team's presets.
		require.Equal(t, http.StatusNotFound, a.do("GET", presetsPath+"/"+shared, nil, bearer(tm.outsider.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("POST", presetsPath+"/"+shared+"/use", nil, bearer(tm.outsider.access)...).status)
		require.EqualValues(t, 0, a.do("GET", presetsPath, nil, bearer(tm.outsider.access)...).body["count"])

		// /use counts.
		require.Equal(t, http.StatusNoContent, a.do("POST", presetsPath+"/"+shared+"/use", nil, bearer(tm.admin.access)...).status)
		require.EqualValues(t, 1, a.do("GET", presetsPath+"/"+shared, nil, bearer(tm.member.access)...).body["usage_count"])

		// A transformation with the preset: the request's parameters win, the use is counted.
		doc := a.createDoc(tm.member, "Remote work", longArticle)
		require.Equal(t, http.StatusCreated, doc.status, string(doc.raw))
		tr := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "SOCIAL_MEDIA",
			"preset_id": shared, "parameters": map[string]any{"post_count": 2}}, bearer(tm.member.access)...)
		require.Equal(t, http.StatusCreated, tr.status, string(tr.raw))
		tp := tr.body["parameters"].(map[string]any)
		require.Equal(t, "twitter", tp["platform"], "from the preset")
		require.EqualValues(t, 2, tp["post_count"], "the request wins")
		require.Equal(t, shared, tr.str("preset_id"))
		require.EqualValues(t, 2, a.do("GET", presetsPath+"/"+shared, nil, bearer(tm.member.access)...).body["usage_count"])

		// Edit: the owner can; the admin too.
		upd := a.do("PATCH", presetsPath+"/"+shared, map[string]any{"name": "Tweets v2", "parameters": map[string]any{"platform": "threads"}},
			bearer(tm.member.access)...)
		require.Equal(t, http.StatusOK, upd.status, string(upd.raw))
		require.Equal(t, "Tweets v2", upd.str("name"))
		require.Equal(t, "threads", upd.body["parameters"].(map[string]any)["platform"])
		require.EqualValues(t, 1, upd.body["parameters"].(map[string]any)["post_count"], "parameters replaced, defaults filled")
		require.Equal(t, true, upd.body["is_shared"], "unchanged")
		require.Equal(t, http.StatusNoContent, a.do("DELETE", presetsPath+"/"+shared, nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("GET", presetsPath+"/"+shared, nil, bearer(tm.member.access)...).status)
	})
}

func TestPresetsRules(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
	tm := a.newTeam()

	// Validation.
	for _, body := range []map[string]any{
		{"name": "x", "transformation_type": "POEM"},
		{"name": "x", "transformation_type": "SUMMARY", "parameters": map[string]any{"length": "huge"}},
		{"name": "x", "transformation_type": "SUMMARY", "parameters": map[string]any{"nope": 1}},
		{"name": "x", "transformation_type": "CUSTOM"},
		{"name": "   ", "transformation_type": "SUMMARY"},
		{"name": string(make([]byte, 101)), "transformation_type": "SUMMARY"},
	} {
		r := a.createPreset(tm.member, body)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", body, r.raw)
	}
	bad := a.createPreset(tm.member, map[string]any{"name": "x", "transformation_type": "POEM"})
	require.Contains(t, string(bad.raw), "body.transformation_type")
	bad = a.createPreset(tm.member, map[string]any{"name": "x", "transformation_type": "SUMMARY", "parameters": map[string]any{"length": "huge"}})
	require.Contains(t, string(bad.raw), "body.parameters.length")

	// Viewers read but don't create or use.
	require.Equal(t, http.StatusForbidden, a.createPreset(tm.viewer, map[string]any{"name": "v", "transformation_type": "SUMMARY"}).status)

	shared := a.createPreset(tm.member, map[string]any{"name": "Blog", "transformation_type": "BLOG_POST", "is_shared": true})
	require.Equal(t, http.StatusCreated, shared.status, string(shared.raw))
	id := shared.str("id")
	require.Equal(t, http.StatusForbidden, a.do("POST", presetsPath+"/"+id+"/use", nil, bearer(tm.viewer.access)...).status)
	require.Equal(t, http.StatusForbidden, a.do("PATCH", presetsPath+"/"+id, map[string]any{"name": "v"}, bearer(tm.viewer.access)...).status)

	// Another member can't edit or delete a shared preset; an admin can.
	mem2 := a.register("member2")
	a.join(tm.owner, tm.id, &mem2, "member")
	require.Equal(t, http.StatusForbidden, a.do("PATCH", presetsPath+"/"+id, map[string]any{"name": "Hijack"}, bearer(mem2.access)...).status)
	require.Equal(t, http.StatusForbidden, a.do("DELETE", presetsPath+"/"+id, nil, bearer(mem2.access)...).status)
	adm := a.do("PATCH", presetsPath+"/"+id, map[string]any{"description": "by admin"}, bearer(tm.admin.access)...)
	require.Equal(t, http.StatusOK, adm.status, string(adm.raw))
	require.Equal(t, "by admin", adm.str("description"))
	// Only the creator can make it private (anyone else would lose it).
	require.Equal(t, http.StatusForbidden, a.do("PATCH", presetsPath+"/"+id, map[string]any{"is_shared": false}, bearer(tm.admin.access)...).status)
	own := a.do("PATCH", presetsPath+"/"+id, map[string]any{"is_shared": false}, bearer(tm.member.access)...)
	require.Equal(t, http.StatusOK, own.status, string(own.raw))
	require.Equal(t, false, own.body["is_shared"])
	require.Equal(t, "by admin", own.str("description"))
	// No longer shared: the other member doesn't see it.
	require.Equal(t, http.StatusNotFound, a.do("GET", presetsPath+"/"+id, nil, bearer(mem2.access)...).status)

	// Bad parameters on update; a duplicate name on update.
	require.Equal(t, http.StatusUnprocessableEntity, a.do("PATCH", presetsPath+"/"+id, map[string]any{"parameters": map[string]any{"word_count": 5}}, bearer(tm.member.access)...).status)
	second := a.createPreset(tm.member, map[string]any{"name": "Second", "transformation_type": "SUMMARY"})
	require.Equal(t, http.StatusCreated, second.status)
	require.Equal(t, http.StatusConflict, a.do("PATCH", presetsPath+"/"+second.str("id"), map[string]any{"name": "blog"}, bearer(tm.member.access)...).status)

	// include_shared=false: only one's own; the type filter.
	mine := a.createPreset(mem2, map[string]any{"name": "Mem2 shared", "transformation_type": "SUMMARY", "is_shared": true})
	require.Equal(t, http.StatusCreated, mine.status)
	require.ElementsMatch(t, []string{"Blog", "Second", "Mem2 shared"}, presetNames(a.do("GET", presetsPath, nil, bearer(tm.member.access)...)))
	require.ElementsMatch(t, []string{"Blog", "Second"}, presetNames(a.do("GET", presetsPath+"?include_shared=false", nil, bearer(tm.member.access)...)))
	require.ElementsMatch(t, []string{"Second", "Mem2 shared"}, presetNames(a.do("GET", presetsPath+"?transformation_type=summary", nil, bearer(tm.member.access)...)))
	require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", presetsPath+"?transformation_type=poem", nil, bearer(tm.member.access)...).status)

	// Paging.
	p1 := a.do("GET", presetsPath+"?limit=2", nil, bearer(tm.member.access)...)
	require.EqualValues(t, 2, p1.body["count"])
	require.NotEmpty(t, p1.str("next_cursor"))
	p2 := a.do("GET", presetsPath+"?limit=2&cursor="+p1.str("next_cursor"), nil, bearer(tm.member.access)...)
	require.EqualValues(t, 1, p2.body["count"], string(p2.raw))
	require.Nil(t, p2.body["next_cursor"])
	require.ElementsMatch(t, []string{"Blog", "Second", "Mem2 shared"}, append(presetNames(p1), presetNames(p2)...))
	require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", presetsPath+"?limit=101", nil, bearer(tm.member.access)...).status)

	// A preset of another type can't configure a transformation.
	doc := a.createDoc(tm.member, "Remote work", longArticle)
	require.Equal(t, http.StatusCreated, doc.status)
	tr := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "NEWSLETTER", "preset_id": id},
		bearer(tm.member.access)...)
	require.Equal(t, http.StatusUnprocessableEntity, tr.status, string(tr.raw))
	require.EqualValues(t, 0, a.do("GET", presetsPath+"/"+id, nil, bearer(tm.member.access)...).body["usage_count"], "not counted")

	// Unknown ids and bad ids.
	require.Equal(t, http.StatusNotFound, a.do("GET", presetsPath+"/"+uuid.NewString(), nil, bearer(tm.member.access)...).status)
	require.Equal(t, http.StatusNotFound, a.do("DELETE", presetsPath+"/"+uuid.NewString(), nil, bearer(tm.member.access)...).status)
	require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", presetsPath+"/nope", nil, bearer(tm.member.access)...).status)
	// Outsider.
	require.Equal(t, http.StatusNotFound, a.do("PATCH", presetsPath+"/"+id, map[string]any{"name": "x"}, bearer(tm.outsider.access)...).status)
	require.Equal(t, http.StatusNotFound, a.do("DELETE", presetsPath+"/"+id, nil, bearer(tm.outsider.access)...).status)
}
