package stream

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Schedule is the durable schedule (required).
	Schedule event.DeliverySchedule
	// Attempt makes one attempt (required): Deliverer.Attempt.
	Attempt func(ctx context.Context, d event.Delivery) (event.Delivery, error)
	// Concurrency bounds the attempts in flight. Zero means
	// DefaultConcurrency.
	Concurrency int
	// PerSubscription bounds the attempts in flight to one subscription,
	// so a target that hangs holds at most that many of the slots. Zero
	// means DefaultPerSubscription.
	PerSubscription int
	// Poll is how long the scheduler sleeps when nothing woke it. Zero
	// means 1s. The stream worker calls Wake when it hands over new
	// deliveries, and an attempt ending wakes it, so Poll only bounds how
	// late a retry that became due is noticed.
	Poll time.Duration
	// Now is the clock compared with NextAttemptAt. Nil means time.Now.
	Now func() time.Time
	// Logger receives failures. Nil discards.
	Logger *slog.Logger
}

// Defaults of SchedulerOptions.
const (
	DefaultConcurrency     = 8
	DefaultPerSubscription = 2
)

// Scheduler runs due deliveries of the single binary's durable schedule.
//
// Fairness: deliveries are taken oldest due first, but at most
// PerSubscription of one subscription are in flight, so one dead target
// holds at most that many of the Concurrency slots and every other
// subscription keeps being served; the Deliverer's breaker then stops that
// target's deliveries from being sent at all for a while, so its backlog
// cannot fill the due window either. When a whole window is held by
// deliveries that may not start now, the next read looks further (up to
// event.MaxDueLimit).
type Scheduler struct {
	o    SchedulerOptions
	wake chan struct{}
}

// NewScheduler returns a Scheduler.
func NewScheduler(o SchedulerOptions) (*Scheduler, error) {
	if o.Schedule == nil || o.Attempt == nil {
		return nil, errors.New("stream: a scheduler needs Schedule and Attempt")
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PerSubscription <= 0 {
		o.PerSubscription = DefaultPerSubscription
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{o: o, wake: make(chan struct{}, 1)}, nil
}

// Wake tells the scheduler there may be new due deliveries. It never
// blocks; it is a Handoff's whole job on the single binary.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Handoff is the Consumer's Handoff for the single binary: the claimed
// deliveries are already in the durable schedule, so it only wakes the
// scheduler.
func (s *Scheduler) Handoff(context.Context, []event.Delivery) error {
	s.Wake()
	return nil
}

// attemptDone is what a finished attempt reports to the loop.
type attemptDone struct {
	d   event.Delivery
	err error
}

// run is the state of one Run.
type run struct {
	s        *Scheduler
	work     context.Context // attempts finish even when Run's ctx ends
	done     chan attemptDone
	inflight map[string]string    // delivery id → subscription id
	perSub   map[string]int       // subscription id → attempts in flight
	notUntil map[string]time.Time // delivery id → after a failed Attempt, not before
	window   int
}

// Run schedules until ctx ends, then waits for the attempts in flight to
// finish (each is bounded by the sender's timeout) and returns nil. Nothing
// due is lost by stopping: the schedule is durable, and an attempt that did
// not record stays due.
func (s *Scheduler) Run(ctx context.Context) error {
	base := min(8*s.o.Concurrency, event.MaxDueLimit)
	r := &run{
		s:        s,
		work:     context.WithoutCancel(ctx),
		done:     make(chan attemptDone, s.o.Concurrency),
		inflight: map[string]string{},
		perSub:   map[string]int{},
		notUntil: map[string]time.Time{},
		window:   base,
	}
	stop := ctx.Done()
	for {
		if stop != nil && len(r.inflight) < s.o.Concurrency {
			r.fill(ctx, base)
		}
		if stop == nil && len(r.inflight) == 0 {
			return nil
		}
		t := time.NewTimer(s.o.Poll)
		select {
		case <-stop:
			stop = nil // drain: no new attempts, wait for those in flight
		case <-s.wake:
		case res := <-r.done:
			r.finish(res)
		case <-t.C:
		}
		t.Stop()
	}
}

// fill starts due deliveries while there are free slots.
func (r *run) fill(ctx context.Context, base int) {
	now := r.s.o.Now()
	due, err := r.s.o.Schedule.DueDeliveries(ctx, now, r.window)
	if err != nil {
		if ctx.Err() == nil {
			r.s.o.Logger.ErrorContext(ctx, "scheduler: read due deliveries", "error", err.Error())
		}
		return
	}
	for id, t := range r.notUntil {
		if !now.Before(t) {
			delete(r.notUntil, id)
		}
	}
	started := 0
	for _, d := range due {
		if len(r.inflight) >= r.s.o.Concurrency {
			break
		}
		if _, busy := r.inflight[d.ID]; busy {
			continue
		}
		if _, wait := r.notUntil[d.ID]; wait {
			continue
		}
		if r.perSub[d.SubscriptionID] >= r.s.o.PerSubscription {
			continue
		}
		r.start(d)
		started++
	}
	switch {
	case started == 0 && len(due) == r.window && len(r.inflight) < r.s.o.Concurrency:
		// A full window of deliveries that may not start now: look
		// further next time.
		r.window = min(2*r.window, event.MaxDueLimit)
	case started > 0 && r.window > base:
		r.window = max(base, r.window/2)
	}
}

func (r *run) start(d event.Delivery) {
	r.inflight[d.ID] = d.SubscriptionID
	r.perSub[d.SubscriptionID]++
	go func() {
		next, err := r.s.o.Attempt(r.work, d)
		r.done <- attemptDone{d: next, err: err}
	}()
}

func (r *run) finish(res attemptDone) {
	sub := r.inflight[res.d.ID]
	delete(r.inflight, res.d.ID)
	if r.perSub[sub]--; r.perSub[sub] <= 0 {
		delete(r.perSub, sub)
	}
	if res.err != nil {
		// The stores failed: the delivery is still due. Wait a little
		// before trying it again rather than spinning on it.
		r.notUntil[res.d.ID] = r.s.o.Now().Add(time.Second)
		r.s.o.Logger.Error("scheduler: attempt not recorded (will retry)", "delivery_id", res.d.ID, "error", res.err.Error())
	}
}
