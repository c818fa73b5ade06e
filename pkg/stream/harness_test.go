package stream_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/triggershq/triggers/internal/testenv"
	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/storetest"
	"github.com/triggershq/triggers/pkg/stream"
	"github.com/triggershq/triggers/pkg/webhook"
)

// newClock returns the manual clock shared by every part of a world, so
// retry delays pass when the test says so, never by waiting.
func newClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
}

// testLogger writes through t.Log, so a failing test shows what the loop
// did; with -v every line shows.
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("TRIGGERS_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// worldOptions tune newWorld.
type worldOptions struct {
	policy  webhook.Policy
	timeout time.Duration // the sender's; default 5s
	breaker stream.BreakerOptions
	// perSubscription and concurrency of the scheduler (defaults).
	perSubscription, concurrency int
	// noLoop builds the parts but runs neither the worker nor the
	// scheduler, for tests that drive them by hand.
	noLoop bool
}

// world is the single binary's delivery loop, in process, on a real bbolt
// store: change feed → Worker → Consumer → claims → Scheduler → Deliverer
// → webhook.Sender over real HTTP to httptest receivers.
type world struct {
	t         testing.TB
	store     *boltstore.Store
	clock     *storetest.Clock
	ids       *event.IDs
	metrics   *metrics.Registry
	consumer  *stream.Consumer
	deliverer *stream.Deliverer
	worker    *stream.Worker
	scheduler *stream.Scheduler
	stop      func()
}

func newWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, clock: newClock(), ids: &event.IDs{}, metrics: metrics.NewRegistry()}
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "triggers.db"), boltstore.Options{Now: w.clock.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	w.store = store
	if o.timeout == 0 {
		o.timeout = 5 * time.Second
	}
	if o.breaker.Threshold == 0 {
		o.breaker.Threshold = -1 // off unless a test is about it
	}
	sender := webhook.NewSender(webhook.Options{AllowPrivateNetworks: true, Timeout: o.timeout, Now: w.clock.Now})
	log := testLogger(t)
	w.deliverer, err = stream.NewDeliverer(stream.DelivererOptions{
		Events: store, Subscriptions: store, Deliveries: store, Sender: sender,
		Policy: o.policy, Metrics: w.metrics, Logger: log, Now: w.clock.Now,
		Rand: rand.New(rand.NewPCG(1, 2)), Breaker: o.breaker,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.scheduler, err = stream.NewScheduler(stream.SchedulerOptions{
		Schedule: store, Attempt: w.deliverer.Attempt, Poll: 5 * time.Millisecond, Now: w.clock.Now, Logger: log,
		Concurrency: o.concurrency, PerSubscription: o.perSubscription,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.consumer, err = stream.NewConsumer(stream.ConsumerOptions{
		Subscriptions: store, Deliveries: store, Handoff: w.scheduler.Handoff,
		Metrics: w.metrics, Logger: log, Now: w.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.worker, err = stream.NewWorker(stream.WorkerOptions{Feed: store, Handle: w.consumer.Handle, Poll: 5 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if !o.noLoop {
		wg.Go(func() {
			if err := w.worker.Run(ctx); err != nil {
				t.Errorf("worker: %v", err)
			}
		})
		wg.Go(func() {
			if err := w.scheduler.Run(ctx); err != nil {
				t.Errorf("scheduler: %v", err)
			}
		})
	}
	var once sync.Once
	w.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			sender.Close()
			if err := store.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
	}
	t.Cleanup(w.stop)
	return w
}

// subscribe stores an active subscription created now.
func (w *world) subscribe(target string, types ...string) event.Subscription {
	w.t.Helper()
	now := w.clock.Now()
	sub := event.NewSubscription{TargetURL: target, EventTypes: types}.Build(w.ids.New(now), event.NewSecret(), now)
	if err := w.store.CreateSubscription(context.Background(), sub); err != nil {
		w.t.Fatal(err)
	}
	return sub
}

// publish stores a new event and wakes the worker, as the HTTP API's
// POST /events does in the single binary.
func (w *world) publish(typ, payload string) event.Event {
	w.t.Helper()
	now := w.clock.Now()
	e := event.NewEvent{Type: typ, Source: "test", Payload: []byte(payload)}.Build(w.ids.New(now), now, event.DefaultRetention)
	stored, _, err := w.store.Put(context.Background(), e)
	if err != nil {
		w.t.Fatal(err)
	}
	w.worker.Wake()
	return stored
}

// eventually polls cond, advancing the clock by step and waking the
// scheduler between polls, until it holds; it fails the test after a
// generous real-time bound (a hang, not a slow machine).
func (w *world) eventually(what string, step time.Duration, cond func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s", what)
		}
		if step > 0 {
			w.clock.Advance(step)
		}
		w.scheduler.Wake()
		w.worker.Wake()
		time.Sleep(2 * time.Millisecond)
	}
}

// attempts lists a subscription's attempts, oldest first.
func (w *world) attempts(subID string) []event.Attempt {
	w.t.Helper()
	as, err := w.store.ListAttempts(context.Background(), subID, event.MaxListLimit)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, j := 0, len(as)-1; i < j; i, j = i+1, j-1 {
		as[i], as[j] = as[j], as[i]
	}
	return as
}

// lastOutcome is the outcome of a subscription's latest attempt, "" if
// none.
func (w *world) lastOutcome(subID string) event.Outcome {
	w.t.Helper()
	as := w.attempts(subID)
	if len(as) == 0 {
		return ""
	}
	return as[len(as)-1].Outcome
}

// delivery returns a stored delivery, which must exist (there is no read
// method: ClaimDelivery of an existing one changes nothing, but it would
// create a missing one, so call it only once an attempt was recorded) (ClaimDelivery of an existing one
// changes nothing).
func (w *world) delivery(eventID, subID string) event.Delivery {
	w.t.Helper()
	d, created, err := w.store.ClaimDelivery(context.Background(), event.NewDelivery(eventID, subID, w.clock.Now()))
	if err != nil || created {
		w.t.Fatalf("delivery %s/%s: created=%v err=%v, want an existing one", eventID, subID, created, err)
	}
	return d
}

// request is one request a receiver got.
type request struct {
	id, timestamp string
	body          []byte
	signatureOK   bool
	status        int  // what the receiver answered
	aborted       bool // the sender hung up before an answer
}

// receiver is an httptest server that verifies Standard Webhooks
// signatures with its own HMAC code (not pkg/webhook's) and answers as its
// respond function says.
type receiver struct {
	srv *httptest.Server

	mu      sync.Mutex
	secret  string
	reqs    []request
	respond func(n int, r *http.Request, w http.ResponseWriter) int // n counts from 1
}

func newReceiver(t testing.TB, respond func(n int, r *http.Request, w http.ResponseWriter) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func always(status int) func(int, *http.Request, http.ResponseWriter) int {
	return func(int, *http.Request, http.ResponseWriter) int { return status }
}

func (rc *receiver) URL() string { return rc.srv.URL + "/hook?zap=1" }

func (rc *receiver) setSecret(s string) {
	rc.mu.Lock()
	rc.secret = s
	rc.mu.Unlock()
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	secret := rc.secret
	rc.reqs = append(rc.reqs, request{})
	n := len(rc.reqs)
	rc.mu.Unlock()
	req := request{
		id: r.Header.Get("webhook-id"), timestamp: r.Header.Get("webhook-timestamp"), body: body,
		signatureOK: testenv.VerifyWebhookSignature(secret, r.Header, body) == nil && r.Method == http.MethodPost &&
			r.Header.Get("Content-Type") == "application/json",
	}
	status := rc.respond(n, r, w)
	if r.Context().Err() != nil {
		req.aborted = true
	} else {
		w.WriteHeader(status)
		req.status = status
	}
	rc.mu.Lock()
	rc.reqs[n-1] = req
	rc.mu.Unlock()
}

// requests returns a copy of what was received so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// accepted counts the requests answered 2xx, by webhook-id.
func (rc *receiver) accepted() map[string]int {
	out := map[string]int{}
	for _, r := range rc.requests() {
		if r.status >= 200 && r.status < 300 {
			out[r.id]++
		}
	}
	return out
}

// tinyPolicy retries quickly: n attempts, each wait 1ms (with jitter).
func tinyPolicy(attempts int) webhook.Policy {
	delays := make([]time.Duration, attempts-1)
	for i := range delays {
		delays[i] = time.Millisecond
	}
	return webhook.Policy{Delays: delays, DisableAfterFailures: 1000, DisableAfter: 1000 * time.Hour}
}
