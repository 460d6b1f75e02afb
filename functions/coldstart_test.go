package functions_test

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/sqs/sqstest"
)

// coldStart starts a fresh emulator for bootstrap and returns the time
// from the emulator's process start, and from the invoke, to the first
// response.
func coldStart(t *testing.T, rie, bootstrap string, event any, env ...string) (total, invoke time.Duration) {
	t.Helper()
	e := startEmulator(t, rie, bootstrap, env...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var resp events.APIGatewayV2HTTPResponse
	require.NoError(t, e.invoke(ctx, event, &resp))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	return time.Since(e.started), time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestColdStart measures the API function next to a hello-world function
// under the same emulator in the same run (make lambda-coldstart runs it
// alone, COLDSTART_RUNS times each, default 3): the time from starting
// the emulator to the first response to GET /healthz, and the first
// invoke alone (the function's process start and init, then the event).
// It also reports the size of the API binary built as make
// build-ApiFunction does, for arm64 and for this machine.
func TestColdStart(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	runs := 3
	if n, err := strconv.Atoi(os.Getenv("COLDSTART_RUNS")); err == nil && n > 0 {
		runs = n
	}
	env := services(t)
	endpoint := sqstest.Endpoint(t)
	queueURL := sqstest.NewQueue(t, sqstest.Client(endpoint), nil)
	env = append(env, sqstest.Env(endpoint)...)
	env = append(env, "QUEUE_URL="+queueURL, "LOG_LEVEL=warn", "ENVIRONMENT=development")
	healthz := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: "/healthz",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: "GET", Path: "/healthz", SourceIP: "198.51.100.7"}}}

	// Migrate once, as a deployment's first cold start does.
	coldStart(t, bin["rie"], bin["api"], healthz, append(env, "AUTO_MIGRATE=true")...)

	var hello, api, apiMigrate, helloInvoke, apiInvoke []time.Duration
	for range runs {
		total, inv := coldStart(t, bin["rie"], bin["hello"], healthz)
		hello, helloInvoke = append(hello, total), append(helloInvoke, inv)
		total, inv = coldStart(t, bin["rie"], bin["api"], healthz, append(env, "AUTO_MIGRATE=false")...)
		api, apiInvoke = append(api, total), append(apiInvoke, inv)
		total, _ = coldStart(t, bin["rie"], bin["api"], healthz, append(env, "AUTO_MIGRATE=true")...)
		apiMigrate = append(apiMigrate, total)
	}

	arm := filepath.Join(t.TempDir(), "bootstrap")
	require.NoError(t, lambdaBuild(arm, "./api", "arm64"))
	size := func(p string) string {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		return fmt.Sprintf("%.1f MiB", float64(fi.Size())/(1<<20))
	}
	ratio := float64(median(api)) / float64(median(hello))
	t.Logf("functions/api binary: %s (arm64), %s (this machine); hello: %s", size(arm), size(bin["api"]), size(bin["hello"]))
	t.Logf("cold start, emulator start to first response, median of %d: hello %v, api %v (%.2fx), api with AUTO_MIGRATE (nothing pending) %v",
		runs, median(hello).Round(time.Millisecond), median(api).Round(time.Millisecond), ratio, median(apiMigrate).Round(time.Millisecond))
	t.Logf("first invoke alone (process start, init, event), median: hello %v, api %v",
		median(helloInvoke).Round(time.Millisecond), median(apiInvoke).Round(time.Millisecond))
	// A loose bound that still catches a cold start gone wrong (a start-up
	// that waits on a timeout, a graph that dials out).
	require.Less(t, median(api), 3*time.Second)
}

// TestAPIFunctionStartsWithoutTheDatabase starts the API function with a
// DATABASE_URL where nothing listens: its cold start makes no round trip
// to PostgreSQL (the pool connects, and checks the role tenant queries run
// as, when an event first needs it), so it answers /healthz; /readyz finds
// the database down.
func TestAPIFunctionStartsWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	env := services(t)
	for i, kv := range env {
		if strings.HasPrefix(kv, "DATABASE_URL=") {
			env[i] = "DATABASE_URL=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
		}
	}
	endpoint := sqstest.Endpoint(t)
	env = append(env, sqstest.Env(endpoint)...)
	env = append(env, "QUEUE_URL="+sqstest.NewQueue(t, sqstest.Client(endpoint), nil), "LOG_LEVEL=warn", "AUTO_MIGRATE=false")
	api := startEmulator(t, bin["rie"], bin["api"], env...)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := &apiClient{fn: api}
	status, err := c.call(ctx, http.MethodGet, "/healthz", nil, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	status, _ = c.call(ctx, http.MethodGet, "/readyz", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, status)
}

// TestFunctionsLinkNoPluginHost checks what the noaiplugins and noaisdks
// tags are for: the functions run compiled-in providers, and the plugin
// host's modules (go-plugin, gRPC) only slowed their cold start; the API
// function never calls a vendor, so it links no vendor SDK either, while
// the worker, which does, links both.
func TestFunctionsLinkNoPluginHost(t *testing.T) {
	t.Parallel()
	bin := binaries(t)
	sdks := []string{"github.com/openai/openai-go/v3", "github.com/anthropics/anthropic-sdk-go/v2"}
	for _, fn := range []string{"api", "worker"} {
		info, err := buildinfo.ReadFile(bin[fn])
		require.NoError(t, err)
		linked := map[string]bool{}
		for _, dep := range info.Deps {
			require.NotContains(t, []string{"github.com/hashicorp/go-plugin", "google.golang.org/grpc"}, dep.Path, fn)
			linked[dep.Path] = true
		}
		for _, sdk := range sdks {
			require.Equal(t, fn == "worker", linked[sdk], "%s links %s", fn, sdk)
		}
	}
}
