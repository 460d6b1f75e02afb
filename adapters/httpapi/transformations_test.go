package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

const longArticle = `Remote work changed how software teams collaborate. Engineers now rely on written communication more than ever before.
Asynchronous updates replace many meetings, and teams that document decisions move faster. Clear writing became a core engineering skill.
Managers report that focus time increased when meetings dropped. However, onboarding new hires remotely remains a challenge for many companies.
Successful teams pair newcomers with mentors and record short video walkthroughs of their systems. Good documentation reduces repeated questions.
Tools matter less than habits: a shared decision log, weekly written updates and public channels keep everyone aligned across time zones.
Companies that invest in these habits report lower attrition and faster delivery. Remote work is not a trend but a new default for knowledge work.`

// waitFinal polls the status until it is final and returns the transformation.
func (a *api) waitFinal(acc account, id string) response {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st := a.do("GET", "/api/transformations/"+id+"/status", nil, bearer(acc.access)...)
		require.Equal(a.t, http.StatusOK, st.status, string(st.raw))
		switch st.str("status") {
		case "COMPLETED", "FAILED", "CANCELLED":
			return a.do("GET", "/api/transformations/"+id, nil, bearer(acc.access)...)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.t.Fatalf("transformation %s did not finish", id)
	return response{}
}

func TestTransformationsEndToEnd(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testTransformationsEndToEnd)
}

func testTransformationsEndToEnd(t *testing.T, b backend) {
	a := newAPI(t, b, nil)
	acc := a.register("pipeline")
	doc := a.createDoc(acc, "Remote work", longArticle)
	require.Equal(t, http.StatusCreated, doc.status)

	r := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "social_media",
		"parameters": map[string]any{"platform": "twitter", "post_count": 3}}, bearer(acc.access)...)
	require.Equal(t, http.StatusCreated, r.status, string(r.raw))
	require.Equal(t, "PENDING", r.str("status"))
	require.Equal(t, "SOCIAL_MEDIA", r.str("transformation_type"))
	params := r.body["parameters"].(map[string]any)
	require.Equal(t, true, params["hashtags"], "defaults filled in")

	done := a.waitFinal(acc, r.str("id"))
	require.Equal(t, "COMPLETED", done.str("status"), string(done.raw))
	require.EqualValues(t, 100, done.body["progress"])
	require.Equal(t, "local", done.str("ai_provider"))
	parts := done.body["parts"].([]any)
	require.Len(t, parts, 3)
	for _, p := range parts {
		require.LessOrEqual(t, len([]rune(p.(map[string]any)["body"].(string))), 280)
	}
	require.NotEmpty(t, done.str("result"))
	require.EqualValues(t, 1, done.body["attempts"])

	list := a.do("GET", "/api/transformations?status=completed&document_id="+doc.str("id"), nil, bearer(acc.access)...)
	require.EqualValues(t, 1, list.body["count"], string(list.raw))

	// CUSTOM is not something the offline provider can do: a clear failure.
	custom := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "CUSTOM",
		"parameters": map[string]any{"instructions": "Write a haiku"}}, bearer(acc.access)...)
	require.Equal(t, http.StatusCreated, custom.status, string(custom.raw))
	failed := a.waitFinal(acc, custom.str("id"))
	require.Equal(t, "FAILED", failed.str("status"))
	require.Contains(t, failed.str("error_message"), "CUSTOM")
	require.Equal(t, http.StatusConflict, a.do("POST", "/api/transformations/"+custom.str("id")+"/cancel", nil, bearer(acc.access)...).status)
	retried := a.do("POST", "/api/transformations/"+custom.str("id")+"/retry", nil, bearer(acc.access)...)
	require.Equal(t, http.StatusOK, retried.status, string(retried.raw))
	require.Equal(t, "PENDING", retried.str("status"))
	require.Equal(t, http.StatusConflict, a.do("POST", "/api/transformations/"+done.str("id")+"/retry", nil, bearer(acc.access)...).status)

	require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/transformations/"+done.str("id"), nil, bearer(acc.access)...).status)
	require.Equal(t, http.StatusNotFound, a.do("GET", "/api/transformations/"+done.str("id"), nil, bearer(acc.access)...).status)
}

func TestTransformationValidation(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], map[string]string{"PLAN_LIMITS": `{"free":{"members":10,"ai_requests_per_month":2}}`})
	tm := a.newTeam()
	doc := a.createDoc(tm.member, "Doc", longArticle)
	create := func(acc account, body map[string]any) response {
		return a.do("POST", "/api/transformations", body, bearer(acc.access)...)
	}
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"document_id": doc.str("id"), "transformation_type": "SUMMARY"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	bad := []map[string]any{
		base(map[string]any{"transformation_type": "POEM"}),
		base(map[string]any{"parameters": map[string]any{"length": "huge"}}),
		base(map[string]any{"parameters": map[string]any{"colour": "red"}}),
		base(map[string]any{"provider": "skynet"}),
		base(map[string]any{"document_id": "not-a-uuid"}),
	}
	for _, b := range bad {
		r := create(tm.member, b)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, "%v: %s", b, r.raw)
	}
	require.Equal(t, http.StatusNotFound, create(tm.member, base(map[string]any{"document_id": uuid.NewString()})).status)
	require.Equal(t, http.StatusForbidden, create(tm.viewer, base(nil)).status)
	require.Equal(t, http.StatusNotFound, create(tm.outsider, base(nil)).status, "another tenant's document")

	first := create(tm.member, base(nil))
	require.Equal(t, http.StatusCreated, first.status)
	require.Equal(t, http.StatusCreated, create(tm.member, base(nil)).status)
	over := create(tm.member, base(nil))
	require.Equal(t, http.StatusPaymentRequired, over.status)
	require.Contains(t, over.str("detail"), "AI requests")

	// Others' transformations: viewers read, members can't cancel them, outsiders see nothing.
	require.Equal(t, http.StatusOK, a.do("GET", "/api/transformations/"+first.str("id"), nil, bearer(tm.viewer.access)...).status)
	require.Equal(t, http.StatusNotFound, a.do("GET", "/api/transformations/"+first.str("id"), nil, bearer(tm.outsider.access)...).status)
	require.Equal(t, http.StatusNotFound, a.do("POST", "/api/transformations/"+first.str("id")+"/cancel", nil, bearer(tm.outsider.access)...).status)
	require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", "/api/transformations?status=weird", nil, bearer(tm.viewer.access)...).status)
}

func TestTransformationEventsStream(t *testing.T) {
	t.Parallel()
	forEachBackend(t, testTransformationEventsStream)
}

func testTransformationEventsStream(t *testing.T, b backend) {
	a := newAPI(t, b, nil)
	acc := a.register("sse")
	doc := a.createDoc(acc, "Remote work", longArticle)
	r := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "BLOG_POST"}, bearer(acc.access)...)
	require.Equal(t, http.StatusCreated, r.status)

	req, err := http.NewRequest("GET", a.srv.URL+"/api/transformations/"+r.str("id")+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+acc.access)
	resp, err := a.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	var statuses []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var st map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &st))
			statuses = append(statuses, st["status"].(string))
		}
	}
	require.NotEmpty(t, statuses)
	require.Equal(t, "COMPLETED", statuses[len(statuses)-1], "the stream ends with the final status: %v", statuses)

	// A final transformation's stream is its status and nothing more.
	again := a.do("GET", "/api/transformations/"+r.str("id")+"/events", nil, bearer(acc.access)...)
	require.Equal(t, 1, strings.Count(string(again.raw), "data: "))
	require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/transformations/"+r.str("id")+"/events", nil).status)
}
