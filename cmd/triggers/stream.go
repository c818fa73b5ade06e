package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/triggershq/triggers/pkg/boltstore"
	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/stream"
	"github.com/triggershq/triggers/pkg/webhook"
)

// streamParts is the single binary's stream: the change-feed worker, the
// delivery scheduler and what they share. See docs/stream.md.
type streamParts struct {
	store     *boltstore.Store
	sender    *webhook.Sender
	metrics   *metrics.Registry
	worker    *stream.Worker
	scheduler *stream.Scheduler
	log       *slog.Logger
}

// newStream wires the worker and the scheduler on store. The sender is
// also the subscriptions API's target checker, so the SSRF opt-in is one
// setting for both.
func newStream(store *boltstore.Store, c serveConfig, logger *slog.Logger) (*streamParts, error) {
	p := &streamParts{
		store:   store,
		sender:  webhook.NewSender(webhook.Options{AllowPrivateNetworks: c.allowPrivateWebhooks}),
		metrics: metrics.NewRegistry(),
		log:     logger,
	}
	deliverer, err := stream.NewDeliverer(stream.DelivererOptions{
		Events: store, Subscriptions: store, Deliveries: store, Sender: p.sender,
		Metrics: p.metrics, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	p.scheduler, err = stream.NewScheduler(stream.SchedulerOptions{
		Schedule: store, Attempt: deliverer.Attempt, Logger: logger,
		Concurrency: c.deliveryConcurrency, PerSubscription: c.deliveryPerSubscription,
	})
	if err != nil {
		return nil, err
	}
	consumer, err := stream.NewConsumer(stream.ConsumerOptions{
		Subscriptions: store, Deliveries: store, Handoff: p.scheduler.Handoff,
		Metrics: p.metrics, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	p.worker, err = stream.NewWorker(stream.WorkerOptions{Feed: store, Handle: consumer.Handle, Logger: logger})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// start runs the worker and the scheduler until ctx ends. The returned
// wait blocks until both have stopped: the change in hand handled and
// checkpointed, the attempts in flight finished (each bounded by the 10 s
// webhook timeout). Call it before closing the store.
func (p *streamParts) start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.worker.Run(ctx); err != nil {
			p.log.Error("stream worker stopped", "error", err.Error())
		}
	})
	wg.Go(func() {
		if err := p.scheduler.Run(ctx); err != nil {
			p.log.Error("delivery scheduler stopped", "error", err.Error())
		}
	})
	return func() {
		wg.Wait()
		p.sender.Close()
	}
}

// eventStore is the store the HTTP API writes events through: a write wakes
// the worker, so a new or acknowledged event is handled at once rather
// than at the worker's next poll.
func (p *streamParts) eventStore() event.Store {
	return wakingStore{Store: p.store, wake: p.worker.Wake}
}

// wakingStore is a *boltstore.Store whose Put and Ack wake the worker.
type wakingStore struct {
	*boltstore.Store
	wake func()
}

func (s wakingStore) Put(ctx context.Context, e event.Event) (event.Event, bool, error) {
	stored, replayed, err := s.Store.Put(ctx, e)
	if err == nil && !replayed {
		s.wake()
	}
	return stored, replayed, err
}

func (s wakingStore) Ack(ctx context.Context, id string) (event.Event, bool, error) {
	e, transitioned, err := s.Store.Ack(ctx, id)
	if err == nil && transitioned {
		s.wake()
	}
	return e, transitioned, err
}

// withMetrics serves GET /metrics (Prometheus text format) beside the API
// on the same listener. It is outside the route table (pkg/routes), which
// is the API both deployments serve: on AWS the same metrics are EMF lines
// in CloudWatch. It needs no token, like a typical scrape target; keep the
// listener private or put it behind a proxy, or turn it off with
// --metrics=false.
func (p *streamParts) withMetrics(api http.Handler) http.Handler {
	depth := metrics.Gauge{
		Name: "triggers_inbox_depth",
		Help: "Pending (unacknowledged) events in the inbox.",
		Value: func(ctx context.Context) (float64, error) {
			n, err := p.store.PendingCount(ctx)
			if err != nil {
				return 0, fmt.Errorf("inbox depth: %w", err)
			}
			return float64(n), nil
		},
	}
	scrape := p.metrics.Handler(p.log, depth)
	// Not a second ServeMux: its own answers (a text/plain 404 for a
	// CONNECT or authority-form target that "/" cannot match) would come
	// before the API's problem+json ones and its access log.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
