// Command loadtest measures GET /api/auth/me over loopback against a trivial
// handler served by the same server in the same run, and prints both rates
// and their ratio (the machine's noise cancels out of the ratio).
//
//	go run ./cmd/loadtest [-c 32] [-d 5s] [-rounds 2]
//
// The platform runs in the embedded default unless DATABASE_URL/REDIS_URL
// are set, in which case the PostgreSQL/Redis adapters serve it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
)

func main() {
	concurrency := flag.Int("c", 32, "concurrent connections")
	duration := flag.Duration("d", 5*time.Second, "duration of each measurement")
	rounds := flag.Int("rounds", 2, "alternating rounds of trivial and /me")
	flag.Parse()
	if err := run(*concurrency, *duration, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(concurrency int, duration time.Duration, rounds int) error {
	env := map[string]string{
		"HTTP_ADDR":       "127.0.0.1:0",
		"SECRET_KEY":      "loadtest-secret-key-0123456789abcdefghij",
		"RATE_LIMIT_AUTH": "off",
		"LOG_LEVEL":       "warn", // no access log line per request, for both targets alike
		"DATABASE_URL":    os.Getenv("DATABASE_URL"),
		"REDIS_URL":       os.Getenv("REDIS_URL"),
	}
	cfg, err := bootstrap.ParseConfig(env)
	if err != nil {
		return err
	}
	opts, err := bootstrap.Options(cfg, bootstrap.Serve, "loadtest")
	if err != nil {
		return err
	}
	var api http.Handler
	app := fx.New(opts, fx.NopLogger, fx.Populate(&api))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		return err
	}
	defer app.Stop(context.Background()) //nolint:errcheck // best effort at exit

	mux := http.NewServeMux()
	mux.HandleFunc("GET /bench/trivial", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.Handle("/", api)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // closed at exit
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, DisableCompression: true}}
	token, err := login(client, base)
	if err != nil {
		return err
	}
	mode := "memory"
	if cfg.DatabaseURL != "" {
		mode = "postgres+redis"
	}
	fmt.Printf("loopback load test: mode=%s concurrency=%d duration=%s rounds=%d GOMAXPROCS-bound cores\n", mode, concurrency, duration, rounds)

	trivialReq := func() (*http.Request, error) { return http.NewRequest("GET", base+"/bench/trivial", nil) }
	meReq := func() (*http.Request, error) {
		r, err := http.NewRequest("GET", base+"/api/auth/me", nil)
		if err == nil {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r, err
	}
	// Warm up both paths (connections, JIT-free but caches and pools).
	_, _ = measure(client, trivialReq, concurrency, time.Second)
	_, _ = measure(client, meReq, concurrency, time.Second)

	var trivialTotal, meTotal float64
	for i := 1; i <= rounds; i++ {
		t, err := measure(client, trivialReq, concurrency, duration)
		if err != nil {
			return err
		}
		m, err := measure(client, meReq, concurrency, duration)
		if err != nil {
			return err
		}
		trivialTotal += t
		meTotal += m
		fmt.Printf("round %d: trivial %8.0f req/s   GET /api/auth/me %8.0f req/s   ratio %.2f\n", i, t, m, m/t)
	}
	fmt.Printf("overall: trivial %.0f req/s, GET /api/auth/me %.0f req/s, ratio %.2fx (target >= 0.5x)\n",
		trivialTotal/float64(rounds), meTotal/float64(rounds), meTotal/trivialTotal)
	return nil
}

func login(client *http.Client, base string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": "load@example.com", "password": "a long unusual passphrase"})
	resp, err := client.Post(base+"/api/auth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("register: %s", resp.Status)
	}
	resp, err = client.Post(base+"/api/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil {
		return "", fmt.Errorf("token: %s: %w", resp.Status, err)
	}
	if pair.AccessToken == "" {
		return "", fmt.Errorf("token: %s: no access token", resp.Status)
	}
	return pair.AccessToken, nil
}

// measure runs concurrency workers sending requests for d and returns the
// rate of 200 responses; any other status is an error.
func measure(client *http.Client, newReq func() (*http.Request, error), concurrency int, d time.Duration) (float64, error) {
	var ok atomic.Int64
	var firstErr error
	var once sync.Once
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, err := newReq()
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					once.Do(func() { firstErr = fmt.Errorf("%s: %s", req.URL.Path, resp.Status) })
					return
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds(), firstErr
}
