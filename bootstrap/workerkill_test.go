package bootstrap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	redisadapter "github.com/repurpose/repurpose/adapters/redis"
	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/core/transformation"
	"github.com/repurpose/repurpose/internal/testinfra"
	"github.com/repurpose/repurpose/ports"
)

// childRoleEnv makes this test binary the worker process the kill test
// starts and kills (see runBlockingWorker).
const childRoleEnv = "REPURPOSE_KILL_TEST_WORKER"

// TestWorkerProcessKilledMidJob starts a real worker process (this test
// binary running the `worker` graph with a provider that never answers),
// kills it with SIGKILL while it holds a job, and checks that another
// worker's sweeper reclaims the job once its heartbeat stops and that it
// then completes exactly once.
func TestWorkerProcessKilledMidJob(t *testing.T) {
	if os.Getenv(childRoleEnv) == "1" {
		runBlockingWorker(t)
		return
	}
	t.Parallel()
	redisClient := testinfra.RedisClient(t)
	env := map[string]string{
		"DATABASE_URL":     testinfra.NewDatabase(t),
		"REDIS_URL":        testinfra.RedisURL(t),
		"REDIS_KEY_PREFIX": testinfra.RedisPrefix(t, redisClient),
		"QUEUE_NAME":       testinfra.AsynqQueue(t, redisClient, "killtest-"),
		"SECRET_KEY":       "kill-test-secret-key-0123456789abcdef",
		"BCRYPT_ROUNDS":    "4", "RATE_LIMIT_AUTH": "off", "LOG_LEVEL": "error",
		"HTTP_ADDR": "127.0.0.1:0", "WORKER_HTTP_ADDR": "127.0.0.1:0",
		"JOB_HEARTBEAT_INTERVAL": "200ms", "JOB_STALLED_AFTER": "1500ms", "SWEEP_INTERVAL": "200ms",
	}

	var api http.Handler
	startApp(t, env, bootstrap.Serve, &api)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c := &apiClient{t: t, base: srv.URL}
	c.login()
	doc := c.call("POST", "/api/documents", map[string]any{"title": "Kill test",
		"content": strings.Repeat("Workers die. Jobs must not. A reclaimed job completes once. ", 20)}, http.StatusCreated)
	created := c.call("POST", "/api/transformations", map[string]any{"document_id": doc["id"], "transformation_type": "SUMMARY"}, http.StatusCreated)
	id := created["id"].(string)

	// The doomed worker process claims the job and blocks in the provider.
	child := exec.Command(os.Args[0], "-test.run", "^TestWorkerProcessKilledMidJob$", "-test.v")
	child.Env = append(os.Environ(), childRoleEnv+"=1")
	for k, v := range env {
		child.Env = append(child.Env, k+"="+v)
	}
	var childOut bytes.Buffer
	child.Stdout, child.Stderr = &childOut, &childOut
	require.NoError(t, child.Start())
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	c.waitStatus(id, "PROCESSING", 30*time.Second, &childOut)

	require.NoError(t, child.Process.Kill(), "SIGKILL mid-job")
	_ = child.Wait()
	require.Equal(t, "PROCESSING", c.get(id)["status"], "the dead worker leaves its job PROCESSING")

	// Watch the workspace's events from here on.
	events := subscribeEvents(t, env, uuid.MustParse(created["workspace_id"].(string)))

	// A healthy worker (with its sweeper) takes over.
	startApp(t, env, bootstrap.Worker)
	done := c.waitStatus(id, "COMPLETED", 15*time.Second, nil)
	require.EqualValues(t, 2, done["attempts"], "the reclaimed job ran a second attempt")
	require.NotEmpty(t, done["result"])
	require.Empty(t, done["error_message"])

	completed := 0
	deadline := time.After(2 * time.Second) // later events of this job would arrive by now
	for {
		select {
		case e := <-events:
			if e.TransformationID.String() == id && e.Type == transformation.EventCompleted {
				completed++
			}
			continue
		case <-deadline:
		}
		break
	}
	require.Equal(t, 1, completed, "the job completed exactly once")
	again := c.get(id)
	require.Equal(t, done["completed_at"], again["completed_at"], "nothing rewrote the result")
}

// runBlockingWorker is the child process: the production worker graph,
// except that its provider blocks until the process dies.
func runBlockingWorker(t *testing.T) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := bootstrap.ParseConfig(env)
	require.NoError(t, err)
	opts, err := bootstrap.Options(cfg, bootstrap.Worker, "kill-test")
	require.NoError(t, err)
	app := fx.New(opts, fx.NopLogger, fx.Decorate(func(ports.AIProvider) ports.AIProvider { return neverAnswers{} }))
	require.NoError(t, app.Start(context.Background()))
	select {} // until SIGKILL
}

// neverAnswers streams a first word, then waits for its context.
type neverAnswers struct{}

func (neverAnswers) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: "never", Models: []string{"never-1"}}, nil
}

func (p neverAnswers) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return p.GenerateStream(ctx, req, func(string) error { return nil })
}

func (neverAnswers) GenerateStream(ctx context.Context, _ ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	if err := onDelta("Workers "); err != nil {
		return ports.AIResult{}, err
	}
	<-ctx.Done()
	return ports.AIResult{}, ctx.Err()
}

func startApp(t *testing.T, env map[string]string, entry bootstrap.Entry, populate ...any) {
	t.Helper()
	cfg, err := bootstrap.ParseConfig(env)
	require.NoError(t, err)
	opts, err := bootstrap.Options(cfg, entry, "kill-test")
	require.NoError(t, err)
	app := fx.New(opts, fx.NopLogger, fx.Populate(populate...))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, app.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = app.Stop(ctx)
	})
}

func subscribeEvents(t *testing.T, env map[string]string, workspaceID uuid.UUID) <-chan ports.Event {
	t.Helper()
	opts, err := goredis.ParseURL(env["REDIS_URL"])
	require.NoError(t, err)
	client := goredis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	events, cancel, err := redisadapter.NewEventBus(client, env["REDIS_KEY_PREFIX"]).Subscribe(context.Background(), workspaceID)
	require.NoError(t, err)
	t.Cleanup(cancel)
	return events
}

// apiClient calls the API as one logged-in user.
type apiClient struct {
	t           *testing.T
	base, token string
}

func (c *apiClient) call(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	var rd bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd.Reset(b)
	}
	req, err := http.NewRequest(method, c.base+path, &rd)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %v", method, path, out)
	return out
}

func (c *apiClient) login() {
	creds := map[string]string{"email": "kill-" + testinfra.RandomSuffix() + "@example.com", "password": "a long unusual passphrase"}
	c.call("POST", "/api/auth/register", creds, http.StatusCreated)
	pair := c.call("POST", "/api/auth/token", creds, http.StatusOK)
	c.token = pair["access_token"].(string)
}

func (c *apiClient) get(id string) map[string]any {
	return c.call("GET", "/api/transformations/"+id, nil, http.StatusOK)
}

// waitStatus polls until the transformation reaches status.
func (c *apiClient) waitStatus(id, status string, within time.Duration, log fmt.Stringer) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := c.get(id)
		if got["status"] == status {
			return got
		}
		if time.Now().After(deadline) {
			msg := ""
			if log != nil {
				msg = log.String()
			}
			c.t.Fatalf("transformation %s is %v, not %s, after %v\n%s", id, got["status"], status, within, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
