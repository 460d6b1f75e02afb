package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSystemEndpoints(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLATFORM_ADMIN_EMAILS": "root@example.com"})
		user := a.register("plain")
		for _, path := range []string{"/api/system/queue", "/api/system/workers"} {
			require.Equal(t, http.StatusForbidden, a.do("GET", path, nil, bearer(user.access)...).status, path)
			require.Equal(t, http.StatusUnauthorized, a.do("GET", path, nil).status, path)
		}
		ops := account{email: "root@example.com", password: "a long unusual passphrase"}
		require.Equal(t, http.StatusCreated, a.do("POST", "/api/auth/register", map[string]any{"email": ops.email, "password": ops.password}).status)
		a.login(&ops)

		doc := a.createDoc(user, "Doc", longArticle)
		tr := a.do("POST", "/api/transformations", map[string]any{"document_id": doc.str("id"), "transformation_type": "SUMMARY"}, bearer(user.access)...)
		require.Equal(t, http.StatusCreated, tr.status)
		a.waitFinal(user, tr.str("id"))

		q := a.do("GET", "/api/system/queue", nil, bearer(ops.access)...)
		require.Equal(t, http.StatusOK, q.status, string(q.raw))
		require.NotEmpty(t, q.str("queue"))
		require.Eventually(t, func() bool {
			w := a.do("GET", "/api/system/workers", nil, bearer(ops.access)...)
			return w.status == http.StatusOK && w.body["count"].(float64) >= 1
		}, 10*time.Second, 100*time.Millisecond, "the worker that ran the job is listed")
	})
}
