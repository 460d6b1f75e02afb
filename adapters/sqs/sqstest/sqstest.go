// Package sqstest runs moto_server, a local SQS emulator, for integration
// tests: one server per test binary on a free loopback port, and a fresh
// queue per test. Without moto_server the tests are skipped locally and
// fail in CI (testinfra.Required), so CI can never pass by skipping them.
package sqstest

import (
	"context"
	"errors"
	"fmt"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/repurpose/repurpose/internal/testinfra"
)

// Region is the region the emulator's queues live in.
const Region = "us-east-1"

var (
	once     sync.Once
	endpoint string
	startErr error
)

// motoPath finds moto_server on PATH, or where pip and pyenv put it.
func motoPath() (string, error) {
	if p, err := exec.LookPath("moto_server"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	for _, p := range []string{filepath.Join(home, ".pyenv", "shims", "moto_server"), filepath.Join(home, ".local", "bin", "moto_server"),
		"/usr/local/bin/moto_server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("moto_server is not installed (pip install 'moto[server]')")
}

// Endpoint returns the URL of the test binary's moto_server, starting it
// on first use. The server dies with the test binary.
func Endpoint(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (needs moto_server): skipped with -short")
	}
	once.Do(func() { endpoint, startErr = start() })
	if startErr != nil {
		if testinfra.Required() {
			t.Fatalf("integration test needs moto_server: %v", startErr)
		}
		t.Skipf("no SQS emulator: %v", startErr)
	}
	return endpoint
}

func start() (string, error) {
	path, err := motoPath()
	if err != nil {
		return "", err
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	started := make(chan error, 1)
	// The server gets SIGKILL when the thread that started it dies
	// (Pdeathsig); this thread stays locked and alive until the process
	// exits, so the server never outlives the test binary.
	go func() {
		runtime.LockOSThread()
		cmd := exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		select {} // keep the thread
	}()
	if err := <-started; err != nil {
		return "", fmt.Errorf("start moto_server: %w", err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			_ = resp.Body.Close()
			return url, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", errors.New("moto_server did not answer within 30s")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Client returns an SQS client of the emulator at endpoint.
func Client(endpoint string) *awssqs.Client {
	return awssqs.New(awssqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// Env is the environment a process needs to reach the emulator with the
// default AWS configuration chain (as the functions do).
func Env(endpoint string) []string {
	return []string{"SQS_ENDPOINT=" + endpoint, "AWS_REGION=" + Region, "AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true"}
}

// NewQueue creates a uniquely named queue with attrs (nil for the
// defaults) and deletes it at cleanup. It returns the queue's URL.
func NewQueue(t testing.TB, c *awssqs.Client, attrs map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String("test-" + testinfra.RandomSuffix()), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	url := aws.ToString(out.QueueUrl)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Logf("delete queue: %v", err)
		}
	})
	return url
}
