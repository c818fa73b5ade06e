package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/metrics"
	"github.com/triggershq/triggers/pkg/webhook"
)

// Sender makes one delivery attempt; *webhook.Sender is one.
type Sender interface {
	Send(ctx context.Context, target, secret, deliveryID string, e event.Event) webhook.Result
}

// EventReader reads events; event.Store is one.
type EventReader interface {
	Get(ctx context.Context, id string) (event.Event, error)
}

// DelivererOptions configure a Deliverer.
type DelivererOptions struct {
	// Events, Subscriptions and Deliveries are the stores (required).
	Events        EventReader
	Subscriptions event.SubscriptionStore
	Deliveries    event.DeliveryLog
	// Sender makes the HTTP attempts (required).
	Sender Sender
	// Policy is the retry and disable policy. The zero value is
	// webhook.DefaultPolicy.
	Policy webhook.Policy
	// Metrics receives the webhook counters. Nil means metrics.Discard.
	Metrics metrics.Recorder
	// Logger receives deletions, disablings and failures. Nil discards.
	Logger *slog.Logger
	// Now is the clock for dropped deliveries and the disable rule. Nil
	// means time.Now. (Attempt times come from the Sender's clock.)
	Now func() time.Time
	// Rand supplies the retry jitter. Nil means math/rand/v2's global
	// source.
	Rand *rand.Rand
	// Breaker pauses deliveries to a subscription whose target keeps
	// failing; see BreakerOptions.
	Breaker BreakerOptions
}

// Deliverer makes attempts of pending deliveries. It is safe for
// concurrent use (Rand, when set, is used under a lock).
type Deliverer struct {
	events  EventReader
	subs    event.SubscriptionStore
	log     event.DeliveryLog
	sender  Sender
	policy  webhook.Policy
	metrics metrics.Recorder
	logger  *slog.Logger
	now     func() time.Time
	breaker *breaker

	randMu sync.Mutex
	rand   *rand.Rand
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(o DelivererOptions) (*Deliverer, error) {
	if o.Events == nil || o.Subscriptions == nil || o.Deliveries == nil || o.Sender == nil {
		return nil, errors.New("stream: a deliverer needs Events, Subscriptions, Deliveries and Sender")
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
	return &Deliverer{
		events: o.Events, subs: o.Subscriptions, log: o.Deliveries, sender: o.Sender,
		policy: o.Policy, metrics: o.Metrics, logger: o.Logger, now: o.Now, rand: o.Rand,
		breaker: newBreaker(o.Breaker),
	}, nil
}

// Attempt makes the next attempt of d, a pending delivery as stored, and
// returns the delivery as it is after that attempt: pending with its
// NextAttemptAt when it is to be tried again, else succeeded, failed or
// dead. A delivery that is not pending is returned unchanged.
//
// Before attempting, it reads the subscription and the event again: a
// delivery whose subscription was deleted or disabled, or whose event
// expired, is ended (state failed) with an attempt record saying why,
// and nothing is sent. While the subscription's circuit is open (see
// BreakerOptions) nothing is sent either: the attempt is recorded as a
// deferred retry and rescheduled by the policy.
//
// It returns an error, and d unchanged, when nothing was recorded: the
// stores failed, or ctx ended before the receiver answered (a shutdown
// leaves the delivery pending, to be attempted again with the same
// number). The attempt may then have reached the receiver; the next one
// carries the same webhook-id, which receivers deduplicate on.
func (x *Deliverer) Attempt(ctx context.Context, d event.Delivery) (event.Delivery, error) {
	if d.State != event.DeliveryPending {
		return d, nil
	}
	sub, err := x.subs.GetSubscription(ctx, d.SubscriptionID)
	switch {
	case event.ErrorCode(err) == event.CodeNotFound:
		return x.drop(ctx, d, "not attempted: the subscription was deleted")
	case err != nil:
		return d, fmt.Errorf("attempt %s: get subscription: %w", d.ID, err)
	case !sub.Active():
		return x.drop(ctx, d, "not attempted: the subscription is disabled")
	}
	e, err := x.events.Get(ctx, d.EventID)
	switch {
	case event.ErrorCode(err) == event.CodeNotFound:
		return x.drop(ctx, d, "not attempted: the event expired before it could be delivered")
	case err != nil:
		return d, fmt.Errorf("attempt %s: get event: %w", d.ID, err)
	}

	var res webhook.Result
	deferred := false
	if reason, open := x.breaker.open(sub.ID, x.now()); open {
		res = webhook.Result{At: event.Timestamp(x.now()), Outcome: event.OutcomeRetry, Err: reason}
		deferred = true
	} else {
		res = x.sender.Send(ctx, sub.TargetURL, sub.Secret, d.ID, e)
		if res.Outcome == event.OutcomeRetry && ctx.Err() != nil {
			return d, fmt.Errorf("attempt %s: %w", d.ID, ctx.Err())
		}
	}
	next, a := x.apply(d, res)
	if err := x.log.RecordAttempt(ctx, next, a); err != nil {
		return d, fmt.Errorf("attempt %s: record attempt %d: %w", d.ID, a.N, err)
	}
	if !deferred {
		x.breaker.record(sub.ID, res.Outcome, x.now())
		x.count(res)
	}
	attrs := []any{"delivery_id", d.ID, "subscription", sub, "attempt", a.N, "outcome", string(a.Outcome),
		"status_code", a.StatusCode, "latency_ms", float64(a.Latency.Microseconds()) / 1000}
	if res.Cause != nil {
		attrs = append(attrs, "cause", res.Cause.Error())
	}
	x.logger.DebugContext(ctx, "webhook attempt", attrs...)

	switch {
	case a.Outcome == event.OutcomeGone:
		x.gone(ctx, sub)
	case next.State == event.DeliveryDead:
		x.metrics.Add(metrics.WebhookDeadLettered, 1)
		x.logger.WarnContext(ctx, "webhook delivery dead after its last attempt", "delivery_id", d.ID, "subscription", sub, "attempts", a.N, "error", a.Error)
		x.disable(ctx, sub, webhook.Health{Exhausted: true})
	case a.Outcome != event.OutcomeSuccess:
		x.disableIfFailing(ctx, sub)
	}
	return next, nil
}

func (x *Deliverer) apply(d event.Delivery, res webhook.Result) (event.Delivery, event.Attempt) {
	if x.rand == nil {
		return x.policy.Apply(d, res, nil)
	}
	x.randMu.Lock()
	defer x.randMu.Unlock()
	return x.policy.Apply(d, res, x.rand)
}

func (x *Deliverer) count(res webhook.Result) {
	x.metrics.Add(metrics.WebhookAttempts, 1)
	x.metrics.Observe(metrics.WebhookLatency, res.Latency)
	if res.Outcome == event.OutcomeSuccess {
		x.metrics.Add(metrics.WebhookSuccesses, 1)
	} else {
		x.metrics.Add(metrics.WebhookFailures, 1)
	}
}

// drop ends a delivery that will not be attempted, recording why as an
// attempt that sent nothing, so the reason is listed with the
// subscription's deliveries and the schedule lets it go.
func (x *Deliverer) drop(ctx context.Context, d event.Delivery, reason string) (event.Delivery, error) {
	now := event.Timestamp(x.now())
	a := event.Attempt{
		DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID,
		N: d.Attempts + 1, At: now, Error: reason, Outcome: event.OutcomeFailed,
	}
	next := d
	next.State, next.Attempts, next.NextAttemptAt, next.UpdatedAt = event.DeliveryFailed, a.N, time.Time{}, now
	if err := x.log.RecordAttempt(ctx, next, a); err != nil {
		return d, fmt.Errorf("drop %s: %w", d.ID, err)
	}
	x.logger.InfoContext(ctx, "webhook delivery dropped", "delivery_id", d.ID, "subscription_id", d.SubscriptionID, "event_id", d.EventID, "reason", reason)
	return next, nil
}

// gone deletes a subscription whose receiver answered 410 (the REST hooks
// rule: the consumer is gone). It is already recorded with the attempt;
// a failure to delete is logged and the next 410 tries again.
func (x *Deliverer) gone(ctx context.Context, sub event.Subscription) {
	err := x.subs.DeleteSubscription(ctx, sub.ID)
	switch {
	case err == nil:
		x.logger.InfoContext(ctx, "subscription deleted: its receiver answered 410 Gone", "subscription", sub)
	case event.ErrorCode(err) == event.CodeNotFound:
	default:
		x.logger.ErrorContext(ctx, "delete subscription after 410 Gone failed", "subscription", sub, "error", err.Error())
	}
}

// disableIfFailing applies the disable rule to the subscription's recent
// attempts, newest first.
func (x *Deliverer) disableIfFailing(ctx context.Context, sub event.Subscription) {
	n := x.policy.DisableAfterFailures
	if n <= 0 {
		n = webhook.DefaultDisableAfterFailures
	}
	recent, err := x.log.ListAttempts(ctx, sub.ID, min(n, event.MaxListLimit))
	if err != nil {
		x.logger.ErrorContext(ctx, "list attempts for the disable rule failed", "subscription", sub, "error", err.Error())
		return
	}
	x.disable(ctx, sub, webhook.HealthFrom(recent))
}

func (x *Deliverer) disable(ctx context.Context, sub event.Subscription, h webhook.Health) {
	reason, ok := x.policy.ShouldDisable(h, x.now())
	if !ok {
		return
	}
	got, disabled, err := x.subs.DisableSubscription(ctx, sub.ID, reason)
	switch {
	case event.ErrorCode(err) == event.CodeNotFound:
		return
	case err != nil:
		x.logger.ErrorContext(ctx, "disable subscription failed", "subscription", sub, "reason", reason, "error", err.Error())
		return
	case !disabled:
		return // another attempt disabled it first, and counted it
	}
	x.metrics.Add(metrics.SubscriptionsDisabled, 1)
	x.logger.WarnContext(ctx, "subscription disabled", "subscription", got, "reason", got.DisabledReason)
}
