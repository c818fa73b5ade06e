package webhook

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Policy decides when a delivery is tried again, when it is given up, and
// when a subscription is disabled. Its methods are pure functions of their
// arguments (randomness is passed in), so the AWS deliver function and the
// single binary's worker make the same decisions, and tests can check them
// without waiting.
//
// The zero Policy is DefaultPolicy: each zero field takes its default.
type Policy struct {
	// Delays are the base waits before the second, third, ... attempt
	// (the first is immediate), so a delivery gets len(Delays)+1 attempts.
	Delays []time.Duration
	// Jitter spreads each wait uniformly over [d·(1−Jitter), d·(1+Jitter)]
	// so receivers that failed together are not retried together. 0 means
	// DefaultJitter; it is clamped to (0, 1].
	Jitter float64
	// MaxRetryAfter caps how long a receiver's Retry-After may postpone an
	// attempt. 0 means DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// DisableAfterFailures and DisableAfter: a subscription with at least
	// this many consecutive failed attempts, the first of them at least
	// this long ago, is disabled (see ShouldDisable). 0 means the defaults.
	DisableAfterFailures int
	DisableAfter         time.Duration
}

// Defaults of Policy.
const (
	DefaultJitter               = 0.25
	DefaultMaxRetryAfter        = 6 * time.Hour
	DefaultDisableAfterFailures = 10
	DefaultDisableAfter         = 24 * time.Hour
)

// defaultDelays add up to 23 h 42 min 30 s: ten attempts over about a day,
// most of them early, when a failure is most likely a blip.
var defaultDelays = []time.Duration{
	30 * time.Second,
	2 * time.Minute,
	10 * time.Minute,
	30 * time.Minute,
	1 * time.Hour,
	2 * time.Hour,
	4 * time.Hour,
	8 * time.Hour,
	8 * time.Hour,
}

// DefaultPolicy returns the policy used when nothing else is configured,
// with every field set (docs/webhooks.md has the schedule).
func DefaultPolicy() Policy {
	return Policy{
		Delays:               append([]time.Duration(nil), defaultDelays...),
		Jitter:               DefaultJitter,
		MaxRetryAfter:        DefaultMaxRetryAfter,
		DisableAfterFailures: DefaultDisableAfterFailures,
		DisableAfter:         DefaultDisableAfter,
	}
}

func (p Policy) withDefaults() Policy {
	if len(p.Delays) == 0 {
		p.Delays = defaultDelays
	}
	if p.Jitter <= 0 {
		p.Jitter = DefaultJitter
	}
	p.Jitter = min(p.Jitter, 1)
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.DisableAfterFailures <= 0 {
		p.DisableAfterFailures = DefaultDisableAfterFailures
	}
	if p.DisableAfter <= 0 {
		p.DisableAfter = DefaultDisableAfter
	}
	return p
}

// MaxAttempts is how many attempts a delivery gets.
func (p Policy) MaxAttempts() int { return len(p.withDefaults().Delays) + 1 }

// Next returns how long to wait after the attempt numbered attempt
// (1-based; 0 asks about the first attempt, which is immediate) before the
// next one, or giveUp when that was the last attempt allowed.
//
// retryAfter is the receiver's Retry-After (Result.RetryAfter): the wait is
// never shorter than the jittered backoff, and a Retry-After longer than it
// is honoured up to MaxRetryAfter. rnd supplies the jitter; nil means the
// global source of math/rand/v2.
func (p Policy) Next(attempt int, retryAfter time.Duration, rnd *rand.Rand) (delay time.Duration, giveUp bool) {
	p = p.withDefaults()
	if attempt <= 0 {
		return 0, false
	}
	if attempt > len(p.Delays) {
		return 0, true
	}
	f := rand.Float64
	if rnd != nil {
		f = rnd.Float64
	}
	base := float64(p.Delays[attempt-1])
	delay = time.Duration(base * (1 - p.Jitter + 2*p.Jitter*f()))
	if retryAfter > 0 {
		delay = max(delay, min(retryAfter, p.MaxRetryAfter))
	}
	return delay, false
}

// Apply returns the delivery after an attempt with result r, and the
// attempt's record. d is the delivery before the attempt (pending): the
// attempt is numbered d.Attempts+1. Success makes it succeeded; a 410 or a
// failure that is not retried makes it failed (on a 410 the caller also
// deletes the subscription); a retryable failure leaves it pending with
// NextAttemptAt set by Next, or dead when no attempt is left.
func (p Policy) Apply(d event.Delivery, r Result, rnd *rand.Rand) (event.Delivery, event.Attempt) {
	a := event.Attempt{
		DeliveryID:     d.ID,
		SubscriptionID: d.SubscriptionID,
		EventID:        d.EventID,
		N:              d.Attempts + 1,
		At:             event.Timestamp(r.At),
		StatusCode:     r.StatusCode,
		Latency:        r.Latency,
		Error:          r.Err,
		Outcome:        r.Outcome,
	}
	end := event.Timestamp(r.At.Add(r.Latency))
	d.Attempts = a.N
	d.UpdatedAt = end
	d.NextAttemptAt = time.Time{}
	switch r.Outcome {
	case event.OutcomeSuccess:
		d.State = event.DeliverySucceeded
	case event.OutcomeRetry:
		delay, giveUp := p.Next(a.N, r.RetryAfter, rnd)
		if giveUp {
			d.State = event.DeliveryDead
		} else {
			d.State = event.DeliveryPending
			d.NextAttemptAt = event.Timestamp(end.Add(delay))
		}
	default: // OutcomeGone, OutcomeFailed, or anything unknown: never retried blindly
		d.State = event.DeliveryFailed
	}
	return d, a
}

// Health is what the disable rule knows about a subscription's recent
// attempts. HealthFrom derives it from the delivery log.
type Health struct {
	// ConsecutiveFailures counts failed attempts (any outcome but success)
	// since the last successful one.
	ConsecutiveFailures int
	// FailingSince is when the first of those failures happened; zero when
	// there are none.
	FailingSince time.Time
	// Exhausted is set by the caller when a delivery just became dead:
	// every attempt it had, over about a day, failed.
	Exhausted bool
}

// HealthFrom computes Health from a subscription's most recent attempts,
// newest first, as event.DeliveryLog.ListAttempts returns them. It only sees
// what it is given, so when every attempt given failed it underestimates
// the failures and their length: the rule then disables later, never
// earlier. The caller sets Exhausted.
func HealthFrom(recent []event.Attempt) Health {
	var h Health
	for _, a := range recent {
		if a.Outcome == event.OutcomeSuccess {
			break
		}
		h.ConsecutiveFailures++
		h.FailingSince = a.At
	}
	return h
}

// ShouldDisable reports whether a subscription must be disabled, and a
// client-safe reason to record, at now: when a delivery exhausted its
// attempts, or when it has had at least DisableAfterFailures consecutive
// failed attempts and no success for DisableAfter. Failures that are not
// retried (say, a receiver answering 404 to everything) never exhaust a
// delivery, so the second rule is what stops them.
func (p Policy) ShouldDisable(h Health, now time.Time) (reason string, disable bool) {
	p = p.withDefaults()
	if h.Exhausted {
		return fmt.Sprintf("a delivery failed all %d attempts over about a day", len(p.Delays)+1), true
	}
	if h.ConsecutiveFailures >= p.DisableAfterFailures && !h.FailingSince.IsZero() && now.Sub(h.FailingSince) >= p.DisableAfter {
		return fmt.Sprintf("%d consecutive failed attempts and no success since %s",
			h.ConsecutiveFailures, h.FailingSince.UTC().Format(time.RFC3339)), true
	}
	return "", false
}
