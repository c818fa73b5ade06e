package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/metrics"
)

// SubscriptionLister lists subscriptions; event.SubscriptionStore is one.
type SubscriptionLister interface {
	ListSubscriptions(ctx context.Context) ([]event.Subscription, error)
}

// DeliveryClaimer claims deliveries; event.DeliveryLog is one.
type DeliveryClaimer interface {
	ClaimDelivery(ctx context.Context, d event.Delivery) (event.Delivery, bool, error)
}

// Handoff takes newly claimed, pending deliveries for their first attempt.
// It returns an error when it could not take them all; the change record
// is then handled again, and the claims hand the same deliveries over again
// (see Consumer.Handle).
type Handoff func(ctx context.Context, deliveries []event.Delivery) error

// ConsumerOptions configure a Consumer.
type ConsumerOptions struct {
	// Subscriptions and Deliveries are the stores (required).
	Subscriptions SubscriptionLister
	Deliveries    DeliveryClaimer
	// Handoff receives new deliveries (required).
	Handoff Handoff
	// Metrics receives the event counters. Nil means metrics.Discard.
	Metrics metrics.Recorder
	// Logger receives what is ignored or fails. Nil discards.
	Logger *slog.Logger
	// Now is the clock for new deliveries and the cache. Nil: time.Now.
	Now func() time.Time
	// CacheTTL is how long the subscription list may be reused for events
	// created before it was read (see subscriptionCache). Zero means
	// DefaultCacheTTL; negative means never reuse it.
	CacheTTL time.Duration
	// ClaimConcurrency bounds the claims in flight for one event's
	// fan-out. Zero means DefaultClaimConcurrency.
	ClaimConcurrency int
}

// Defaults of ConsumerOptions.
const (
	DefaultCacheTTL         = 5 * time.Second
	DefaultClaimConcurrency = 16
)

// Consumer turns change records into metrics and deliveries. It is safe
// for concurrent use.
type Consumer struct {
	claims   DeliveryClaimer
	handoff  Handoff
	metrics  metrics.Recorder
	log      *slog.Logger
	now      func() time.Time
	subs     *subscriptionCache
	parallel int
}

// NewConsumer returns a Consumer.
func NewConsumer(o ConsumerOptions) (*Consumer, error) {
	if o.Subscriptions == nil || o.Deliveries == nil || o.Handoff == nil {
		return nil, errors.New("stream: a consumer needs Subscriptions, Deliveries and Handoff")
	}
	if o.Metrics == nil {
		o.Metrics = metrics.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.ClaimConcurrency <= 0 {
		o.ClaimConcurrency = DefaultClaimConcurrency
	}
	return &Consumer{
		claims:   o.Deliveries,
		handoff:  o.Handoff,
		metrics:  o.Metrics,
		log:      o.Logger,
		now:      o.Now,
		subs:     &subscriptionCache{list: o.Subscriptions, ttl: o.CacheTTL, now: o.Now},
		parallel: o.ClaimConcurrency,
	}, nil
}

// Handle handles one change record. It returns an error (wrapping the
// store's *event.Error) when the record must be handled again; handling it
// again is always safe. Metrics are recorded only once a record is
// handled, so a retried record is counted once (a crash between handling
// and checkpointing can still count it twice).
func (c *Consumer) Handle(ctx context.Context, ch event.Change) error {
	e := ch.Event
	switch ch.Kind {
	case event.ChangeCreated:
		if err := c.fanOut(ctx, e); err != nil {
			return fmt.Errorf("fan out event %s: %w", e.ID, err)
		}
		c.metrics.Add(metrics.EventsIngested, 1)
	case event.ChangeDelivered:
		c.metrics.Add(metrics.EventsDelivered, 1)
		c.metrics.Observe(metrics.AckLatency, e.UpdatedAt.Sub(e.CreatedAt))
	case event.ChangeExpired:
		// An event acknowledged long ago and now removed is housekeeping;
		// one that expired while pending was never consumed.
		if e.Status == event.StatusPending {
			c.metrics.Add(metrics.EventsExpired, 1)
		}
	default:
		c.log.WarnContext(ctx, "stream: unknown change kind ignored", "kind", string(ch.Kind), "event_id", e.ID)
	}
	return nil
}

// fanOut claims one delivery per active subscription that matches e and
// existed when e was created, and hands over those not handed over
// before. A subscription receives the events created after it: a consumer
// catching up on a backlog does not send a new subscription old events.
func (c *Consumer) fanOut(ctx context.Context, e event.Event) error {
	subs, err := c.subs.forEvent(ctx, e.CreatedAt)
	if err != nil {
		return err
	}
	var targets []event.Subscription
	for _, s := range subs {
		if s.Active() && s.Matches(e.Type) && !e.CreatedAt.Before(s.CreatedAt) {
			targets = append(targets, s)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	now := c.now()
	results := make([]event.Delivery, len(targets))
	handOver := make([]bool, len(targets))
	errs := make([]error, len(targets))
	sem := make(chan struct{}, c.parallel)
	var wg sync.WaitGroup
	for i, s := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			d, created, err := c.claims.ClaimDelivery(ctx, event.NewDelivery(e.ID, s.ID, now))
			if err != nil {
				errs[i] = fmt.Errorf("claim delivery to subscription %s: %w", s.ID, err)
				return
			}
			results[i] = d
			// Created now, or created by an earlier try that may have
			// failed before handing it over: a pending delivery never
			// attempted. One already attempted is in the retry flow.
			handOver[i] = created || (d.State == event.DeliveryPending && d.Attempts == 0)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var out []event.Delivery
	for i, d := range results {
		if handOver[i] {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := c.handoff(ctx, out); err != nil {
		return fmt.Errorf("hand over %d deliveries: %w", len(out), err)
	}
	return nil
}

// subscriptionCache keeps the subscription list briefly, so a batch of
// change records costs one list, not one per record.
//
// It never makes an event miss a subscription that existed when the event
// was created: the list is reused only for events created before it was
// read (any subscription the event could match was in it), and only for
// ttl. An event created after the list was read makes it read again, which
// in steady traffic means once per batch of records. A subscription
// deleted or disabled meanwhile may still get deliveries claimed for up to
// ttl; the Deliverer checks the subscription again before every attempt
// and drops them.
type subscriptionCache struct {
	list SubscriptionLister
	ttl  time.Duration
	now  func() time.Time

	mu     sync.Mutex
	subs   []event.Subscription
	readAt time.Time // when the list read started
	valid  bool
}

func (c *subscriptionCache) forEvent(ctx context.Context, createdAt time.Time) ([]event.Subscription, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.valid && createdAt.Before(c.readAt) && now.Sub(c.readAt) < c.ttl {
		return c.subs, nil
	}
	subs, err := c.list.ListSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	c.subs, c.readAt, c.valid = subs, now, true
	return subs, nil
}
