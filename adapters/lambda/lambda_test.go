package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/lambda"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func record(t *testing.T, id string, job any) events.SQSMessage {
	t.Helper()
	body, err := json.Marshal(job)
	require.NoError(t, err)
	return events.SQSMessage{MessageId: id, Body: string(body)}
}

// Only the records that fail are reported; nil and core.ErrNotFound (a
// duplicate delivery) succeed, a body that is not a job fails.
func TestSQSWorkerReportsFailedRecordsAlone(t *testing.T) {
	t.Parallel()
	ok, dup, flaky := ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()},
		ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}, ports.Job{TransformationID: uuid.New(), WorkspaceID: uuid.New()}
	var mu sync.Mutex
	seen := map[ports.Job]int{}
	w := lambda.NewSQSWorker(func(_ context.Context, j ports.Job) error {
		mu.Lock()
		seen[j]++
		mu.Unlock()
		switch j {
		case dup:
			return fmt.Errorf("claim: %w", core.ErrNotFound)
		case flaky:
			return errors.New("provider unavailable")
		}
		return nil
	}, lambda.SQSWorkerOptions{Logger: quiet()})
	resp, err := w.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		record(t, "m-ok", ok), record(t, "m-dup", dup), record(t, "m-flaky", flaky),
		{MessageId: "m-junk", Body: "not json"}, record(t, "m-empty", map[string]string{}),
	}})
	require.NoError(t, err)
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	require.ElementsMatch(t, []string{"m-flaky", "m-junk", "m-empty"}, ids)
	require.Equal(t, map[ports.Job]int{ok: 1, dup: 1, flaky: 1}, seen, "each job handled once, intact")

	resp, err = w.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{record(t, "m-ok", ok)}})
	require.NoError(t, err)
	require.NotNil(t, resp.BatchItemFailures, "an empty list rather than null")
	require.Empty(t, resp.BatchItemFailures)
}

// Records run concurrently up to the limit.
func TestSQSWorkerConcurrency(t *testing.T) {
	t.Parallel()
	var running, peak atomic.Int32
	gate := make(chan struct{})
	w := lambda.NewSQSWorker(func(ctx context.Context, _ ports.Job) error {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-gate
		return nil
	}, lambda.SQSWorkerOptions{Concurrency: 2, Logger: quiet()})
	var recs []events.SQSMessage
	for i := range 5 {
		recs = append(recs, record(t, fmt.Sprint(i), ports.Job{TransformationID: uuid.New()}))
	}
	done := make(chan events.SQSEventResponse)
	go func() {
		resp, _ := w.Handle(context.Background(), events.SQSEvent{Records: recs})
		done <- resp
	}()
	require.Eventually(t, func() bool { return running.Load() == 2 }, 5*time.Second, time.Millisecond)
	close(gate)
	select {
	case resp := <-done:
		require.Empty(t, resp.BatchItemFailures)
	case <-time.After(5 * time.Second):
		t.Fatal("Handle did not return")
	}
	require.EqualValues(t, 2, peak.Load())
}

// Jobs get a deadline before the invocation's, so that an interrupted job
// can still put its transformation back and the response reach Lambda.
func TestSQSWorkerKeepsAReserve(t *testing.T) {
	t.Parallel()
	var (
		left        time.Duration
		hasDeadline bool
	)
	w := lambda.NewSQSWorker(func(ctx context.Context, _ ports.Job) error {
		var d time.Time
		d, hasDeadline = ctx.Deadline()
		left = time.Until(d)
		return nil
	}, lambda.SQSWorkerOptions{Reserve: 5 * time.Second, Logger: quiet()})
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, err := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record(t, "m", ports.Job{TransformationID: uuid.New()})}})
	require.NoError(t, err)
	require.True(t, hasDeadline)
	require.Greater(t, left, 50*time.Second)
	require.LessOrEqual(t, left, 55*time.Second)
}

// The API adapter serves the HTTP API event with the handler: method,
// path, query, headers, body and the caller's IP go in; status, headers
// and body come out.
func TestAPI(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "q": r.URL.Query().Get("q"),
			"auth": r.Header.Get("Authorization"), "body": string(body), "remote": r.RemoteAddr})
	})
	resp, err := lambda.NewAPI(h).Handle(t.Context(), events.APIGatewayV2HTTPRequest{
		RawPath: "/api/documents", RawQueryString: "q=x", Headers: map[string]string{"authorization": "Bearer t"},
		Body:           `{"a":1}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/api/documents", SourceIP: "203.0.113.9"}},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, "application/json", resp.Headers["Content-Type"])
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &got))
	require.Equal(t, map[string]string{"method": "POST", "path": "/api/documents", "q": "x", "auth": "Bearer t", "body": `{"a":1}`,
		"remote": "203.0.113.9"}, got)
}

// delays records the visibility changes the worker asks for.
type delays struct {
	mu  sync.Mutex
	got map[string]time.Duration
}

func (d *delays) Delay(_ context.Context, receiptHandle string, wait time.Duration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.got[receiptHandle] = wait
	return nil
}

// A failed record comes back after a backoff by its receive count (a
// deferred one soon), not after the queue's whole visibility timeout; a
// record that is not a job, and a success, are left alone.
func TestSQSWorkerShortensTheRetryWait(t *testing.T) {
	t.Parallel()
	flaky, busy, ok := ports.Job{TransformationID: uuid.New()}, ports.Job{TransformationID: uuid.New()}, ports.Job{TransformationID: uuid.New()}
	d := &delays{got: map[string]time.Duration{}}
	w := lambda.NewSQSWorker(func(_ context.Context, j ports.Job) error {
		switch j {
		case flaky:
			return errors.New("provider unavailable")
		case busy:
			return fmt.Errorf("workspace busy: %w", ports.ErrDeferred)
		}
		return nil
	}, lambda.SQSWorkerOptions{Logger: quiet(), Retry: d})
	withReceipt := func(m events.SQSMessage, receipt string, received int) events.SQSMessage {
		m.ReceiptHandle = receipt
		m.Attributes = map[string]string{"ApproximateReceiveCount": fmt.Sprint(received)}
		return m
	}
	resp, err := w.Handle(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		withReceipt(record(t, "m-flaky", flaky), "r-flaky", 3),
		withReceipt(record(t, "m-busy", busy), "r-busy", 7),
		withReceipt(record(t, "m-ok", ok), "r-ok", 1),
		withReceipt(events.SQSMessage{MessageId: "m-junk", Body: "not json"}, "r-junk", 1),
	}})
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 3)
	require.Equal(t, map[string]time.Duration{"r-flaky": 20 * time.Second, "r-busy": 5 * time.Second}, d.got)
}

func TestDefaultRetryBackoff(t *testing.T) {
	t.Parallel()
	require.Equal(t, 5*time.Second, lambda.DefaultRetryBackoff(1, errors.New("x")))
	require.Equal(t, 10*time.Second, lambda.DefaultRetryBackoff(2, errors.New("x")))
	require.Equal(t, 5*time.Minute, lambda.DefaultRetryBackoff(30, errors.New("x")), "capped")
	require.Equal(t, 5*time.Second, lambda.DefaultRetryBackoff(30, ports.ErrDeferred))
}

// resends records the jobs sent again, failing when fail is set.
type resends struct {
	mu   sync.Mutex
	got  map[uuid.UUID]time.Duration
	fail bool
}

func (r *resends) EnqueueAfter(_ context.Context, job ports.Job, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("sqs unavailable")
	}
	r.got[job.TransformationID] = d
	return nil
}

// A job deferred by its busy workspace is sent again as a new message and
// its record succeeds, so its receive count never reaches the DLQ's
// maxReceiveCount; other failures still fail. When the send fails, the
// deferred record fails too and comes back after its backoff.
func TestSQSWorkerResendsDeferredJobs(t *testing.T) {
	t.Parallel()
	busy, flaky := ports.Job{TransformationID: uuid.New()}, ports.Job{TransformationID: uuid.New()}
	handle := func(_ context.Context, j ports.Job) error {
		if j == busy {
			return fmt.Errorf("workspace busy: %w", ports.ErrDeferred)
		}
		return errors.New("provider unavailable")
	}
	batch := events.SQSEvent{Records: []events.SQSMessage{record(t, "m-busy", busy), record(t, "m-flaky", flaky)}}
	for i := range batch.Records {
		batch.Records[i].ReceiptHandle = "r-" + batch.Records[i].MessageId
		batch.Records[i].Attributes = map[string]string{"ApproximateReceiveCount": "4"}
	}

	r := &resends{got: map[uuid.UUID]time.Duration{}}
	d := &delays{got: map[string]time.Duration{}}
	resp, err := lambda.NewSQSWorker(handle, lambda.SQSWorkerOptions{Logger: quiet(), Retry: d, Resend: r}).Handle(t.Context(), batch)
	require.NoError(t, err)
	require.Equal(t, []events.SQSBatchItemFailure{{ItemIdentifier: "m-flaky"}}, resp.BatchItemFailures)
	require.Equal(t, map[uuid.UUID]time.Duration{busy.TransformationID: 5 * time.Second}, r.got)
	require.Equal(t, map[string]time.Duration{"r-m-flaky": 40 * time.Second}, d.got, "the deferred record is not delayed: it is done")

	r, d = &resends{got: map[uuid.UUID]time.Duration{}, fail: true}, &delays{got: map[string]time.Duration{}}
	resp, err = lambda.NewSQSWorker(handle, lambda.SQSWorkerOptions{Logger: quiet(), Retry: d, Resend: r}).Handle(t.Context(), batch)
	require.NoError(t, err)
	require.Len(t, resp.BatchItemFailures, 2, "a deferred job that could not be sent again fails")
	require.Equal(t, 5*time.Second, d.got["r-m-busy"])
}
