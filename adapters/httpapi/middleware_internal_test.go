package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPanicsBecome500WithoutInternals(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	h := requestMeta(false)(recoverPanics(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("database password is hunter2")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	body, _ := io.ReadAll(rec.Body)
	require.NotContains(t, string(body), "hunter2")
	require.Contains(t, string(body), `"detail":"internal error"`)
	require.Contains(t, string(body), rec.Header().Get("X-Request-ID"))
	require.Contains(t, logged.String(), "hunter2", "the cause is logged")
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:4567"
	r.Header.Set("X-Forwarded-For", "1.1.1.1, 203.0.113.5")
	require.Equal(t, "10.1.2.3", clientIP(r, false), "headers are ignored unless trusted")
	require.Equal(t, "203.0.113.5", clientIP(r, true), "the proxy-appended entry, not the client's claim")
	r.Header.Set("X-Forwarded-For", "not-an-ip")
	require.Equal(t, "10.1.2.3", clientIP(r, true))
}
