// Command pipelinebench pushes N transformations with the local provider
// through PostgreSQL + Redis (asynq) and one worker, and reports
// transformations/s end to end and the pickup latency (PENDING →
// PROCESSING) p50/p95, next to asynq's own no-op throughput measured in the
// same run on the same Redis.
//
//	DATABASE_URL=... REDIS_URL=... go run ./cmd/pipelinebench [-n 2000]
//
// With -create-only no worker runs: it reports how fast the API alone
// creates (and enqueues) transformations, the ceiling of the end-to-end
// figure on the same machine.
//
// The API and the worker run as two fx applications in this process (the
// worker's graph is the one `repurpose worker` runs); requests go over
// loopback HTTP.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
)

func main() {
	n := flag.Int("n", 2000, "transformations")
	clients := flag.Int("c", 16, "concurrent API clients creating them")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	createOnly := flag.Bool("create-only", false, "run no worker: measure creation alone, the ceiling of the end-to-end rate")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pipelinebench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*n, *clients, *createOnly); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "pipelinebench:", err)
		os.Exit(1) //nolint:gocritic // the profile is stopped above
	}
}

func run(n, clients int, createOnly bool) error {
	if os.Getenv("DATABASE_URL") == "" || os.Getenv("REDIS_URL") == "" {
		return errors.New("set DATABASE_URL and REDIS_URL")
	}
	suffix := fmt.Sprint(time.Now().UnixNano())
	env := map[string]string{
		"DATABASE_URL": os.Getenv("DATABASE_URL"), "REDIS_URL": os.Getenv("REDIS_URL"),
		"REDIS_KEY_PREFIX": "bench:" + suffix + ":", "QUEUE_NAME": "bench-" + suffix,
		"SECRET_KEY": "pipelinebench-secret-key-0123456789abcdef", "RATE_LIMIT_AUTH": "off", "LOG_LEVEL": "error",
		"HTTP_ADDR": "127.0.0.1:0", "WORKER_HTTP_ADDR": "127.0.0.1:0", "WORKER_CONCURRENCY": "16",
		"PLAN_LIMITS": `{"free":{"ai_requests_per_month":0,"concurrent_transformations":0,"documents":0}}`,
	}
	// Registered first, so it runs last, once both apps have stopped.
	defer cleanRedis(os.Getenv("REDIS_URL"), env["REDIS_KEY_PREFIX"], env["QUEUE_NAME"], "noop-"+suffix)
	baseline, err := asynqNoop(os.Getenv("REDIS_URL"), "noop-"+suffix, n)
	if err != nil {
		return fmt.Errorf("asynq baseline: %w", err)
	}

	var api http.Handler
	start := func(entry bootstrap.Entry, populate ...any) (*fx.App, error) {
		cfg, err := bootstrap.ParseConfig(env)
		if err != nil {
			return nil, err
		}
		opts, err := bootstrap.Options(cfg, entry, "bench")
		if err != nil {
			return nil, err
		}
		app := fx.New(opts, fx.NopLogger, fx.Populate(populate...))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return app, app.Start(ctx)
	}
	serve, err := start(bootstrap.Serve, &api)
	if err != nil {
		return err
	}
	defer serve.Stop(context.Background()) //nolint:errcheck // best effort at exit
	if !createOnly {
		worker, err := start(bootstrap.Worker)
		if err != nil {
			return err
		}
		defer worker.Stop(context.Background()) //nolint:errcheck // best effort at exit
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // closed at exit
	defer srv.Close()
	c := &client{base: "http://" + ln.Addr().String(), http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}}
	if err := c.login(); err != nil {
		return err
	}
	var doc struct{ ID string }
	if err := c.call("POST", "/api/documents", map[string]any{"title": "Bench", "content": benchText}, &doc); err != nil {
		return err
	}

	// Completion is watched the way a client would, over the WebSocket,
	// so that waiting adds no polling load. Listing every transformation is
	// the safety net for events a slow reader missed: it runs only after
	// the stream has been quiet for a while, since each listing serializes
	// every row and would otherwise weigh on the run it measures.
	completions, stopWatch, err := c.watchCompletions(n)
	if err != nil {
		return err
	}
	defer stopWatch()

	began := time.Now()
	ids := make(chan string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var createErr error
	var once sync.Once
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				var t struct{ ID string }
				if err := c.call("POST", "/api/transformations", map[string]any{"document_id": doc.ID, "transformation_type": "SUMMARY"}, &t); err != nil {
					once.Do(func() { createErr = err })
					return
				}
				ids <- t.ID
			}
		}()
	}
	wg.Wait()
	close(ids)
	if createErr != nil {
		return createErr
	}
	created := time.Since(began)
	if createOnly {
		fmt.Printf("pipeline: %d transformations (SUMMARY) via HTTP -> PostgreSQL -> asynq/Redis, no worker (-create-only)\n", n)
		fmt.Printf("  created in %v: %.0f/s, the ceiling of the end-to-end rate here\n", created.Round(time.Millisecond), float64(n)/created.Seconds())
		// Cancelled, so that no later run's sweeper hands them to its worker.
		return c.cancelAll(ids, clients)
	}

	// Wait until every one is COMPLETED.
	type row struct {
		Status    string     `json:"status"`
		CreatedAt time.Time  `json:"created_at"`
		StartedAt *time.Time `json:"started_at"`
	}
	list := func() ([]row, int, error) {
		var rows []row
		cursor := ""
		for {
			var page struct {
				Transformations []row   `json:"transformations"`
				NextCursor      *string `json:"next_cursor"`
			}
			if err := c.call("GET", "/api/transformations?limit=100&cursor="+cursor, nil, &page); err != nil {
				return nil, 0, err
			}
			rows = append(rows, page.Transformations...)
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		done := 0
		for _, r := range rows {
			if r.Status == "COMPLETED" {
				done++
			}
		}
		return rows, done, nil
	}
	deadline := time.After(10 * time.Minute)
	const quiet = 2 * time.Second
	poll := time.NewTimer(quiet)
	defer poll.Stop()
	completed := map[string]bool{}
wait:
	for {
		select {
		case id := <-completions:
			completed[id] = true
			if len(completed) == n {
				break wait
			}
			poll.Reset(quiet)
		case <-poll.C:
			poll.Reset(quiet)
			if _, done, err := list(); err != nil {
				return err
			} else if done == n {
				break wait
			}
		case <-deadline:
			return fmt.Errorf("only %d of %d completed", len(completed), n)
		}
	}
	total := time.Since(began)
	rows, _, err := list()
	if err != nil {
		return err
	}
	pickups := make([]time.Duration, 0, len(rows))
	for _, r := range rows {
		if r.StartedAt != nil {
			pickups = append(pickups, r.StartedAt.Sub(r.CreatedAt))
		}
	}
	slices.Sort(pickups)
	pct := func(p float64) time.Duration { return pickups[int(float64(len(pickups)-1)*p)] }
	rate := float64(n) / total.Seconds()
	where := "compiled in (no bin/plugins/local: run make build for the plugin process)"
	if _, err := os.Stat("bin/plugins/local"); err == nil {
		where = "a plugin process (bin/plugins/local)"
	}
	fmt.Printf("pipeline: %d transformations (SUMMARY) via HTTP -> PostgreSQL -> asynq/Redis -> 1 worker (concurrency 16); local provider %s\n", n, where)
	fmt.Printf("  created in %v (%.0f/s), all COMPLETED after %v: %.0f transformations/s end to end\n",
		created.Round(time.Millisecond), float64(n)/created.Seconds(), total.Round(time.Millisecond), rate)
	fmt.Printf("  pickup latency (created -> started): p50 %v, p95 %v (under this load)\n", pct(0.5).Round(time.Millisecond), pct(0.95).Round(time.Millisecond))
	fmt.Printf("  asynq no-op baseline, same Redis, same run: %.0f tasks/s; pipeline/baseline = %.2fx\n", baseline, rate/baseline)

	// Idle pickup: one transformation at a time on a quiet queue.
	idle := make([]time.Duration, 0, 20)
	for range 20 {
		var t struct{ ID string }
		if err := c.call("POST", "/api/transformations", map[string]any{"document_id": doc.ID, "transformation_type": "SUMMARY"}, &t); err != nil {
			return err
		}
		for {
			var r row
			if err := c.call("GET", "/api/transformations/"+t.ID, nil, &r); err != nil {
				return err
			}
			if r.Status == "COMPLETED" {
				idle = append(idle, r.StartedAt.Sub(r.CreatedAt))
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	slices.Sort(idle)
	fmt.Printf("  idle pickup latency (20 sequential): p50 %v, p95 %v\n", idle[len(idle)/2].Round(time.Millisecond), idle[int(float64(len(idle)-1)*0.95)].Round(time.Millisecond))
	return nil
}

// cleanRedis removes what the run left in Redis: the keys under prefix
// (sessions, rate limits) and the asynq queues, their stats counters
// included. PostgreSQL keeps the run's rows: point DATABASE_URL at a
// throwaway database.
func cleanRedis(redisURL, prefix string, queues ...string) {
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	patterns := []string{prefix + "*"}
	for _, q := range queues {
		patterns = append(patterns, "asynq:{"+q+"}:*")
		c.SRem(ctx, "asynq:queues", q)
	}
	for _, pattern := range patterns {
		iter := c.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
	}
}

// asynqNoop enqueues n no-op tasks and times an asynq server draining them.
func asynqNoop(redisURL, queue string, n int) (float64, error) {
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return 0, err
	}
	client := asynq.NewClient(opt)
	defer client.Close()
	inspector := asynq.NewInspector(opt)
	defer func() { _ = inspector.DeleteQueue(queue, true); inspector.Close() }()
	for i := range n {
		if _, err := client.Enqueue(asynq.NewTask("noop", nil), asynq.Queue(queue), asynq.TaskID(fmt.Sprint(i))); err != nil {
			return 0, err
		}
	}
	var done atomic.Int64
	finished := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 16, Queues: map[string]int{queue: 1}, LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc("noop", func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			close(finished)
		}
		return nil
	})
	began := time.Now()
	if err := srv.Start(mux); err != nil {
		return 0, err
	}
	defer srv.Shutdown()
	select {
	case <-finished:
	case <-time.After(5 * time.Minute):
		return 0, errors.New("no-op tasks did not drain")
	}
	return float64(n) / time.Since(began).Seconds(), nil
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) call(method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// cancelAll cancels the transformations whose ids ids yields, with
// clients requests at a time.
func (c *client) cancelAll(ids <-chan string, clients int) error {
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Go(func() {
			for id := range ids {
				if err := c.call("POST", "/api/transformations/"+id+"/cancel", nil, nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// watchCompletions opens the WebSocket and sends the id of every
// transformation_completed event to the returned channel, buffered for n
// of them (and then some), so that the reader keeps up with the stream
// while the run is still creating and nobody receives yet.
func (c *client) watchCompletions(n int) (<-chan string, func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	conn, resp, err := websocket.Dial(ctx, strings.Replace(c.base, "http", "ws", 1)+"/api/ws?token="+c.token, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("open the WebSocket: %w", err)
	}
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	conn.SetReadLimit(1 << 20)
	out := make(chan string, n+1024)
	go func() {
		defer conn.CloseNow() //nolint:errcheck // best effort
		for {
			var msg struct {
				Type string `json:"type"`
				Data struct {
					TransformationID string `json:"transformation_id"`
				} `json:"data"`
			}
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				return
			}
			if msg.Type == "transformation_completed" {
				select {
				case out <- msg.Data.TransformationID:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, cancel, nil
}

func (c *client) login() error {
	creds := map[string]string{"email": fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano()), "password": "a long unusual passphrase"}
	if err := c.call("POST", "/api/auth/register", creds, nil); err != nil {
		return err
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.call("POST", "/api/auth/token", creds, &pair); err != nil {
		return err
	}
	c.token = pair.AccessToken
	return nil
}

const benchText = `Remote work changed how software teams collaborate. Engineers now rely on written communication more than ever before.
Asynchronous updates replace many meetings, and teams that document decisions move faster. Clear writing became a core engineering skill.
Managers report that focus time increased when meetings dropped. However, onboarding new hires remotely remains a challenge for many companies.`
