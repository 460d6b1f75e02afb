package functions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/repurpose/repurpose/internal/testinfra"
)

// rieModule is the Lambda runtime interface emulator, built from the module
// proxy at this version (its cmd/aws-lambda-rie main package).
const (
	rieModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

var (
	buildOnce sync.Once
	bins      map[string]string
	buildErr  error
	buildDir  string
)

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// lambdaTags are the build tags of the functions: LAMBDA_TAGS of the
// Makefile; the API function adds noaisdks (LAMBDA_API_TAGS).
const lambdaTags = "lambda.norpc,noaiplugins"

// lambdaTagsOf returns the build tags of the function pkg.
func lambdaTagsOf(pkg string) string {
	if filepath.Base(pkg) == "api" {
		return lambdaTags + ",noaisdks"
	}
	return lambdaTags
}

// lambdaBuild builds pkg as make build-<Function> does, for goarch.
func lambdaBuild(out, pkg, goarch string) error {
	cmd := exec.Command(goTool(), "build", "-tags", lambdaTagsOf(pkg), "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s (%s): %w\n%s", pkg, goarch, err, b)
	}
	return nil
}

// binaries builds, once per test binary, the emulator and the functions
// (api, worker, the hello-world baseline) for this machine.
func binaries(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the functions and the Lambda emulator: skipped with -short")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "repurpose-lambda-")
		if buildErr != nil {
			return
		}
		bins = map[string]string{}
		// The emulator is cached across runs: it only changes with rieVersion.
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		rieDir := filepath.Join(cache, "repurpose-test", "rie-"+rieVersion)
		bins["rie"] = filepath.Join(rieDir, "aws-lambda-rie")
		if _, err := os.Stat(bins["rie"]); err != nil {
			cmd := exec.Command(goTool(), "install", rieModule+"/cmd/aws-lambda-rie@"+rieVersion)
			cmd.Env = append(os.Environ(), "GOBIN="+rieDir, "CGO_ENABLED=0", "GOFLAGS=")
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("build the Lambda emulator: %w\n%s", err, b)
				return
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, name := range []string{"api", "worker", "migrate", "internal/hello"} {
			wg.Go(func() {
				out := filepath.Join(buildDir, filepath.Base(name), "bootstrap")
				err := lambdaBuild(out, "./"+name, runtime.GOARCH)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					buildErr = err
				}
				bins[filepath.Base(name)] = out
			})
		}
		wg.Wait()
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bins
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// emulator is one function under the runtime interface emulator.
type emulator struct {
	url     string
	started time.Time
	logs    *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startEmulator runs bootstrap under the emulator with env (and nothing
// else of this process's environment but PATH and HOME) and waits until the
// emulator listens. The emulator starts the function at the first invoke,
// as Lambda's cold start does. It is killed at cleanup, with the function.
func startEmulator(t *testing.T, rie, bootstrap string, env ...string) *emulator {
	t.Helper()
	port, apiPort := freePort(t), freePort(t)
	logs := &lockedBuffer{}
	e := &emulator{url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port), logs: logs}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), "--log-level", "error", bootstrap)
	cmd.Dir = t.TempDir() // no .env is read
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AWS_LAMBDA_FUNCTION_TIMEOUT=60",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512"}, env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	e.started = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s under the emulator:\n%s", filepath.Base(filepath.Dir(bootstrap)), logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen: %v\n%s", err, logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// invoke sends event to the function and decodes its result into out; a
// function error (the runtime's errorMessage) fails the call.
func (e *emulator) invoke(ctx context.Context, event, out any) error {
	body, err := json.Marshal(event)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(b, &fnErr) == nil && fnErr.ErrorMessage != "" {
		return fmt.Errorf("function error %s: %s", fnErr.ErrorType, fnErr.ErrorMessage)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("invoke: %s: %s", resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// services are the PostgreSQL database (fresh), Redis (under a fresh key
// prefix) and SQS queue of one test, as function environment.
func services(t *testing.T) (env []string) {
	t.Helper()
	db := testinfra.NewDatabase(t)
	rc := testinfra.RedisClient(t)
	return []string{"DATABASE_URL=" + db, "REDIS_URL=" + testinfra.RedisURL(t), "REDIS_KEY_PREFIX=" + testinfra.RedisPrefix(t, rc)}
}
