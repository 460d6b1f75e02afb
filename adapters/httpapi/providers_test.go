package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProviderEndpoints(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLATFORM_ADMIN_EMAILS": "root@example.com", "AI_PROVIDERS": "local",
			"AI_RATE_LIMITS": `{"local":{"requests_per_minute":600}}`})
		user := a.register("plain")
		require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/providers/models", nil).status)
		models := a.do("GET", "/api/providers/models", nil, bearer(user.access)...)
		require.Equal(t, http.StatusOK, models.status, string(models.raw))
		require.EqualValues(t, 1, models.body["count"])
		first := models.body["providers"].([]any)[0].(map[string]any)
		require.Equal(t, "local", first["provider"])
		require.Equal(t, true, first["available"])
		require.Contains(t, first["models"], "local-extractive-1")

		require.Equal(t, http.StatusForbidden, a.do("GET", "/api/providers/status", nil, bearer(user.access)...).status)
		ops := account{email: "root@example.com", password: "a long unusual passphrase"}
		require.Equal(t, http.StatusCreated, a.do("POST", "/api/auth/register", map[string]any{"email": ops.email, "password": ops.password}).status)
		a.login(&ops)
		st := a.do("GET", "/api/providers/status", nil, bearer(ops.access)...)
		require.Equal(t, http.StatusOK, st.status, string(st.raw))
		require.Equal(t, []any{"local"}, st.body["order"])
		p := st.body["providers"].([]any)[0].(map[string]any)
		require.Equal(t, true, p["healthy"])
		require.Equal(t, "closed", p["circuit"])
		require.EqualValues(t, 600, p["limits"].(map[string]any)["requests_per_minute"])
		require.Positive(t, p["requests_available"].(float64))

		// A transformation pinned to an unknown provider is a 422; to a
		// known one it runs there and records who served it.
		doc := a.createDoc(user, "Doc", longArticle)
		bad := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "SUMMARY", "provider": "nope"}, bearer(user.access)...)
		require.Equal(t, http.StatusUnprocessableEntity, bad.status, string(bad.raw))
		tr := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "SUMMARY", "provider": "local"}, bearer(user.access)...)
		require.Equal(t, http.StatusCreated, tr.status, string(tr.raw))
		done := a.waitFinal(user, tr.str("id"))
		require.Equal(t, "COMPLETED", done.str("status"), string(done.raw))
		require.Equal(t, "local", done.str("ai_provider"))
		require.Equal(t, "local-extractive-1", done.str("ai_model"))
		require.Positive(t, done.body["output_tokens"].(float64))
	})
}
