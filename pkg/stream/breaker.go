package stream

import (
	"fmt"
	"sync"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// BreakerOptions configure the per-subscription circuit breaker of a
// Deliverer.
//
// A receiver that hangs costs a whole timeout (10 s) per attempt, and one
// that is down gets every one of its deliveries tried on schedule. Without
// a breaker such a target keeps attempting at the rate its events arrive,
// and its due deliveries pile up ahead of everyone else's. With it, after
// Threshold retryable failures in a row (network errors, timeouts, 408,
// 429, 5xx) the subscription's circuit opens for Cooldown: due deliveries
// are not sent but deferred — recorded as a retry ("not sent: …") and
// rescheduled on the retry policy's schedule, so they keep their place in
// it and still die (and disable the subscription) after about a day if the
// target never recovers. When the cooldown ends, the next attempt is sent
// (a probe): success closes the circuit, another failure reopens it for
// twice as long, up to MaxCooldown.
//
// State is in memory, per process: on AWS each deliver instance learns on
// its own.
type BreakerOptions struct {
	// Threshold is how many retryable failures in a row open the circuit.
	// Zero means DefaultBreakerThreshold; negative turns the breaker off.
	Threshold int
	// Cooldown is the first pause; zero means DefaultBreakerCooldown.
	Cooldown time.Duration
	// MaxCooldown caps the doubling; zero means DefaultBreakerMaxCooldown.
	MaxCooldown time.Duration
}

// Defaults of BreakerOptions.
const (
	DefaultBreakerThreshold   = 5
	DefaultBreakerCooldown    = 30 * time.Second
	DefaultBreakerMaxCooldown = 10 * time.Minute
)

type breaker struct {
	o BreakerOptions

	mu   sync.Mutex
	subs map[string]*circuit
}

type circuit struct {
	failures  int           // retryable failures in a row
	openUntil time.Time     // zero: closed
	cooldown  time.Duration // the last pause
}

func newBreaker(o BreakerOptions) *breaker {
	if o.Threshold == 0 {
		o.Threshold = DefaultBreakerThreshold
	}
	if o.Cooldown <= 0 {
		o.Cooldown = DefaultBreakerCooldown
	}
	if o.MaxCooldown <= 0 {
		o.MaxCooldown = DefaultBreakerMaxCooldown
	}
	o.MaxCooldown = max(o.MaxCooldown, o.Cooldown)
	return &breaker{o: o, subs: map[string]*circuit{}}
}

// open reports whether deliveries to sub are deferred at now, and a
// client-safe reason.
func (b *breaker) open(sub string, now time.Time) (string, bool) {
	if b.o.Threshold < 0 {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.subs[sub]
	if c == nil || c.openUntil.IsZero() || !now.Before(c.openUntil) {
		return "", false
	}
	return fmt.Sprintf("not sent: the target's last %d attempts failed, so deliveries to it pause until %s",
		c.failures, c.openUntil.UTC().Format(time.RFC3339)), true
}

// record notes the outcome of an attempt that was sent.
func (b *breaker) record(sub string, o event.Outcome, now time.Time) {
	if b.o.Threshold < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if o != event.OutcomeRetry {
		delete(b.subs, sub) // it answered: alive
		return
	}
	c := b.subs[sub]
	if c == nil {
		c = &circuit{}
		b.subs[sub] = c
	}
	c.failures++
	if c.failures < b.o.Threshold {
		return
	}
	if c.cooldown == 0 {
		c.cooldown = b.o.Cooldown
	} else {
		c.cooldown = min(2*c.cooldown, b.o.MaxCooldown)
	}
	c.openUntil = now.Add(c.cooldown)
}
