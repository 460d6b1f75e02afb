package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

// backend names a deployment mode the HTTP suite runs against.
type backend struct {
	name string
	env  func(t testing.TB) map[string]string
}

// backends are the modes of the issue: the embedded default, and
// PostgreSQL + Redis (integration; needs TEST_DATABASE_URL/TEST_REDIS_URL).
var backends = []backend{
	{name: "memory", env: func(testing.TB) map[string]string { return map[string]string{} }},
	{name: "postgres+redis", env: func(t testing.TB) map[string]string {
		client := testinfra.RedisClient(t)
		return map[string]string{
			"DATABASE_URL":     testinfra.NewDatabase(t),
			"REDIS_URL":        testinfra.RedisURL(t),
			"REDIS_KEY_PREFIX": testinfra.RedisPrefix(t, client),
			"QUEUE_NAME":       testinfra.AsynqQueue(t, client, "test-"),
		}
	}},
}

// api is a running server built by the real composition root.
type api struct {
	t       testing.TB
	srv     *httptest.Server
	handler http.Handler
	clock   *porttest.FakeClock
}

// newAPI starts the serve entry point with env (plus test defaults) and a
// fake clock, and serves its handler over httptest.
func newAPI(t testing.TB, b backend, extra map[string]string) *api {
	t.Helper()
	env := map[string]string{
		"HTTP_ADDR":       "127.0.0.1:0",
		"BCRYPT_ROUNDS":   "4",
		"SECRET_KEY":      "test-secret-key-that-is-long-enough-0123456789",
		"RATE_LIMIT_AUTH": "off",
		"LOG_LEVEL":       "error",
	}
	for k, v := range b.env(t) {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := bootstrap.ParseConfig(env)
	require.NoError(t, err)
	opts, err := bootstrap.Options(cfg, bootstrap.Serve, "test")
	require.NoError(t, err)
	clock := porttest.NewFakeClock(time.Now().UTC())
	var handler http.Handler
	app := fx.New(opts, fx.NopLogger, fx.Decorate(func() ports.Clock { return clock }), fx.Populate(&handler))
	require.NoError(t, app.Err())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = app.Stop(ctx)
	})
	// With PostgreSQL and Redis, serve only enqueues: run a worker process's
	// graph next to it, as `repurpose worker` would.
	if env["DATABASE_URL"] != "" && env["REDIS_URL"] != "" {
		env["WORKER_HTTP_ADDR"] = "127.0.0.1:0"
		wcfg, err := bootstrap.ParseConfig(env)
		require.NoError(t, err)
		wopts, err := bootstrap.Options(wcfg, bootstrap.Worker, "test")
		require.NoError(t, err)
		worker := fx.New(wopts, fx.NopLogger, fx.Decorate(func() ports.Clock { return clock }))
		require.NoError(t, worker.Err())
		require.NoError(t, worker.Start(ctx))
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_ = worker.Stop(ctx)
		})
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, handler: handler, clock: clock}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (a *api) do(method, path string, body any, headers ...string) response {
	a.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(a.t, err)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, a.srv.URL+path, rd)
	require.NoError(a.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 && strings.Contains(resp.Header.Get("Content-Type"), "json") {
		require.NoError(a.t, json.Unmarshal(raw, &out.body), string(raw))
	}
	return out
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// account is a registered user with a token pair.
type account struct {
	email, password string
	access, refresh string
	userID          string
	workspaceID     string
}

func nextEmail(prefix string) string {
	return prefix + "-" + testinfra.RandomSuffix() + "@example.com"
}

func (a *api) register(prefix string) account {
	a.t.Helper()
	acc := account{email: nextEmail(prefix), password: "a long unusual passphrase"}
	r := a.do("POST", "/api/auth/register", map[string]any{"email": acc.email, "password": acc.password})
	require.Equal(a.t, http.StatusCreated, r.status, string(r.raw))
	acc.userID, acc.workspaceID = r.str("id"), r.str("workspace_id")
	a.login(&acc)
	return acc
}

func (a *api) login(acc *account, headers ...string) {
	a.t.Helper()
	r := a.do("POST", "/api/auth/token", map[string]any{"email": acc.email, "password": acc.password}, headers...)
	require.Equal(a.t, http.StatusOK, r.status, string(r.raw))
	acc.access, acc.refresh = r.str("access_token"), r.str("refresh_token")
}

// forEachBackend runs fn as a subtest per backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}
